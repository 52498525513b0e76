/*
 * http_backend.c — the shared machinery of the HTTP metric backends
 * (http_backend.h): provider blocks, a concurrent batch over libcurl's
 * multi interface, capped answers, timeouts and a batch deadline.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/http_backend.h"
#include "net/curl_lazy.h"
#include "net/http_batch.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct hb {
	const struct http_kind *k;
	struct net_limits o;		/* the opts, with the kind's defaults */
	struct hb_server *servers;
	size_t n_servers;
	CURLM *multi;			/* NULL when libcurl cannot be loaded */
	char no_curl[640];
	char *token;			/* hb_token_set's, or NULL */
	int64_t token_until;
};

struct xfer {
	struct net_xfer net;
	struct hb_req req;
	struct curl_slist *hdrs;
	struct hb_server *srv;		/* the block the request is for, or NULL */
	bool raw;			/* hb_fetch: the body is not parsed */
	struct metric_value *out;
	int status;			/* ST_OK, ST_HTTP, ST_NETWORK, ST_TIMEOUT, ST_TOOBIG */
	long code;
};

/* ---- results ------------------------------------------------------------ */

void
hb_result(struct metric_value *out, int r, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	out->result = (enum check_result)r;
	out->value = NAN;
	out->unavailable = false;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(out->err, sizeof out->err, raw, strlen(raw));
}

void
hb_value(struct metric_value *out, double v)
{
	out->result = CHECK_PASS;
	out->value = v;
	out->unavailable = false;
	out->err[0] = '\0';
}

/* ---- requests ------------------------------------------------------------ */

void
hb_req_header(struct hb_req *r, const char *name, const char *value)
{
	if (r->n_hdr < sizeof r->hdr / sizeof r->hdr[0])
		r->hdr[r->n_hdr++] = xasprintf("%s: %s", name, value);
}

void
hb_req_fini(struct hb_req *r)
{
	size_t i;

	xfree_secret(r->url);
	xfree_secret(r->post);
	for (i = 0; i < r->n_hdr; i++)
		xfree_secret(r->hdr[i]);
	xfree_secret(r->user);
	xfree_secret(r->pass);
	memset(r, 0, sizeof *r);
}

int
hb_secret_has(const char *const *keys, const char *const *v, size_t key, char *err,
    size_t errsz)
{
	if (v[key] == NULL || v[key][0] == '\0') {
		snprintf(err, errsz, "has no %s", keys[key]);
		return ST_INVALID;
	}
	return ST_OK;
}

int
hb_base_len(const char *address)
{
	size_t n = strlen(address);

	while (n > 0 && address[n - 1] == '/')
		n--;
	return (int)n;
}

int
hb_interval_s(const struct metric_query *q)
{
	return q->metric != NULL && q->metric->interval_s > 0 ? q->metric->interval_s : 60;
}

const char *
hb_template_ref(const struct metric_query *q)
{
	return q != NULL && q->metric != NULL && q->metric->template_ref != NULL ?
	    q->metric->template_ref : "?";
}

int
hb_missing_key(const struct hb_server *s, const struct metric_query *q, const char *key,
    char *err, size_t errsz)
{
	const char *ref = hb_template_ref(q);

	if (s->has_secret)
		snprintf(err, errsz, "MetricTemplate %s: the secret of provider.secretRef has no "
		    "key %s", ref, key);
	else
		snprintf(err, errsz, "MetricTemplate %s: no provider.secretRef, and the provider "
		    "needs its key %s", ref, key);
	return ST_INVALID;
}

int
hb_need_key(const struct hb_server *s, const struct metric_query *q,
    const char *const *keys, size_t key, char *err, size_t errsz)
{
	if (s->secret[key] == NULL || s->secret[key][0] == '\0')
		return hb_missing_key(s, q, keys[key], err, errsz);
	return ST_OK;
}

/* ---- form encoding ------------------------------------------------------ */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) form-decoded into a new string, or NULL on a bad escape. */
static char *
form_decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;
	int h, l;

	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= n || (h = hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = hexval((unsigned char)s[i + 2])) < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

