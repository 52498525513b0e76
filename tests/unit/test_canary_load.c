/* test_canary_load.c — spec Canary + MetricTemplates -> struct canary_cfg:
 * rendered built-in and template queries, volume queries, the primary
 * aim, deprecated thresholds, hooks, annotations, and render errors that
 * name the file, line and metric. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "metrics/prom.h"
#include "tests/unit/helper_httpd.h"
#include "spec/spec.h"
#include "util/status.h"

static const char doc[] =
    "apiVersion: flagger.app/v1beta1\n"
    "kind: Canary\n"
    "metadata:\n"
    "  name: web\n"
    "  namespace: shop\n"
    "  annotations:\n"
    "    perch.dev/min-requests: \"50\"\n"
    "spec:\n"
    "  provider: contour\n"
    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
    "  service: {port: 80, name: websvc}\n"
    "  analysis:\n"
    "    interval: 30s\n"
    "    threshold: 3\n"
    "    stepWeight: 20\n"
    "    maxWeight: 60\n"
    "    metrics:\n"
    "    - name: request-success-rate\n"
    "      threshold: 99\n"
    "    - name: request-duration\n"
    "      interval: 2m\n"
    "      thresholdRange: {max: 500}\n"
    "    - name: errors\n"
    "      interval: 1m\n"
    "      templateRef: {name: errs}\n"
    "      templateVariables: {code: \"5..\"}\n"
    "      thresholdRange: {max: 2}\n"
    "    webhooks:\n"
    "    - name: load\n"
    "      url: http://loadtester/\n"
    "      timeout: 5s\n"
    "      retries: 2\n"
    "      metadata: {cmd: \"hey http://web-canary/\"}\n"
    "---\n"
    "apiVersion: flagger.app/v1beta1\n"
    "kind: MetricTemplate\n"
    "metadata:\n"
    "  name: errs\n"
    "  namespace: shop\n"
    "  annotations:\n"
    "    perch.dev/volume-query: 'sum(increase(req{svc=\"{{ service }}-canary\"}[{{ interval }}]))'\n"
    "spec:\n"
    "  provider: {type: prometheus, address: 'http://prom:9090'}\n"
    "  query: |\n"
    "    sum(rate(req{svc=\"{{ service }}-canary\",\n"
    "      code=~\"{{ variables.code }}\"}[{{ interval }}]))\n";

static struct spec_set *
load(const char *text)
{
	struct diag_list dl;
	struct spec_set *set = spec_set_new();

	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", text, strlen(text), &dl), ST_OK);
	spec_validate(set, &dl);
	if (dl.n_errors > 0)
		fail_msg("%s:%d: %s", dl.items[0].file, dl.items[0].line, dl.items[0].message);
	diag_list_fini(&dl);
	assert_int_equal(spec_set_n_canaries(set), 1);
	return set;
}

static void
test_load(void **state)
{
	struct spec_set *set = load(doc);
	struct canary_cfg *c;
	char err[512];

	(void)state;
	assert_int_equal(canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &c, err, sizeof err), ST_OK);
	assert_string_equal(c->ns, "shop");
	assert_string_equal(c->service, "websvc");
	assert_string_equal(c->provider, "contour");
	assert_int_equal(c->interval_s, 30);
	assert_int_equal(c->threshold, 3);
	assert_int_equal(c->max_weight, 60);
	assert_true(c->min_requests == 50);
	assert_int_equal(c->n_metrics, 3);
	/* deprecated threshold on the success rate: a minimum; default 1m */
	assert_int_equal(c->metrics[0].kind, METRIC_SUCCESS_RATE);
	assert_true(c->metrics[0].has_min && c->metrics[0].min == 99 && !c->metrics[0].has_max);
	assert_string_equal(c->metrics[0].query,
	    " sum( rate( envoy_cluster_upstream_rq{ envoy_cluster_name=~\"shop_websvc-canary_[0-9a-zA-Z-]+\", "
	    "envoy_response_code!~\"5.*\" }[1m] ) ) / sum( rate( envoy_cluster_upstream_rq{ "
	    "envoy_cluster_name=~\"shop_websvc-canary_[0-9a-zA-Z-]+\", }[1m] ) ) * 100");
	assert_string_equal(c->metrics[0].volume_query,
	    " sum( increase( envoy_cluster_upstream_rq{ envoy_cluster_name=~\"shop_websvc-canary_[0-9a-zA-Z-]+\","
	    " }[1m] ) )");
	assert_null(c->metrics[0].template_ref);
	assert_non_null(strstr(c->metrics[1].query, "}[2m]"));
	assert_int_equal(c->metrics[2].kind, METRIC_CUSTOM);
	assert_string_equal(c->metrics[2].template_ref, "shop/errs");
	assert_string_equal(c->metrics[2].server, "http://prom:9090");
	assert_string_equal(c->metrics[2].provider, "prometheus");	/* its backend */
	assert_null(c->metrics[0].provider);	/* built-in: the default backend's */
	assert_string_equal(c->metrics[2].query, "sum(rate(req{svc=\"websvc-canary\", code=~\"5..\"}[1m])) ");
	assert_string_equal(c->metrics[2].volume_query, "sum(increase(req{svc=\"websvc-canary\"}[1m]))");
	assert_int_equal(c->n_hooks, 1);
	assert_int_equal(c->hooks[0].timeout_ms, 5000);
	assert_int_equal(c->hooks[0].retries, 2);
	assert_string_equal(c->hooks[0].metadata[0].key, "cmd");
	canary_cfg_free(c);

	/* Aimed at the primary: generated canary names become primary ones. */
	assert_int_equal(canary_load(set, spec_set_canary(set, 0), AIM_PRIMARY, &c, err, sizeof err), ST_OK);
	assert_non_null(strstr(c->metrics[0].query, "shop_websvc-primary_[0-9a-zA-Z-]+"));
	assert_null(strstr(c->metrics[0].query, "canary"));
	assert_string_equal(c->metrics[2].query, "sum(rate(req{svc=\"websvc-primary\", code=~\"5..\"}[1m])) ");
	canary_cfg_free(c);
	spec_set_free(set);
}

