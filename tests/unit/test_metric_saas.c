/* test_metric_saas.c — the answer parsers of the SaaS metric backends
 * (fixture strings as each provider documents them): a value, which value
 * is taken when there are several, no data, and malformed answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"
#include "metrics/cloudwatch.h"
#include "metrics/dynatrace.h"
#include "metrics/sigv4.h"
#include "metrics/splunk.h"
#include "metrics/stackdriver.h"
#include "util/status.h"

struct row {
	const char *body;
	int st;
	enum check_result r;
	double v;
};

static void
run_rows(int (*parse)(const char *, size_t, struct metric_value *), const struct row *rows,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct metric_value v;
		int st = parse(rows[i].body, strlen(rows[i].body), &v);

		if (st != rows[i].st || v.result != rows[i].r)
			fail_msg("row %zu: status %d result %d (%s)", i, st, v.result, v.err);
		if (rows[i].r == CHECK_PASS)
			assert_true(v.value == rows[i].v);
		else
			assert_true(v.err[0] != '\0');
	}
}

static void
test_dynatrace(void **state)
{
	static const struct row rows[] = {
		{ "{\"totalCount\":1,\"nextPageKey\":null,\"resolution\":\"Inf\",\"result\":[{\"metricId\":"
		  "\"m\",\"data\":[{\"dimensions\":[\"SERVICE-ABC\"],\"timestamps\":[1589455320000],"
		  "\"values\":[812.4]}]}]}", ST_OK, CHECK_PASS, 812.4 },
		/* the last data entry, its first value */
		{ "{\"result\":[{\"data\":[{\"values\":[1]},{\"values\":[2.5,9]}]},{\"data\":[{\"values\":"
		  "[7]}]}]}", ST_OK, CHECK_PASS, 2.5 },
		{ "{\"result\":[]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[{\"values\":[]}]}]}", ST_OK, CHECK_NODATA, 0 },
		/* null: Flagger reads 0, perch says no values */
		{ "{\"result\":[{\"data\":[{\"values\":[null]}]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[{\"values\":[\"1\"]}]}]}", ST_PARSE, CHECK_ERROR, 0 },
		{ "{\"result\":{}}", ST_PARSE, CHECK_ERROR, 0 },
		{ "[1]", ST_PARSE, CHECK_ERROR, 0 },
		{ "not json", ST_PARSE, CHECK_ERROR, 0 },
	};

	(void)state;
	run_rows(dynatrace_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_cloudwatch(void **state)
{
	static const struct row rows[] = {
		{ "{\"MetricDataResults\":[{\"Id\":\"e1\",\"Label\":\"ErrorRate\",\"StatusCode\":"
		  "\"Complete\",\"Timestamps\":[1714557600],\"Values\":[0.05]}],\"Messages\":[]}",
		  ST_OK, CHECK_PASS, 0.05 },
		/* Values[0] of the first result (CloudWatch: newest first) */
		{ "{\"MetricDataResults\":[{\"Values\":[3,2,1]},{\"Values\":[9]}]}", ST_OK, CHECK_PASS, 3 },
		{ "{\"MetricDataResults\":[]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"MetricDataResults\":[{\"Id\":\"e1\",\"Values\":[]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"__type\":\"InvalidParameterValueException\",\"message\":\"bad\"}", ST_ERR,
		  CHECK_ERROR, 0 },
		{ "{\"MetricDataResults\":[{\"Values\":[\"1\"]}]}", ST_PARSE, CHECK_ERROR, 0 },
		{ "{\"MetricDataResults\":{}}", ST_PARSE, CHECK_ERROR, 0 },
		{ "<xml/>", ST_PARSE, CHECK_ERROR, 0 },
	};

	(void)state;
	run_rows(cloudwatch_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_splunk(void **state)
{
	static const struct row rows[] = {
		/* the last data point; multi-line data; CRLF; a keep-alive comment */
		{ "event: control-message\ndata: {\"type\":\"control-message\",\"event\":\"STREAM_START\"}\n\n"
		  ": keep-alive\n"
		  "event: data\ndata: {\"type\":\"data\",\"logicalTimestampMs\":1,\ndata:  \"data\":[{\"tsId\":"
		  "\"A\",\"value\":1.5}]}\n\n"
		  "event: data\r\ndata: {\"type\":\"data\",\"data\":[{\"tsId\":\"A\",\"value\":2}]}\r\n\r\n"
		  "data: {\"type\":\"control-message\",\"event\":\"END_OF_CHANNEL\"}\n\n", ST_OK, CHECK_PASS, 2 },
		/* the type from the event's name; nothing after END_OF_CHANNEL counts */
		{ "event: data\ndata: {\"data\":[{\"tsId\":\"A\",\"value\":7}]}\n\n"
		  "data: {\"type\":\"control-message\",\"event\":\"END_OF_CHANNEL\"}\n\n"
		  "data: {\"type\":\"data\",\"data\":[{\"tsId\":\"A\",\"value\":9}]}\n\n", ST_OK, CHECK_PASS, 7 },
		{ "data: {\"type\":\"control-message\",\"event\":\"END_OF_CHANNEL\"}\n\n", ST_OK,
		  CHECK_NODATA, 0 },
		{ "", ST_OK, CHECK_NODATA, 0 },
		{ "data: {\"type\":\"data\",\"data\":[{\"tsId\":\"A\",\"value\":1},{\"tsId\":\"B\","
		  "\"value\":2}]}\n\n", ST_ERR, CHECK_ERROR, 0 },
		{ "data: {\"type\":\"error\",\"error\":400,\"message\":\"bad program\"}\n\n", ST_ERR,
		  CHECK_ERROR, 0 },
		{ "data: not json\n\n", ST_PARSE, CHECK_ERROR, 0 },
	};
	char *u;

	(void)state;
	run_rows(splunk_parse, rows, sizeof rows / sizeof rows[0]);
	u = splunk_stream_url("https://api.us1.signalfx.com/");
	assert_string_equal(u, "https://stream.us1.signalfx.com/v2/signalflow/execute");
	free(u);
	/* Flagger would make this "https://my-stream-gw..." */
	u = splunk_stream_url("https://my-api-gw.example.com");
	assert_string_equal(u, "https://my-api-gw.example.com/v2/signalflow/execute");
	free(u);
}

static void
test_stackdriver(void **state)
{
	static const struct row rows[] = {
		{ "{\"timeSeriesDescriptor\":{\"pointDescriptors\":[{\"key\":\"value.latency\",\"valueType\":"
		  "\"DOUBLE\"}]},\"timeSeriesData\":[{\"labelValues\":[],\"pointData\":[{\"values\":[{"
		  "\"doubleValue\":312.5}],\"timeInterval\":{}},{\"values\":[{\"doubleValue\":1}]}]}]}",
		  ST_OK, CHECK_PASS, 312.5 },
		/* int64 is a string in Google's JSON; Flagger reads it as 0 */
		{ "{\"timeSeriesData\":[{\"pointData\":[{\"values\":[{\"int64Value\":\"42\"}]}]}]}", ST_OK,
		  CHECK_PASS, 42 },
		{ "{\"timeSeriesDescriptor\":{}}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"timeSeriesData\":[{\"pointData\":[]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"timeSeriesData\":[{\"pointData\":[{\"values\":[]}]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"error\":{\"code\":400,\"message\":\"bad\",\"status\":\"INVALID_ARGUMENT\"}}", ST_ERR,
		  CHECK_ERROR, 0 },
		{ "{\"timeSeriesData\":[{\"pointData\":[{\"values\":[{\"int64Value\":\"4x\"}]}]}]}",
		  ST_PARSE, CHECK_ERROR, 0 },
		{ "{\"timeSeriesData\":[{\"pointData\":[{\"values\":[{\"stringValue\":\"a\"}]}]}]}",
		  ST_PARSE, CHECK_ERROR, 0 },
		{ "]", ST_PARSE, CHECK_ERROR, 0 },
	};

	(void)state;
	run_rows(stackdriver_parse, rows, sizeof rows / sizeof rows[0]);
}

/* RFC 4231 test case 2 (a short key) and 6 (a key longer than a block). */
static void
test_hmac_sha256(void **state)
{
	unsigned char d[32], big[131];
	char h[65];
	size_t i;

	(void)state;
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
	for (i = 0; i < 32; i++)
		snprintf(h + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(big, 0xaa, sizeof big);
	hmac_sha256(big, sizeof big, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
	for (i = 0; i < 32; i++)
		snprintf(h + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* AWS's Signature Version 4 test suite: get-vanilla and post-x-www-form-
 * urlencoded (credentials AKIDEXAMPLE, 20150830T123600Z, us-east-1,
 * service "service"), and the IAM ListUsers example of the SigV4 guide. */
static void
test_sigv4_vectors(void **state)
{
	char auth[512];
	struct sigv4_req r = {
		.method = "GET", .path = "/", .query = "",
		.names = { "host", "x-amz-date" },
		.values = { "example.amazonaws.com", "20150830T123600Z" }, .n_headers = 2,
		.amz_date = "20150830T123600Z", .region = "us-east-1", .service = "service",
		.access_key = "AKIDEXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};

	(void)state;
	sigv4_authorization(&r, auth, sizeof auth);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	r.method = "POST";
	r.names[0] = "content-type";
	r.values[0] = "application/x-www-form-urlencoded";
	r.names[1] = "host";
	r.values[1] = "example.amazonaws.com";
	r.names[2] = "x-amz-date";
	r.values[2] = "20150830T123600Z";
	r.n_headers = 3;
	r.body = "Param1=value1";
	r.body_len = 13;
	sigv4_authorization(&r, auth, sizeof auth);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
	    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
	r = (struct sigv4_req){ .method = "GET", .path = "/",
		.query = "Action=ListUsers&Version=2010-05-08",
		.names = { "content-type", "host", "x-amz-date" },
		.values = { "application/x-www-form-urlencoded; charset=utf-8", "iam.amazonaws.com",
			"20150830T123600Z" }, .n_headers = 3,
		.amz_date = "20150830T123600Z", .region = "us-east-1", .service = "iam",
		.access_key = "AKIDEXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
	sigv4_authorization(&r, auth, sizeof auth);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
	    "iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
	    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynatrace),
		cmocka_unit_test(test_cloudwatch),
		cmocka_unit_test(test_splunk),
		cmocka_unit_test(test_stackdriver),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_sigv4_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
