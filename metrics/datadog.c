/*
 * datadog.c — the datadog metric backend: Datadog's metric query API v1
 * (reference §4.2).  GET <address>/api/v1/query?from=&query=&to= over the
 * last 10 intervals, signed with the DD-API-KEY and DD-APPLICATION-KEY
 * headers; the value is the first point of the first series.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/datadog.h"
#include "metrics/http_backend.h"
#include "util/status.h"
#include "util/xalloc.h"

enum { KEY_API, KEY_APP };

static const char *const secret_keys[] = { "datadog_api_key", "datadog_application_key", NULL };

/* The first point of the first series whose value is not null (Flagger
 * reads a null as 0 and crashes on a point without a value). */
static void
first_point(json_t *pl, struct metric_value *out)
{
	json_t *p, *v;
	size_t i;

	json_array_foreach(pl, i, p) {
		if (!json_is_array(p) || json_array_size(p) < 2 ||
		    !json_is_number(json_array_get(p, 0))) {
			hb_result(out, CHECK_ERROR, "Datadog answer: bad point series[0].pointlist[%zu]", i);
			return;
		}
		v = json_array_get(p, 1);
		if (json_is_number(v)) {
			hb_value(out, json_number_value(v));
			return;
		}
		if (!json_is_null(v)) {
			hb_result(out, CHECK_ERROR, "Datadog answer: series[0].pointlist[%zu] has no "
			    "number", i);
			return;
		}
	}
	hb_result(out, CHECK_NODATA, "no values found");
}

void
datadog_parse(const char *body, size_t len, struct metric_value *out)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *series, *pl;
	const char *status;

	if (root == NULL || !json_is_object(root)) {
		hb_result(out, CHECK_ERROR, "not a Datadog answer (%s)", root == NULL ?
		    "invalid JSON" : "not a JSON object");
		json_decref(root);
		return;
	}
	status = json_string_value(json_object_get(root, "status"));
	series = json_object_get(root, "series");
	if (status != NULL && strcmp(status, "error") == 0) {
		const char *e = json_string_value(json_object_get(root, "error"));

		hb_result(out, CHECK_ERROR, "Datadog error: %s", e != NULL ? e : "(no message)");
	} else if (series != NULL && !json_is_array(series)) {
		hb_result(out, CHECK_ERROR, "Datadog answer: series is not an array");
	} else if (json_array_size(series) == 0) {
		hb_result(out, CHECK_NODATA, "no values found");
	} else if ((pl = json_object_get(json_array_get(series, 0), "pointlist")) != NULL &&
	    !json_is_array(pl)) {
		hb_result(out, CHECK_ERROR, "Datadog answer: series[0].pointlist is not an array");
	} else {
		first_point(pl, out);
	}
	json_decref(root);
}

/* Datadog's errors: {"errors": ["..."]}. */
static void
http_error(long code, const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *e = json_string_value(json_array_get(json_object_get(root, "errors"), 0));

	if (e != NULL)
		hb_result(out, CHECK_ERROR, "Datadog: HTTP %ld: %s", code, e);
	else
		hb_result(out, CHECK_ERROR, "Datadog: HTTP %ld: %.*s", code, HB_BODY_SHOWN, body);
	json_decref(root);
}

static int
sign(const struct hb_server *s, const struct metric_query *q, struct hb_req *r, char *err,
    size_t errsz)
{
	if (hb_need_key(s, q, secret_keys, KEY_API, err, errsz) != ST_OK ||
	    hb_need_key(s, q, secret_keys, KEY_APP, err, errsz) != ST_OK)
		return ST_INVALID;
	hb_req_header(r, "DD-API-KEY", s->secret[KEY_API]);
	hb_req_header(r, "DD-APPLICATION-KEY", s->secret[KEY_APP]);
	return ST_OK;
}

static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	char *enc;

	if (sign(s, q, r, err, errsz) != ST_OK)
		return ST_INVALID;
	enc = hb_escape(q->query);
	r->url = xasprintf("%s/api/v1/query?from=%lld&query=%s&to=%lld", s->address,
	    (long long)(now_s - 10LL * hb_interval_s(q)), enc, (long long)now_s);
	free(enc);
	return ST_OK;
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	if (sign(s, NULL, r, err, errsz) != ST_OK)
		return ST_INVALID;
	r->url = xasprintf("%s/api/v1/validate", s->address);
	return ST_OK;
}

/* Both keys, neither empty. */
static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	int st = hb_secret_has(secret_keys, v, KEY_API, err, errsz);

	return st != ST_OK ? st : hb_secret_has(secret_keys, v, KEY_APP, err, errsz);
}

static const struct http_kind kind = {
	.label = "Datadog",
	.default_address = "https://api.datadoghq.com",
	.secret_keys = secret_keys,
	.timeout_ms = 5000,
	.request = request,
	.parse = datadog_parse,
	.probe_request = probe_request,
	.http_error = http_error,
};

static void *
open_datadog(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops datadog_backend = {
	.type = MT_DATADOG,
	.past = true,
	.secret_keys = secret_keys,
	.secret_required = true,
	.open = open_datadog,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