void
hb_kv_free(struct kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int
hb_form_parse(const char *s, struct kv **out, size_t *n)
{
	const char *p = s, *amp, *eq;
	size_t len, count = 0;

	*out = NULL;
	*n = 0;
	while (*p != '\0') {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (len > 0) {
			struct kv kv;

			eq = memchr(p, '=', len);
			kv.key = form_decode(p, eq != NULL ? (size_t)(eq - p) : len);
			kv.value = eq != NULL ? form_decode(eq + 1, len - (size_t)(eq - p) - 1) :
			    xstrdup("");
			if (kv.key == NULL || kv.value == NULL) {
				free(kv.key);
				free(kv.value);
				hb_kv_free(*out, count);
				*out = NULL;
				return -1;
			}
			*out = xreallocarray(*out, count + 1, sizeof **out);
			(*out)[count++] = kv;
			*n = count;
		}
		p += len + (amp != NULL);
	}
	return (int)count;
}

char *
hb_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i;
	char *out = xmalloc(n * 3 + 1), *o = out;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

char *
hb_form_encode(const struct kv *kv, size_t n)
{
	struct buf b;
	size_t i;
	char *k, *v;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		k = hb_escape(kv[i].key);
		v = hb_escape(kv[i].value != NULL ? kv[i].value : "");
		buf_printf(&b, "%s%s=%s", i > 0 ? "&" : "", k, v);
		free(k);
		free(v);
	}
	return buf_take(&b);
}

/* ---- provider blocks ------------------------------------------------------ */

static void
server_fini(struct hb_server *s)
{
	size_t i;

	free(s->address);
	free(s->block);
	for (i = 0; i < HB_MAX_KEYS; i++)
		xfree_secret(s->secret[i]);
	free(s->ca_file);
	free(s->region);
	for (i = 0; i < s->n_headers; i++) {
		free(s->headers[i].key);
		xfree_secret(s->headers[i].value);
	}
	free(s->headers);
	xfree_secret(s->token);
	free(s->token_err);
	free(s->secret_ref);
	memset(s, 0, sizeof *s);
}

/* Whether s has the Secret values p gives (keys of the kind). */
static bool
same_secret(const struct hb_server *s, const struct metric_provider *p,
    const char *const *keys)
{
	size_t i;

	if (s->has_secret != (p->secret != NULL))
		return false;
	for (i = 0; p->secret != NULL && keys != NULL && keys[i] != NULL && i < HB_MAX_KEYS; i++)
		if ((s->secret[i] == NULL) != (p->secret[i] == NULL) ||
		    (s->secret[i] != NULL && strcmp(s->secret[i], p->secret[i]) != 0))
			return false;
	return true;
}

void *
hb_open(const struct http_kind *k, const struct metric_backend_opts *o)
{
	struct hb *b = xcalloc(1, sizeof *b);

	b->k = k;
	b->o = (struct net_limits){ .connect_timeout_ms = o->connect_timeout_ms,
		.timeout_ms = o->timeout_ms, .deadline_ms = o->deadline_ms, .max_body = o->max_body };
	if (b->o.connect_timeout_ms <= 0)
		b->o.connect_timeout_ms = 5000;
	if (b->o.timeout_ms <= 0)
		b->o.timeout_ms = k->timeout_ms;
	if (b->o.deadline_ms <= 0)
		b->o.deadline_ms = HB_DEADLINE_MS;
	if (b->o.max_body == 0)
		b->o.max_body = HB_MAX_BODY;
	return b;
}

/* libcurl, loaded when the first query is sent (not in open: no I/O). */
static bool
hb_curl(struct hb *b)
{
	char what[64];

	if (b->multi != NULL)
		return true;
	if (b->no_curl[0] != '\0')
		return false;
	snprintf(what, sizeof what, "the %s client", b->k->label);
	if (curl_lazy_load(what, b->no_curl, sizeof b->no_curl) != ST_OK)
		return false;
	b->multi = net_multi_new();
	return true;
}

void
hb_close(void *h)
{
	struct hb *b = h;
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n_servers; i++)
		server_fini(&b->servers[i]);
	free(b->servers);
	if (b->multi != NULL)
		curl_multi_cleanup(b->multi);
	xfree_secret(b->token);
	free(b);
}

const char *
hb_unusable(void *h)
{
	struct hb *b = h;

	return hb_curl(b) ? NULL : b->no_curl;
}

static struct hb_server *
find_server(struct hb *b, const char *address)
{
	size_t i;

	if (address == NULL)
		address = b->k->default_address;
	if (address == NULL)
		return b->n_servers > 0 ? &b->servers[0] : NULL;
	for (i = 0; i < b->n_servers; i++)
		if (strcmp(b->servers[i].address, address) == 0)
			return &b->servers[i];
	return NULL;
}

/* The block added with key block, or NULL. */
static struct hb_server *
find_block(struct hb *b, const char *block)
{
	size_t i;

	for (i = 0; block != NULL && i < b->n_servers; i++)
		if (b->servers[i].block != NULL && strcmp(b->servers[i].block, block) == 0)
			return &b->servers[i];
	return NULL;
}

