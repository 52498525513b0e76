/* test_prom.c — the Prometheus client: answer parsing (fixture strings),
 * and requests against a scripted local server: values, time=, POST for
 * long queries, credentials and headers, errors of every kind, the size
 * cap, timeouts, concurrency, and the engine's provider. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/backend.h"
#include "metrics/builtin.h"
#include "metrics/prom.h"
#include "tests/unit/helper_clock.h"
#include "tests/unit/helper_httpd.h"
#include "util/status.h"

static void
test_parse_table(void **state)
{
	static const struct {
		const char *body; int st; enum check_result r; double v; const char *err;
	} rows[] = {
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
		  "[{\"metric\":{},\"value\":[1700000000.1,\"99.5\"]}]}}", ST_OK, CHECK_PASS, 99.5, NULL },
		/* several samples: the last wins */
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
		  "{\"metric\":{\"a\":\"1\"},\"value\":[1,\"1\"]},{\"metric\":{\"a\":\"2\"},\"value\":[1,\"2.5\"]}]}}",
		  ST_OK, CHECK_PASS, 2.5, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"42\"]}}",
		  ST_OK, CHECK_PASS, 42, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
		  "[{\"metric\":{},\"value\":[1,\"+Inf\"]}]}}", ST_OK, CHECK_PASS, INFINITY, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
		  ST_OK, CHECK_NODATA, 0, "no values found" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
		  "[{\"metric\":{},\"value\":[1,\"NaN\"]}]}}", ST_OK, CHECK_NODATA, 0, "no values found" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"NaN\"]}}",
		  ST_OK, CHECK_NODATA, 0, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
		  "[{\"metric\":{},\"value\":[1,5]}]}}", ST_OK, CHECK_NODATA, 0, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":"
		  "[{\"metric\":{},\"values\":[[1,\"1\"],[2,\"2\"]]}]}}", ST_ERR, CHECK_ERROR, 0,
		  "multiple values returned (a range vector)" },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1,\"x\"]}}",
		  ST_ERR, CHECK_ERROR, 0, "unsupported result type \"string\"" },
		{ "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error: "
		  "unexpected \\u001b[31m\"}", ST_ERR, CHECK_ERROR, 0,
		  "Prometheus error: bad_data: 1:5: parse error: unexpected " },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
		  "[{\"metric\":{},\"value\":[1,\"12abc\"]}]}}", ST_PARSE, CHECK_ERROR, 0, NULL },
		{ "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}",
		  ST_PARSE, CHECK_ERROR, 0, NULL },
		{ "{\"status\":\"success\"}", ST_PARSE, CHECK_ERROR, 0, NULL },
		{ "{\"data\":{}}", ST_PARSE, CHECK_ERROR, 0, NULL },
		{ "[1,2]", ST_PARSE, CHECK_ERROR, 0, "not a Prometheus answer (not a JSON object)" },
		{ "<html>oops</html>", ST_PARSE, CHECK_ERROR, 0, NULL },
		{ "", ST_PARSE, CHECK_ERROR, 0, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct metric_value v;
		int st = prom_parse(rows[i].body, strlen(rows[i].body), &v);

		if (st != rows[i].st || v.result != rows[i].r)
			fail_msg("row %zu: status %d result %d (%s)", i, st, v.result, v.err);
		if (v.result == CHECK_PASS && v.value != rows[i].v)
			fail_msg("row %zu: value %g", i, v.value);
		if (v.result != CHECK_PASS)
			assert_true(v.err[0] != '\0');
		if (rows[i].err != NULL)
			assert_string_equal(v.err, rows[i].err);
	}
}

#define VEC(v) "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":" \
	"[{\"metric\":{},\"value\":[1,\"" v "\"]}]}}"

static const struct httpd_rule rules[] = {
	{ .match = "query=slow", .status = 200, .body = VEC("1"), .delay_ms = 1500 },
	{ .match = "query=par", .status = 200, .body = VEC("7"), .delay_ms = 500 },
	{ .match = "query=bad", .status = 400, .body = "{\"status\":\"error\",\"errorType\":"
	  "\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:4: parse error\"}" },
	{ .match = "query=down", .status = 503, .body = "Service Unavailable\n\x1b[2J" },
	{ .match = "query=garbage", .status = 200, .body = "\x01\x02 not json at all" },
	{ .match = "query=huge", .status = 200, .body = "0123456789abcdef", .repeat_body = 4096 },
	{ .match = "query=hangup", .hang_up = true },
	{ .match = "time=1700000000.250", .status = 200, .body = VEC("12.5") },
	{ .match = "POST /api/v1/query", .status = 200, .body = VEC("3") },
	{ .match = "/api/v1/query?query=", .status = 200, .body = VEC("99.25") },
};

