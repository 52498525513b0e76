/*
 * builtin.c — the built-in queries of Flagger's observers (reference §3.2,
 * verbatim after whitespace collapsing; the leading space is Flagger's;
 * which observer a provider has is the registry's, engine/routers.h), and
 * the request-volume queries perch adds
 * for its minimum-traffic guard: the total-requests side of each success
 * rate query, as an increase over the metric's window.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/builtin.h"
#include "util/status.h"
#include "util/xalloc.h"

struct observer_queries {
	const char *success_rate;
	const char *duration;
	const char *volume;
};

static const struct observer_queries queries[OBS__COUNT] = {
	[OBS_ISTIO] = {
	    .success_rate =
		" sum( rate( istio_requests_total{ reporter=\"destination\","
		" destination_workload_namespace=\"{{ namespace }}\","
		" destination_workload=~\"{{ target }}\", response_code!~\"5.*\" }[{{ interval }}]"
		" ) ) / sum( rate( istio_requests_total{ reporter=\"destination\","
		" destination_workload_namespace=\"{{ namespace }}\","
		" destination_workload=~\"{{ target }}\" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate("
		" istio_request_duration_milliseconds_bucket{ reporter=\"destination\","
		" destination_workload_namespace=\"{{ namespace }}\","
		" destination_workload=~\"{{ target }}\" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_LINKERD] = {
	    .success_rate =
		" sum( rate( response_total{ namespace=\"{{ namespace }}\","
		" deployment=~\"{{ target }}\", classification!=\"failure\", direction=\"inbound\""
		" }[{{ interval }}] ) ) / sum( rate( response_total{"
		" namespace=\"{{ namespace }}\", deployment=~\"{{ target }}\", direction=\"inbound\""
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{"
		" namespace=\"{{ namespace }}\", deployment=~\"{{ target }}\", direction=\"inbound\""
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_NGINX] = {
	    .success_rate =
		" sum( rate( nginx_ingress_controller_requests{ namespace=\"{{ namespace }}\","
		" ingress=\"{{ ingress }}\", canary!=\"\", status!~\"5.*\" }[{{ interval }}] ) ) /"
		" sum( rate( nginx_ingress_controller_requests{ namespace=\"{{ namespace }}\","
		" ingress=\"{{ ingress }}\", canary!=\"\" }[{{ interval }}] ) ) * 100",
	    .duration =
		" sum( rate( nginx_ingress_controller_response_duration_seconds_sum{"
		" namespace=\"{{ namespace }}\", ingress=\"{{ ingress }}\", canary!=\"\""
		" }[{{ interval }}] ) ) / sum( rate("
		" nginx_ingress_controller_response_duration_seconds_count{"
		" namespace=\"{{ namespace }}\", ingress=\"{{ ingress }}\", canary!=\"\""
		" }[{{ interval }}] ) ) * 1000",
	},
	[OBS_HTTP] = {
	    .success_rate =
		" sum( rate( http_request_duration_seconds_count{"
		" kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\","
		" status!~\"5.*\" }[{{ interval }}] ) ) / sum( rate("
		" http_request_duration_seconds_count{ kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( http_request_duration_seconds_bucket{"
		" kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_CONTOUR] = {
	    .success_rate =
		" sum( rate( envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+\","
		" envoy_response_code!~\"5.*\" }[{{ interval }}] ) ) / sum( rate("
		" envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{"
		" envoy_cluster_name=~\"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_GLOO] = {
	    .success_rate =
		" sum( rate( envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+\","
		" envoy_response_code!~\"5.*\" }[{{ interval }}] ) ) / sum( rate("
		" envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{"
		" envoy_cluster_name=~\"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_TRAEFIK] = {
	    .success_rate =
		" sum( rate( traefik_service_request_duration_seconds_bucket{"
		" service=~\"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd\","
		" code!~\"5..\", le=\"+Inf\" }[{{ interval }}] ) ) / sum( rate("
		" traefik_service_request_duration_seconds_bucket{"
		" service=~\"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd\","
		" le=\"+Inf\" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate("
		" traefik_service_request_duration_seconds_bucket{"
		" service=~\"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd\""
		" }[{{ interval }}] ) ) by (le) ) * 1000",
	},
	[OBS_KUMA] = {
	    .success_rate =
		" sum( rate( envoy_cluster_upstream_rq{"
		" service=~\"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+\","
		" envoy_response_code!~\"5.*\" }[{{ interval }}] ) ) / sum( rate("
		" envoy_cluster_upstream_rq{"
		" service=~\"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{"
		" service=~\"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+\","
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_APPMESH] = {
	    .success_rate =
		" sum( rate( envoy_cluster_upstream_rq{ kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\","
		" envoy_response_code!~\"5.*\" }[{{ interval }}] ) ) / sum( rate("
		" envoy_cluster_upstream_rq{ kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
		" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{"
		" kubernetes_namespace=\"{{ namespace }}\","
		" kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_SKIPPER] = {
	    .success_rate =
		" sum(rate(skipper_response_duration_seconds_bucket{route=~\"{{ $route }}\",code!~\"5..\",le=\"+Inf\"}[{{ interval }}]))"
		" /"
		" sum(rate(skipper_response_duration_seconds_bucket{route=~\"{{ $route }}\",le=\"+Inf\"}[{{ interval }}]))"
		" * 100",
	    .duration =
		" sum(rate(skipper_serve_route_duration_seconds_sum{route=~\"{{ $route }}\"}[{{ interval }}]))"
		" /"
		" sum(rate(skipper_serve_route_duration_seconds_count{route=~\"{{ $route }}\"}[{{ interval }}]))"
		" * 1000",
	},
	[OBS_OSM] = {
	    .success_rate =
		" sum( rate( osm_request_total{ destination_namespace=\"{{ namespace }}\","
		" destination_kind=\"Deployment\", destination_name=\"{{ target }}\","
		" response_code!~\"5.*\" }[{{ interval }}] ) ) / sum( rate( osm_request_total{"
		" destination_namespace=\"{{ namespace }}\", destination_kind=\"Deployment\","
		" destination_name=\"{{ target }}\" }[{{ interval }}] ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( osm_request_duration_ms_bucket{"
		" destination_namespace=\"{{ namespace }}\", destination_kind=\"Deployment\","
		" destination_name=\"{{ target }}\" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_APISIX] = {
	    .success_rate =
		" sum( rate( apisix_http_status{"
		" route=~\"{{ namespace }}_{{ route }}-{{ target }}-canary_.+\", code!~\"5..\""
		" }[{{ interval }}] ) ) / sum( rate( apisix_http_status{"
		" route=~\"{{ namespace }}_{{ route }}-{{ target }}-canary_.+\" }[{{ interval }}]"
		" ) ) * 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( apisix_http_latency_bucket{"
		" type=~\"request\", route=~\"{{ namespace }}_{{ route }}-{{ target }}-canary_.+\""
		" }[{{ interval }}] ) ) by (le) )",
	},
	[OBS_KNATIVE] = {
	    .success_rate =
		" sum( rate( envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}/{{ route }}\", envoy_response_code!~\"5.*\""
		" }[{{ interval }}] ) ) / sum( rate( envoy_cluster_upstream_rq{"
		" envoy_cluster_name=~\"{{ namespace }}/{{ route }}\", }[{{ interval }}] ) ) *"
		" 100",
	    .duration =
		" histogram_quantile( 0.99, sum( rate( envoy_cluster_upstream_rq_time_bucket{"
		" envoy_cluster_name=~\"{{ namespace }}/{{ route }}\", }[{{ interval }}] ) ) by"
		" (le) )",
	},
};

/* Request volume over the window: the denominator of each success rate,
 * with increase() instead of rate(). */
