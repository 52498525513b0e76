/* test_render.c — query templates (Flagger's functions, trim markers,
 * errors), the built-in queries of every observer, the observer choice and
 * the threshold rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/builtin.h"
#include "metrics/render.h"
#include "util/status.h"

static struct kv vars[] = {
	{ .key = (char *)"direction", .value = (char *)"inbound" },
	{ .key = (char *)"code", .value = (char *)"5.*" },
};

static const struct render_ctx ctx = {
	.name = "podinfo", .ns = "test", .target = "podinfo", .service = "podinfo-svc",
	.ingress = "podinfo-ing", .route = "podinfo-route", .interval = "1m",
	.vars = vars, .n_vars = 2,
};

static void
test_render_table(void **state)
{
	static const struct { const char *tmpl, *want; int st; const char *err; } rows[] = {
		{ "plain text", "plain text", ST_OK, NULL },
		{ "", "", ST_OK, NULL },
		{ "{{ namespace }}/{{name}}/{{  target  }}", "test/podinfo/podinfo", ST_OK, NULL },
		{ "{{ service }} {{ ingress }} {{ route }} [{{ interval }}]",
		  "podinfo-svc podinfo-ing podinfo-route [1m]", ST_OK, NULL },
		{ "x{{ variables.direction }}y{{variables.code}}", "xinboundy5.*", ST_OK, NULL },
		{ "a  \n {{- namespace -}} \n  b", "atestb", ST_OK, NULL },
		{ "a {{- namespace }} b", "atest b", ST_OK, NULL },
		{ "a {{ namespace -}} b", "a testb", ST_OK, NULL },
		{ "{{\tnamespace\n}}", "test", ST_OK, NULL },
		{ "rate(x[{{ interval }}]) {not an action}", "rate(x[1m]) {not an action}", ST_OK, NULL },
		{ "{{ nope }}", NULL, ST_NOTFOUND, "line 1 col 4: unknown function \"nope\"" },
		{ "a\n  {{ .namespace }}", NULL, ST_NOTFOUND, "line 2 col 6: unknown function \".namespace\"" },
		{ "{{ variables.missing }}", NULL, ST_NOTFOUND,
		  "line 1 col 4: missing templateVariables key \"missing\"" },
		{ "{{ $route }}", NULL, ST_NOTFOUND, "line 1 col 4: undefined variable \"$route\"" },
		{ "{{ printf \"%s\" namespace }}", NULL, ST_PARSE,
		  "line 1 col 4: unsupported template expression \"printf \"%s\" namespace\"" },
		{ "{{ namespace | quote }}", NULL, ST_PARSE, NULL },
		{ "{{ }}", NULL, ST_PARSE, NULL },
		{ "sum({{ namespace ", NULL, ST_PARSE, "line 1 col 5: unclosed action \"{{\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *out = (char *)"unset", err[256] = "";
		int st = render_template(rows[i].tmpl, &ctx, &out, err, sizeof err);

		if (st != rows[i].st)
			fail_msg("row %zu: status %d, want %d (%s)", i, st, rows[i].st, err);
		if (rows[i].want != NULL) {
			assert_non_null(out);
			assert_string_equal(out, rows[i].want);
			free(out);
		} else {
			assert_null(out);
			if (rows[i].err != NULL)
				assert_string_equal(err, rows[i].err);
			else
				assert_true(err[0] != '\0');
		}
	}
}

static void
test_render_bounded(void **state)
{
	size_t n = RENDER_MAX / 4 + 10, i;
	char *tmpl = malloc(n * 13 + 1), *out, err[256];

	(void)state;
	tmpl[0] = '\0';
	for (i = 0; i < n; i++)
		strcat(tmpl + (i ? (i - 1) * 13 : 0), "{{ service }}");
	assert_int_equal(render_template(tmpl, &ctx, &out, err, sizeof err), ST_TOOBIG);
	assert_null(out);
	free(tmpl);
}

static void
test_collapse(void **state)
{
	char s[] = "\n\tsum(\n\t\trate( x )\t) \r\f\n";
	char t[] = "no-space";

	(void)state;
	assert_string_equal(collapse_space(s), " sum( rate( x ) ) ");
	assert_string_equal(collapse_space(t), "no-space");
}

/* The reference's rendered Istio example, byte for byte. */
static void
test_builtin_istio_exact(void **state)
{
	const char *want =
	    " sum( rate( istio_requests_total{ reporter=\"destination\", "
	    "destination_workload_namespace=\"test\", destination_workload=~\"podinfo\", "
	    "response_code!~\"5.*\" }[1m] ) ) / sum( rate( istio_requests_total{ "
	    "reporter=\"destination\", destination_workload_namespace=\"test\", "
	    "destination_workload=~\"podinfo\" }[1m] ) ) * 100";
	char *out, err[256];

	(void)state;
	assert_int_equal(builtin_render(OBS_ISTIO, METRIC_SUCCESS_RATE, false, &ctx, &out,
	    err, sizeof err), ST_OK);
	assert_string_equal(out, want);
	free(out);
}