/* Range answers (the comparison judge's samples): one series, oldest first,
 * NaN left out; several series, a vector or Prometheus' error are errors;
 * an empty matrix is no data; more than METRIC_SAMPLES_MAX keeps the
 * latest. */
static int
parse_range(const char *body, struct metric_samples *s)
{
	return prom_parse_range(body, strlen(body), s);
}

static void
test_parse_range(void **state)
{
	static struct metric_samples s;
	char *big;
	size_t i, len = 0;

	(void)state;
	assert_int_equal(parse_range("{\"status\":\"success\",\"data\":{\"resultType\":"
	    "\"matrix\",\"result\":[{\"metric\":{},\"values\":[[1,\"1.5\"],[2,\"NaN\"],"
	    "[3,\"2\"]]}]}}", &s), ST_OK);
	assert_int_equal(s.result, CHECK_PASS);
	assert_int_equal(s.n, 2);
	assert_true(s.v[0] == 1.5 && s.v[1] == 2);
	assert_int_equal(parse_range("{\"status\":\"success\",\"data\":{\"resultType\":"
	    "\"matrix\",\"result\":[]}}", &s), ST_OK);
	assert_int_equal(s.result, CHECK_NODATA);
	assert_string_equal(s.err, "no values found");
	assert_int_equal(parse_range("{\"status\":\"success\",\"data\":{\"resultType\":"
	    "\"matrix\",\"result\":[{\"values\":[[1,\"1\"]]},{\"values\":[[1,\"2\"]]}]}}", &s), ST_ERR);
	assert_int_equal(s.result, CHECK_ERROR);
	assert_string_equal(s.err, "the query gives 2 series; a comparison needs one");
	assert_int_equal(parse_range("{\"status\":\"success\",\"data\":{\"resultType\":"
	    "\"vector\",\"result\":[]}}", &s), ST_PARSE);
	assert_int_equal(s.result, CHECK_ERROR);
	assert_int_equal(parse_range("{\"status\":\"error\",\"errorType\":\"bad_data\","
	    "\"error\":\"parse error\"}", &s), ST_ERR);
	assert_string_equal(s.err, "Prometheus error: bad_data: parse error");
	assert_int_equal(parse_range("{", &s), ST_PARSE);
	assert_int_equal(s.result, CHECK_ERROR);
	big = malloc(64 + 20 * (METRIC_SAMPLES_MAX + 10));
	assert_non_null(big);
	len = (size_t)sprintf(big, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
	    "\"result\":[{\"values\":[");
	for (i = 0; i < METRIC_SAMPLES_MAX + 10; i++)
		len += (size_t)sprintf(big + len, "%s[%zu,\"%zu\"]", i ? "," : "", i, i);
	len += (size_t)sprintf(big + len, "]}]}}");
	assert_int_equal(prom_parse_range(big, len, &s), ST_OK);
	assert_int_equal(s.n, METRIC_SAMPLES_MAX);
	assert_true(s.v[0] == 10 && s.v[METRIC_SAMPLES_MAX - 1] == METRIC_SAMPLES_MAX + 9);
	free(big);
}

