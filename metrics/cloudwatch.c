/*
 * cloudwatch.c — the cloudwatch metric backend: GetMetricData over the
 * JSON protocol, SigV4-signed, over metrics/http_batch.h (cloudwatch.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/backend.h"
#include "metrics/cloudwatch.h"
#include "metrics/http_batch.h"
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

struct cw {
	struct hb *hb;
	char *access_key, *secret_key, *session_token;	/* from the environment */
};

static char *
env_dup(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;
}

static void *
backend_open(const struct metric_backend_opts *o)
{
	struct cw *c = xcalloc(1, sizeof *c);

	c->hb = hb_new("the CloudWatch client", o, 5000);
	c->access_key = env_dup("AWS_ACCESS_KEY_ID");
	c->secret_key = env_dup("AWS_SECRET_ACCESS_KEY");
	c->session_token = env_dup("AWS_SESSION_TOKEN");
	return c;
}

static void
backend_close(void *b)
{
	struct cw *c = b;

	hb_free(c->hb);
	free(c->access_key);
	xfree_secret(c->secret_key);
	xfree_secret(c->session_token);
	free(c);
}

static const char *
backend_unusable(void *b)
{
	return hb_batch_unusable(((struct cw *)b)->hb);
}

static int
backend_add(void *b, const struct metric_provider *p)
{
	if (p->region == NULL || p->region[0] == '\0')
		return ST_INVALID;	/* Flagger: "region not specified" */
	hb_block_add(((struct cw *)b)->hb, p, 0);
	return ST_OK;
}

/* One signed request: its URL, body and headers (owned, freed by req_fini). */
struct cwreq {
	char *url, *body, *hdr[5];
};

static void
req_fini(struct cwreq *r)
{
	size_t i;

	free(r->url);
	free(r->body);
	for (i = 0; i < 5; i++)
		xfree_secret(r->hdr[i]);
}

/* host (and port) of a URL, into out. */
static void
url_host(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? p + 3 : url;
	snprintf(out, n, "%.*s", (int)strcspn(p, "/?#"), p);
}

static void
amz_date(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y%m%dT%H%M%SZ", &tm);
}

static void
sign(const struct cw *c, const struct hb_block *blk, struct cwreq *r)
{
	char host[256], date[20], auth[640];
	struct sigv4_req s = { .method = "POST", .path = "/", .query = "",
		.names = { "content-type", "host", "x-amz-date", "x-amz-target" },
		.values = { CTYPE, host, date, TARGET }, .n_headers = 4,
		.body = r->body, .body_len = strlen(r->body), .amz_date = date,
		.region = blk->region, .service = "monitoring",
		.access_key = c->access_key, .secret_key = c->secret_key };

	url_host(r->url, host, sizeof host);
	amz_date(date, sizeof date);
	if (c->session_token != NULL) {	/* signed too, in name order */
		s.names[3] = "x-amz-security-token";
		s.values[3] = c->session_token;
		s.names[4] = "x-amz-target";
		s.values[4] = TARGET;
		s.n_headers = 5;
		r->hdr[4] = xasprintf("X-Amz-Security-Token: %s", c->session_token);
	}
	sigv4_authorization(&s, auth, sizeof auth);
	r->hdr[0] = xasprintf("Content-Type: %s", CTYPE);
	r->hdr[1] = xasprintf("X-Amz-Date: %s", date);
	r->hdr[2] = xasprintf("X-Amz-Target: %s", TARGET);
	r->hdr[3] = xasprintf("Authorization: %s", auth);
	memset(auth, 0, sizeof auth);
}

/* The body of GetMetricData for a query (or the probe's: zero times, no
 * queries, when q is NULL); NULL with err when the query is not a JSON
 * array of MetricDataQuery. */
