/*
 * cloudwatch.c — the cloudwatch metric backend: GetMetricData over the
 * JSON protocol, SigV4-signed, over metrics/http_backend.h (cloudwatch.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/aws_creds.h"
#include "metrics/backend.h"
#include "metrics/cloudwatch.h"
#include "metrics/http_backend.h"
#include "metrics/sigv4.h"
#include "util/status.h"
#include "util/xalloc.h"

#define WHO "CloudWatch"
#define TARGET "GraniteServiceVersion20100801.GetMetricData"
#define CTYPE "application/x-amz-json-1.0"

int
cloudwatch_parse(const char *body, size_t len, struct metric_value *out)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *res, *vals, *v;
	const char *type;
	int st = ST_OK;

	if (root == NULL || !json_is_object(root)) {
		hb_result(out, CHECK_ERROR, WHO " answer is not a JSON object");
		json_decref(root);
		return ST_PARSE;
	}
	type = json_string_value(json_object_get(root, "__type"));
	res = json_object_get(root, "MetricDataResults");
	vals = json_object_get(json_array_get(res, 0), "Values");
	v = json_array_get(vals, 0);
	if (type != NULL) {
		hb_result(out, CHECK_ERROR, "error requesting cloudwatch: %s: %s", type,
		    json_string_value(json_object_get(root, "message")) ?
		    json_string_value(json_object_get(root, "message")) : "(no message)");
		st = ST_ERR;
	} else if (res != NULL && !json_is_array(res)) {
		hb_result(out, CHECK_ERROR, WHO " answer: MetricDataResults is not an array");
		st = ST_PARSE;
	} else if (json_array_size(res) == 0 || json_array_size(vals) == 0) {
		hb_result(out, CHECK_NODATA, "no values found");
	} else if (!json_is_number(v) || isnan(json_number_value(v))) {
		hb_result(out, CHECK_ERROR, WHO " answer: MetricDataResults[0].Values[0] is not a number");
		st = ST_PARSE;
	} else {
		hb_value(out, json_number_value(v));
	}
	json_decref(root);
	return st;
}

/* host (and port) of a URL, into out. */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? p + 3 : url;
	snprintf(out, n, "%.*s", (int)strcspn(p, "/?#"), p);
}

/* The SigV4 headers of r (its URL and body final), signed now: the
 * signature's date is the wall clock's, whatever instant is queried. */
static void
sign(const struct aws_creds *c, const char *region, struct hb_req *r)
{
	char host[256], date[20], auth[640];
	time_t t = time(NULL);
	struct tm tm;
	struct sigv4_req s = { .method = "POST", .path = "/", .query = "",
		.names = { "content-type", "host", "x-amz-date", "x-amz-target" },
		.values = { CTYPE, host, date, TARGET }, .n_headers = 4,
		.body = r->post, .body_len = strlen(r->post), .amz_date = date,
		.region = region, .service = "monitoring",
		.access_key = c->v[AWS_KEY_ID], .secret_key = c->v[AWS_KEY_SECRET] };

	url_host(r->url, host, sizeof host);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);
	if (c->v[AWS_KEY_TOKEN] != NULL) {	/* signed too, in name order */
		s.names[3] = "x-amz-security-token";
		s.values[3] = c->v[AWS_KEY_TOKEN];
		s.names[4] = "x-amz-target";
		s.values[4] = TARGET;
		s.n_headers = 5;
		hb_req_header(r, "X-Amz-Security-Token", c->v[AWS_KEY_TOKEN]);
	}
	sigv4_authorization(&s, auth, sizeof auth);
	hb_req_header(r, "Content-Type", CTYPE);
	hb_req_header(r, "X-Amz-Date", date);
	hb_req_header(r, "X-Amz-Target", TARGET);
	hb_req_header(r, "Authorization", auth);
	memset(auth, 0, sizeof auth);
}

/* The body of GetMetricData for a query (or the probe's: zero times, no
 * queries, when q is NULL); NULL with err when the query is not a JSON
 * array of MetricDataQuery. */
static char *
make_body(const struct metric_query *q, int64_t now_s, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *queries, *o;
	char *s;

	if (q == NULL)
		return xstrdup("{\"MetricDataQueries\":[],\"StartTime\":0,\"EndTime\":0}");
	queries = json_loads(q->query, 0, &jerr);
	if (!json_is_array(queries)) {
		snprintf(err, errsz, "error unmarshaling query: %s", queries == NULL ? jerr.text :
		    "not a JSON array of MetricDataQuery");
		json_decref(queries);
		return NULL;
	}
	o = json_pack("{s:o,s:I,s:I,s:i}", "MetricDataQueries", queries,
	    "StartTime", (json_int_t)(now_s - 10LL * hb_interval_s(q)),
	    "EndTime", (json_int_t)now_s, "MaxDatapoints", 20);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int
build(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	struct aws_creds c;
	char why[ERRMSG_MAX];
	int st;

	if (s->region == NULL) {
		snprintf(err, errsz, WHO ": region not specified (spec.provider.region)");
		return ST_INVALID;
	}
	if ((st = aws_creds_load(&c, why, sizeof why)) != ST_OK) {
		snprintf(err, errsz, WHO ": %s", why);
		return st;
	}
	if ((r->post = make_body(q, now_s, err, errsz)) == NULL) {
		aws_creds_fini(&c);
		return ST_INVALID;
	}
	r->url = xstrdup(s->address);
	sign(&c, s->region, r);
	aws_creds_fini(&c);
	return ST_OK;
}

/* Flagger's IsOnline: GetMetricData with zero times and no queries. */
static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	return build(s, NULL, now_s, r, err, errsz);
}

static void
parse(const char *body, size_t len, struct metric_value *out)
{
	cloudwatch_parse(body, len, out);
}

/* The region's endpoint; NULL without a region (Flagger: "region not
 * specified"). */
static char *
default_for(const struct metric_provider *p)
{
	if (p->region == NULL || p->region[0] == '\0')
		return NULL;
	return xasprintf("https://monitoring.%s.amazonaws.com/", p->region);
}

/* AWS's ({"__type","message"}) error JSON in an HTTP error answer. */
static bool
error_json(const char *body, size_t len, struct metric_value *out)
{
	return cloudwatch_parse(body, len, out) == ST_ERR;
}

static const struct http_kind kind = {
	.label = WHO,
	.default_for = default_for,
	.timeout_ms = 5000,	/* Flagger's 5 s */
	.request = build,
	.parse = parse,
	.probe_request = probe_request,
	.probe_400_ok = true,
	.error_json = error_json,
};

static void *
open_cloudwatch(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

static int
add(void *b, const struct metric_provider *p)
{
	if (p->region == NULL || p->region[0] == '\0')
		return ST_INVALID;	/* Flagger: "region not specified" */
	return hb_add(b, p);
}

const struct metric_backend_ops cloudwatch_backend = {
	.type = MT_CLOUDWATCH,
	.past = true,
	.open = open_cloudwatch,
	.close = hb_close,
	.unusable = hb_unusable,
	.add = add,
	.eval = hb_eval,
	.probe = hb_probe,
};