static void
test_requests(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct prom_opts o = { .timeout_ms = 5000, .max_body = 32768 };
	struct prom_opts quick = { .timeout_ms = 300 };
	struct prom *pq = prom_new(&quick);
	struct prom *p = prom_new(&o);
	char url[64], other[80], *long_q = malloc(5001), *r0;
	struct kv hdr = { .key = (char *)"X-Scope-OrgID", .value = (char *)"team-a" };
	struct prom_server_cfg s = { .url = url, .bearer_token = "s3cret-token",
	    .headers = &hdr, .n_headers = 1 };
	struct prom_req reqs[10];
	struct prom_res res[10];
	size_t i;

	(void)state;
	httpd_url(h, url, sizeof url);
	snprintf(other, sizeof other, "%s/", url);	/* a server never added */
	assert_int_equal(prom_set_server(p, &s), ST_OK);
	memset(long_q, 'x', 5000);
	long_q[5000] = '\0';
	memcpy(long_q, "sum(", 4);
	{
		const struct prom_req rq[10] = {
			{ NULL, "up{job=\"a\"} * 100", 0 },
			{ NULL, "t", 1700000000250LL },
			{ NULL, long_q, 0 },
			{ NULL, "bad", 0 },
			{ NULL, "down", 0 },
			{ NULL, "garbage", 0 },
			{ NULL, "huge", 0 },
			{ NULL, "hangup", 0 },
			{ other, "up", 0 },
			{ url, "slow", 0 },
		};
		memcpy(reqs, rq, sizeof rq);
	}
	prom_query_batch(p, reqs, 9, res);
	prom_query_batch(pq, reqs + 9, 1, res + 9);
	assert_int_equal(res[0].status, ST_OK);
	assert_true(res[0].v.result == CHECK_PASS && res[0].v.value == 99.25);
	assert_true(res[1].v.result == CHECK_PASS && res[1].v.value == 12.5);
	assert_true(res[2].v.result == CHECK_PASS && res[2].v.value == 3);
	assert_int_equal(res[3].status, ST_HTTP);
	assert_int_equal(res[3].http_status, 400);
	assert_string_equal(res[3].v.err, "HTTP 400: Prometheus error: bad_data: invalid parameter "
	    "\"query\": 1:4: parse error");
	assert_false(prom_unreachable(&res[3]));
	assert_int_equal(res[4].status, ST_HTTP);
	assert_string_equal(res[4].v.err, "HTTP 503: Service Unavailable ");
	assert_true(prom_unreachable(&res[4]));
	assert_int_equal(res[5].status, ST_PARSE);
	assert_non_null(strstr(res[5].v.err, "not a Prometheus answer"));
	assert_int_equal(res[6].status, ST_TOOBIG);
	assert_string_equal(res[6].v.err, "Prometheus answer larger than 32768 bytes");
	assert_int_equal(res[7].status, ST_NETWORK);
	assert_true(prom_unreachable(&res[7]));
	assert_true(res[8].v.result == CHECK_PASS);
	assert_int_equal(res[9].status, ST_TIMEOUT);
	assert_string_equal(res[9].v.err, "Prometheus query timed out after 300 ms");
	for (i = 0; i < 10; i++)
		if (res[i].v.result != CHECK_PASS)
			assert_null(strstr(res[i].v.err, "s3cret"));

	/* What went over the wire. */
	assert_int_equal(httpd_count(h), 10);
	for (i = 0; i < httpd_count(h); i++) {
		r0 = httpd_request(h, i);
		if (strstr(r0, "?query=up HTTP") != NULL || strstr(r0, "?query=slow HTTP") != NULL) {
			/* servers never added: no credentials, no headers */
			assert_null(strstr(r0, "Authorization"));
			assert_null(strstr(r0, "X-Scope-OrgID"));
		} else {
			assert_non_null(strstr(r0, "Authorization: Bearer s3cret-token\r\n"));
			assert_non_null(strstr(r0, "X-Scope-OrgID: team-a\r\n"));
		}
		if (strstr(r0, "query=up%7Bjob") != NULL)
			assert_non_null(strstr(r0, "GET /api/v1/query?query=up%7Bjob%3D%22a%22%7D%20%2A%20100 "));
		if (strstr(r0, "POST") != NULL) {
			assert_non_null(strstr(r0, "\r\n\r\nquery=sum%28xxx"));
			assert_non_null(strstr(r0, "application/x-www-form-urlencoded"));
		}
		free(r0);
	}
	prom_free(p);
	prom_free(pq);
	httpd_stop(h);
	free(long_q);
}

static void
test_concurrent_and_basic_auth(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct prom *p = prom_new(NULL);
	char url[64], *r;
	struct prom_server_cfg s = { .url = url, .username = "alice", .password = "pw" };
	struct prom_req reqs[4] = { { NULL, "par1", 0 }, { NULL, "par2", 0 }, { NULL, "par3", 0 },
	    { NULL, "par4", 0 } };
	struct prom_res res[4];
	struct timespec a, b;
	double secs;
	size_t i;

	(void)state;
	httpd_url(h, url, sizeof url);
	prom_set_server(p, &s);
	clock_gettime(CLOCK_MONOTONIC, &a);
	prom_query_batch(p, reqs, 4, res);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	for (i = 0; i < 4; i++)
		assert_true(res[i].v.result == CHECK_PASS && res[i].v.value == 7);
	/* four 500 ms answers, together well under 4 x 500 ms */
	assert_true(secs < 1.6);
	assert_true(httpd_max_concurrent(h) >= 2);
	r = httpd_request(h, 0);
	assert_non_null(strstr(r, "Authorization: Basic YWxpY2U6cHc=\r\n"));
	free(r);
	prom_free(p);
	httpd_stop(h);
}

