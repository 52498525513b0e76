/*
 * splunk.c — the splunk metric backend: SignalFlow programs run through
 * the REST execute endpoint over metrics/http_batch.h, and the parser of
 * its Server-Sent Events (splunk.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "metrics/http_batch.h"
#include "metrics/splunk.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

#define WHO "Splunk"

enum { KEY_TOKEN };
static const char *const secret_keys[] = { "sf_token_key", NULL };

/* What the stream said so far. */
struct sse_state {
	char   *tsid;		/* the time series of the data points (the first one's) */
	double  value;		/* the last data point's */
	bool    got, done;
	int     st;		/* ST_OK until an error */
	struct metric_value *out;
};

static void
data_message(struct sse_state *s, json_t *msg)
{
	json_t *pts = json_object_get(msg, "data"), *pt;
	size_t i;

	json_array_foreach(pts, i, pt) {
		const char *id = json_string_value(json_object_get(pt, "tsId"));
		json_t *v = json_object_get(pt, "value");

		if (!json_is_number(v))
			continue;	/* Flagger drops payloads of unknown type */
		if (s->tsid == NULL && id != NULL)
			s->tsid = xstrdup(id);
		else if (id != NULL && s->tsid != NULL && strcmp(id, s->tsid) != 0) {
			hb_result(s->out, CHECK_ERROR, "multiple values returned (data of more than "
			    "one time series)");
			s->st = ST_ERR;
			return;
		}
		s->value = json_number_value(v);
		s->got = true;
	}
}

/* One event's data (the JSON of one message). */
static void
message(struct sse_state *s, const char *data, size_t len, const char *event)
{
	json_error_t jerr;
	json_t *msg = json_loadb(data, len, 0, &jerr);
	const char *type = json_string_value(json_object_get(msg, "type"));

	if (type == NULL && event[0] != '\0')	/* the SSE event's name */
		type = event;
	const char *ev = json_string_value(json_object_get(msg, "event"));
	const char *m;

	if (!json_is_object(msg) || type == NULL) {
		hb_result(s->out, CHECK_ERROR, WHO " answer: a message is not SignalFlow JSON");
		s->st = ST_PARSE;
	} else if (strcmp(type, "data") == 0) {
		data_message(s, msg);
	} else if (strcmp(type, "error") == 0) {
		m = json_string_value(json_object_get(msg, "message"));
		hb_result(s->out, CHECK_ERROR, "error executing query: %s", m ? m : "(no message)");
		s->st = ST_ERR;
	} else if (strcmp(type, "control-message") == 0 && ev != NULL &&
	    (strcmp(ev, "END_OF_CHANNEL") == 0 || strcmp(ev, "CHANNEL_ABORT") == 0)) {
		s->done = true;
	}
	json_decref(msg);
}

int
splunk_parse(const char *body, size_t len, struct metric_value *out)
{
	struct sse_state s = { .out = out, .st = ST_OK };
	struct buf data;
	char event[32] = "";
	const char *p = body, *end = body + len, *nl;
	size_t ll;

	buf_init(&data, 0);
	while (p < end && s.st == ST_OK && !s.done) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0 && data.len > 0) {	/* end of an event */
			message(&s, data.data, data.len, event);
			buf_reset(&data);
			event[0] = '\0';
		} else if (ll >= 6 && memcmp(p, "event:", 6) == 0) {
			snprintf(event, sizeof event, "%.*s", (int)(ll - 6 - (ll > 6 && p[6] == ' ')),
			    p + 6 + (ll > 6 && p[6] == ' '));
		} else if (ll >= 5 && memcmp(p, "data:", 5) == 0) {
			if (data.len > 0)
				buf_putc(&data, '\n');
			buf_append(&data, p + 5 + (ll > 5 && p[5] == ' '), ll - 5 - (ll > 5 && p[5] == ' '));
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (s.st == ST_OK && !s.done && data.len > 0)
		message(&s, data.data, data.len, event);
	buf_fini(&data);
	free(s.tsid);
	if (s.st != ST_OK)
		return s.st;
	if (!s.got || isnan(s.value))
		hb_result(out, CHECK_NODATA, "no values found");
	else
		hb_value(out, s.value);
	return ST_OK;
}