int
hb_add(void *h, const struct metric_provider *p)
{
	struct hb *b = h;
	char *made = p->address == NULL && b->k->default_for != NULL ? b->k->default_for(p) : NULL;
	const char *addr = p->address != NULL ? p->address : made != NULL ? made :
	    b->k->default_address;
	struct hb_server *s;
	char *token = NULL;
	int64_t until = 0;
	size_t i;

	if (addr == NULL || addr[0] == '\0')
		return free(made), ST_INVALID;
	if ((s = p->block != NULL ? find_block(b, p->block) : find_server(b, addr)) == NULL) {
		b->servers = xreallocarray(b->servers, b->n_servers + 1, sizeof *b->servers);
		s = &b->servers[b->n_servers++];
	} else {
		if (same_secret(s, p, b->k->secret_keys))	/* its token stays good */
			token = s->token, until = s->token_until, s->token = NULL;
		server_fini(s);
	}
	memset(s, 0, sizeof *s);
	s->token = token;
	s->token_until = until;
	s->address = xstrdup(addr);
	s->block = p->block != NULL ? xstrdup(p->block) : NULL;
	free(made);
	s->region = p->region != NULL ? xstrdup(p->region) : NULL;
	s->insecure = p->insecure;
	s->ca_file = p->ca_file != NULL ? xstrdup(p->ca_file) : NULL;
	s->has_secret = p->secret != NULL;
	s->secret_ref = p->secret_ref != NULL ? xstrdup(p->secret_ref) : NULL;
	for (i = 0; p->secret != NULL && b->k->secret_keys != NULL &&
	    b->k->secret_keys[i] != NULL && i < HB_MAX_KEYS; i++)
		s->secret[i] = p->secret[i] != NULL ? xstrdup(p->secret[i]) : NULL;
	if (p->n_headers > 0) {
		s->headers = xcalloc(p->n_headers, sizeof *s->headers);
		for (i = 0; i < p->n_headers; i++) {
			s->headers[i].key = xstrdup(p->headers[i].key);
			s->headers[i].value = xstrdup(p->headers[i].value != NULL ?
			    p->headers[i].value : "");
		}
		s->n_headers = p->n_headers;
	}
	return ST_OK;
}

/* ---- transfers ------------------------------------------------------------ */

static void
xfer_setup(struct hb *b, struct xfer *x, const struct hb_server *s)
{
	CURL *e;
	size_t i;

	net_xfer_open(&x->net, x->req.url, &b->o, s->ca_file, s->insecure);
	e = x->net.easy;
	x->hdrs = curl_slist_append(NULL, "Accept: application/json");
	for (i = 0; i < s->n_headers; i++) {
		char *h = xasprintf("%s: %s", s->headers[i].key, s->headers[i].value);

		x->hdrs = curl_slist_append(x->hdrs, h);
		xfree_secret(h);
	}
	for (i = 0; i < x->req.n_hdr; i++)
		x->hdrs = curl_slist_append(x->hdrs, x->req.hdr[i]);
	if (x->req.gzip)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip");
	if (x->req.post != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->req.post);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	if (x->req.user != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, x->req.user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, x->req.pass != NULL ? x->req.pass : "");
	}
}

static void
http_error(const struct http_kind *k, long code, const struct buf *body, struct metric_value *out)
{
	if (k->http_error != NULL)
		k->http_error(code, buf_str(body), body->len, out);
	else if (code < 500 && k->error_json != NULL && k->error_json(buf_str(body), body->len, out))
		return;
	else
		hb_result(out, CHECK_ERROR, "%s: HTTP %ld: %.*s", k->label, code, HB_BODY_SHOWN,
		    buf_str(body));
}

/* What became of x, into x->out; x->status.  A 401 drops the tokens the
 * request carried. */
static void
xfer_finish(struct hb *b, struct xfer *x)
{
	char msg[ERRMSG_MAX * 2];

	x->code = x->net.code;
	x->status = net_xfer_status(&x->net);
	if (x->status == ST_HTTP && x->code == 401) {
		hb_token_set(b, NULL, 0);
		if (x->srv != NULL)
			xfree_secret(x->srv->token), x->srv->token = NULL;
	}
	if (x->status == ST_HTTP) {
		http_error(b->k, x->code, &x->net.body, x->out);
	} else if (x->status != ST_OK) {
		net_xfer_error(&x->net, b->k->label, &b->o, msg, sizeof msg);
		hb_result(x->out, CHECK_ERROR, "%s", msg);
	} else if (!x->raw) {
		b->k->parse(buf_str(&x->net.body), x->net.body.len, x->out);
	}
	/* No answer (down, slow, 5xx): the backend is degraded, the metric
	 * is not failing (engine/machine.c). */
	x->out->unavailable = x->out->result == CHECK_ERROR && (x->status == ST_NETWORK ||
	    x->status == ST_TIMEOUT || (x->status == ST_HTTP && x->code >= 500));
}

