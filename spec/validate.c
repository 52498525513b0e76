/*
 * validate.c — the checks Flagger's CRD schema and controller make on a
 * Canary, MetricTemplate or AlertProvider (reference §1): required fields,
 * exactly one of iterations / stepWeight / stepWeights, the duration
 * pattern, provider-specific references, the stepWeights ladder, session
 * affinity cookie names.  Runs on the values as written, before defaults.
 * Enumerations and types are checked while converting (schema.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend_types.h"
#include "engine/judge.h"
#include "engine/routers.h"
#include "spec/schema.h"
#include "util/status.h"

/* An error at the position of `path` in the object's document. */
static void
err_at(struct diag_list *dl, const struct spec_meta *m, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
err_at(struct diag_list *dl, const struct spec_meta *m, const char *path,
    const char *fmt, ...)
{
	struct spec_pos pos = spec_field_pos(m, path);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(dl, DIAG_ERROR, &pos, path, NULL, "%s", msg);
}

static void
missing(struct diag_list *dl, const struct spec_meta *m, const char *path)
{
	err_at(dl, m, path, "missing required field %s", path_display(path));
}

/* Whether s is a DNS-1123 name as Kubernetes wants it: lowercase letters,
 * digits and '-' (and '.' when dots is set), starting and ending with a
 * letter or digit, at most max characters. */
static bool
dns1123(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');

		if (!alnum && (i == 0 || i == n - 1 || (s[i] != '-' && !(dots && s[i] == '.'))))
			return false;
	}
	return true;
}

static void
check_meta(const struct spec_meta *m, const char *kind, struct diag_list *dl)
{
	if (m->name == NULL)
		err_at(dl, m, "metadata.name", "%s: missing required field metadata.name", kind);
	else if (!dns1123(m->name, 253, true))
		err_at(dl, m, "metadata.name", "metadata.name: '%s' is not a Kubernetes name "
		    "(lowercase letters, digits, '-' and '.', beginning and ending with a "
		    "letter or digit, at most 253 characters)", m->name);
	if (m->ns != NULL && !dns1123(m->ns, 63, false))
		err_at(dl, m, "metadata.namespace", "metadata.namespace: '%s' is not a "
		    "namespace name (lowercase letters, digits and '-', beginning and ending "
		    "with a letter or digit, at most 63 characters)", m->ns);
}

static void
check_duration(struct diag_list *dl, const struct spec_meta *m, const char *path,
    const char *value)
{
	size_t digits;
	long long ms;
	struct spec_pos pos;

	if (value == NULL || spec_parse_duration_ms(value, &ms) == ST_OK)
		return;
	digits = strspn(value, "0123456789");
	if (digits == 0 || (value[digits] != 'm' && value[digits] != 's')) {
		err_at(dl, m, path, "%s: '%s' is not a valid duration (a number followed by "
		    "s or m, such as 30s, 1m or 1m30s)", path_display(path), value);
		return;
	}
	/* Passes the CRD's pattern, but Go's time.ParseDuration rejects it. */
	pos = spec_field_pos(m, path);
	report(dl, DIAG_WARNING, &pos, path, NULL, "%s: '%s' is not a Go duration (such as "
	    "30s, 1m or 1m30s): Flagger cannot parse it", path_display(path), value);
}

static void
check_ref(struct diag_list *dl, const struct spec_meta *m, const struct spec_ref *r,
    const char *path, const char *kind)
{
	char p[128];

	if (!r->set)
		return;
	snprintf(p, sizeof p, "%s.apiVersion", path);
	if (r->api_version == NULL)
		missing(dl, m, p);
	snprintf(p, sizeof p, "%s.kind", path);
	if (r->kind == NULL)
		missing(dl, m, p);
	else if (kind != NULL && strcmp(r->kind, kind) != 0)
		err_at(dl, m, p, "%s: unsupported value '%s' (expected %s)",
		    path_display(p), r->kind, kind);
	snprintf(p, sizeof p, "%s.name", path);
	if (r->name == NULL)
		missing(dl, m, p);
}

