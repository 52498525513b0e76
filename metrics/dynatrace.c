/*
 * dynatrace.c — the dynatrace metric backend: Metrics API v2 queries over
 * metrics/http_backend.h, and the parser of their answers (dynatrace.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "metrics/dynatrace.h"
#include "metrics/http_backend.h"
#include "util/status.h"
#include "util/xalloc.h"

#define WHO "Dynatrace"

enum { KEY_TOKEN };
static const char *const secret_keys[] = { "dynatrace_token", NULL };

int
dynatrace_parse(const char *body, size_t len, struct metric_value *out)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *res, *data, *vals, *v;
	int st = ST_OK;

	if (root == NULL || !json_is_object(root)) {
		hb_result(out, CHECK_ERROR, WHO " answer is not a JSON object");
		json_decref(root);
		return ST_PARSE;
	}
	res = json_object_get(root, "result");
	data = json_object_get(json_array_get(res, 0), "data");
	vals = json_object_get(json_array_get(data, json_array_size(data) - 1), "values");
	v = json_array_get(vals, 0);
	if (res != NULL && !json_is_array(res)) {
		hb_result(out, CHECK_ERROR, WHO " answer: result is not an array");
		st = ST_PARSE;
	} else if (json_array_size(data) == 0 || json_array_size(vals) == 0 || json_is_null(v)) {
		hb_result(out, CHECK_NODATA, "no values found");
	} else if (!json_is_number(v) || isnan(json_number_value(v))) {
		hb_result(out, CHECK_ERROR, WHO " answer: result[0].data[last].values[0] is not a number");
		st = ST_PARSE;
	} else {
		hb_value(out, json_number_value(v));
	}
	json_decref(root);
	return st;
}

static void
parse(const char *body, size_t len, struct metric_value *out)
{
	dynatrace_parse(body, len, out);
}

static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	return hb_secret_has(secret_keys, v, KEY_TOKEN, err, errsz);
}
/* The address without its trailing slashes, and the token's header. */
static int
sign(const struct hb_server *s, const struct metric_query *q, struct hb_req *r, int *al,
    char *err, size_t errsz)
{
	char *auth;

	if (hb_need_key(s, q, secret_keys, KEY_TOKEN, err, errsz) != ST_OK)
		return ST_INVALID;
	*al = hb_base_len(s->address);
	auth = xasprintf("Api-Token %s", s->secret[KEY_TOKEN]);
	hb_req_header(r, "Authorization", auth);
	xfree_secret(auth);
	return ST_OK;
}

static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	long long to = (long long)now_s * 1000;
	char *sel;
	int al;

	if (sign(s, q, r, &al, err, errsz) != ST_OK)
		return ST_INVALID;
	sel = hb_escape(q->query);
	r->url = xasprintf("%.*s/api/v2/metrics/query?from=%lld&metricSelector=%s&resolution=Inf"
	    "&to=%lld", al, s->address, to - 10000LL * hb_interval_s(q), sel, to);
	free(sel);
	return ST_OK;
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	int al;

	(void)now_s;
	if (sign(s, NULL, r, &al, err, errsz) != ST_OK)
		return ST_INVALID;
	r->url = xasprintf("%.*s/api/v2/metrics?pageSize=1", al, s->address);
	return ST_OK;
}

static const struct http_kind kind = {
	.label = WHO,
	.secret_keys = secret_keys,
	.timeout_ms = 5000,	/* Flagger's 5 s */
	.request = request,
	.parse = parse,
	.probe_request = probe_request,
};

static void *
open_dynatrace(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops dynatrace_backend = {
	.type = MT_DYNATRACE,
	.past = true,
	.secret_keys = secret_keys,
	.open = open_dynatrace,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