static void
test_unreachable_and_provider(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct metric_backends *b = metric_backends_new(NULL);
	struct prom *p = metric_backends_handle(b, "prometheus");
	char url[64];
	struct prom_server_cfg s = { .url = url };
	struct canary_cfg c = { .provider = (char *)"kubernetes", .target_kind = (char *)"Deployment" };
	struct metric_cfg m[2] = {
		{ .name = (char *)"request-duration", .kind = METRIC_DURATION },
		{ .name = (char *)"error-rate", .kind = METRIC_CUSTOM },
	};
	struct metric_query q[3] = {
		{ .canary = &c, .metric = &m[0], .query = "t", .at_ms = 1700000000250LL },
		{ .canary = &c, .metric = &m[1], .query = "t", .at_ms = 1700000000250LL },
		{ .canary = &c, .metric = &m[0], .volume = true, .query = "t", .at_ms = 1700000000250LL },
	};
	struct metric_value out[3];
	struct prom_req dead = { "http://127.0.0.1:1", "up", 0 };
	struct prom_res res;

	(void)state;
	httpd_url(h, url, sizeof url);
	prom_set_server(p, &s);
	assert_int_equal(metric_backends_engine_ops()->eval(b, q, 3, out), ST_OK);
	/* http observer: 12.5 s -> 12500 ms; custom and volume untouched */
	assert_true(out[0].result == CHECK_PASS && out[0].value == 12500);
	assert_true(out[1].result == CHECK_PASS && out[1].value == 12.5);
	assert_true(out[2].result == CHECK_PASS && out[2].value == 12.5);
	{
		struct prom_req none[2] = { { NULL, NULL, 0 }, { NULL, "up", 0 } };
		struct prom_res r2[2];
		struct prom *empty = prom_new(NULL);

		prom_query_batch(p, none, 1, r2);
		assert_int_equal(r2[0].status, ST_INVALID);
		assert_string_equal(r2[0].v.err, "no query to send to Prometheus");
		prom_query_batch(empty, none + 1, 1, r2 + 1);
		assert_int_equal(r2[1].status, ST_INVALID);
		assert_string_equal(r2[1].v.err, "no Prometheus server given");
		prom_free(empty);
	}
	prom_query_batch(p, &dead, 1, &res);
	assert_int_equal(res.status, ST_NETWORK);
	assert_true(prom_unreachable(&res));
	assert_non_null(strstr(res.v.err, "cannot reach Prometheus"));
	{	/* the provider calls it unavailable; a refused query is not */
		struct prom_server_cfg ds = { .url = "http://127.0.0.1:1" };
		struct metric_backends *bd = metric_backends_new(NULL);
		struct prom *pd = metric_backends_handle(bd, "prometheus");
		struct metric_query dq = { .canary = &c, .metric = &m[1], .query = "up" };
		struct metric_query bq = { .canary = &c, .metric = &m[1], .query = "bad" };

		prom_set_server(pd, &ds);
		assert_int_equal(metric_backends_engine_ops()->eval(bd, &dq, 1, out), ST_OK);
		assert_true(out[0].result == CHECK_ERROR && out[0].unavailable);
		assert_int_equal(metric_backends_engine_ops()->eval(b, &bq, 1, out), ST_OK);
		assert_true(out[0].result == CHECK_ERROR && !out[0].unavailable);
		metric_backends_free(bd);
	}
	metric_backends_free(b);
	httpd_stop(h);
}

static double
since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* A request's timeout measures the server, not the queue: 24 queries of
 * 500 ms each, at most 8 on the wire, all answer within a 700 ms timeout
 * although the batch takes three times that.  The batch has a deadline of
 * its own: what has not answered by then is a timeout, unsent or not, and
 * the engine's provider calls it unavailable (not a failing metric).  Every
 * time is stretched by test_timeout_scale() (valgrind). */