static void
test_errors(void **state)
{
	static const struct { const char *from, *to, *want; } rows[] = {
		{ "{{ variables.code }}", "{{ variables.status }}",
		  "web.yaml:23:7: spec.analysis.metrics[2]: MetricTemplate shop/errs: query render error: "
		  "line 2 col 13: missing templateVariables key \"status\"" },
		{ "{{ interval }}]))\n", "{{ interval | quote }}]))\n",
		  "query render error: line 2 col 36: unsupported template expression \"interval | quote\"" },
		{ "templateRef: {name: errs}", "templateRef: {name: other}", NULL },
		/* a type without a metric backend: the template and its field */
		{ "type: prometheus", "type: keptn",
		  "web.yaml:23:7: spec.analysis.metrics[2]: MetricTemplate shop/errs: "
		  "spec.provider.type keptn is not supported (perch queries prometheus, " },
		{ "[{{ interval }}]))'", "[{{ window }}]))'",
		  "MetricTemplate shop/errs (perch.dev/volume-query): query render error: line 1 col 49: "
		  "unknown function \"window\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char text[sizeof doc + 64], err[512] = "", *p;
		struct diag_list dl;
		struct spec_set *set = spec_set_new();
		struct canary_cfg *c = (struct canary_cfg *)1;

		strcpy(text, doc);
		p = strstr(text, rows[i].from);
		assert_non_null(p);
		memmove(p + strlen(rows[i].to), p + strlen(rows[i].from), strlen(p + strlen(rows[i].from)) + 1);
		memcpy(p, rows[i].to, strlen(rows[i].to));
		diag_list_init(&dl, false);
		spec_load_buffer(set, "web.yaml", text, strlen(text), &dl);
		spec_validate(set, &dl);
		diag_list_fini(&dl);
		assert_int_equal(spec_set_n_canaries(set), 1);
		assert_int_not_equal(canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &c, err,
		    sizeof err), ST_OK);
		assert_null(c);
		if (rows[i].want != NULL && strstr(err, rows[i].want) == NULL)
			fail_msg("row %zu: '%s'", i, err);
		if (rows[i].want == NULL)
			assert_non_null(strstr(err, "MetricTemplate shop/other not found"));
		spec_set_free(set);
	}
}

/* A template of a backend whose server needs no address (cloudwatch: its
 * region) is registered all the same. */
static void
test_register_addressless(void **state)
{
	static const char text[] =
	    "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: web, namespace: shop}\n"
	    "spec:\n  provider: istio\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80}\n  analysis:\n    interval: 1m\n    threshold: 2\n"
	    "    maxWeight: 50\n    stepWeight: 10\n    metrics:\n    - name: cw\n"
	    "      templateRef: {name: cw}\n---\napiVersion: flagger.app/v1beta1\n"
	    "kind: MetricTemplate\nmetadata: {name: cw, namespace: shop}\nspec:\n"
	    "  provider: {type: cloudwatch, region: eu-west-1}\n  query: '[]'\n";
	struct metric_backends *b = metric_backends_new(NULL);
	struct spec_set *set;

	(void)state;
	set = load(text);
	assert_int_equal(canary_register_servers(set, spec_set_canary(set, 0), b), 1);
	spec_set_free(set);
	metric_backends_free(b);
}

