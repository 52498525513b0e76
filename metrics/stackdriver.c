/*
 * stackdriver.c — the stackdriver metric backend: MQL through the REST
 * timeSeries:query over metrics/http_batch.h, with a metadata-server
 * access token (stackdriver.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/backend.h"
#include "metrics/http_batch.h"
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

struct sd {
	struct hb *hb;
	char      *token;		/* the metadata server's access token */
	time_t     token_until;
	char      *metadata_host;
};

static void *
backend_open(const struct metric_backend_opts *o)
{
	struct sd *s = xcalloc(1, sizeof *s);
	const char *h = getenv("GCE_METADATA_HOST");

	s->hb = hb_new("the Stackdriver client", o, 5000);
	s->metadata_host = xstrdup(h != NULL && h[0] != '\0' ? h : "metadata.google.internal");
	return s;
}

static void
backend_close(void *b)
{
	struct sd *s = b;

	hb_free(s->hb);
	xfree_secret(s->token);
	free(s->metadata_host);
	free(s);
}

static const char *
backend_unusable(void *b)
{
	return hb_batch_unusable(((struct sd *)b)->hb);
}

static int
backend_check_secret(const char *const *v, char *err, size_t errsz)
{
	if (v[KEY_PROJECT] == NULL || v[KEY_PROJECT][0] == '\0') {
		snprintf(err, errsz, "has no %s", secret_keys[KEY_PROJECT]);
		return ST_INVALID;
	}
	if (v[KEY_SA_KEY] != NULL) {
		snprintf(err, errsz, "has a %s: perch cannot sign with a service account key "
		    "(RS256); give the project only and let the metadata server (GKE Workload "
		    "Identity, GCE) sign in", secret_keys[KEY_SA_KEY]);
		return ST_INVALID;
	}
	return ST_OK;
}

static int
backend_add(void *b, const struct metric_provider *p)
{
	hb_block_add(((struct sd *)b)->hb, p, 2);
	return ST_OK;
}

/* A token from the metadata server when there is none valid: ST_OK, or an
 * error with err. */
static int
fetch_token(struct sd *s, char *err)
{
	char *url = xasprintf("http://%s" TOKEN_PATH, s->metadata_host);
	struct hb_res r;
	struct metric_value v;
	json_t *root = NULL;
	const char *tok;
	int st = ST_OK;

	if (s->token != NULL && time(NULL) < s->token_until)
		return free(url), ST_OK;
	hb_run(s->hb, &(struct hb_req){ .url = url, .headers = { "Metadata-Flavor: Google" } }, 1, &r);
	if (r.status == ST_OK && r.http == 200)
		root = json_loadb(buf_str(&r.body), r.body.len, 0, NULL);
	tok = json_string_value(json_object_get(root, "access_token"));
	if (tok == NULL) {
		hb_failed(&v, WHO " metadata server (access token)", &r);
		snprintf(err, ERRMSG_MAX, "%s", r.status == ST_OK && r.http == 200 ?
		    WHO ": the metadata server's answer has no access_token" : v.err);
		st = r.status != ST_OK ? r.status : ST_HTTP;
	} else {
		xfree_secret(s->token);
		s->token = xstrdup(tok);
		s->token_until = time(NULL) + json_integer_value(json_object_get(root,
		    "expires_in")) - 60;
	}
	json_decref(root);
	hb_res_fini(&r);
	free(url);
	return st;
}

struct sdreq {
	char *url, *body, *auth;
};

static int
prepare(struct sd *s, const struct hb_block *blk, const char *query, struct sdreq *r,
    struct hb_req *hr, char *err)
{
	const char *project = hb_secret(blk, KEY_PROJECT), *addr;
	size_t al;
	json_t *o;

	if (project == NULL) {
		snprintf(err, ERRMSG_MAX, WHO ": no project (the %s of spec.provider.secretRef)",
		    secret_keys[KEY_PROJECT]);
		return ST_INVALID;
	}
	addr = blk->address != NULL ? blk->address : DEFAULT_ADDRESS;
	al = strlen(addr);
	while (al > 0 && addr[al - 1] == '/')
		al--;
	r->url = xasprintf("%.*s/v3/projects/%s/timeSeries:query", (int)al, addr, project);
	o = json_pack("{s:s}", "query", query);
	r->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	r->auth = xasprintf("Authorization: Bearer %s", s->token);
	*hr = (struct hb_req){ .url = r->url, .method = "POST", .body = r->body,
		.headers = { r->auth, "Content-Type: application/json" }, .block = blk };
	return ST_OK;
}

static void
sdreq_fini(struct sdreq *r)
{
	free(r->url);
	free(r->body);
	xfree_secret(r->auth);
}

static void
finish(const struct hb_res *r, struct metric_value *out)
{
	if (r->status != ST_OK || r->http >= 500)
		hb_failed(out, WHO, r);
	else if (stackdriver_parse(buf_str(&r->body), r->body.len, out) != ST_ERR && r->http != 200)
		hb_failed(out, WHO, r);
}

static int
backend_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct sd *s = b;
	struct hb_req *hr = xcalloc(n + 1, sizeof *hr);
	struct hb_res *res = xcalloc(n + 1, sizeof *res);
	struct sdreq *rq = xcalloc(n + 1, sizeof *rq);
	size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0, i;
	char err[ERRMSG_MAX];
	int tst = n > 0 && hb_batch_unusable(s->hb) == NULL ? fetch_token(s, err) : ST_OK;

	for (i = 0; i < n; i++) {
		const struct hb_block *blk = hb_block_find(s->hb, q[i].metric ? q[i].metric->server : NULL);

		if (tst != ST_OK || prepare(s, blk, q[i].query, &rq[k], &hr[k], err) != ST_OK) {
			hb_result(&out[i], CHECK_ERROR, "%s", err);
			out[i].unavailable = tst == ST_NETWORK || tst == ST_TIMEOUT;
			continue;
		}
		idx[k++] = i;
	}
	hb_run(s->hb, hr, k, res);
	for (i = 0; i < k; i++) {
		finish(&res[i], &out[idx[i]]);
		hb_res_fini(&res[i]);
		sdreq_fini(&rq[i]);
	}
	free(hr), free(res), free(rq), free(idx);
	return hb_batch_unusable(s->hb) == NULL ? ST_OK : ST_UNSUPPORTED;
}

/* Flagger's IsOnline: the call with an empty query; a success or
 * INVALID_ARGUMENT (400) is online. */
static int
backend_probe(void *b, const char *address, char *err)
{
	struct sd *s = b;
	struct sdreq rq = { 0 };
	struct hb_req hr;
	struct hb_res r;
	struct metric_value v;
	int st = fetch_token(s, err);

	if (st != ST_OK || (st = prepare(s, hb_block_find(s->hb, address), "", &rq, &hr, err)) != ST_OK)
		return sdreq_fini(&rq), st;
	hb_run(s->hb, &hr, 1, &r);
	if (r.status != ST_OK || (r.http != 200 && r.http != 400)) {
		hb_failed(&v, WHO, &r);
		snprintf(err, ERRMSG_MAX, "%s", v.err);
		st = r.status != ST_OK ? r.status : ST_HTTP;
	}
	hb_res_fini(&r);
	sdreq_fini(&rq);
	return st;
}

const struct metric_backend_ops stackdriver_backend = {
	.type = MT_STACKDRIVER,
	.secret_keys = secret_keys,
	.open = backend_open,
	.close = backend_close,
	.unusable = backend_unusable,
	.check_secret = backend_check_secret,
	.add = backend_add,
	.eval = backend_eval,
	.probe = backend_probe,
};
