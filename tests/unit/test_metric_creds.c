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
	    "apiVersion: flagger.app/v1beta1\n"
	    "kind: Canary\n"
	    "metadata: {name: web, namespace: shop}\n"
	    "spec:\n"
	    "  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
	    "  service: {port: 80}\n"
	    "  analysis:\n"
	    "    interval: 1m\n"
	    "    threshold: 2\n"
	    "    maxWeight: 50\n"
	    "    stepWeight: 10\n"
	    "    metrics:\n"
	    "      - name: latency\n"
	    "        templateRef: {name: latency}\n"
	    "        thresholdRange: {max: 500}\n", url, secret);
	diag_list_init(&dl, false);
	assert_int_equal(spec_load_buffer(set, "web.yaml", doc, strlen(doc), &dl), ST_OK);
	diag_list_fini(&dl);
	assert_int_equal(spec_set_n_canaries(set), 1);
	return set;
}

static void
test_secret_ref(void **state)
{
	static const struct k8s_client_opts o = { .retries = -1 };
	struct kubeconfig_opts ko = { 0 };
	struct apiserver srv;
	struct k8s_config *cfg;
	struct k8s_client *c;
	struct k8s_err e;
	struct httpd *h = httpd_start(prom_rules, 1);
	char url[128], err[512], *req;
	size_t i;

	(void)state;
	assert_non_null(h);
	httpd_url(h, url, sizeof url);
	assert_int_equal(apiserver_start(&srv, NULL), 0);
	ko.path = srv.kubeconfig;
	assert_int_equal(k8s_config_load(&ko, &cfg, NULL), ST_OK);
	assert_int_equal(k8s_client_new(cfg, &o, &c, NULL), ST_OK);
	{
		json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "shop");

		assert_int_equal(k8s_create(c, K8S_RES(NAMESPACES), NULL, ns, NULL, &e), ST_OK);
		json_decref(ns);
	}
	for (i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		json_t *s = json_loads(secrets[i], 0, NULL);

		assert_int_equal(k8s_create(c, K8S_RES(SECRETS), "shop", s, NULL, &e), ST_OK);
		json_decref(s);
	}
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
	k8s_client_free(c);
	k8s_config_free(cfg);
	apiserver_stop(&srv);
	httpd_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
