/*
 * http_batch.c — concurrent, capped, deadline-bound HTTP requests and the
 * provider blocks of the HTTP metric backends (see http_batch.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/http_batch.h"
#include "net/curl_lazy.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct hb {
	struct metric_backend_opts opts;
	CURLM           *multi;		/* NULL when libcurl cannot be loaded */
	struct hb_block *blocks;
	size_t           n_blocks;
	char             no_curl[640];
};

struct xfer {
	CURL               *easy;
	struct curl_slist  *hdrs;
	const struct hb_req *req;
	struct hb_res      *res;
	char                curl_err[CURL_ERROR_SIZE];
	bool                toobig, added, done;
};

struct hb *
hb_new(const char *what, const struct metric_backend_opts *o, int timeout_default_ms)
{
	struct hb *h = xcalloc(1, sizeof *h);

	if (o != NULL)
		h->opts = *o;
	if (h->opts.connect_timeout_ms <= 0)
		h->opts.connect_timeout_ms = 5000;
	if (h->opts.timeout_ms <= 0)
		h->opts.timeout_ms = timeout_default_ms;
	if (h->opts.deadline_ms <= 0)
		h->opts.deadline_ms = HB_DEADLINE_MS;
	if (h->opts.max_body == 0)
		h->opts.max_body = HB_MAX_BODY;
	if (curl_lazy_load(what, h->no_curl, sizeof h->no_curl) != ST_OK)
		return h;
	if ((h->multi = curl_multi_init()) == NULL)
		xalloc_fatal(0);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HB_MAX_CONNS);
	return h;
}

static void
block_fini(struct hb_block *b)
{
	size_t i;

	free(b->address);
	free(b->region);
	free(b->ca_file);
	for (i = 0; i < b->n_headers; i++)
		xfree_secret(b->headers[i]);	/* may carry credentials */
	free(b->headers);
	for (i = 0; i < b->n_secret; i++)
		xfree_secret(b->secret[i]);
	free(b->secret);
	memset(b, 0, sizeof *b);
}

void
hb_free(struct hb *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n_blocks; i++)
		block_fini(&h->blocks[i]);
	free(h->blocks);
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	free(h);
}

const char *
hb_batch_unusable(const struct hb *h)
{
	return h->no_curl[0] != '\0' ? h->no_curl : NULL;
}

/* ---- blocks ------------------------------------------------------------ */

