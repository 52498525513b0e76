/*
 * influxdb.c — the influxdb metric backend: InfluxDB 2's Flux query API
 * (reference §4.7).  POST <address>/api/v2/query?org=<org> with
 * Authorization: Token <token> and the Flux query in a JSON body; the
 * answer is annotated CSV, and the value is _value of the first record
 * of the first table.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/http_backend.h"
#include "metrics/influxdb.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

enum { KEY_TOKEN, KEY_ORG };

static const char *const secret_keys[] = { "token", "org", NULL };

#define MAX_COLS 64

/* One CSV record of the answer: up to MAX_COLS fields, unquoted. */
struct record {
	char *f[MAX_COLS];
	size_t n;
};

static void
record_fini(struct record *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

/* Reads one record at *p (RFC 4180: "" inside quotes, quoted line breaks);
 * returns false at the end of the text, or on an unterminated quote. */
static bool
next_record(const char **p, const char *end, struct record *r, bool *bad)
{
	struct buf b;
	const char *s = *p;
	bool quoted = false, more = true;

	r->n = 0;
	if (s >= end)
		return false;
	buf_init(&b, 0);
	while (more) {
		if (s < end && *s == '"' && b.len == 0 && !quoted) {
			quoted = true;
			s++;
			continue;
		}
		if (quoted) {
			if (s >= end) {
				*bad = true;
				break;
			}
			if (*s == '"' && s + 1 < end && s[1] == '"') {
				buf_putc(&b, '"');
				s += 2;
			} else if (*s == '"') {
				quoted = false;
				s++;
			} else {
				buf_putc(&b, *s++);
			}
			continue;
		}
		if (s >= end || *s == ',' || *s == '\n' || *s == '\r') {
			if (r->n < MAX_COLS)
				r->f[r->n++] = xstrdup(buf_str(&b));
			buf_reset(&b);
			if (s >= end || *s != ',') {
				more = false;
				if (s < end && *s == '\r')
					s++;
				if (s < end && *s == '\n')
					s++;
			} else {
				s++;
			}
			continue;
		}
		buf_putc(&b, *s++);
	}
	buf_fini(&b);
	*p = s;
	return !*bad;
}

static int
col_index(const struct record *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->f[i], name) == 0)
			return (int)i;
	return -1;
}

static bool
blank(const struct record *r)
{
	return r->n == 0 || (r->n == 1 && r->f[0][0] == '\0');
}

/* The first data record after the header hdr, typed by types. */
static void
take_value(const struct record *types, const struct record *hdr, const struct record *row,
    struct metric_value *out)
{
	int ci = col_index(hdr, "_value"), ei = col_index(hdr, "error");
	const char *v, *t;
	char *end;
	double x;

	if (ei >= 0 && col_index(hdr, "reference") >= 0) {	/* an error table */
		hb_result(out, CHECK_ERROR, "InfluxDB error: %s", (size_t)ei < row->n ?
		    row->f[ei] : "(no message)");
		return;
	}
	if (ci < 0) {
		hb_result(out, CHECK_ERROR, "InfluxDB answer: the first table has no _value column");
		return;
	}
	v = (size_t)ci < row->n ? row->f[ci] : "";
	t = (size_t)ci < types->n ? types->f[ci] : "double";
	if (v[0] == '\0') {
		hb_result(out, CHECK_NODATA, "no values found (_value is null)");
		return;
	}
	if (strcmp(t, "double") != 0 && strcmp(t, "long") != 0 && strcmp(t, "unsignedLong") != 0) {
		hb_result(out, CHECK_ERROR, "InfluxDB answer: _value is a %s, not a number", t);
		return;
	}
	x = strtod(v, &end);
	if (end == v || *end != '\0')
		hb_result(out, CHECK_ERROR, "InfluxDB answer: _value is not a number");
	else if (isnan(x))
		hb_result(out, CHECK_NODATA, "no values found (_value is NaN)");
	else
		hb_value(out, x);
}

