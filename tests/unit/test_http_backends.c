/* test_http_backends.c — the HTTP metric backends through their ops
 * tables against a scripted local server: each one's probe (what it asks,
 * what counts as online), the request of a query (credentials in
 * headers, never in messages), a missing secret key named with the
 * template, and the shared transport: no answer (5xx, timeout, refused)
 * is `unavailable`, an answer over the cap is an error, and at most 8
 * requests are on the wire at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "metrics/http_backend.h"
#include "tests/unit/helper_clock.h"
#include "tests/unit/helper_httpd.h"
#include "util/status.h"

static const struct metric_backend_ops *
ops_of(enum metric_type t)
{
	const struct metric_backend_ops *o = metric_backend_find(metric_type_name(t));

	assert_non_null(o);
	return o;
}

/* A handle of type t with one provider block at url and secret values. */
static void *
handle(enum metric_type t, const char *url, const char *const *secret,
    const struct metric_backend_opts *bo)
{
	static const struct metric_backend_opts none;
	const struct metric_backend_ops *o = ops_of(t);
	struct metric_provider p = { .address = url, .secret = secret };
	void *h = o->open(bo != NULL ? bo : &none);

	assert_int_equal(o->add(h, &p), ST_OK);
	return h;
}

static void
probe_case(enum metric_type t, const char *const *secret, const char *match, int status,
    const char *body, int want, const char *in_request)
{
	const struct httpd_rule rules[] = { { .match = match, .status = status, .body = body },
		{ .match = NULL, .status = 418, .body = "unexpected" } };
	struct httpd *s = httpd_start(rules, 2);
	char url[64], err[ERRMSG_MAX] = "", *req;
	const struct metric_backend_ops *o = ops_of(t);
	void *h;
	int st;

	httpd_url(s, url, sizeof url);
	h = handle(t, url, secret, NULL);
	st = o->probe(h, url, err);
	if ((want == ST_OK) != (st == ST_OK))
		fail_msg("%s probe: %d (%s), want %d", metric_type_name(t), st, err, want);
	assert_int_equal(httpd_count(s), 1);
	req = httpd_request(s, 0);
	if (strstr(req, in_request) == NULL)
		fail_msg("%s probe request lacks \"%s\":\n%s", metric_type_name(t), in_request, req);
	if (st != ST_OK)
		assert_true(err[0] != '\0');
	free(req);
	o->close(h);
	httpd_stop(s);
}

static void
test_probes(void **state)
{
	static const char *const dd[] = { "k-api", "k-app", NULL };
	static const char *const nr[] = { "42", "k-query", NULL };
	static const char *const ifx[] = { "k-tok", "my org", NULL };
	static const char *const ext[] = { "k-bearer", NULL };

	(void)state;
	/* graphite: target=test answering nothing is online */
	probe_case(MT_GRAPHITE, NULL, "GET /render?format=json&target=test ", 200, "[]", ST_OK,
	    "Accept: application/json");
	probe_case(MT_GRAPHITE, NULL, "/render", 500, "boom", ST_ERR, "target=test");
	probe_case(MT_DATADOG, dd, "GET /api/v1/validate ", 200, "{\"valid\":true}", ST_OK,
	    "DD-APPLICATION-KEY: k-app");
	probe_case(MT_DATADOG, dd, "/api/v1/validate", 403, "{\"errors\":[\"Forbidden\"]}", ST_ERR,
	    "DD-API-KEY: k-api");
	probe_case(MT_NEWRELIC, nr, "GET /v1/accounts/42/query?nrql=SELECT%20%2A%20FROM%20Metric",
	    200, "{\"results\":[{\"events\":[]}]}", ST_OK, "X-Query-Key: k-query");
	probe_case(MT_INFLUXDB, ifx, "POST /api/v2/query?org=my%20org ", 200, "\r\n", ST_OK,
	    "Authorization: Token k-tok");
	probe_case(MT_INFLUXDB, ifx, "/api/v2/query", 401, "{\"message\":\"unauthorized\"}", ST_ERR,
	    "\"type\":\"flux\"");
	probe_case(MT_EXTERNALMETRICS, ext, "GET /apis/external.metrics.k8s.io/v1beta1/namespaces/"
	    "kube-system/dummy-metric ", 200, "{\"items\":[]}", ST_OK, "Authorization: Bearer k-bearer");
	/* a 404 is offline (Flagger's probe) */
	probe_case(MT_EXTERNALMETRICS, ext, "dummy-metric", 404, "{\"kind\":\"Status\"}", ST_ERR,
	    "kube-system");
}