char *
splunk_stream_url(const char *address)
{
	const char *host = strstr(address, "://");
	size_t al = strlen(address);

	while (al > 0 && address[al - 1] == '/')
		al--;
	host = host != NULL ? host + 3 : address;
	if (strncmp(host, "api.", 4) == 0)
		return xasprintf("%.*sstream.%.*s/v2/signalflow/execute", (int)(host - address),
		    address, (int)(al - (size_t)(host - address) - 4), host + 4);
	return xasprintf("%.*s/v2/signalflow/execute", (int)al, address);
}

static void *
backend_open(const struct metric_backend_opts *o)
{
	return hb_new("the Splunk client", o, 5000);	/* Flagger's 5 s */
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
		return ST_INVALID;	/* Flagger: "splunk endpoint is not set" */
	hb_block_add(b, p, 1);
	return ST_OK;
}

/* The URL of one query (the probe's when q is NULL), *auth its token
 * header; NULL with err when the block cannot be used. */
static char *
make_url(const struct hb_block *blk, const struct metric_query *q, char **auth, char *err)
{
	const char *tok = hb_secret(blk, KEY_TOKEN);
	char *base, *url;
	size_t al;
	int64_t stop;

	if (blk == NULL || blk->address == NULL || tok == NULL) {
		snprintf(err, ERRMSG_MAX, WHO ": %s", blk == NULL || blk->address == NULL ?
		    "splunk endpoint is not set (spec.provider.address)" :
		    "no sf_token_key (spec.provider.secretRef)");
		return NULL;
	}
	*auth = xasprintf("X-SF-Token: %s", tok);
	if (q == NULL) {
		al = strlen(blk->address);
		while (al > 0 && blk->address[al - 1] == '/')
			al--;
		return xasprintf("%.*s/v2/metric?limit=1", (int)al, blk->address);
	}
	stop = hb_window_end_ms(q);
	base = splunk_stream_url(blk->address);
	url = xasprintf("%s?immediate=true&start=%lld&stop=%lld", base,
	    (long long)(stop - hb_window_ms(q)), (long long)stop);
	free(base);
	return url;
}

static void
finish(const struct hb_res *r, struct metric_value *out)
{
	if (r->status != ST_OK || r->http != 200)
		hb_failed(out, WHO, r);
	else
		splunk_parse(buf_str(&r->body), r->body.len, out);
}

static int
backend_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct hb_req *reqs = xcalloc(n + 1, sizeof *reqs);
	struct hb_res *res = xcalloc(n + 1, sizeof *res);
	size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0, i;
	char **urls = xcalloc(n + 1, sizeof *urls), **auths = xcalloc(n + 1, sizeof *auths);
	char err[ERRMSG_MAX];

	for (i = 0; i < n; i++) {
		const struct hb_block *blk = hb_block_find(b, q[i].metric ? q[i].metric->server : NULL);

		if ((urls[k] = make_url(blk, &q[i], &auths[k], err)) == NULL) {
			hb_result(&out[i], CHECK_ERROR, "%s", err);
			continue;
		}
		reqs[k] = (struct hb_req){ .url = urls[k], .method = "POST", .body = q[i].query,
			.headers = { auths[k], "Content-Type: text/plain" }, .block = blk };
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
	char *auth = NULL, *url = make_url(blk, NULL, &auth, err);
	int st = ST_OK;

	if (url == NULL)
		return ST_INVALID;
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

const struct metric_backend_ops splunk_backend = {
	.type = MT_SPLUNK,
	.secret_keys = secret_keys,
	.open = backend_open,
	.close = backend_close,
	.unusable = backend_unusable,
	.check_secret = backend_check_secret,
	.add = backend_add,
	.eval = backend_eval,
	.probe = backend_probe,
};