static const char *const volume_queries[OBS__COUNT] = {
	[OBS_ISTIO] = " sum( increase( istio_requests_total{ reporter=\"destination\","
	    " destination_workload_namespace=\"{{ namespace }}\","
	    " destination_workload=~\"{{ target }}\" }[{{ interval }}] ) )",
	[OBS_LINKERD] = " sum( increase( response_total{ namespace=\"{{ namespace }}\","
	    " deployment=~\"{{ target }}\", direction=\"inbound\" }[{{ interval }}] ) )",
	[OBS_NGINX] = " sum( increase( nginx_ingress_controller_requests{"
	    " namespace=\"{{ namespace }}\", ingress=\"{{ ingress }}\", canary!=\"\""
	    " }[{{ interval }}] ) )",
	[OBS_HTTP] = " sum( increase( http_request_duration_seconds_count{"
	    " kubernetes_namespace=\"{{ namespace }}\","
	    " kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
	    " }[{{ interval }}] ) )",
	[OBS_CONTOUR] = " sum( increase( envoy_cluster_upstream_rq{"
	    " envoy_cluster_name=~\"{{ namespace }}_{{ service }}-canary_[0-9a-zA-Z-]+\","
	    " }[{{ interval }}] ) )",
	[OBS_GLOO] = " sum( increase( envoy_cluster_upstream_rq{ envoy_cluster_name=~"
	    "\"{{ namespace }}-{{ target }}-canaryupstream-[0-9a-zA-Z-]+_[0-9a-zA-Z-]+\","
	    " }[{{ interval }}] ) )",
	[OBS_TRAEFIK] = " sum( increase( traefik_service_request_duration_seconds_bucket{"
	    " service=~\"{{ namespace }}-{{ target }}-canary-[0-9a-zA-Z-]+@kubernetescrd\","
	    " le=\"+Inf\" }[{{ interval }}] ) )",
	[OBS_KUMA] = " sum( increase( envoy_cluster_upstream_rq{"
	    " service=~\"{{ target }}-canary_{{ namespace }}_svc_[0-9a-zA-Z-]+\","
	    " }[{{ interval }}] ) )",
	[OBS_APPMESH] = " sum( increase( envoy_cluster_upstream_rq{"
	    " kubernetes_namespace=\"{{ namespace }}\","
	    " kubernetes_pod_name=~\"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)\""
	    " }[{{ interval }}] ) )",
	[OBS_SKIPPER] = " sum(increase(skipper_response_duration_seconds_bucket{"
	    "route=~\"{{ $route }}\",le=\"+Inf\"}[{{ interval }}]))",
	[OBS_OSM] = " sum( increase( osm_request_total{ destination_namespace=\"{{ namespace }}\","
	    " destination_kind=\"Deployment\", destination_name=\"{{ target }}\""
	    " }[{{ interval }}] ) )",
	[OBS_APISIX] = " sum( increase( apisix_http_status{"
	    " route=~\"{{ namespace }}_{{ route }}-{{ target }}-canary_.+\" }[{{ interval }}] ) )",
	[OBS_KNATIVE] = " sum( increase( envoy_cluster_upstream_rq{"
	    " envoy_cluster_name=~\"{{ namespace }}/{{ route }}\", }[{{ interval }}] ) )",
};