/* The analysis path as written: analysis or the deprecated canaryAnalysis. */
static const char *
apath(const struct spec_canary *c, char *buf, size_t sz, const char *rest)
{
	snprintf(buf, sz, "spec.%s%s%s", c->analysis.deprecated_name ? "canaryAnalysis" :
	    "analysis", rest[0] != '\0' ? "." : "", rest);
	return buf;
}

static void
check_steps(const struct spec_canary *c, struct diag_list *dl)
{
	const struct spec_analysis *a = &c->analysis;
	const char *names[3] = { NULL, NULL, NULL };
	char p1[96], p2[96], item[64];
	size_t n = 0, i;

	if (a->has_iterations)
		names[n++] = "iterations";
	if (a->has_step_weight)
		names[n++] = "stepWeight";
	if (a->has_step_weights)
		names[n++] = "stepWeights";
	apath(c, p1, sizeof p1, "");
	if (n == 0)
		err_at(dl, &c->meta, p1, "%s needs one of iterations, stepWeight or "
		    "stepWeights", path_display(p1));
	for (i = 1; i < n; i++) {
		apath(c, p1, sizeof p1, names[0]);
		apath(c, p2, sizeof p2, names[i]);
		err_at(dl, &c->meta, p2, "%s and %s are mutually exclusive",
		    path_display(p2), path_display(p1));
	}
	for (i = 0; i < a->n_step_weights; i++) {
		snprintf(item, sizeof item, "stepWeights[%zu]", i);
		apath(c, p1, sizeof p1, item);
		if (a->step_weights[i] <= 0 || a->step_weights[i] > 100)
			err_at(dl, &c->meta, p1, "%s: %d is not a weight between 1 and 100",
			    path_display(p1), a->step_weights[i]);
		else if (i > 0 && a->step_weights[i] <= a->step_weights[i - 1])
			err_at(dl, &c->meta, p1, "%s: the weights must ascend (%d follows %d)",
			    path_display(p1), a->step_weights[i], a->step_weights[i - 1]);
	}
	apath(c, p1, sizeof p1, "stepWeights");
	if (a->has_step_weights && a->n_step_weights == 0)
		err_at(dl, &c->meta, p1, "%s: the list is empty", path_display(p1));
}

