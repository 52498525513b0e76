/*
 * dynatrace.c — the dynatrace metric backend: Metrics API v2 queries over
 * metrics/http_batch.h, and the parser of their answers (dynatrace.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "metrics/dynatrace.h"
#include "metrics/http_batch.h"
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

static void *
backend_open(const struct metric_backend_opts *o)
{
	return hb_new("the Dynatrace client", o, 5000);	/* Flagger's 5 s */
}

static void
backend_close(void *b)
{
	hb_free(b);
}

static const char *
backend_unusable(void *b)
{
	return hb_batch_unusable(b);
}

static int
backend_check_secret(const char *const *v, char *err, size_t errsz)
{
	if (v[KEY_TOKEN] == NULL || v[KEY_TOKEN][0] == '\0') {
		snprintf(err, errsz, "has no %s", secret_keys[KEY_TOKEN]);
		return ST_INVALID;
	}
	return ST_OK;
}

static int
backend_add(void *b, const struct metric_provider *p)
{
	if (p->address == NULL || p->address[0] == '\0')
		return ST_INVALID;
	hb_block_add(b, p, 1);
	return ST_OK;
}

/* The request of one query (or of the probe when q is NULL); NULL with
 * out set when the block is not usable.  *auth is the signed header. */
static char *
make_url(const struct hb_block *blk, const struct metric_query *q, char **auth,
    struct metric_value *out)
{
	const char *tok = hb_secret(blk, KEY_TOKEN);
	size_t al;
	char *sel, *url;
	int64_t to;

	if (blk == NULL || blk->address == NULL) {
		hb_result(out, CHECK_ERROR, WHO ": no provider address (spec.provider.address)");
		return NULL;
	}
	if (tok == NULL) {
		hb_result(out, CHECK_ERROR, WHO ": no %s (spec.provider.secretRef)",
		    secret_keys[KEY_TOKEN]);
		return NULL;
	}
	al = strlen(blk->address);
	while (al > 0 && blk->address[al - 1] == '/')
		al--;
	*auth = xasprintf("Authorization: Api-Token %s", tok);
	if (q == NULL)
		return xasprintf("%.*s/api/v2/metrics?pageSize=1", (int)al, blk->address);
	to = hb_window_end_ms(q);
	sel = hb_escape(q->query);
	url = xasprintf("%.*s/api/v2/metrics/query?from=%lld&metricSelector=%s&resolution=Inf&to=%lld",
	    (int)al, blk->address, (long long)(to - hb_window_ms(q)), sel, (long long)to);
	free(sel);
	return url;
}

static void
finish(const struct hb_res *r, struct metric_value *out)
{
	if (r->status != ST_OK || r->http != 200)
		hb_failed(out, WHO, r);
	else
		dynatrace_parse(buf_str(&r->body), r->body.len, out);
}

static int
backend_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct hb_req *reqs = xcalloc(n + 1, sizeof *reqs);
	struct hb_res *res = xcalloc(n + 1, sizeof *res);
	size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0, i;
	char **urls = xcalloc(n + 1, sizeof *urls), **auths = xcalloc(n + 1, sizeof *auths);

	for (i = 0; i < n; i++) {
		const struct hb_block *blk = hb_block_find(b, q[i].metric ? q[i].metric->server : NULL);

		if ((urls[k] = make_url(blk, &q[i], &auths[k], &out[i])) == NULL)
			continue;
		reqs[k] = (struct hb_req){ .url = urls[k], .headers = { auths[k] }, .block = blk };
		idx[k++] = i;
	}
	hb_run(b, reqs, k, res);
	for (i = 0; i < k; i++) {
		finish(&res[i], &out[idx[i]]);
		hb_res_fini(&res[i]);
		free(urls[i]);
		xfree_secret(auths[i]);
	}
	free(reqs), free(res), free(idx), free(urls), free(auths);
	return hb_batch_unusable(b) == NULL ? ST_OK : ST_UNSUPPORTED;
}

static int
backend_probe(void *b, const char *address, char *err)
{
	const struct hb_block *blk = hb_block_find(b, address);
	struct metric_value v;
	struct hb_res r;
	char *auth = NULL, *url = make_url(blk, NULL, &auth, &v);
	int st = ST_OK;

	if (url == NULL) {
		snprintf(err, ERRMSG_MAX, "%s", v.err);
		return ST_INVALID;
	}
	hb_run(b, &(struct hb_req){ .url = url, .headers = { auth }, .block = blk }, 1, &r);
	if (r.status != ST_OK || r.http != 200) {
		hb_failed(&v, WHO, &r);
		snprintf(err, ERRMSG_MAX, "%s", v.err);
		st = r.status != ST_OK ? r.status : ST_HTTP;
	}
	hb_res_fini(&r);
	free(url);
	xfree_secret(auth);
	return st;
}

const struct metric_backend_ops dynatrace_backend = {
	.type = MT_DYNATRACE,
	.secret_keys = secret_keys,
	.open = backend_open,
	.close = backend_close,
	.unusable = backend_unusable,
	.check_secret = backend_check_secret,
	.add = backend_add,
	.eval = backend_eval,
	.probe = backend_probe,
};