enum observer
builtin_observer(const char *provider, const char *target_kind)
{
	return provider_observer(provider, target_kind);
}

enum metric_kind
builtin_kind(const char *metric_name)
{
	if (metric_name == NULL)
		return METRIC_CUSTOM;
	if (strcmp(metric_name, metric_kind_name(METRIC_SUCCESS_RATE)) == 0)
		return METRIC_SUCCESS_RATE;
	if (strcmp(metric_name, metric_kind_name(METRIC_DURATION)) == 0)
		return METRIC_DURATION;
	return METRIC_CUSTOM;
}

const char *
builtin_template(enum observer o, enum metric_kind k, bool volume)
{
	if ((int)o < 0 || o >= OBS__COUNT)
		return NULL;
	if (volume)
		return volume_queries[o];
	switch (k) {
	case METRIC_SUCCESS_RATE:
		return queries[o].success_rate;
	case METRIC_DURATION:
		return queries[o].duration;
	default:
		return NULL;
	}
}

/* Skipper's model: every non-word character becomes '_'. */
static char *
skipper_encode(const char *s)
{
	char *r = xstrdup(s != NULL ? s : ""), *p;

	for (p = r; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_'))
			*p = '_';
	return r;
}

static int
render_skipper(const char *tmpl, const struct render_ctx *ctx, char **out,
    char *err, size_t errsz)
{
	struct render_ctx c = *ctx;
	char *ns = skipper_encode(ctx->ns), *ing = skipper_encode(ctx->ingress);
	char *svc = skipper_encode(ctx->service), *name = skipper_encode(ctx->name);
	char *tgt = skipper_encode(ctx->target);
	char *route = xasprintf("kube(ew)?_%s__%s_canary__.*__%s_canary(_[0-9]+)?", ns, ing, svc);
	struct kv local = { .key = (char *)"route", .value = route };
	int st;

	c.ns = ns;
	c.ingress = ing;
	c.service = svc;
	c.name = name;
	c.target = tgt;
	c.locals = &local;
	c.n_locals = 1;
	st = render_template(tmpl, &c, out, err, errsz);
	free(ns);
	free(ing);
	free(svc);
	free(name);
	free(tgt);
	free(route);
	return st;
}

int
builtin_render(enum observer o, enum metric_kind k, bool volume,
    const struct render_ctx *ctx, char **out, char *err, size_t errsz)
{
	const char *tmpl = builtin_template(o, k, volume);
	int st;

	*out = NULL;
	if (tmpl == NULL) {
		snprintf(err, errsz, "%s is not a built-in metric", metric_kind_name(k));
		return ST_INVALID;
	}
	if (o == OBS_SKIPPER)
		st = render_skipper(tmpl, ctx, out, err, errsz);
	else
		st = render_template(tmpl, ctx, out, err, errsz);
	if (st == ST_OK)
		collapse_space(*out);
	return st;
}

double
builtin_duration_ms(enum observer o, double value)
{
	if (isnan(value) || isinf(value))
		return value;
	if (o == OBS_HTTP)
		value *= 1000;
	/* Go's int64(float) truncates toward zero. */
	if (value >= 9.2e18 || value <= -9.2e18)
		return value;
	return (double)(long long)value;
}

enum check_result
metric_judge(const struct metric_cfg *m, double value)
{
	double min = m->min, max = m->max;

	if (m->kind == METRIC_DURATION) {
		min = trunc(min);
		max = trunc(max);
	}
	if (isnan(value))
		return CHECK_NODATA;
	if (m->has_min && value < min)
		return CHECK_FAIL;
	if (m->has_max && value > max)
		return CHECK_FAIL;
	return CHECK_PASS;
}