static bool
same_address(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

void
hb_block_add(struct hb *h, const struct metric_provider *p, size_t nkeys)
{
	const char *addr = p->address != NULL && p->address[0] != '\0' ? p->address : NULL;
	struct hb_block *b = NULL;
	size_t i;

	for (i = 0; i < h->n_blocks && b == NULL; i++)
		if (same_address(h->blocks[i].address, addr))
			b = &h->blocks[i];
	if (b == NULL) {
		h->blocks = xreallocarray(h->blocks, h->n_blocks + 1, sizeof *h->blocks);
		b = &h->blocks[h->n_blocks++];
	} else {
		block_fini(b);
	}
	memset(b, 0, sizeof *b);
	b->address = dup_or_null(addr);
	b->region = dup_or_null(p->region);
	b->ca_file = dup_or_null(p->ca_file);
	b->insecure = p->insecure;
	b->headers = xcalloc(p->n_headers + 1, sizeof *b->headers);
	for (i = 0; i < p->n_headers; i++)
		b->headers[b->n_headers++] = xasprintf("%s: %s", p->headers[i].key,
		    p->headers[i].value != NULL ? p->headers[i].value : "");
	b->secret = xcalloc(nkeys + 1, sizeof *b->secret);
	b->n_secret = nkeys;
	for (i = 0; i < nkeys && p->secret != NULL; i++)
		b->secret[i] = p->secret[i] != NULL ? xstrdup(p->secret[i]) : NULL;
}

const struct hb_block *
hb_block_find(const struct hb *h, const char *address)
{
	size_t i;

	if (address != NULL && address[0] == '\0')
		address = NULL;	/* as hb_block_add keeps it */
	if (address == NULL && h->n_blocks > 0 && h->blocks[0].address == NULL)
		return &h->blocks[0];
	if (address == NULL)
		return h->n_blocks > 0 ? &h->blocks[0] : NULL;
	for (i = 0; i < h->n_blocks; i++)
		if (same_address(h->blocks[i].address, address))
			return &h->blocks[i];
	return NULL;
}

const char *
hb_secret(const struct hb_block *b, size_t k)
{
	return b != NULL && k < b->n_secret ? b->secret[k] : NULL;
}

/* ---- values ------------------------------------------------------------ */

int64_t
hb_window_end_ms(const struct metric_query *q)
{
	struct timespec ts;

	if (q->at_ms > 0)
		return q->at_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
hb_window_ms(const struct metric_query *q)
{
	int s = q->metric != NULL && q->metric->interval_s > 0 ? q->metric->interval_s : 60;

	return (int64_t)s * 10 * 1000;
}

bool
hb_unreachable(const struct hb_res *r)
{
	return r->status == ST_NETWORK || r->status == ST_TIMEOUT ||
	    (r->status == ST_OK && r->http >= 500);
}

void
hb_failed(struct metric_value *out, const char *who, const struct hb_res *r)
{
	if (r->status != ST_OK)
		hb_result(out, CHECK_ERROR, "%s: %s", who, r->err);
	else
		hb_result(out, CHECK_ERROR, "%s: error response: HTTP %ld: %.*s", who, r->http,
		    HB_BODY_SHOWN, buf_str(&r->body));
	out->unavailable = hb_unreachable(r);
}

/* ---- transfers --------------------------------------------------------- */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;

	if (buf_append(&x->res->body, data, size * nmemb) != ST_OK) {
		x->toobig = true;
		return 0;
	}
	return size * nmemb;
}

static void
xfer_headers(struct xfer *x)
{
	const struct hb_req *r = x->req;
	size_t i;

	x->hdrs = curl_slist_append(NULL, "Accept: application/json");
	for (i = 0; i < HB_MAX_HEADERS && r->headers[i] != NULL; i++)
		x->hdrs = curl_slist_append(x->hdrs, r->headers[i]);
	for (i = 0; r->block != NULL && i < r->block->n_headers; i++)
		x->hdrs = curl_slist_append(x->hdrs, r->block->headers[i]);
	if (r->body != NULL)	/* no "Expect: 100-continue" round trip */
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
}

static void
xfer_setup(struct hb *h, struct xfer *x)
{
	const struct hb_req *r = x->req;
	CURL *e = curl_easy_init();

	if (e == NULL)
		xalloc_fatal(0);
	x->easy = e;
	xfer_headers(x);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->opts.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms > 0 ? r->timeout_ms :
	    h->opts.timeout_ms));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "perch/" PERCH_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (r->body != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
	if (r->method != NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (r->block != NULL && r->block->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->block->ca_file);
	if (r->block != NULL && r->block->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static void
res_error(struct hb_res *r, int st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
res_error(struct hb_res *r, int st, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	r->status = st;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(r->err, sizeof r->err, raw, strlen(raw));
}

static void
xfer_finish(struct hb *h, struct xfer *x, CURLcode cc)
{
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	x->res->http = code;
	if (x->toobig)
		res_error(x->res, ST_TOOBIG, "answer larger than %zu bytes", h->opts.max_body);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		res_error(x->res, ST_TIMEOUT, "query timed out after %d ms",
		    x->req->timeout_ms > 0 ? x->req->timeout_ms : h->opts.timeout_ms);
	else if (cc != CURLE_OK)
		res_error(x->res, ST_NETWORK, "cannot reach the server: %s",
		    x->curl_err[0] != '\0' ? x->curl_err : curl_easy_strerror(cc));
	else
		x->res->status = ST_OK;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
start_more(struct hb *h, struct xfer *xs, size_t n, size_t *next, int *active)
{
	while (*active < HB_MAX_CONNS && *next < n) {
		struct xfer *x = &xs[(*next)++];

		x->added = true;
		curl_multi_add_handle(h->multi, x->easy);
		(*active)++;
	}
}

static void
batch_expired(struct hb *h, struct xfer *xs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (xs[i].done)
			continue;
		if (xs[i].added)
			curl_multi_remove_handle(h->multi, xs[i].easy);
		xs[i].done = true;
		res_error(xs[i].res, ST_TIMEOUT, "no answer within the %d ms the analysis may take%s",
		    h->opts.deadline_ms, xs[i].added ? "" : " (query not sent)");
	}
}

static void
run_multi(struct hb *h, struct xfer *xs, size_t n)
{
	int64_t deadline = mono_ms() + h->opts.deadline_ms, left;
	int running = 0, active = 0, msgs;
	size_t next = 0;
	CURLMsg *m;
	struct xfer *x;

	start_more(h, xs, n, &next, &active);
	while (active > 0) {
		if (curl_multi_perform(h->multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(h->multi, &msgs)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			xfer_finish(h, x, m->data.result);
			curl_multi_remove_handle(h->multi, x->easy);
			x->done = true;
			active--;
		}
		if ((left = deadline - mono_ms()) <= 0)
			break;
		start_more(h, xs, n, &next, &active);
		if (active > 0 && curl_multi_poll(h->multi, NULL, 0, left < 200 ? (int)left : 200,
		    NULL) != CURLM_OK)
			break;
	}
	batch_expired(h, xs, n);
}

void
hb_run(struct hb *h, const struct hb_req *r, size_t n, struct hb_res *out)
{
	struct xfer *xs = xcalloc(n > 0 ? n : 1, sizeof *xs);
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		buf_init(&out[i].body, h->opts.max_body);
		if (h->multi == NULL)
			res_error(&out[i], ST_UNSUPPORTED, "%s", h->no_curl);
		xs[i].req = &r[i];
		xs[i].res = &out[i];
		if (h->multi != NULL)
			xfer_setup(h, &xs[i]);
	}
	if (h->multi != NULL)
		run_multi(h, xs, n);
	for (i = 0; i < n; i++) {
		if (xs[i].easy != NULL)
			curl_easy_cleanup(xs[i].easy);
		if (xs[i].hdrs != NULL)
			curl_slist_free_all(xs[i].hdrs);
	}
	free(xs);
}

void
hb_res_fini(struct hb_res *r)
{
	buf_fini(&r->body);
}
