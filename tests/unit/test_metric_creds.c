/* test_metric_creds.c — MetricTemplate secretRef credentials: Secrets on the
 * test API server, a scripted Prometheus that records the Authorization
 * header perch sends; errors name the template and Secret, never a value. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "app/metric_creds.h"
#include "helper_apiserver.h"
#include "helper_httpd.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "metrics/prom.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "util/status.h"

static const struct httpd_rule prom_rules[] = {
	{ .match = "/api/v1/query", .status = 200, .body = "{\"status\":\"success\",\"data\":"
	  "{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"1\"]}]}}" },
};

static const char *const secrets[] = {
	"{\"metadata\":{\"name\":\"prom-token\"},\"data\":{\"token\":\"czNjcjN0LXRva2Vu\","
	"\"username\":\"dXNlcg==\",\"password\":\"cGE1NQ==\"}}",
	"{\"metadata\":{\"name\":\"prom-basic\"},\"data\":{\"username\":\"dXNlcg==\","
	"\"password\":\"cGE1NQ==\"}}",
	"{\"metadata\":{\"name\":\"prom-string\"},\"stringData\":{\"token\":\"plain-token\"}}",
	"{\"metadata\":{\"name\":\"prom-half\"},\"data\":{\"username\":\"dXNlcg==\"}}",
	"{\"metadata\":{\"name\":\"prom-bad\"},\"data\":{\"token\":\"YQBi\"}}",
};

struct creds_case {
	const char *secret;
	int st;
	const char *header;	/* in the request to Prometheus */
	const char *err;	/* substring of the error */
};

static const struct creds_case cases[] = {
	{ "prom-token", ST_OK, "Authorization: Bearer s3cr3t-token", NULL },
	{ "prom-basic", ST_OK, "Authorization: Basic dXNlcjpwYTU1", NULL },
	{ "prom-string", ST_OK, "Authorization: Bearer plain-token", NULL },
	{ "prom-half", ST_INVALID, NULL, "MetricTemplate shop/latency: secret prom-half has no token, nor both username and password" },
	{ "prom-bad", ST_INVALID, NULL, "MetricTemplate shop/latency: secret prom-bad: data.token is not base64 text" },
	{ "prom-missing", ST_NOTFOUND, NULL, "MetricTemplate shop/latency: secret prom-missing: " },
};

/* Canary shop/web, its metrics list to follow. */
#define WEB_CANARY \
    "apiVersion: flagger.app/v1beta1\n" \
    "kind: Canary\n" \
    "metadata: {name: web, namespace: shop}\n" \
    "spec:\n" \
    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n" \
    "  service: {port: 80}\n" \
    "  analysis:\n" \
    "    interval: 1m\n" \
    "    threshold: 2\n" \
    "    maxWeight: 50\n" \
    "    stepWeight: 10\n" \
    "    metrics:\n"

static struct spec_set *
load(const char *url, const char *secret)
{
	struct spec_set *set = spec_set_new();
	struct diag_list dl;
	char doc[2048];

	snprintf(doc, sizeof doc,
	    "apiVersion: flagger.app/v1beta1\n"
	    "kind: MetricTemplate\n"
	    "metadata: {name: latency, namespace: shop}\n"
	    "spec:\n"
	    "  provider: {type: prometheus, address: '%s', secretRef: {name: %s},\n"
	    "             headers: {X-Scope-OrgID: [team-a]}}\n"
	    "  query: up\n"
	    "---\n"
	    WEB_CANARY
	    "      - name: latency\n"
	    "        templateRef: {name: latency}\n"
	    "        thresholdRange: {max: 500}\n", url, secret);
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", doc, strlen(doc), &dl), ST_OK);
	diag_list_fini(&dl);
	assert_int_equal(spec_set_n_canaries(set), 1);
	return set;
}

/* The test API server with namespace shop and its Secrets. */
struct fixture {
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *client;
};

static int
setup(void **state)
{
	static const struct k8s_client_opts o = { .retries = -1 };
	struct kubeconfig_opts ko = { 0 };
	struct fixture *f = calloc(1, sizeof *f);
	json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "shop");
	struct k8s_err e;
	size_t i;

	assert_non_null(f);
	assert_int_equal(apiserver_start(&f->srv, NULL), 0);
	ko.path = f->srv.kubeconfig;
	assert_int_equal(k8s_config_load(&ko, &f->cfg, NULL), ST_OK);
	assert_int_equal(k8s_client_new(f->cfg, &o, &f->client, NULL), ST_OK);
	assert_int_equal(k8s_create(f->client, K8S_RES(NAMESPACES), NULL, ns, NULL, &e), ST_OK);
	json_decref(ns);
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		json_t *s = json_loads(secrets[i], 0, NULL);

		assert_int_equal(k8s_create(f->client, K8S_RES(SECRETS), "shop", s, NULL, &e), ST_OK);
		json_decref(s);
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	k8s_client_free(f->client);
	k8s_config_free(f->cfg);
	apiserver_stop(&f->srv);
	free(f);
	return 0;
}

