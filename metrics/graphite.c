/*
 * graphite.c — the graphite metric backend: Graphite's render API
 * (reference §4.5).  The query is a URL query string ("target=...&from=
 * -5min"); perch asks GET <address path>/render?format=json&... with the
 * keys sorted, and takes the last non-null datapoint of all the targets.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/graphite.h"
#include "metrics/http_backend.h"
#include "metrics/render.h"
#include "util/status.h"
#include "util/xalloc.h"

enum { KEY_USERNAME, KEY_PASSWORD };

static const char *const secret_keys[] = { "username", "password", NULL };

/* A datapoint's value: 1 a value, 0 null, -1 not a value. */
static int
point_value(json_t *v, double *out)
{
	const char *s;
	char *end;

	if (json_is_null(v))
		return 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isnan(*out) ? 0 : 1;
	}
	if ((s = json_string_value(v)) == NULL)
		return -1;
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return -1;
	return isnan(*out) ? 0 : 1;
}

/* The last non-null value of one target's datapoints into *v. */
static int
scan_target(json_t *t, size_t i, double *v, bool *got, struct metric_value *out)
{
	json_t *pts = json_object_get(t, "datapoints"), *p;
	size_t j;
	double x;
	int r;

	if (!json_is_object(t) || !json_is_array(pts)) {
		hb_result(out, CHECK_ERROR, "Graphite answer: [%zu] has no datapoints array", i);
		return ST_PARSE;
	}
	json_array_foreach(pts, j, p) {
		if (!json_is_array(p) || json_array_size(p) != 2 ||
		    !(json_is_number(json_array_get(p, 1)) || json_is_string(json_array_get(p, 1))) ||
		    (r = point_value(json_array_get(p, 0), &x)) < 0) {
			hb_result(out, CHECK_ERROR, "Graphite answer: bad datapoint [%zu].datapoints[%zu]",
			    i, j);
			return ST_PARSE;
		}
		if (r > 0) {
			*v = x;
			*got = true;
		}
	}
	return ST_OK;
}

void
graphite_parse(const char *body, size_t len, struct metric_value *out)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *t;
	bool got = false;
	double v = NAN;
	size_t i;

	if (root == NULL || !json_is_array(root)) {
		if (root == NULL)
			hb_result(out, CHECK_ERROR, "not a Graphite answer (invalid JSON at byte %d: %s)",
			    jerr.position, jerr.text);
		else
			hb_result(out, CHECK_ERROR, "not a Graphite answer (not a JSON array)");
		json_decref(root);
		return;
	}
	json_array_foreach(root, i, t) {
		if (scan_target(t, i, &v, &got, out) != ST_OK) {
			json_decref(root);
			return;
		}
	}
	json_decref(root);
	if (got)
		hb_value(out, v);
	else
		hb_result(out, CHECK_NODATA, "no values found");
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

/* Stable sort by key (insertion: queries have a handful of pairs). */
static void
sort_pairs(struct kv *kv, size_t n)
{
	size_t i, j;
	struct kv t;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp_key(&kv[j - 1], &kv[j]) > 0; j--) {
			t = kv[j];
			kv[j] = kv[j - 1];
			kv[j - 1] = t;
		}
}

char *
graphite_params(const char *query, char *err, size_t errsz)
{
	char *q = collapse_space(xstrdup(query)), *enc;
	struct kv *kv;
	size_t n, i, k = 0;

	/* A YAML block scalar ends with a newline: Flagger sends it as a
	 * space at the end of the last value; perch trims it. */
	n = strlen(q);
	while (n > 0 && q[n - 1] == ' ')
		q[--n] = '\0';
	if (q[0] == ' ')
		memmove(q, q + 1, n);

	if (hb_form_parse(q, &kv, &n) < 0) {
		snprintf(err, errsz, "the Graphite query is not a URL query string (a bad %%-escape)");
		free(q);
		return NULL;
	}
	free(q);
	for (i = 0; i < n; i++) {	/* format=json replaces any format */
		if (strcmp(kv[i].key, "format") == 0) {
			free(kv[i].key);
			free(kv[i].value);
		} else {
			kv[k++] = kv[i];
		}
	}
	kv = xreallocarray(kv, k + 1, sizeof *kv);
	kv[k].key = xstrdup("format");
	kv[k++].value = xstrdup("json");
	sort_pairs(kv, k);
	enc = hb_form_encode(kv, k);
	hb_kv_free(kv, k);
	return enc;
}

/* <address without query string or trailing slash>/render?params */
static int
make_req(const struct hb_server *s, const char *query, struct hb_req *r, char *err,
    size_t errsz)
{
	size_t bl = strcspn(s->address, "?#");
	char *params = graphite_params(query, err, errsz);

	if (params == NULL)
		return ST_INVALID;
	while (bl > 0 && s->address[bl - 1] == '/')
		bl--;
	r->url = xasprintf("%.*s/render?%s", (int)bl, s->address, params);
	free(params);
	if (s->has_secret && s->secret[KEY_USERNAME] != NULL) {
		r->user = xstrdup(s->secret[KEY_USERNAME]);
		r->pass = xstrdup(s->secret[KEY_PASSWORD] != NULL ? s->secret[KEY_PASSWORD] : "");
	}
	return ST_OK;
}

/* At an explicit time (perch replay), the render API's now= moves the
 * query's relative from and until there. */
static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	char *url;
	int st = make_req(s, q->query, r, err, errsz);

	if (st == ST_OK && q->at_ms > 0) {
		url = xasprintf("%s&now=%lld", r->url, (long long)now_s);
		free(r->url);
		r->url = url;
	}
	return st;
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	return make_req(s, "target=test", r, err, errsz);
}

/* Online: a value or no data (reference §4.5). */
static bool
probe_ok(long code, const struct metric_value *v)
{
	return code < 400 && v->result != CHECK_ERROR;
}

static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	if (v[KEY_USERNAME] == NULL || v[KEY_PASSWORD] == NULL) {
		snprintf(err, errsz, "has no %s", v[KEY_USERNAME] == NULL ?
		    secret_keys[KEY_USERNAME] : secret_keys[KEY_PASSWORD]);
		return ST_INVALID;
	}
	return ST_OK;
}

static const struct http_kind kind = {
	.label = "Graphite",
	.secret_keys = secret_keys,
	.timeout_ms = 5000,
	.request = request,
	.parse = graphite_parse,
	.probe_request = probe_request,
	.probe_ok = probe_ok,
};

static void *
open_graphite(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops graphite_backend = {
	.type = MT_GRAPHITE,
	.past = true,
	.secret_keys = secret_keys,
	.open = open_graphite,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