static void
test_builtin_all(void **state)
{
	static const struct { enum observer o; enum metric_kind k; bool vol; const char *want; } rows[] = {
		{ OBS_LINKERD, METRIC_DURATION, false,
		  " histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{ namespace=\"test\", "
		  "deployment=~\"podinfo\", direction=\"inbound\" }[1m] ) ) by (le) )" },
		{ OBS_NGINX, METRIC_DURATION, false,
		  " sum( rate( nginx_ingress_controller_response_duration_seconds_sum{ namespace=\"test\", "
		  "ingress=\"podinfo-ing\", canary!=\"\" }[1m] ) ) / sum( rate( "
		  "nginx_ingress_controller_response_duration_seconds_count{ namespace=\"test\", "
		  "ingress=\"podinfo-ing\", canary!=\"\" }[1m] ) ) * 1000" },
		{ OBS_CONTOUR, METRIC_SUCCESS_RATE, false,
		  " sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~\"test_podinfo-svc-canary_"
		  "[0-9a-zA-Z-]+\", envoy_response_code!~\"5.*\" }[1m] ) ) / sum( rate( "
		  "envoy_cluster_upstream_rq{ envoy_cluster_name=~\"test_podinfo-svc-canary_[0-9a-zA-Z-]+\", "
		  "}[1m] ) ) * 100" },
		{ OBS_SKIPPER, METRIC_SUCCESS_RATE, false,
		  " sum(rate(skipper_response_duration_seconds_bucket{route=~\"kube(ew)?_test__podinfo_ing_"
		  "canary__.*__podinfo_svc_canary(_[0-9]+)?\",code!~\"5..\",le=\"+Inf\"}[1m])) / "
		  "sum(rate(skipper_response_duration_seconds_bucket{route=~\"kube(ew)?_test__podinfo_ing_"
		  "canary__.*__podinfo_svc_canary(_[0-9]+)?\",le=\"+Inf\"}[1m])) * 100" },
		{ OBS_APISIX, METRIC_DURATION, false,
		  " histogram_quantile( 0.99, sum( rate( apisix_http_latency_bucket{ type=~\"request\", "
		  "route=~\"test_podinfo-route-podinfo-canary_.+\" }[1m] ) ) by (le) )" },
		{ OBS_ISTIO, METRIC_SUCCESS_RATE, true,
		  " sum( increase( istio_requests_total{ reporter=\"destination\", "
		  "destination_workload_namespace=\"test\", destination_workload=~\"podinfo\" }[1m] ) )" },
		{ OBS_NGINX, METRIC_DURATION, true,
		  " sum( increase( nginx_ingress_controller_requests{ namespace=\"test\", "
		  "ingress=\"podinfo-ing\", canary!=\"\" }[1m] ) )" },
	};
	size_t i;
	int o, k;
	char *out, err[256];

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		assert_int_equal(builtin_render(rows[i].o, rows[i].k, rows[i].vol, &ctx, &out,
		    err, sizeof err), ST_OK);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu:\n got  '%s'\n want '%s'", i, out, rows[i].want);
		free(out);
	}
	/* Every observer has all three queries, they render, and they name
	 * no template action any more. */
	for (o = 0; o < OBS__COUNT; o++)
		for (k = 0; k < 3; k++) {
			enum metric_kind kind = k == 1 ? METRIC_DURATION : METRIC_SUCCESS_RATE;

			assert_int_equal(builtin_render(o, kind, k == 2, &ctx, &out, err, sizeof err), ST_OK);
			assert_null(strstr(out, "{{"));
			assert_non_null(strstr(out, "[1m]"));
			assert_true(out[0] == ' ');
			free(out);
		}
	assert_int_equal(builtin_render(OBS_ISTIO, METRIC_CUSTOM, false, &ctx, &out, err,
	    sizeof err), ST_INVALID);
}