static void
warn_at(struct diag_list *dl, const struct spec_meta *m, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
warn_at(struct diag_list *dl, const struct spec_meta *m, const char *path,
    const char *fmt, ...)
{
	struct spec_pos pos = spec_field_pos(m, path);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(dl, DIAG_WARNING, &pos, path, NULL, "%s", msg);
}

/* A bound that looks like the wrong unit: a success rate is a percentage
 * (Flagger's request-success-rate is 0..100, so min 0.99 passes a 1 %
 * success rate), a duration is in milliseconds (max 0.5 fails every check).
 * Warnings, naming what was likely meant. */
static void
check_units(const struct spec_canary *c, size_t i, struct diag_list *dl)
{
	const struct spec_metric *m = &c->analysis.metrics[i];
	bool builtin = m->name != NULL && !m->template_ref.set && m->query == NULL;
	char p[128], base[64];

	/* Before defaults: the kind is not set yet, the name says it. */
	if (builtin && strcmp(m->name, "request-success-rate") == 0 && m->has_min && m->min > 0 && m->min <= 1) {
		snprintf(base, sizeof base, "metrics[%zu].thresholdRange.min", i);
		apath(c, p, sizeof p, base);
		warn_at(dl, &c->meta, p, "%s: %g looks like a fraction: "
		    "request-success-rate is a percentage (0-100); did you mean %g?",
		    path_display(p), m->min, m->min * 100);
	}
	if (builtin && strcmp(m->name, "request-duration") == 0 && m->has_max && m->max > 0 &&
	    m->max < 10) {
		snprintf(base, sizeof base, "metrics[%zu].thresholdRange.max", i);
		apath(c, p, sizeof p, base);
		warn_at(dl, &c->meta, p, "%s: %g looks like seconds: "
		    "request-duration is in milliseconds; did you mean %g?", path_display(p),
		    m->max, m->max * 1000);
	}
}

static void
check_metrics(const struct spec_canary *c, struct diag_list *dl)
{
	const struct spec_analysis *a = &c->analysis;
	const struct spec_metric *m;
	char p[128], base[64];
	size_t i;

	for (i = 0; i < a->n_metrics; i++) {
		m = &a->metrics[i];
		snprintf(base, sizeof base, "metrics[%zu].name", i);
		if (m->name == NULL)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		snprintf(base, sizeof base, "metrics[%zu].interval", i);
		check_duration(dl, &c->meta, apath(c, p, sizeof p, base), m->interval);
		snprintf(base, sizeof base, "metrics[%zu].templateRef.name", i);
		if (m->template_ref.set && m->template_ref.name == NULL)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		snprintf(base, sizeof base, "metrics[%zu].thresholdRange", i);
		apath(c, p, sizeof p, base);
		if (m->has_min && m->has_max && m->min > m->max)
			err_at(dl, &c->meta, p,
			    "%s: min %g is above max %g: no value can pass", path_display(p),
			    m->min, m->max);
		check_units(c, i, dl);
		snprintf(base, sizeof base, "metrics[%zu]", i);
		apath(c, p, sizeof p, base);
		if (m->name != NULL && !m->template_ref.set && m->query == NULL &&
		    strcmp(m->name, "request-success-rate") != 0 &&
		    strcmp(m->name, "request-duration") != 0)
			report(dl, DIAG_WARNING, &m->pos, p, NULL, "%s: metric '%s' is "
			    "not built in (request-success-rate, request-duration) and has no "
			    "templateRef or query: Flagger ignores it",
			    path_display(p), m->name);
	}
}

static void
check_hooks_alerts(const struct spec_canary *c, struct diag_list *dl)
{
	const struct spec_analysis *a = &c->analysis;
	char p[128], base[64];
	size_t i;

	for (i = 0; i < a->n_webhooks; i++) {
		snprintf(base, sizeof base, "webhooks[%zu].name", i);
		if (a->webhooks[i].name == NULL)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		snprintf(base, sizeof base, "webhooks[%zu].url", i);
		if (a->webhooks[i].url == NULL)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		snprintf(base, sizeof base, "webhooks[%zu].timeout", i);
		check_duration(dl, &c->meta, apath(c, p, sizeof p, base), a->webhooks[i].timeout);
	}
	for (i = 0; i < a->n_alerts; i++) {
		snprintf(base, sizeof base, "alerts[%zu].name", i);
		if (a->alerts[i].name == NULL)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		snprintf(base, sizeof base, "alerts[%zu].providerRef", i);
		if (!a->alerts[i].provider_ref.set)
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		else if (a->alerts[i].provider_ref.name == NULL) {
			snprintf(base, sizeof base, "alerts[%zu].providerRef.name", i);
			missing(dl, &c->meta, apath(c, p, sizeof p, base));
		}
	}
}

/* A cookie name as RFC 6265 wants it (a token: no control characters,
 * spaces or separators), at most 64 characters (AFFINITY_COOKIE_MAX). */
static bool
cookie_token(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", s[i]) != NULL)
			return false;
	return true;
}

/* A cookie attribute value (Domain, Path): printable, without ';'. */
static bool
cookie_attr(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f || *s == ';')
			return false;
	return true;
}

/* The routers that set cookies (engine/routers.h: Istio and Gateway API). */
static bool
affinity_provider(const char *p)
{
	return router_can(p, RT_AFFINITY);
}

static void
check_cookie_name(const struct spec_canary *c, struct diag_list *dl, const char *field,
    const char *name)
{
	char p[96];

	apath(c, p, sizeof p, field);
	if (name != NULL && !cookie_token(name))
		err_at(dl, &c->meta, p, "%s: '%s' is not a cookie name (1 to 64 printable "
		    "characters without spaces or ()<>@,;:\\\"/[]?={})", path_display(p), name);
}

