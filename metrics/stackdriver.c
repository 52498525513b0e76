/*
 * stackdriver.c — the stackdriver metric backend: MQL through the REST
 * timeSeries:query over metrics/http_backend.h, with the access token of
 * the Secret's service account key or of the metadata server (stackdriver.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/backend.h"
#include "metrics/google_sa.h"
#include "metrics/http_backend.h"
#include "metrics/stackdriver.h"
#include "util/status.h"
#include "util/xalloc.h"

#define WHO "Stackdriver"
#define DEFAULT_ADDRESS "https://monitoring.googleapis.com"
#define TOKEN_PATH "/computeMetadata/v1/instance/service-accounts/default/token"

enum { KEY_PROJECT, KEY_SA_KEY };
static const char *const secret_keys[] = { "project", "serviceAccountKey", NULL };

/* Google's error JSON: {"error":{"code","message","status"}}. */
static int
google_error(json_t *root, struct metric_value *out)
{
	json_t *e = json_object_get(root, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *status = json_string_value(json_object_get(e, "status"));

	hb_result(out, CHECK_ERROR, "error requesting stackdriver: %s: %s",
	    status != NULL ? status : "error", msg != NULL ? msg : "(no message)");
	return ST_ERR;
}

int
stackdriver_parse(const char *body, size_t len, struct metric_value *out)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *ts, *pts, *v, *d;
	int st = ST_OK;

	if (root == NULL || !json_is_object(root)) {
		hb_result(out, CHECK_ERROR, WHO " answer is not a JSON object");
		json_decref(root);
		return ST_PARSE;
	}
	ts = json_object_get(root, "timeSeriesData");
	pts = json_object_get(json_array_get(ts, 0), "pointData");
	v = json_array_get(json_object_get(json_array_get(pts, 0), "values"), 0);
	if (json_object_get(root, "error") != NULL) {
		st = google_error(root, out);
	} else if (json_array_size(ts) == 0 || json_array_size(pts) == 0 || v == NULL) {
		hb_result(out, CHECK_NODATA, "no values found");
	} else if (json_is_number(d = json_object_get(v, "doubleValue"))) {
		hb_value(out, json_number_value(d));
	} else if (json_is_string(d) && (strcmp(json_string_value(d), "NaN") == 0)) {
		hb_result(out, CHECK_NODATA, "no values found");
	} else if ((d = json_object_get(v, "int64Value")) != NULL && (json_is_string(d) ||
	    json_is_integer(d))) {
		/* int64 is a JSON string in Google's REST encoding */
		char *end;
		double x = json_is_string(d) ? strtod(json_string_value(d), &end) :
		    (double)json_integer_value(d);

		if (json_is_string(d) && (*end != '\0' || end == json_string_value(d))) {
			hb_result(out, CHECK_ERROR, WHO " answer: int64Value is not a number");
			st = ST_PARSE;
		} else {
			hb_value(out, x);
		}
	} else {
		hb_result(out, CHECK_ERROR, WHO " answer: values[0] has no doubleValue or int64Value");
		st = ST_PARSE;
	}
	json_decref(root);
	return st;
}

static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	struct google_sa_key k;
	char why[160];

	if (v[KEY_PROJECT] == NULL || v[KEY_PROJECT][0] == '\0') {
		snprintf(err, errsz, "has no %s", secret_keys[KEY_PROJECT]);
		return ST_INVALID;
	}
	if (v[KEY_SA_KEY] != NULL && google_sa_key_parse(v[KEY_SA_KEY], strlen(v[KEY_SA_KEY]), &k,
	    why, sizeof why) != ST_OK) {
		snprintf(err, errsz, "key %s is not a service account key: %s",
		    secret_keys[KEY_SA_KEY], why);
		return ST_INVALID;
	}
	if (v[KEY_SA_KEY] != NULL)
		google_sa_key_fini(&k);
	return ST_OK;
}

/* The access token of block s's service account key (its JWT posted to the
 * key's token_uri), kept on s until a minute before it expires. */
static int
sa_token(void *b, struct hb_server *s, char *err, size_t errsz)
{
	struct google_sa_key k;
	struct hb_req r = { 0 };
	int64_t now = (int64_t)time(NULL), ttl;
	char why[ERRMSG_MAX / 2], *jwt, *body, *tok;
	long code;
	int st;

	if (s->token != NULL && now < s->token_until)
		return ST_OK;
	if (google_sa_key_parse(s->secret[KEY_SA_KEY], strlen(s->secret[KEY_SA_KEY]), &k, why,
	    sizeof why) != ST_OK || (jwt = google_sa_assertion(&k, now, why, sizeof why)) == NULL) {
		google_sa_key_fini(&k);
		snprintf(err, errsz, WHO " service account key: %s", why);
		return ST_INVALID;
	}
	r.url = xstrdup(k.token_uri);
	r.post = google_sa_token_request(jwt);
	xfree_secret(jwt);
	hb_req_header(&r, "Content-Type", "application/x-www-form-urlencoded");
	if ((st = hb_fetch(b, &r, &code, &body, why, sizeof why)) != ST_OK) {
		snprintf(err, errsz, "%s (" WHO " token endpoint %s)", why, k.token_uri);
		return google_sa_key_fini(&k), st;
	}
	if ((st = google_sa_token_parse(body, strlen(body), &tok, &ttl, why, sizeof why)) == ST_OK) {
		xfree_secret(s->token);
		s->token = tok;
		s->token_until = now + ttl - 60;
	} else {
		snprintf(err, errsz, WHO " token endpoint %s: HTTP %ld: %s", k.token_uri, code, why);
		st = code >= 500 ? ST_NETWORK : ST_HTTP;
	}
	xfree_secret(body);
	google_sa_key_fini(&k);
	return st;
}