static void
test_observer_choice(void **state)
{
	static const struct { const char *provider, *kind; enum observer want; } rows[] = {
		{ NULL, NULL, OBS_ISTIO }, { "", "Deployment", OBS_ISTIO },
		{ "linkerd", "Deployment", OBS_LINKERD }, { "nginx", NULL, OBS_NGINX },
		{ "kubernetes", "Deployment", OBS_HTTP }, { "gatewayapi:v1", NULL, OBS_HTTP },
		{ "gatewayapi:v1beta1", "Service", OBS_HTTP }, { "appmesh:v1beta2", NULL, OBS_APPMESH },
		{ "gloo", "Deployment", OBS_GLOO }, { "contour", NULL, OBS_CONTOUR },
		{ "skipper", NULL, OBS_SKIPPER }, { "traefik", NULL, OBS_TRAEFIK },
		{ "osm", NULL, OBS_OSM }, { "kuma", NULL, OBS_KUMA }, { "apisix", NULL, OBS_APISIX },
		{ "knative", "Service", OBS_KNATIVE }, { "smi:v1alpha3", NULL, OBS_ISTIO },
		{ "linkerd", "Service", OBS_ISTIO }, { "kubernetes", "Service", OBS_ISTIO },
		{ "appmesh", "Service", OBS_APPMESH }, { "something-else", NULL, OBS_ISTIO },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
		if (builtin_observer(rows[i].provider, rows[i].kind) != rows[i].want)
			fail_msg("row %zu: %s/%s gave %s", i, rows[i].provider, rows[i].kind,
			    observer_name(builtin_observer(rows[i].provider, rows[i].kind)));
	assert_int_equal(builtin_kind("request-success-rate"), METRIC_SUCCESS_RATE);
	assert_int_equal(builtin_kind("request-duration"), METRIC_DURATION);
	assert_int_equal(builtin_kind("error-rate"), METRIC_CUSTOM);
}

static void
test_duration_and_judge(void **state)
{
	static const struct {
		enum metric_kind k; bool has_min; double min; bool has_max; double max;
		double v; enum check_result want;
	} rows[] = {
		{ METRIC_SUCCESS_RATE, true, 99, false, 0, 99, CHECK_PASS },
		{ METRIC_SUCCESS_RATE, true, 99, false, 0, 98.99, CHECK_FAIL },
		{ METRIC_DURATION, false, 0, true, 500, 500, CHECK_PASS },
		{ METRIC_DURATION, false, 0, true, 500, 501, CHECK_FAIL },
		{ METRIC_DURATION, false, 0, true, 500.9, 500, CHECK_PASS },	/* ms bound truncated... */
		{ METRIC_DURATION, false, 0, true, 500.9, 501, CHECK_FAIL },	/* ... to 500 */
		{ METRIC_CUSTOM, false, 0, true, 0.5, 0.6, CHECK_FAIL },
		{ METRIC_CUSTOM, true, 1, true, 2, 1.5, CHECK_PASS },
		{ METRIC_CUSTOM, false, 0, false, 0, 1e9, CHECK_PASS },
		{ METRIC_CUSTOM, true, 1, false, 0, NAN, CHECK_NODATA },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct metric_cfg m = { .kind = rows[i].k, .has_min = rows[i].has_min,
		    .min = rows[i].min, .has_max = rows[i].has_max, .max = rows[i].max };

		if (metric_judge(&m, rows[i].v) != rows[i].want)
			fail_msg("row %zu", i);
	}
	assert_true(builtin_duration_ms(OBS_ISTIO, 123.9) == 123);
	assert_true(builtin_duration_ms(OBS_HTTP, 0.1239) == 123);
	assert_true(builtin_duration_ms(OBS_HTTP, 1.5155) == 1515);
	assert_true(isnan(builtin_duration_ms(OBS_LINKERD, NAN)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_bounded),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_builtin_istio_exact),
		cmocka_unit_test(test_builtin_all),
		cmocka_unit_test(test_observer_choice),
		cmocka_unit_test(test_duration_and_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