static void
check_affinity(const struct spec_canary *c, struct diag_list *dl)
{
	const struct spec_session_affinity *s = &c->analysis.session_affinity;
	char p[96];

	if (!s->set)
		return;
	apath(c, p, sizeof p, "sessionAffinity");
	if (!affinity_provider(c->provider)) {
		err_at(dl, &c->meta, p, "%s is not supported with provider %s (only istio and "
		    "gatewayapi route by cookie): remove it or change the provider",
		    path_display(p), c->provider);
		return;
	}
	if (c->analysis.match != NULL && c->analysis.match->kind == SPEC_SEQ &&
	    c->analysis.match->n > 0)
		err_at(dl, &c->meta, p, "%s cannot be combined with analysis.match: A/B testing "
		    "routes by the match, the cookie would be ignored", path_display(p));
	if (s->cookie_name == NULL) {
		missing(dl, &c->meta, apath(c, p, sizeof p, "sessionAffinity.cookieName"));
		return;
	}
	check_cookie_name(c, dl, "sessionAffinity.cookieName", s->cookie_name);
	check_cookie_name(c, dl, "sessionAffinity.primaryCookieName", s->primary_cookie_name);
	apath(c, p, sizeof p, "sessionAffinity.primaryCookieName");
	if (s->primary_cookie_name != NULL && strcmp(s->cookie_name, s->primary_cookie_name) == 0)
		err_at(dl, &c->meta, p,
		    "%s: must differ from cookieName ('%s')", path_display(p), s->cookie_name);
	apath(c, p, sizeof p, "sessionAffinity.domain");
	if (s->domain != NULL && !cookie_attr(s->domain))
		err_at(dl, &c->meta, p, "%s: a cookie attribute cannot hold ';' or control "
		    "characters", path_display(p));
	apath(c, p, sizeof p, "sessionAffinity.path");
	if (s->path != NULL && !cookie_attr(s->path))
		err_at(dl, &c->meta, p, "%s: a cookie attribute cannot hold ';' or control "
		    "characters", path_display(p));
	apath(c, p, sizeof p, "sessionAffinity.maxAge");
	if (s->max_age < 0)
		err_at(dl, &c->meta, p, "%s: %d is negative (seconds the cookie lives; default "
		    "86400)", path_display(p), s->max_age);
}

/* Providers whose routes can send matching requests to the canary: SMI
 * TrafficSplits, Traefik, Kuma, APISIX and the kubernetes provider only
 * split by weight, so an A/B match there would send every request to the
 * canary (Flagger does) instead of the matching ones. */
static void
check_match_provider(const struct spec_canary *c, struct diag_list *dl)
{
	const char *p = c->provider;
	char path[96], names[ROUTER_NAMES_MAX];

	if (c->analysis.match == NULL || c->analysis.match->kind != SPEC_SEQ ||
	    c->analysis.match->n == 0 || p == NULL || router_find(p) == NULL ||
	    router_can(p, RT_MATCH))
		return;
	apath(c, path, sizeof path, "match");
	router_names_can(RT_DRIVEN | RT_MATCH, names, sizeof names);
	err_at(dl, &c->meta, path, "%s (A/B testing) is not supported with provider %s: its "
	    "routes split by weight only (these route by header or cookie: %s)",
	    path_display(path), p, names);
}

/* A number as written at path (a plain scalar): true with its value. */
static bool
written_number(const struct spec_canary *c, const char *path, double *v)
{
	const struct spec_node *n = spec_node_path(c->meta.root, path);
	char *end;

	if (n == NULL || n->kind != SPEC_SCALAR || n->quoted || node_is_null(n))
		return false;
	*v = strtod(n->value, &end);
	return end != n->value && *end == '\0';
}

/* An integer field of the analysis, as written, within lo..hi; what it
 * means is said after the value ("a weight", "iterations"). */
static void
check_range(const struct spec_canary *c, struct diag_list *dl, const char *field, double lo,
    double hi, const char *what)
{
	char p[96];
	double v;

	apath(c, p, sizeof p, field);
	if (!written_number(c, p, &v) || (v >= lo && v <= hi))
		return;
	if (hi >= 1e9)
		err_at(dl, &c->meta, p, "%s: %g is not %s (at least %g)", path_display(p), v, what,
		    lo);
	else
		err_at(dl, &c->meta, p, "%s: %g is not %s between %g and %g", path_display(p), v,
		    what, lo, hi);
}

/* Every number of the analysis in its range: weights 1..100 (a stepWeight
 * of 0 or -1 never reaches the canary, or drives its weight below zero; a
 * maxWeight of 1000 is never reached), counts positive. */