static char *
make_body(const struct metric_query *q, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *queries, *o;
	int64_t end;
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
	end = hb_window_end_ms(q);
	o = json_pack("{s:o,s:I,s:I,s:i}", "MetricDataQueries", queries,
	    "StartTime", (json_int_t)((end - hb_window_ms(q)) / 1000),
	    "EndTime", (json_int_t)(end / 1000), "MaxDatapoints", 20);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int
prepare(const struct cw *c, const struct hb_block *blk, const struct metric_query *q,
    struct cwreq *r, struct hb_req *hr, char *err)
{
	if (blk == NULL || blk->region == NULL) {
		snprintf(err, ERRMSG_MAX, WHO ": region not specified (spec.provider.region)");
		return ST_INVALID;
	}
	if (c->access_key == NULL || c->secret_key == NULL) {
		snprintf(err, ERRMSG_MAX, WHO ": no AWS credentials (AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY in perch's environment)");
		return ST_INVALID;
	}
	if ((r->body = make_body(q, err, ERRMSG_MAX)) == NULL)
		return ST_INVALID;
	r->url = blk->address != NULL ? xstrdup(blk->address) :
	    xasprintf("https://monitoring.%s.amazonaws.com/", blk->region);
	sign(c, blk, r);
	*hr = (struct hb_req){ .url = r->url, .method = "POST", .body = r->body,
		.headers = { r->hdr[0], r->hdr[1], r->hdr[2], r->hdr[3], r->hdr[4] }, .block = blk };
	return ST_OK;
}

static void
finish(const struct hb_res *r, struct metric_value *out)
{
	/* AWS's error JSON ({"__type","message"}) when there is one, else the
	 * status and the body. */
	if (r->status != ST_OK || r->http >= 500)
		hb_failed(out, WHO, r);
	else if (cloudwatch_parse(buf_str(&r->body), r->body.len, out) != ST_ERR && r->http != 200)
		hb_failed(out, WHO, r);
}

static int
backend_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct cw *c = b;
	struct hb_req *hr = xcalloc(n + 1, sizeof *hr);
	struct hb_res *res = xcalloc(n + 1, sizeof *res);
	struct cwreq *rq = xcalloc(n + 1, sizeof *rq);
	size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0, i;
	char err[ERRMSG_MAX];

	for (i = 0; i < n; i++) {
		const struct hb_block *blk = hb_block_find(c->hb, q[i].metric ? q[i].metric->server : NULL);

		if (prepare(c, blk, &q[i], &rq[k], &hr[k], err) != ST_OK) {
			hb_result(&out[i], CHECK_ERROR, "%s", err);
			req_fini(&rq[k]);
			memset(&rq[k], 0, sizeof rq[k]);
			continue;
		}
		idx[k++] = i;
	}
	hb_run(c->hb, hr, k, res);
	for (i = 0; i < k; i++) {
		finish(&res[i], &out[idx[i]]);
		hb_res_fini(&res[i]);
		req_fini(&rq[i]);
	}
	free(hr), free(res), free(rq), free(idx);
	return hb_batch_unusable(c->hb) == NULL ? ST_OK : ST_UNSUPPORTED;
}

/* Flagger's IsOnline: GetMetricData with zero times and no queries; a
 * validation error (400) or a success is online, anything else is not. */
static int
backend_probe(void *b, const char *address, char *err)
{
	struct cw *c = b;
	struct cwreq rq = { 0 };
	struct hb_req hr;
	struct hb_res r;
	struct metric_value v;
	int st = prepare(c, hb_block_find(c->hb, address), NULL, &rq, &hr, err);

	if (st != ST_OK) {
		req_fini(&rq);
		return st;
	}
	hb_run(c->hb, &hr, 1, &r);
	if (r.status != ST_OK || (r.http != 200 && r.http != 400)) {
		hb_failed(&v, WHO, &r);
		snprintf(err, ERRMSG_MAX, "%s", v.err);
		st = r.status != ST_OK ? r.status : ST_HTTP;
	}
	hb_res_fini(&r);
	req_fini(&rq);
	return st;
}

const struct metric_backend_ops cloudwatch_backend = {
	.type = MT_CLOUDWATCH,
	.open = backend_open,
	.close = backend_close,
	.unusable = backend_unusable,
	.add = backend_add,
	.eval = backend_eval,
	.probe = backend_probe,
};