static void
xfer_fini(struct hb *b, struct xfer *x)
{
	net_xfer_close(b->multi, &x->net);
	if (x->hdrs != NULL)
		curl_slist_free_all(x->hdrs);
	hb_req_fini(&x->req);
}

/* Runs the prepared ones of the n requests xs, and reads what became of
 * each. */
static void
run_batch(struct hb *b, struct xfer *xs, size_t n)
{
	size_t i;

	net_batch_run(b->multi, &xs[0].net, n, sizeof *xs, b->o.deadline_ms);
	for (i = 0; i < n; i++)
		if (xs[i].net.easy != NULL)
			xfer_finish(b, &xs[i]);
}

static int64_t
now_s(int64_t at_ms)
{
	struct timespec ts;

	if (at_ms > 0)
		return at_ms / 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int
before(struct hb *b, char *err, size_t errsz)
{
	return b->k->before != NULL ? b->k->before(b, err, errsz) : ST_OK;
}

void
hb_token_set(void *h, const char *token, int64_t until_s)
{
	struct hb *b = h;

	xfree_secret(b->token);
	b->token = token != NULL ? xstrdup(token) : NULL;
	b->token_until = until_s;
}

const char *
hb_token(void *h)
{
	struct hb *b = h;

	return b->token != NULL && now_s(0) < b->token_until ? b->token : NULL;
}

struct hb_server *
hb_servers(void *h, size_t *n)
{
	struct hb *b = h;

	*n = b->n_servers;
	return b->servers;
}

int
hb_fetch(void *h, struct hb_req *r, long *code, char **body, char *err, size_t errsz)
{
	struct hb *b = h;
	struct hb_server none;
	struct metric_value v;
	struct xfer x;

	*code = 0;
	*body = NULL;
	if (!hb_curl(b)) {
		hb_req_fini(r);
		snprintf(err, errsz, "%s", b->no_curl);
		return ST_UNSUPPORTED;
	}
	memset(&none, 0, sizeof none);
	memset(&x, 0, sizeof x);
	memset(&v, 0, sizeof v);
	x.out = &v;
	x.raw = true;
	x.req = *r;
	memset(r, 0, sizeof *r);
	xfer_setup(b, &x, &none);
	run_batch(b, &x, 1);
	*code = x.code;
	if (x.status == ST_OK || x.status == ST_HTTP)
		*body = buf_take(&x.net.body);
	else
		snprintf(err, errsz, "%s", v.err);
	xfer_fini(b, &x);
	if (*body == NULL && (x.status == ST_OK || x.status == ST_HTTP))
		*body = xstrdup("");
	return x.status == ST_HTTP ? ST_OK : x.status;
}

/* Sets up query i of the batch, or fills out[i] with why it cannot run. */
static void
prepare(struct hb *b, const struct metric_query *q, struct xfer *x, struct metric_value *out)
{
	const char *addr = q->metric != NULL ? q->metric->server : NULL;
	struct hb_server *s = q->metric != NULL ? find_block(b, q->metric->block) : NULL;
	struct hb_server tmp;
	char err[ERRMSG_MAX];
	int st;

	x->out = out;
	memset(&tmp, 0, sizeof tmp);
	if (s == NULL)
		s = find_server(b, addr);
	x->srv = s;
	if (s == NULL) {	/* never added (no secretRef): the address alone */
		tmp.address = (char *)(addr != NULL ? addr : b->k->default_address);
		s = &tmp;
	}
	if (s->address == NULL) {
		hb_result(out, CHECK_ERROR, "no %s server given (provider.address)", b->k->label);
		return;
	}
	if (q->query == NULL) {
		hb_result(out, CHECK_ERROR, "no query to send to %s", b->k->label);
		return;
	}
	x->req.token = hb_token(b);
	if ((st = b->k->request(s, q, now_s(q->at_ms), &x->req, err, sizeof err)) != ST_OK) {
		hb_req_fini(&x->req);
		hb_result(out, CHECK_ERROR, "%s", err);
		out->unavailable = st == ST_NETWORK || st == ST_TIMEOUT;
		return;
	}
	xfer_setup(b, x, s);
}

/* The requests answered 401 (their tokens dropped), once more with the
 * tokens the kind's before hook fetches again. */
static void
retry_unauthorized(struct hb *b, const struct metric_query *q, struct xfer *xs,
    struct metric_value *out, size_t n)
{
	char err[ERRMSG_MAX];
	size_t i, again = 0;

	for (i = 0; i < n; i++)
		again += xs[i].status == ST_HTTP && xs[i].code == 401;
	if (again == 0 || b->k->before == NULL || before(b, err, sizeof err) != ST_OK)
		return;
	for (i = 0; i < n; i++) {
		if (xs[i].status != ST_HTTP || xs[i].code != 401) {
			xs[i].raw = true;	/* read already: not again */
			continue;
		}
		xfer_fini(b, &xs[i]);
		memset(&xs[i], 0, sizeof xs[i]);
		prepare(b, &q[i], &xs[i], &out[i]);
	}
	log_debug("%s: %zu queries again with a new access token", b->k->label, again);
	run_batch(b, xs, n);
}

int
hb_eval(void *h, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct hb *b = h;
	struct xfer *xs;
	char err[ERRMSG_MAX];
	size_t i;
	int st;

	for (i = 0; i < n; i++)
		hb_result(&out[i], CHECK_ERROR, "query was not run");
	if (!hb_curl(b)) {
		for (i = 0; i < n; i++)
			hb_result(&out[i], CHECK_ERROR, "%s", b->no_curl);
		return ST_UNSUPPORTED;
	}
	if (n > 0 && (st = before(b, err, sizeof err)) != ST_OK) {
		for (i = 0; i < n; i++) {
			hb_result(&out[i], CHECK_ERROR, "%s", err);
			out[i].unavailable = st == ST_NETWORK || st == ST_TIMEOUT;
		}
		return ST_OK;
	}
	xs = xcalloc(n > 0 ? n : 1, sizeof *xs);
	for (i = 0; i < n; i++)
		prepare(b, &q[i], &xs[i], &out[i]);
	run_batch(b, xs, n);
	retry_unauthorized(b, q, xs, out, n);
	for (i = 0; i < n; i++)
		xfer_fini(b, &xs[i]);
	free(xs);
	log_debug("%s: %zu queries done", b->k->label, n);
	return ST_OK;
}

int
hb_probe(void *h, const char *address, char *err)
{
	struct hb *b = h;
	const struct hb_server *s = find_server(b, address);
	struct hb_server tmp;
	struct metric_value v;
	struct xfer x;
	int st;

	if (b->k->probe_request == NULL)
		return ST_OK;
	if (!hb_curl(b)) {
		snprintf(err, ERRMSG_MAX, "%.*s", ERRMSG_MAX - 1, b->no_curl);
		return ST_UNSUPPORTED;
	}
	memset(&tmp, 0, sizeof tmp);
	if (s == NULL) {
		tmp.address = (char *)(address != NULL ? address : b->k->default_address);
		s = &tmp;
	}
	memset(&x, 0, sizeof x);
	memset(&v, 0, sizeof v);
	x.out = &v;
	if (s->address != NULL && (st = before(b, err, ERRMSG_MAX)) != ST_OK)
		return st;
	x.req.token = hb_token(b);
	if (s->address == NULL || (st = b->k->probe_request(s, now_s(0), &x.req, err,
	    ERRMSG_MAX)) != ST_OK) {
		if (s->address == NULL)
			snprintf(err, ERRMSG_MAX, "no %s server given (provider.address)", b->k->label);
		hb_req_fini(&x.req);
		return s->address != NULL && (st == ST_NETWORK || st == ST_TIMEOUT) ? st :
		    ST_INVALID;
	}
	xfer_setup(b, &x, s);
	run_batch(b, &x, 1);
	xfer_fini(b, &x);
	if (x.status == ST_OK || x.status == ST_HTTP) {
		if (b->k->probe_ok != NULL ? b->k->probe_ok(x.code, &v) : x.code == 200 ||
		    (x.code == 400 && b->k->probe_400_ok))
			return ST_OK;
	}
	snprintf(err, ERRMSG_MAX, "%s is not available: %.400s", b->k->label,
	    v.err[0] != '\0' ? v.err : "unexpected answer");
	return x.status == ST_OK || x.status == ST_HTTP ? ST_ERR : ST_NETWORK;
}