static void
check_numbers(const struct spec_canary *c, struct diag_list *dl)
{
	double v;

	check_range(c, dl, "stepWeight", 1, 100, "a weight");
	check_range(c, dl, "maxWeight", 1, 100, "a weight");
	check_range(c, dl, "stepWeightPromotion", 1, 100, "a weight");
	check_range(c, dl, "mirrorWeight", 0, 100, "a weight");
	check_range(c, dl, "iterations", 1, 1e9, "a number of iterations");
	check_range(c, dl, "threshold", 1, 1e9, "a number of failed checks");
	check_range(c, dl, "primaryReadyThreshold", 0, 100, "a percentage");
	check_range(c, dl, "canaryReadyThreshold", 0, 100, "a percentage");
	if (written_number(c, "spec.progressDeadlineSeconds", &v) && v < 1)
		err_at(dl, &c->meta, "spec.progressDeadlineSeconds", "progressDeadlineSeconds: %g "
		    "is not a number of seconds (at least 1)", v);
	if (written_number(c, "spec.service.port", &v) && (v < 1 || v > 65535))
		err_at(dl, &c->meta, "spec.service.port", "service.port: %g is not a port "
		    "between 1 and 65535", v);
}

static void
check_analysis(const struct spec_canary *c, struct diag_list *dl)
{
	const struct spec_analysis *a = &c->analysis;
	const struct spec_node *th;
	char p[96];

	if (!a->set) {
		missing(dl, &c->meta, "spec.analysis");
		return;
	}
	if (a->interval == NULL)
		missing(dl, &c->meta, apath(c, p, sizeof p, "interval"));
	check_duration(dl, &c->meta, apath(c, p, sizeof p, "interval"), a->interval);
	th = spec_node_path(c->meta.root, apath(c, p, sizeof p, "threshold"));
	if (th == NULL || node_is_null(th))
		missing(dl, &c->meta, p);
	check_steps(c, dl);
	check_numbers(c, dl);
	check_metrics(c, dl);
	check_hooks_alerts(c, dl);
	check_affinity(c, dl);
	check_match_provider(c, dl);
}

/* References a provider needs (reference §1.1, §4). */
static void
check_provider(const struct spec_canary *c, struct diag_list *dl)
{
	const char *p = c->provider != NULL ? c->provider : "";
	const struct router_info *r = router_find(p);
	const struct router_info *family = router_find_prefix(p);
	unsigned caps = r != NULL ? router_caps(r) : 0;
	bool knative_target = c->target_ref.api_version != NULL &&
	    strncmp(c->target_ref.api_version, "serving.knative.dev/", 20) == 0;
	size_t i;
	char path[64];

	/* Flagger picks its Gateway API router by the name's prefix. */
	if (family != NULL && (family->caps & RT_GATEWAYREFS) && c->service.n_gateway_refs == 0)
		err_at(dl, &c->meta, "spec.service.gatewayRefs", "service.gatewayRefs is "
		    "required with provider %s (the Gateways the HTTPRoute attaches to)", p);
	if ((caps & RT_INGRESSREF) && !c->ingress_ref.set)
		err_at(dl, &c->meta, "spec.ingressRef", "ingressRef is required with provider %s "
		    "(the Ingress that routes to the service)", p);
	if ((caps & RT_MESHNAME) && (c->service.mesh_name == NULL || !*c->service.mesh_name))
		err_at(dl, &c->meta, "spec.service.meshName", "service.meshName is required "
		    "with provider %s (the App Mesh the VirtualNodes and VirtualServices join)", p);
	if ((caps & RT_ROUTEREF) && !c->route_ref.set)
		err_at(dl, &c->meta, "spec.routeRef", "routeRef is required with provider %s", p);
	if (knative_target && !(caps & RT_KNATIVE))
		err_at(dl, &c->meta, "spec.provider", "a Knative Service target needs "
		    "provider: knative");
	if ((caps & RT_KNATIVE) && c->target_ref.set && !knative_target)
		err_at(dl, &c->meta, "spec.targetRef.apiVersion", "provider %s needs a "
		    "Knative Service target (apiVersion serving.knative.dev/v1)", p);
	if ((caps & RT_KNATIVE) && c->autoscaler_ref.set)
		err_at(dl, &c->meta, "spec.autoscalerRef", "autoscalerRef is not supported "
		    "with provider %s", p);
	if (c->service.n_gateway_refs > 32)
		err_at(dl, &c->meta, "spec.service.gatewayRefs", "service.gatewayRefs: at "
		    "most 32 items (found %zu)", c->service.n_gateway_refs);
	for (i = 0; i < c->service.n_gateway_refs; i++) {
		snprintf(path, sizeof path, "spec.service.gatewayRefs[%zu].name", i);
		if (c->service.gateway_refs[i].name == NULL)
			missing(dl, &c->meta, path);
	}
}

