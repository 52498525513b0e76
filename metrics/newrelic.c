/*
 * newrelic.c — the newrelic metric backend: New Relic's Insights query API
 * (reference §4.4).  GET <address>/v1/accounts/<id>/query?nrql=<query>
 * SINCE <interval> seconds ago, with X-Query-Key; the value is
 * results[0].result.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/http_backend.h"
#include "metrics/newrelic.h"
#include "util/status.h"
#include "util/xalloc.h"

enum { KEY_ACCOUNT, KEY_QUERY };

static const char *const secret_keys[] = { "newrelic_account_id", "newrelic_query_key", NULL };

void
newrelic_parse(const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL), *results, *v;
	const char *e;

	if (!json_is_object(root)) {
		hb_result(out, CHECK_ERROR, "not a New Relic answer (%s)", root == NULL ?
		    "invalid JSON" : "not a JSON object");
		json_decref(root);
		return;
	}
	results = json_object_get(root, "results");
	if ((e = json_string_value(json_object_get(root, "error"))) != NULL)
		hb_result(out, CHECK_ERROR, "New Relic error: %s", e);
	else if (results != NULL && !json_is_array(results))
		hb_result(out, CHECK_ERROR, "New Relic answer: results is not an array");
	else if (json_array_size(results) != 1 ||
	    (v = json_object_get(json_array_get(results, 0), "result")) == NULL || json_is_null(v))
		hb_result(out, CHECK_NODATA, "no values found (results[0].result)");
	else if (!json_is_number(v))
		hb_result(out, CHECK_ERROR, "New Relic answer: results[0].result is not a number");
	else
		hb_value(out, json_number_value(v));
	json_decref(root);
}

/* New Relic's errors: {"error": "..."}. */
static void
http_error(long code, const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *e = json_string_value(json_object_get(root, "error"));

	if (e != NULL)
		hb_result(out, CHECK_ERROR, "New Relic: HTTP %ld: %s", code, e);
	else
		hb_result(out, CHECK_ERROR, "New Relic: HTTP %ld: %.*s", code, HB_BODY_SHOWN, body);
	json_decref(root);
}

/* The window: the last interval_s seconds, or (at > 0, perch replay and
 * check --time) the interval_s seconds up to at, as epoch milliseconds,
 * which NRQL's SINCE and UNTIL take as absolute times. */
static int
make_req(const struct hb_server *s, const struct metric_query *q, const char *nrql,
    int interval_s, int64_t at_ms, struct hb_req *r, char *err, size_t errsz)
{
	char *full, *enc, *acct;

	if (hb_need_key(s, q, secret_keys, KEY_ACCOUNT, err, errsz) != ST_OK ||
	    hb_need_key(s, q, secret_keys, KEY_QUERY, err, errsz) != ST_OK)
		return ST_INVALID;
	if (at_ms > 0)
		full = xasprintf("%s SINCE %lld UNTIL %lld", nrql,
		    (long long)(at_ms - (int64_t)interval_s * 1000), (long long)at_ms);
	else
		full = xasprintf("%s SINCE %d seconds ago", nrql, interval_s);
	enc = hb_escape(full);
	acct = hb_escape(s->secret[KEY_ACCOUNT]);
	r->url = xasprintf("%s/v1/accounts/%s/query?nrql=%s", s->address, acct, enc);
	hb_req_header(r, "X-Query-Key", s->secret[KEY_QUERY]);
	free(full);
	free(enc);
	xfree_secret(acct);
	return ST_OK;
}

static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	(void)now_s;
	return make_req(s, q, q->query, hb_interval_s(q), q->at_ms, r, err, errsz);
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	return make_req(s, NULL, "SELECT * FROM Metric", 60, 0, r, err, errsz);
}

/* Both keys, neither empty. */
static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	int st = hb_secret_has(secret_keys, v, KEY_ACCOUNT, err, errsz);

	return st != ST_OK ? st : hb_secret_has(secret_keys, v, KEY_QUERY, err, errsz);
}

static const struct http_kind kind = {
	.label = "New Relic",
	.default_address = "https://insights-api.newrelic.com",
	.secret_keys = secret_keys,
	.timeout_ms = 5000,
	.request = request,
	.parse = newrelic_parse,
	.probe_request = probe_request,
	.http_error = http_error,
};

static void *
open_newrelic(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops newrelic_backend = {
	.type = MT_NEWRELIC,
	.past = true,
	.secret_keys = secret_keys,
	.secret_required = true,
	.open = open_newrelic,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