/* A template's address gets its headers; other servers do not. */
static void
test_register_servers(void **state)
{
	static const struct httpd_rule rules[] = {
		{ .status = 200, .body = "{\"status\":\"success\",\"data\":{\"resultType\":"
		  "\"scalar\",\"result\":[1,\"4\"]}}" },
	};
	struct httpd *h = httpd_start(rules, 1);
	char url[64], other[80], text[sizeof doc + 256], *p, *r, *r0;
	struct spec_set *set;
	struct metric_backends *b = metric_backends_new(NULL);
	struct prom *pr = metric_backends_handle(b, "prometheus");
	struct prom_req req[2];
	struct prom_res res[2];

	(void)state;
	httpd_url(h, url, sizeof url);
	strcpy(text, doc);
	p = strstr(text, "address: 'http://prom:9090'}");
	snprintf(p, sizeof text - (size_t)(p - text), "address: '%s', headers: {X-Scope-OrgID: [shop, web]}}%s",
	    url, strstr(doc, "address: 'http://prom:9090'}") + strlen("address: 'http://prom:9090'}"));
	set = load(text);
	assert_int_equal(canary_register_servers(set, spec_set_canary(set, 0), b), 1);
	req[0] = (struct prom_req){ url, "a", 0 };
	snprintf(other, sizeof other, "%s/", url);	/* the same server, not registered */
	req[1] = (struct prom_req){ other, "b", 0 };
	prom_query_batch(pr, req, 2, res);
	assert_true(res[0].v.result == CHECK_PASS && res[0].v.value == 4);
	assert_true(res[1].v.result == CHECK_PASS);
	r0 = httpd_request(h, 0);
	r = httpd_request(h, 1);
	if (strstr(r0, "query=b") != NULL) {
		p = r0;
		r0 = r;
		r = p;
	}
	/* r0 asked for a, r for b */
	assert_non_null(strstr(r0, "X-Scope-OrgID: shop\r\n"));
	assert_non_null(strstr(r0, "X-Scope-OrgID: web\r\n"));
	assert_null(strstr(r, "X-Scope-OrgID"));
	free(r0);
	free(r);
	metric_backends_free(b);
	spec_set_free(set);
	httpd_stop(h);
}

/* spec.analysis.sessionAffinity reaches the cfg whole; maxAge defaults to
 * 86400; without it cfg->affinity is NULL. */
static void
test_affinity(void **state)
{
	static const char *const docs[] = {
	    "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: web, namespace: shop}\n"
	    "spec:\n  provider: gatewayapi:v1\n"
	    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80, gatewayRefs: [{name: public}]}\n"
	    "  analysis:\n    interval: 30s\n    threshold: 3\n    stepWeight: 10\n"
	    "    sessionAffinity: {cookieName: c, primaryCookieName: p, domain: d.example,\n"
	    "      path: /x, sameSite: Strict, httpOnly: true, partitioned: true, secure: true}\n",
	    "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: web, namespace: shop}\n"
	    "spec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80}\n"
	    "  analysis:\n    interval: 30s\n    threshold: 3\n    stepWeight: 10\n"
	    "    sessionAffinity: {cookieName: c, maxAge: 60}\n",
	    "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: web, namespace: shop}\n"
	    "spec:\n  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80}\n"
	    "  analysis:\n    interval: 30s\n    threshold: 3\n    stepWeight: 10\n",
	};
	struct canary_cfg *c;
	struct spec_set *set;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		set = load(docs[i]);
		assert_int_equal(canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &c, err,
		    sizeof err), ST_OK);
		if (i == 2) {
			assert_null(c->affinity);
		} else {
			assert_non_null(c->affinity);
			assert_string_equal(c->affinity->cookie_name, "c");
			assert_int_equal(c->affinity->max_age, i == 0 ? 86400 : 60);
			assert_int_equal(c->affinity->secure, i == 0);
			assert_int_equal(c->affinity->http_only, i == 0);
			assert_int_equal(c->affinity->partitioned, i == 0);
			if (i == 0) {
				assert_string_equal(c->affinity->primary_cookie_name, "p");
				assert_string_equal(c->affinity->domain, "d.example");
				assert_string_equal(c->affinity->path, "/x");
				assert_string_equal(c->affinity->same_site, "Strict");
			} else {
				assert_null(c->affinity->primary_cookie_name);
				assert_null(c->affinity->domain);
				assert_null(c->affinity->same_site);
			}
		}
		canary_cfg_free(c);
		spec_set_free(set);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_affinity),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_register_servers),
		cmocka_unit_test(test_register_addressless),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