/* autoscalerRef.primaryScalerReplicas.{min,max}Replicas: integers >= 1. */
static void
check_scaler_replicas(const struct spec_canary *c, struct diag_list *dl)
{
	static const char *const paths[] = {
		"spec.autoscalerRef.primaryScalerReplicas.minReplicas",
		"spec.autoscalerRef.primaryScalerReplicas.maxReplicas",
	};
	const struct spec_node *n;
	const char *v;
	size_t i;

	for (i = 0; i < 2; i++) {
		n = spec_node_path(c->meta.root, paths[i]);
		if (n == NULL || node_is_null(n))
			continue;
		v = n->kind == SPEC_SCALAR && !n->quoted ? n->value : NULL;
		if (v == NULL || !scalar_is_int(v) || atoi(v) < 1)
			err_at(dl, &c->meta, paths[i], "%s: expected a whole number of at "
			    "least 1", path_display(paths[i]));
	}
}

/* perch.dev/compare names metrics of spec.analysis.metrics only (the
 * annotation's syntax is spec/load.c's). */
static void
check_compare(const struct spec_canary *c, struct diag_list *dl)
{
	struct judge_config jc;
	char field[96];
	size_t i, k, j;

	for (i = 0; i < c->n_compare; i++) {
		const struct spec_kv *kv = &c->compare[i];

		if (strcmp(kv->key, "perch.dev/compare") != 0)
			continue;
		judge_config_init(&jc);
		if (judge_config_apply(&jc, kv->key, kv->value, NULL, 0) != ST_OK)
			jc.n_metrics = 0;
		for (k = 0; k < jc.n_metrics; k++) {
			for (j = 0; j < c->analysis.n_metrics; j++)
				if (c->analysis.metrics[j].name != NULL &&
				    strcmp(c->analysis.metrics[j].name, jc.metrics[k].metric) == 0)
					break;
			if (j < c->analysis.n_metrics)
				continue;
			snprintf(field, sizeof field, "metadata.annotations.%s", kv->key);
			report(dl, DIAG_ERROR, &kv->pos, field, NULL, "%s: %s is not a metric of "
			    "spec.analysis.metrics", kv->key, jc.metrics[k].metric);
		}
		judge_config_fini(&jc);
	}
}

void
validate_canary(const struct spec_set *set, const struct spec_canary *c,
    struct diag_list *dl)
{
	(void)set;
	check_meta(&c->meta, "Canary", dl);
	if (spec_node_get(c->meta.root, "spec") == NULL) {
		missing(dl, &c->meta, "spec");
		return;
	}
	if (!c->target_ref.set)
		missing(dl, &c->meta, "spec.targetRef");
	check_ref(dl, &c->meta, &c->target_ref, "spec.targetRef", NULL);
	check_ref(dl, &c->meta, &c->autoscaler_ref, "spec.autoscalerRef", NULL);
	check_scaler_replicas(c, dl);
	check_ref(dl, &c->meta, &c->ingress_ref, "spec.ingressRef", "Ingress");
	check_ref(dl, &c->meta, &c->route_ref, "spec.routeRef", "ApisixRoute");
	check_ref(dl, &c->meta, &c->upstream_ref, "spec.upstreamRef", "Upstream");
	if (spec_node_path(c->meta.root, "spec.service") != NULL && c->service.port == 0 &&
	    spec_node_path(c->meta.root, "spec.service.port") == NULL)
		missing(dl, &c->meta, "spec.service.port");
	check_provider(c, dl);
	check_analysis(c, dl);
	check_compare(c, dl);
}