static void
test_timeouts_measure_the_server(void **state)
{
	int k = test_timeout_scale();
	struct httpd_rule lag[] = {
		{ .match = "query=q", .status = 200, .body = VEC("7"), .delay_ms = 500 * k },
	};
	struct httpd *h = httpd_start(lag, 1);
	struct prom_opts o = { .timeout_ms = 700 * k };
	struct metric_backend_opts d = { .timeout_ms = 5000 * k, .deadline_ms = 700 * k };
	struct metric_backends *bd = metric_backends_new(&d);
	struct prom *p = prom_new(&o), *pd = metric_backends_handle(bd, "prometheus");
	struct prom_server_cfg s = { 0 };
	struct metric_cfg m = { .name = (char *)"error-rate", .kind = METRIC_CUSTOM };
	struct metric_query q[24];
	struct metric_value out[24];
	struct prom_req reqs[24];
	struct prom_res res[24];
	char url[64], query[24][16], want[64];
	struct timespec t0;
	size_t i, timeouts = 0, unsent = 0;
	double secs;

	(void)state;
	httpd_url(h, url, sizeof url);
	s.url = url;
	prom_set_server(p, &s);
	prom_set_server(pd, &s);
	for (i = 0; i < 24; i++) {
		snprintf(query[i], sizeof query[i], "q%zu", i);
		reqs[i] = (struct prom_req){ NULL, query[i], 0 };
		q[i] = (struct metric_query){ .metric = &m, .query = query[i] };
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	prom_query_batch(p, reqs, 24, res);
	secs = since(&t0);
	for (i = 0; i < 24; i++)
		if (!(res[i].status == ST_OK && res[i].v.result == CHECK_PASS && res[i].v.value == 7))
			fail_msg("query %zu: %s", i, res[i].v.err);
	assert_true(secs >= 1.4 * k);		/* three rounds of 500 ms */
	/* 8 on the wire (the server stops counting one before it answers) */
	assert_true(httpd_max_concurrent(h) <= 8);
	/* The batch's deadline: one round answers, the next is cut, the last never sent. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(metric_backends_engine_ops()->eval(bd, q, 24, out), ST_OK);
	assert_true(since(&t0) < 2.0 * k);
	snprintf(want, sizeof want, "did not answer within the %d ms", 700 * k);
	for (i = 0; i < 24; i++) {
		if (out[i].result == CHECK_PASS)
			continue;
		assert_int_equal(out[i].result, CHECK_ERROR);
		assert_true(out[i].unavailable);
		assert_non_null(strstr(out[i].err, want));
		timeouts++;
		unsent += strstr(out[i].err, "(query not sent)") != NULL;
	}
	assert_true(timeouts >= 8 && timeouts <= 20);
	assert_true(unsent >= 1);
	prom_free(p);
	metric_backends_free(bd);
	httpd_stop(h);
}

/* Batches after the first reuse the open connection. */
static void
test_connection_reuse(void **state)
{
	static const struct httpd_rule keep[] = {
		{ .status = 200, .body = VEC("5"), .keep_alive = true },
	};
	struct httpd *h = httpd_start(keep, 1);
	struct prom *p = prom_new(NULL);
	char url[64];
	struct prom_server_cfg s = { .url = url };
	struct prom_req r = { NULL, "up", 0 };
	struct prom_res res;
	int i;

	(void)state;
	httpd_url(h, url, sizeof url);
	prom_set_server(p, &s);
	for (i = 0; i < 3; i++) {
		prom_query_batch(p, &r, 1, &res);
		assert_true(res.v.result == CHECK_PASS && res.v.value == 5);
	}
	assert_int_equal(httpd_count(h), 3);
	assert_int_equal(httpd_connections(h), 1);
	prom_free(p);
	httpd_stop(h);
}

static void
test_token_file(void **state)
{
	static const struct { const char *content; int st; const char *tok; } rows[] = {
		{ "s3cret\n", ST_OK, "s3cret" },
		{ "  \tabc.def-ghi \r\nsecond line\n", ST_OK, "abc.def-ghi" },
		{ "no-newline", ST_OK, "no-newline" },
		{ " \n", ST_INVALID, NULL },
		{ "", ST_INVALID, NULL },
	};
	char path[] = "/tmp/perch-token.XXXXXX", tok[64], err[256];
	size_t i;
	int fd;
	FILE *f;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		f = fopen(path, "w");
		fputs(rows[i].content, f);
		fclose(f);
		if (prom_read_token_file(path, tok, sizeof tok, err, sizeof err) != rows[i].st)
			fail_msg("row %zu: %s", i, err);
		if (rows[i].tok != NULL)
			assert_string_equal(tok, rows[i].tok);
		else
			assert_non_null(strstr(err, "is empty"));
	}
	unlink(path);
	assert_int_equal(prom_read_token_file(path, tok, sizeof tok, err, sizeof err), ST_IO);
	assert_non_null(strstr(err, "cannot read /tmp/perch-token."));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_concurrent_and_basic_auth),
		cmocka_unit_test(test_unreachable_and_provider),
		cmocka_unit_test(test_timeouts_measure_the_server),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_token_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