static void
test_secret_ref(void **state)
{
	struct fixture *f = *state;
	struct k8s_client *c = f->client;
	struct httpd *h = httpd_start(prom_rules, 1);
	char url[128], err[512], *req;
	size_t i;

	assert_non_null(h);
	httpd_url(h, url, sizeof url);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct creds_case *t = &cases[i];
		struct spec_set *set = load(url, t->secret);
		struct metric_backends *b = metric_backends_new(NULL);
		struct prom *p = metric_backends_handle(b, "prometheus");
		struct prom_req rq = { .server = url, .query = "up" };
		struct prom_res rs;
		int st;

		err[0] = '\0';
		st = metric_creds_register(c, set, spec_set_canary(set, 0), b, err, sizeof err);
		if (st != t->st)
			fail_msg("%s: status %d (%s), want %d", t->secret, st, err, t->st);
		if (t->err && !strstr(err, t->err))
			fail_msg("%s: error '%s', want '%s'", t->secret, err, t->err);
		if (strstr(err, "s3cr3t") || strstr(err, "pa55") || strstr(err, "dXNlc"))
			fail_msg("%s: a secret value in '%s'", t->secret, err);
		if (t->header) {
			prom_query_batch(p, &rq, 1, &rs);
			assert_int_equal(rs.status, ST_OK);
			req = httpd_request(h, httpd_count(h) - 1);
			assert_non_null(req);
			if (!strstr(req, t->header) || !strstr(req, "X-Scope-OrgID: team-a"))
				fail_msg("%s: request lacks %s:\n%s", t->secret, t->header, req);
			free(req);
		}
		metric_backends_free(b);
		spec_set_free(set);
	}
	httpd_stop(h);
}

/* Two Prometheus templates of one address with other secretRefs are two
 * provider blocks: each query signs in with its own template's Secret. */
static const char two_templates[] =
    "apiVersion: flagger.app/v1beta1\n"
    "kind: MetricTemplate\n"
    "metadata: {name: lat-a, namespace: shop}\n"
    "spec:\n"
    "  provider: {type: prometheus, address: '%s', secretRef: {name: prom-token}}\n"
    "  query: up_a\n"
    "---\n"
    "apiVersion: flagger.app/v1beta1\n"
    "kind: MetricTemplate\n"
    "metadata: {name: lat-b, namespace: shop}\n"
    "spec:\n"
    "  provider: {type: prometheus, address: '%s', secretRef: {name: prom-basic}}\n"
    "  query: up_b\n"
    "---\n"
    WEB_CANARY
    "      - {name: lat-a, templateRef: {name: lat-a}, thresholdRange: {max: 500}}\n"
    "      - {name: lat-b, templateRef: {name: lat-b}, thresholdRange: {max: 500}}\n";

/* The recorded request that asked query, checked for header. */
static void
expect_auth(struct httpd *h, const char *query, const char *header)
{
	size_t i, n = httpd_count(h);
	char *req;

	for (i = 0; i < n; i++) {
		req = httpd_request(h, i);
		if (req != NULL && strstr(req, query) != NULL) {
			if (strstr(req, header) == NULL)
				fail_msg("the request of %s lacks %s:\n%s", query, header, req);
			free(req);
			return;
		}
		free(req);
	}
	fail_msg("no request of %s", query);
}

static void
test_same_address_two_secrets(void **state)
{
	struct fixture *f = *state;
	struct httpd *h = httpd_start(prom_rules, 1);
	struct spec_set *set = spec_set_new();
	struct metric_backends *b = metric_backends_new(NULL);
	struct canary_cfg *cfg;
	struct metric_query q[2];
	struct metric_value v[2];
	struct diag_list dl;
	char url[128], doc[4096], err[512];

	assert_non_null(h);
	httpd_url(h, url, sizeof url);
	snprintf(doc, sizeof doc, two_templates, url, url);
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", doc, strlen(doc), &dl), ST_OK);
	diag_list_fini(&dl);
	assert_int_equal(canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &cfg, err,
	    sizeof err), ST_OK);
	canary_register_servers(set, spec_set_canary(set, 0), b);
	assert_int_equal(metric_creds_register(f->client, set, spec_set_canary(set, 0), b, err,
	    sizeof err), ST_OK);
	q[0] = (struct metric_query){ .canary = cfg, .metric = &cfg->metrics[0],
		.query = cfg->metrics[0].query };
	q[1] = (struct metric_query){ .canary = cfg, .metric = &cfg->metrics[1],
		.query = cfg->metrics[1].query };
	assert_int_equal(metric_backends_eval(b, q, 2, v), ST_OK);
	assert_int_equal(v[0].result, CHECK_PASS);
	assert_int_equal(v[1].result, CHECK_PASS);
	expect_auth(h, "query=up_a", "Authorization: Bearer s3cr3t-token");
	expect_auth(h, "query=up_b", "Authorization: Basic dXNlcjpwYTU1");
	canary_cfg_free(cfg);
	metric_backends_free(b);
	spec_set_free(set);
	httpd_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_ref),
		cmocka_unit_test(test_same_address_two_secrets),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