void
validate_template(const struct spec_metric_template *t, struct diag_list *dl)
{
	const char *type = t->provider_type;

	check_meta(&t->meta, "MetricTemplate", dl);
	if (spec_node_get(t->meta.root, "spec") == NULL) {
		missing(dl, &t->meta, "spec");
		return;
	}
	if (spec_node_path(t->meta.root, "spec.provider") == NULL)
		missing(dl, &t->meta, "spec.provider");
	else if (type == NULL)
		missing(dl, &t->meta, "spec.provider.type");
	if (t->query == NULL)
		missing(dl, &t->meta, "spec.query");
	if (t->address == NULL && (metric_type_caps(type) & MT_NEEDS_ADDRESS))
		err_at(dl, &t->meta, "spec.provider.address", "provider.address is required "
		    "for provider type %s", type);
	if (t->region == NULL && (metric_type_caps(type) & MT_NEEDS_REGION))
		err_at(dl, &t->meta, "spec.provider.region", "provider.region is required "
		    "for provider type %s", type);
	if (spec_node_path(t->meta.root, "spec.provider.secretRef") != NULL && t->secret_ref == NULL)
		missing(dl, &t->meta, "spec.provider.secretRef.name");
}

void
validate_alert_provider(const struct spec_alert_provider *p, struct diag_list *dl)
{
	check_meta(&p->meta, "AlertProvider", dl);
	if (spec_node_get(p->meta.root, "spec") == NULL) {
		missing(dl, &p->meta, "spec");
		return;
	}
	if (p->type == NULL)
		missing(dl, &p->meta, "spec.type");
	if (p->address == NULL && spec_node_path(p->meta.root, "spec.secretRef") == NULL)
		err_at(dl, &p->meta, "spec", "an AlertProvider needs address or secretRef");
	else if (spec_node_path(p->meta.root, "spec.secretRef") != NULL && p->secret_ref == NULL)
		missing(dl, &p->meta, "spec.secretRef.name");
}

/* Routers-providers §3.3: Flagger routes a plain Service target (not
 * Knative) with any router; perch run with those of RT_SVCTARGET. */
static void
check_service_target(const struct spec_canary *c, const struct router_info *r,
    struct diag_list *dl)
{
	char names[ROUTER_NAMES_MAX];

	if (c->target_ref.kind == NULL || strcmp(c->target_ref.kind, "Service") != 0 ||
	    (c->target_ref.api_version != NULL &&
	    strncmp(c->target_ref.api_version, "serving.knative.dev/", 20) == 0) ||
	    r == NULL)
		return;
	if (c->service.name != NULL && c->target_ref.name != NULL &&
	    strcmp(c->service.name, c->target_ref.name) != 0)
		err_at(dl, &c->meta, "spec.service.name", "service.name: perch run routes a "
		    "Service target to %s-primary and %s-canary, the copies of the target; "
		    "leave service.name unset", c->target_ref.name, c->target_ref.name);
	if (router_caps(r) & RT_SVCTARGET)
		return;
	router_names_can(RT_SVCTARGET, names, sizeof names);
	err_at(dl, &c->meta, "spec.targetRef.kind", "targetRef: perch run drives a Service "
	    "target with one of the providers %s, not with %s: Flagger routes one with any "
	    "provider, but perch has not made that router route to the copies %s-primary and "
	    "%s-canary yet (use a Deployment target, or one of those providers)", names,
	    c->provider != NULL && c->provider[0] != '\0' ? c->provider : r->name,
	    c->target_ref.name != NULL ? c->target_ref.name : "<target>",
	    c->target_ref.name != NULL ? c->target_ref.name : "<target>");
}

void
spec_check_drivable(const struct spec_set *set, struct diag_list *dl)
{
	char names[ROUTER_NAMES_MAX];
	size_t i;

	router_driven_names(names, sizeof names);
	for (i = 0; i < spec_set_n_canaries(set); i++) {
		const struct spec_canary *c = spec_set_canary(set, i);
		const struct router_info *r = router_find(c->provider);

		check_service_target(c, r, dl);
		if (r == NULL || (router_caps(r) & RT_DRIVEN))
			continue;	/* an unknown name is the schema's error */
		err_at(dl, &c->meta, c->provider != NULL ? "spec.provider" : "spec",
		    "provider: perch run cannot drive %s (it drives %s)",
		    c->provider != NULL && c->provider[0] != '\0' ? c->provider : r->name, names);
	}
}