void
influxdb_parse(const char *body, size_t len, struct metric_value *out)
{
	const char *p = body, *end = body + len;
	struct record types = { .n = 0 }, hdr = { .n = 0 }, r = { .n = 0 };
	bool bad = false, have_hdr = false, done = false;

	hb_result(out, CHECK_NODATA, "no values found (no record)");
	while (!done && next_record(&p, end, &r, &bad)) {
		if (blank(&r)) {	/* a table ends: annotations come again */
			have_hdr = false;
		} else if (r.f[0][0] == '#') {
			if (strcmp(r.f[0], "#datatype") == 0) {
				record_fini(&types);
				types = r;
				r.n = 0;
			}
			have_hdr = false;
		} else if (!have_hdr) {
			record_fini(&hdr);
			hdr = r;
			r.n = 0;
			have_hdr = true;
		} else {
			take_value(&types, &hdr, &r, out);
			done = true;
		}
		record_fini(&r);
	}
	if (bad)
		hb_result(out, CHECK_ERROR, "InfluxDB answer: an unterminated quote");
	record_fini(&r);
	record_fini(&types);
	record_fini(&hdr);
}

/* InfluxDB's errors: {"code": "...", "message": "..."}. */
static void
http_error(long code, const char *body, size_t len, struct metric_value *out)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *m = json_string_value(json_object_get(root, "message"));

	if (m != NULL)
		hb_result(out, CHECK_ERROR, "InfluxDB: HTTP %ld: %s", code, m);
	else
		hb_result(out, CHECK_ERROR, "InfluxDB: HTTP %ld: %.*s", code, HB_BODY_SHOWN, body);
	json_decref(root);
}

static int
make_req(const struct hb_server *s, const struct metric_query *q, const char *flux,
    struct hb_req *r, char *err, size_t errsz)
{
	json_t *body;
	char *org;

	if (s->has_secret && s->secret[KEY_TOKEN] == NULL)
		return hb_missing_key(s, q, secret_keys[KEY_TOKEN], err, errsz);
	if (s->has_secret && s->secret[KEY_ORG] == NULL)
		return hb_missing_key(s, q, secret_keys[KEY_ORG], err, errsz);
	org = hb_escape(s->secret[KEY_ORG] != NULL ? s->secret[KEY_ORG] : "");
	r->url = xasprintf("%s/api/v2/query?org=%s", s->address, org);
	free(org);
	if (s->secret[KEY_TOKEN] != NULL && s->secret[KEY_TOKEN][0] != '\0') {
		char *v = xasprintf("Token %s", s->secret[KEY_TOKEN]);

		hb_req_header(r, "Authorization", v);
		xfree_secret(v);
	}
	hb_req_header(r, "Content-Type", "application/json");
	r->gzip = true;
	body = json_pack("{s:{s:[sss],s:s,s:b},s:s,s:s}", "dialect", "annotations", "datatype",
	    "group", "default", "delimiter", ",", "header", 1, "query", flux, "type", "flux");
	if (body == NULL) {
		snprintf(err, errsz, "the InfluxDB query is not UTF-8 text");
		return ST_INVALID;
	}
	r->post = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return ST_OK;
}

/* At an explicit time (perch replay, check --time), Flux's option now
 * moves every relative time of the query (range(start: -1m)) there. */
static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	char when[40], *flux;
	time_t t = (time_t)now_s;
	struct tm tm;
	int st;

	if (q->at_ms <= 0)
		return make_req(s, q, q->query, r, err, errsz);
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	flux = xasprintf("option now = () => %s\n%s", when, q->query);
	st = make_req(s, q, flux, r, err, errsz);
	free(flux);
	return st;
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	return make_req(s, NULL, "from(bucket: \"default\") |> range(start: -2h)", r, err, errsz);
}

/* Online: any answer at the HTTP level (reference §4.7). */
static bool
probe_ok(long code, const struct metric_value *v)
{
	(void)v;
	return code >= 200 && code < 300;
}

static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	if (v[KEY_TOKEN] == NULL || v[KEY_ORG] == NULL) {
		snprintf(err, errsz, "has no %s", secret_keys[v[KEY_TOKEN] == NULL ? KEY_TOKEN : KEY_ORG]);
		return ST_INVALID;
	}
	return ST_OK;
}

static const struct http_kind kind = {
	.label = "InfluxDB",
	.secret_keys = secret_keys,
	.timeout_ms = 15000,
	.request = request,
	.parse = influxdb_parse,
	.probe_request = probe_request,
	.probe_ok = probe_ok,
	.http_error = http_error,
};

static void *
open_influxdb(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops influxdb_backend = {
	.type = MT_INFLUXDB,
	.past = true,
	.secret_keys = secret_keys,
	.open = open_influxdb,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