static struct metric_cfg *
metric(const char *server)
{
	static struct metric_cfg m;

	memset(&m, 0, sizeof m);
	m.name = (char *)"m";
	m.interval_s = 60;
	m.server = (char *)server;
	m.template_ref = (char *)"shop/errors";
	m.provider = (char *)metric_type_name(MT_DATADOG);
	return &m;
}

/* No secretRef, or a Secret without a key or with an empty one: the
 * template and the key. */
static void
test_missing_key(void **state)
{
	const struct httpd_rule rules[] = { { .status = 200, .body = "{\"series\":[]}" } };
	static const char *const half[] = { "k-api", NULL, NULL };
	static const char *const empty[] = { "", "k-app", NULL };
	static const char *const nr_empty[] = { "1234567", "", NULL };
	char err[128];
	struct httpd *s = httpd_start(rules, 1);
	const struct metric_backend_ops *o = ops_of(MT_DATADOG);
	struct metric_value v;
	struct metric_query q;
	char url[64];
	void *h;

	(void)state;
	httpd_url(s, url, sizeof url);
	h = handle(MT_DATADOG, url, NULL, NULL);
	q = (struct metric_query){ .metric = metric(url), .query = "avg:x{*}" };
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_int_equal(v.result, CHECK_ERROR);
	assert_false(v.unavailable);
	assert_string_equal(v.err, "MetricTemplate shop/errors: no provider.secretRef, and the "
	    "provider needs its key datadog_api_key");
	o->close(h);
	h = handle(MT_DATADOG, url, half, NULL);
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_string_equal(v.err, "MetricTemplate shop/errors: the secret of provider.secretRef "
	    "has no key datadog_application_key");
	o->close(h);
	h = handle(MT_DATADOG, url, empty, NULL);
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_string_equal(v.err, "MetricTemplate shop/errors: the secret of provider.secretRef "
	    "has no key datadog_api_key");
	o->close(h);
	assert_int_equal(o->check_secret(empty, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "has no datadog_api_key");
	assert_int_equal(ops_of(MT_NEWRELIC)->check_secret(nr_empty, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "has no newrelic_query_key");
	assert_int_equal(httpd_count(s), 0);	/* nothing was sent */
	httpd_stop(s);
}

/* The query's request: the window, the encoding, the keys in headers. */
static void
test_datadog_request(void **state)
{
	const struct httpd_rule rules[] = { { .status = 200,
		.body = "{\"series\":[{\"pointlist\":[[1,2.5],[2,3]]}]}" } };
	static const char *const dd[] = { "k-api", "k-app", NULL };
	struct httpd *s = httpd_start(rules, 1);
	const struct metric_backend_ops *o = ops_of(MT_DATADOG);
	struct metric_value v;
	struct metric_query q;
	char url[64], *req;
	void *h;

	(void)state;
	httpd_url(s, url, sizeof url);
	h = handle(MT_DATADOG, url, dd, NULL);
	q = (struct metric_query){ .metric = metric(url), .query = "avg:x{a:b} by {c}",
		.at_ms = 1700000000123LL };
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_int_equal(v.result, CHECK_PASS);
	assert_true(v.value == 2.5);
	req = httpd_request(s, 0);
	assert_non_null(strstr(req, "GET /api/v1/query?from=1699999400&query=avg%3Ax%7Ba%3Ab%7D%20"
	    "by%20%7Bc%7D&to=1700000000 "));
	assert_non_null(strstr(req, "DD-API-KEY: k-api\r\n"));
	free(req);
	o->close(h);
	httpd_stop(s);
}

/* No answer is unavailable; an answer over the cap is an error. */
static void
test_transport(void **state)
{
	const int k = test_timeout_scale();
	const struct httpd_rule rules[] = {
		{ .match = "slow", .status = 200, .body = "[]", .delay_ms = 1500 * k },
		{ .match = "down", .status = 503, .body = "unavailable" },
		{ .match = "big", .status = 200, .body = "[                                ]",
		  .repeat_body = 100 },
		{ .match = "many", .status = 200, .body = "[{\"target\":\"a\",\"datapoints\":[[1,2]]}]",
		  .delay_ms = 300 },
	};
	const struct metric_backend_opts bo = { .timeout_ms = 500 * k, .max_body = 1000 };
	struct httpd *s = httpd_start(rules, 4);
	const struct metric_backend_ops *o = ops_of(MT_GRAPHITE);
	struct metric_query q[12];
	struct metric_value v[12];
	struct metric_cfg m;
	char url[64];
	size_t i;
	void *h;

	(void)state;
	httpd_url(s, url, sizeof url);
	h = handle(MT_GRAPHITE, url, NULL, &bo);
	memset(&m, 0, sizeof m);
	m.server = url;
	q[0] = (struct metric_query){ .metric = &m, .query = "target=slow" };
	q[1] = (struct metric_query){ .metric = &m, .query = "target=down" };
	q[2] = (struct metric_query){ .metric = &m, .query = "target=big" };
	assert_int_equal(o->eval(h, q, 3, v), ST_OK);
	assert_int_equal(v[0].result, CHECK_ERROR);
	assert_true(v[0].unavailable);
	assert_non_null(strstr(v[0].err, "timed out"));
	assert_true(v[1].unavailable);
	assert_non_null(strstr(v[1].err, "HTTP 503"));
	assert_false(v[2].unavailable);
	assert_non_null(strstr(v[2].err, "larger than 1000 bytes"));
	o->close(h);
	httpd_stop(s);
	/* a fresh server: the slow request above may still be in progress */
	s = httpd_start(rules, 4);
	httpd_url(s, url, sizeof url);
	h = handle(MT_GRAPHITE, url, NULL, &bo);
	m.server = url;
	for (i = 0; i < 12; i++)
		q[i] = (struct metric_query){ .metric = &m, .query = "target=many" };
	assert_int_equal(o->eval(h, q, 12, v), ST_OK);
	for (i = 0; i < 12; i++)
		assert_int_equal(v[i].result, CHECK_PASS);
	if (httpd_max_concurrent(s) > 8)
		fail_msg("%d requests at once", httpd_max_concurrent(s));
	assert_true(httpd_max_concurrent(s) >= 2);
	o->close(h);
	httpd_stop(s);
}

/* cloudwatch's probe at a block with a region and an address, answered
 * with status: online or not as want. */
static void
probe_region(int status, int want)
{
	const struct httpd_rule rules[] = { { .match = NULL, .status = status, .body = "{}" } };
	struct httpd *s = httpd_start(rules, 1);
	const struct metric_backend_ops *o = ops_of(MT_CLOUDWATCH);
	struct metric_provider p = { .region = "eu-west-1" };
	char url[64], err[ERRMSG_MAX] = "", *req;
	void *h = o->open(&(struct metric_backend_opts){ 0 });

	httpd_url(s, url, sizeof url);
	p.address = url;
	assert_int_equal(o->add(h, &p), ST_OK);
	assert_int_equal(o->probe(h, url, err) == ST_OK, want == ST_OK);
	req = httpd_request(s, 0);
	assert_non_null(strstr(req, "/eu-west-1/monitoring/aws4_request"));
	free(req);
	o->close(h);
	httpd_stop(s);
}

/* A kind's before hook: stackdriver asks the metadata server for a token
 * once (hb_fetch), carries it as a Bearer in its queries, keeps it for the
 * next batch; a metadata server that does not answer leaves every query
 * unavailable and none is sent.  A probe refused with 400 is online for
 * the kinds with probe_400_ok (cloudwatch), a 403 is not. */
/* A provider block's own access token (stackdriver's service account) is
 * kept while the block is added again with the same Secret values, and
 * dropped when they change. */
static void
test_block_token_kept(void **state)
{
	static const char *const one[] = { "my-proj", "{\"k\": 1}", NULL };
	static const char *const two[] = { "my-proj", "{\"k\": 2}", NULL };
	struct metric_provider p = { .address = "http://127.0.0.1:1", .block = "t", .secret = one };
	void *h = handle(MT_STACKDRIVER, p.address, one, NULL);
	struct hb_server *srv;
	size_t n;

	(void)state;
	assert_int_equal(hb_add(h, &p), ST_OK);
	srv = hb_servers(h, &n);
	assert_int_equal(n, 2);
	srv[1].token = strdup("ya29.t");
	srv[1].token_until = 4102444800;
	assert_int_equal(hb_add(h, &p), ST_OK);
	assert_string_equal(hb_servers(h, &n)[1].token, "ya29.t");
	p.secret = two;
	assert_int_equal(hb_add(h, &p), ST_OK);
	assert_null(hb_servers(h, &n)[1].token);
	assert_int_equal(n, 2);
	hb_close(h);
}

static void
test_token_and_probe_400(void **state)
{
	static const char *const proj[] = { "my-proj", NULL };
	const struct httpd_rule rules[] = {
		{ .match = "computeMetadata", .status = 200,
		  .body = "{\"access_token\":\"tok-1\",\"expires_in\":3600}" },
		{ .match = "timeSeries:query", .status = 200,
		  .body = "{\"timeSeriesData\":[{\"pointData\":[{\"values\":[{\"doubleValue\":2.5}]}]}]}" },
	};
	struct httpd *s = httpd_start(rules, 2);
	const struct metric_backend_ops *o = ops_of(MT_STACKDRIVER);
	struct metric_query q;
	struct metric_value v;
	char url[64], *req;
	void *h;

	(void)state;
	httpd_url(s, url, sizeof url);
	setenv("GCE_METADATA_HOST", url + strlen("http://"), 1);
	h = handle(MT_STACKDRIVER, url, proj, NULL);
	q = (struct metric_query){ .metric = metric(url), .query = "fetch x" };
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_true(v.result == CHECK_PASS && v.value == 2.5);
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_int_equal(httpd_count(s), 3);	/* one token, two queries */
	req = httpd_request(s, 0);
	assert_non_null(strstr(req, "Metadata-Flavor: Google"));
	free(req);
	req = httpd_request(s, 2);
	assert_non_null(strstr(req, "/v3/projects/my-proj/timeSeries:query"));
	assert_non_null(strstr(req, "Authorization: Bearer tok-1"));
	free(req);
	o->close(h);
	setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);	/* refused */
	h = handle(MT_STACKDRIVER, url, proj, NULL);
	assert_int_equal(o->eval(h, &q, 1, &v), ST_OK);
	assert_true(v.result == CHECK_ERROR && v.unavailable);
	assert_int_equal(httpd_count(s), 3);
	o->close(h);
	unsetenv("GCE_METADATA_HOST");
	httpd_stop(s);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "k-secret", 1);
	probe_region(400, ST_OK);
	probe_region(403, ST_ERR);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_datadog_request),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_token_and_probe_400),
		cmocka_unit_test(test_block_token_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