/* The access token of the metadata server (GCE_METADATA_HOST, else
 * metadata.google.internal) when the handle has none valid. */
static int
metadata_token(void *b, char *err, size_t errsz)
{
	const char *h = getenv("GCE_METADATA_HOST");
	struct hb_req r = { .url = xasprintf("http://%s" TOKEN_PATH, h != NULL && h[0] != '\0' ?
		h : "metadata.google.internal") };
	json_t *root = NULL;
	const char *tok;
	char *body;
	long code;
	int st;

	if (hb_token(b) != NULL)
		return hb_req_fini(&r), ST_OK;
	hb_req_header(&r, "Metadata-Flavor", "Google");
	if ((st = hb_fetch(b, &r, &code, &body, err, errsz)) != ST_OK) {
		snprintf(err + strlen(err), errsz - strlen(err), " (" WHO " metadata server, "
		    "access token)");
		return st;
	}
	if (code == 200)
		root = json_loads(body, 0, NULL);
	if ((tok = json_string_value(json_object_get(root, "access_token"))) == NULL) {
		snprintf(err, errsz, WHO " metadata server (access token): %s", code == 200 ?
		    "the answer has no access_token" : "error response");
		st = code >= 500 ? ST_NETWORK : ST_HTTP;
	} else {
		hb_token_set(b, tok, (int64_t)time(NULL) + json_integer_value(json_object_get(root,
		    "expires_in")) - 60);
	}
	json_decref(root);
	xfree_secret(body);
	return st;
}

/* Keeps on block s why its token could not be had (status st), or clears it. */
static void
block_token_result(struct hb_server *s, int st, const char *why)
{
	free(s->token_err);
	s->token_err = st != ST_OK ? xstrdup(why) : NULL;
	s->token_st = st;
}

/* The tokens of the batch: each block with a service account key its own,
 * the metadata server's for the others (and for a handle without blocks).
 * A block that gets none keeps why (build refuses its queries alone). */
static int
fetch_token(void *b, char *err, size_t errsz)
{
	size_t i, n;
	struct hb_server *s = hb_servers(b, &n);
	char why[ERRMSG_MAX];
	bool metadata = false;
	int st;

	if (n == 0)
		return metadata_token(b, err, errsz);
	for (i = 0; i < n; i++) {
		if (s[i].secret[KEY_SA_KEY] != NULL)
			block_token_result(&s[i], sa_token(b, &s[i], why, sizeof why), why);
		else
			metadata = true;
	}
	if (metadata) {
		st = metadata_token(b, why, sizeof why);
		for (i = 0; i < n; i++)
			if (s[i].secret[KEY_SA_KEY] == NULL)
				block_token_result(&s[i], st, why);
	}
	return ST_OK;
}

/* The error of a query of block s, which has no token (token_err). */
static int
token_failed(const struct hb_server *s, const struct metric_query *q, char *err,
    size_t errsz)
{
	if (s->secret[KEY_SA_KEY] != NULL)
		snprintf(err, errsz, "MetricTemplate %s: secret %s: no access token for its %s: %s",
		    hb_template_ref(q), s->secret_ref != NULL ? s->secret_ref : "?",
		    secret_keys[KEY_SA_KEY], s->token_err);
	else
		snprintf(err, errsz, "MetricTemplate %s: %s", hb_template_ref(q), s->token_err);
	return s->token_st;
}

static int
build(const struct hb_server *s, const struct metric_query *q, const char *query,
    struct hb_req *r, char *err, size_t errsz)
{
	char *auth;
	json_t *o;

	if (s->secret[KEY_PROJECT] == NULL)
		return hb_missing_key(s, q, secret_keys[KEY_PROJECT], err, errsz);
	if (s->token_err != NULL)
		return token_failed(s, q, err, errsz);
	r->url = xasprintf("%.*s/v3/projects/%s/timeSeries:query", hb_base_len(s->address),
	    s->address, s->secret[KEY_PROJECT]);
	o = json_pack("{s:s}", "query", query);
	r->post = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s->secret[KEY_SA_KEY] != NULL)	/* the block's own (sa_token) */
		r->token = s->token;
	auth = xasprintf("Bearer %s", r->token != NULL ? r->token : "");
	hb_req_header(r, "Authorization", auth);
	xfree_secret(auth);
	hb_req_header(r, "Content-Type", "application/json");
	return ST_OK;
}

static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	(void)now_s;
	return build(s, q, q->query, r, err, errsz);
}

/* Flagger's IsOnline: the call with an empty query. */
static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	return build(s, NULL, "", r, err, errsz);
}

static void
parse(const char *body, size_t len, struct metric_value *out)
{
	stackdriver_parse(body, len, out);
}

/* Google's error JSON in an HTTP error answer. */
static bool
error_json(const char *body, size_t len, struct metric_value *out)
{
	return stackdriver_parse(body, len, out) == ST_ERR;
}

static const struct http_kind kind = {
	.label = WHO,
	.default_address = DEFAULT_ADDRESS,
	.secret_keys = secret_keys,
	.timeout_ms = 5000,	/* Flagger's 5 s */
	.request = request,
	.parse = parse,
	.probe_request = probe_request,
	.probe_400_ok = true,
	.before = fetch_token,
	.error_json = error_json,
};

static void *
open_stackdriver(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops stackdriver_backend = {
	.type = MT_STACKDRIVER,
	.secret_keys = secret_keys,
	.open = open_stackdriver,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	/* The documented request is {"query"} alone: MQL's own window (a
	 * `within` ending at a date) is the only way to the past, and perch
	 * would have to rewrite the template's MQL, which may set its own. */
	.not_past_why = "timeSeries:query takes no time; only the template's MQL "
	    "sets its window, and perch does not rewrite MQL",
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
