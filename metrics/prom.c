/*
 * prom.c — Prometheus instant queries over libcurl (multi interface, one
 * connection cache per struct prom), the parser of their answers, and the
 * prometheus metric backend (prometheus_backend) on top of them.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/backend.h"
#include "metrics/prom.h"
#include "net/curl_lazy.h"
#include "net/http_batch.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

#define BODY_SHOWN 160	/* bytes of an error body put in a message */

struct server {
	char *url;
	char *block;			/* prom_server_cfg.block, or NULL */
	char *token;
	char *username;
	char *password;
	char *ca_file;
	bool  insecure;
	struct curl_slist *headers;	/* includes Accept */
	/* prom_server_cfg's PEM blobs and client certificate files */
	char *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
	char *cert_file, *key_file;
	int (*creds)(void *arg, struct prom_creds *out);	/* prom_server_cfg's */
	void *creds_arg;
};

struct prom {
	struct net_limits opts;		/* prom_opts, with the defaults */
	struct server   *servers;
	size_t           n_servers;
	CURLM           *multi;		/* NULL when libcurl cannot be loaded */
	struct server    anonymous;	/* for servers never added */
	char             no_curl[640];	/* why libcurl cannot be loaded, "" = it can */
};

/* One request of a batch (net/http_batch.h). */
struct xfer {
	struct net_xfer net;
	char       *url;
	char       *form;
	struct prom_res *res;
	struct metric_samples *samples;	/* a range query's, else NULL */
};

/* A batch of range queries: their window and step. */
struct range {
	int64_t range_ms, step_ms;
};

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

/* Frees a secret after overwriting it. */
static void
free_secret(char *s)
{
	if (s != NULL) {
		volatile char *v = s;

		while (*v != '\0')
			*v++ = '\0';
		free(s);
	}
}

static void
server_fini(struct server *s)
{
	free(s->url);
	free(s->block);
	free_secret(s->token);
	free(s->username);
	free_secret(s->password);
	free(s->ca_file);
	if (s->headers != NULL)
		curl_slist_free_all(s->headers);
	free(s->ca_pem);
	free(s->cert_pem);
	free_secret(s->key_pem);
	free(s->cert_file);
	free(s->key_file);
	memset(s, 0, sizeof *s);
}

/* A PEM copy, NUL-terminated (NULL: none). */
static char *
dup_pem(const char *pem, size_t len, size_t *out_len)
{
	char *d;

	*out_len = 0;
	if (pem == NULL || len == 0)
		return NULL;
	d = xmalloc(len + 1);
	memcpy(d, pem, len);
	d[len] = '\0';
	*out_len = len;
	return d;
}

static void
server_tls(struct server *s, const struct prom_server_cfg *cfg)
{
	s->ca_pem = dup_pem(cfg->ca_pem, cfg->ca_len, &s->ca_len);
	s->cert_pem = dup_pem(cfg->cert_pem, cfg->cert_len, &s->cert_len);
	s->key_pem = dup_pem(cfg->key_pem, cfg->key_len, &s->key_len);
	s->cert_file = dup_or_null(cfg->cert_file);
	s->key_file = dup_or_null(cfg->key_file);
}

struct prom *
prom_new(const struct prom_opts *opts)
{
	struct prom *p = xcalloc(1, sizeof *p);

	if (opts != NULL)
		p->opts = (struct net_limits){ .connect_timeout_ms = opts->connect_timeout_ms,
			.timeout_ms = opts->timeout_ms, .deadline_ms = opts->deadline_ms,
			.max_body = opts->max_body };
	if (p->opts.connect_timeout_ms <= 0)
		p->opts.connect_timeout_ms = 5000;
	if (p->opts.timeout_ms <= 0)
		p->opts.timeout_ms = 5000;
	if (p->opts.deadline_ms <= 0)
		p->opts.deadline_ms = PROM_DEADLINE_DEFAULT_MS;
	if (p->opts.max_body == 0)
		p->opts.max_body = PROM_MAX_BODY_DEFAULT;
	if (curl_lazy_load("the Prometheus client", p->no_curl, sizeof p->no_curl) != ST_OK)
		return p;	/* every query will say why (prom_unusable) */
	p->multi = net_multi_new();
	p->anonymous.headers = curl_slist_append(NULL, "Accept: application/json");
	return p;
}

void
prom_free(struct prom *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_servers; i++)
		server_fini(&p->servers[i]);
	free(p->servers);
	server_fini(&p->anonymous);
	if (p->multi != NULL)
		curl_multi_cleanup(p->multi);
	free(p);
}

const char *
prom_unusable(const struct prom *p)
{
	return p->no_curl[0] != '\0' ? p->no_curl : NULL;
}

/* The server added with key block; without one, the server of url (NULL:
 * the default, the first added); NULL when there is none. */
static struct server *
find_server(struct prom *p, const char *url, const char *block)
{
	const struct server *s;
	size_t i;

	for (i = 0; i < p->n_servers; i++) {
		s = &p->servers[i];
		if (block != NULL ? s->block != NULL && strcmp(s->block, block) == 0 :
		    url == NULL || strcmp(s->url, url) == 0)
			return &p->servers[i];
	}
	return NULL;
}

int
prom_set_server(struct prom *p, const struct prom_server_cfg *cfg)
{
	struct server *s;
	size_t i;

	if (cfg == NULL || cfg->url == NULL || cfg->url[0] == '\0')
		return ST_INVALID;
	s = find_server(p, cfg->url, cfg->block);
	if (s == NULL) {
		p->servers = xreallocarray(p->servers, p->n_servers + 1, sizeof *p->servers);
		s = &p->servers[p->n_servers++];
	} else {
		server_fini(s);
	}
	memset(s, 0, sizeof *s);
	s->url = xstrdup(cfg->url);
	s->block = dup_or_null(cfg->block);
	s->token = dup_or_null(cfg->bearer_token);
	if (cfg->username != NULL && cfg->password != NULL) {
		s->username = xstrdup(cfg->username);
		s->password = xstrdup(cfg->password);
	}
	s->ca_file = dup_or_null(cfg->ca_file);
	s->insecure = cfg->insecure;
	s->creds = cfg->creds;
	s->creds_arg = cfg->creds_arg;
	server_tls(s, cfg);
	if (p->multi == NULL)	/* no libcurl: nothing will be sent */
		return ST_OK;
	s->headers = curl_slist_append(NULL, "Accept: application/json");
	for (i = 0; i < cfg->n_headers; i++) {
		char *h = xasprintf("%s: %s", cfg->headers[i].key,
		    cfg->headers[i].value != NULL ? cfg->headers[i].value : "");

		s->headers = curl_slist_append(s->headers, h);
		free(h);
	}
	return ST_OK;
}

/* ---- parsing ----------------------------------------------------------- */

static void
set_result(struct metric_value *out, enum check_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_result(struct metric_value *out, enum check_result r, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	out->result = r;
	out->value = NAN;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(out->err, sizeof out->err, raw, strlen(raw));
}

/* A sample [ts, "value"]: 1 value, 0 no data (NaN or not a string), -1 bad. */
static int
sample_value(json_t *sample, double *v)
{
	const char *s;
	char *end;

	if (!json_is_array(sample) || json_array_size(sample) != 2)
		return -1;
	s = json_string_value(json_array_get(sample, 1));
	if (s == NULL)
		return 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0')
		return -1;
	return isnan(*v) ? 0 : 1;
}

static int
parse_vector(json_t *result, struct metric_value *out)
{
	size_t i;
	json_t *el;
	double v = NAN, x;
	int got = 0, r;

	if (!json_is_array(result)) {
		set_result(out, CHECK_ERROR, "Prometheus answer: data.result is not an array");
		return ST_PARSE;
	}
	json_array_foreach(result, i, el) {
		if (json_object_get(el, "values") != NULL) {
			set_result(out, CHECK_ERROR, "multiple values returned (a range vector)");
			return ST_ERR;
		}
		r = sample_value(json_object_get(el, "value"), &x);
		if (r < 0) {
			set_result(out, CHECK_ERROR, "Prometheus answer: bad sample in data.result[%zu]", i);
			return ST_PARSE;
		}
		/* The last sample wins, as in Flagger; NaN counts as none. */
		got = r;
		v = r > 0 ? x : NAN;
	}
	if (!got) {
		set_result(out, CHECK_NODATA, "no values found");
		return ST_OK;
	}
	out->result = CHECK_PASS;
	out->value = v;
	out->err[0] = '\0';
	return ST_OK;
}

static int
parse_success(json_t *data, struct metric_value *out)
{
	const char *type = json_string_value(json_object_get(data, "resultType"));
	json_t *result = json_object_get(data, "result");
	double v;
	int r;

	if (type == NULL || result == NULL) {
		set_result(out, CHECK_ERROR, "Prometheus answer has no data.resultType or data.result");
		return ST_PARSE;
	}
	if (strcmp(type, "vector") == 0)
		return parse_vector(result, out);
	if (strcmp(type, "scalar") == 0) {
		r = sample_value(result, &v);
		if (r < 0) {
			set_result(out, CHECK_ERROR, "Prometheus answer: bad scalar");
			return ST_PARSE;
		}
		if (r == 0) {
			set_result(out, CHECK_NODATA, "no values found");
			return ST_OK;
		}
		out->result = CHECK_PASS;
		out->value = v;
		out->err[0] = '\0';
		return ST_OK;
	}
	if (strcmp(type, "matrix") == 0)
		set_result(out, CHECK_ERROR, "multiple values returned (a range vector)");
	else
		set_result(out, CHECK_ERROR, "unsupported result type \"%s\"", type);
	return ST_ERR;
}

/* The envelope of an answer: its data (root holds it; json_decref root
 * after), or NULL with out filled and *st the status. */
static json_t *
envelope(const char *body, size_t len, struct metric_value *out, json_t **root, int *st)
{
	json_error_t jerr;
	const char *status, *etype, *emsg;

	*root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	*st = ST_PARSE;
	if (*root == NULL || !json_is_object(*root)) {
		if (*root == NULL)
			set_result(out, CHECK_ERROR, "not a Prometheus answer (invalid JSON at byte %d: %s)",
			    jerr.position, jerr.text);
		else
			set_result(out, CHECK_ERROR, "not a Prometheus answer (not a JSON object)");
		return NULL;
	}
	status = json_string_value(json_object_get(*root, "status"));
	if (status != NULL && strcmp(status, "error") == 0) {
		etype = json_string_value(json_object_get(*root, "errorType"));
		emsg = json_string_value(json_object_get(*root, "error"));
		set_result(out, CHECK_ERROR, "Prometheus error: %s: %s",
		    etype != NULL ? etype : "unknown", emsg != NULL ? emsg : "(no message)");
		*st = ST_ERR;
		return NULL;
	}
	if (status == NULL || strcmp(status, "success") != 0) {
		set_result(out, CHECK_ERROR, "not a Prometheus answer (no \"status\")");
		return NULL;
	}
	*st = ST_OK;
	return json_object_get(*root, "data");
}

int
prom_parse(const char *body, size_t len, struct metric_value *out)
{
	json_t *root, *data;
	int st;

	data = envelope(body, len, out, &root, &st);
	if (st == ST_OK)
		st = parse_success(data, out);
	json_decref(root);
	return st;
}

/* One series of a matrix into out: its values, oldest first, NaN left
 * out, the latest METRIC_SAMPLES_MAX kept. */
static int
parse_series(json_t *values, struct metric_samples *out)
{
	size_t i;
	json_t *el;
	double x;
	int r;

	if (!json_is_array(values))
		return ST_PARSE;
	json_array_foreach(values, i, el) {
		if ((r = sample_value(el, &x)) < 0)
			return ST_PARSE;
		if (r == 0)
			continue;
		if (out->n == METRIC_SAMPLES_MAX) {
			memmove(out->v, out->v + 1, (METRIC_SAMPLES_MAX - 1) * sizeof *out->v);
			out->n--;
		}
		out->v[out->n++] = x;
	}
	return ST_OK;
}

static void
samples_result(struct metric_samples *out, enum check_result r, const char *msg)
{
	out->result = r;
	out->n = 0;
	sanitize(out->err, sizeof out->err, msg, strlen(msg));
}

int
prom_parse_range(const char *body, size_t len, struct metric_samples *out)
{
	struct metric_value v;
	json_t *root, *data, *result;
	const char *type;
	char msg[128];
	int st;

	memset(out, 0, sizeof *out);
	if ((data = envelope(body, len, &v, &root, &st)) == NULL) {
		if (st == ST_OK) {
			st = ST_PARSE;
			set_result(&v, CHECK_ERROR, "Prometheus answer has no data");
		}
		samples_result(out, CHECK_ERROR, v.err);
		json_decref(root);
		return st;
	}
	type = json_string_value(json_object_get(data, "resultType"));
	result = json_object_get(data, "result");
	st = ST_PARSE;
	if (type == NULL || strcmp(type, "matrix") != 0 || !json_is_array(result)) {
		samples_result(out, CHECK_ERROR, "Prometheus answer to a range query is not a matrix");
	} else if (json_array_size(result) > 1) {
		snprintf(msg, sizeof msg, "the query gives %zu series; a comparison needs one",
		    json_array_size(result));
		samples_result(out, CHECK_ERROR, msg);
		st = ST_ERR;
	} else if (json_array_size(result) == 1 &&
	    parse_series(json_object_get(json_array_get(result, 0), "values"), out) != ST_OK) {
		samples_result(out, CHECK_ERROR, "Prometheus answer: bad sample in data.result[0]");
	} else {
		st = ST_OK;
		if (out->n == 0)
			samples_result(out, CHECK_NODATA, "no values found");
		else
			out->result = CHECK_PASS;
	}
	json_decref(root);
	return st;
}

int
prom_read_token_file(const char *path, char *tok, size_t toksz, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	size_t n, s = 0;

	if (f == NULL) {
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		return ST_IO;
	}
	n = fread(tok, 1, toksz - 1, f);
	if (ferror(f)) {	/* a directory opens, but does not read */
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		return ST_IO;
	}
	fclose(f);
	tok[n] = '\0';
	tok[strcspn(tok, "\r\n")] = '\0';
	n = strlen(tok);
	while (n > 0 && isspace((unsigned char)tok[n - 1]))
		tok[--n] = '\0';
	while (isspace((unsigned char)tok[s]))
		s++;
	memmove(tok, tok + s, n - s + 1);
	if (tok[0] == '\0') {
		snprintf(err, errsz, "%s is empty", path);
		return ST_INVALID;
	}
	return ST_OK;
}

bool
prom_unreachable(const struct prom_res *res)
{
	return res->status == ST_NETWORK || res->status == ST_TIMEOUT ||
	    (res->status == ST_HTTP && res->http_status >= 500);
}

/* ---- transfers --------------------------------------------------------- */

static int64_t
real_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "query=...&time=..." (URL-encoded); a range query's start, end and step. */
static char *
make_params(const struct prom_req *r, const struct range *rg)
{
	char *q = curl_easy_escape(NULL, r->query, 0), *s;

	if (q == NULL)
		xalloc_fatal(0);
	if (rg != NULL) {
		int64_t end = r->at_ms > 0 ? r->at_ms : real_now_ms(), start = end - rg->range_ms;

		s = xasprintf("query=%s&start=%lld.%03lld&end=%lld.%03lld&step=%lld.%03lld", q,
		    (long long)(start / 1000), (long long)(start % 1000), (long long)(end / 1000),
		    (long long)(end % 1000), (long long)(rg->step_ms / 1000),
		    (long long)(rg->step_ms % 1000));
	} else if (r->at_ms > 0)
		s = xasprintf("query=%s&time=%lld.%03lld", q, (long long)(r->at_ms / 1000),
		    (long long)(r->at_ms % 1000));
	else
		s = xasprintf("query=%s", q);
	curl_free(q);
	return s;
}

/* The PEM blobs (copied by libcurl) and client certificate files. */
static void
setup_client_tls(CURL *e, const struct server *s)
{
	struct curl_blob blob;

	if (s->ca_pem != NULL) {
		blob = (struct curl_blob){ s->ca_pem, s->ca_len, CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (s->cert_pem != NULL && s->key_pem != NULL) {
		blob = (struct curl_blob){ s->cert_pem, s->cert_len, CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		blob = (struct curl_blob){ s->key_pem, s->key_len, CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
	} else if (s->cert_file != NULL && s->key_file != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, s->cert_file);
		curl_easy_setopt(e, CURLOPT_SSLKEY, s->key_file);
	}
}

static void
setup_auth(CURL *e, const struct server *s)
{
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	if (s->token != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, s->token);
	} else if (s->username != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, s->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, s->password);
	}
	setup_client_tls(e, s);	/* the CA file and insecure: net_xfer_open */
}

static void
xfer_setup(struct prom *p, struct xfer *x, const struct server *s, const char *base,
    const struct prom_req *r, const struct range *rg)
{
	char *params = make_params(r, rg);
	size_t bl = strlen(base);
	const char *path = rg != NULL ? "query_range" : "query";

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	if (strlen(params) > PROM_POST_OVER) {
		x->url = xasprintf("%.*s/api/v1/%s", (int)bl, base, path);
		x->form = params;
	} else {
		x->url = xasprintf("%.*s/api/v1/%s?%s", (int)bl, base, path, params);
		free(params);
	}
	net_xfer_open(&x->net, x->url, &p->opts, s->ca_file, s->insecure);
	if (x->form != NULL)
		curl_easy_setopt(x->net.easy, CURLOPT_POSTFIELDS, x->form);
	setup_auth(x->net.easy, s);
}

/* An answer of HTTP >= 400: Prometheus' own error JSON when there is one,
 * else the body. */
static void
http_error(const struct net_xfer *x, struct metric_value *out)
{
	struct metric_value pv;

	if (prom_parse(buf_str(&x->body), x->body.len, &pv) == ST_ERR)
		set_result(out, CHECK_ERROR, "HTTP %ld: %s", x->code, pv.err);
	else
		set_result(out, CHECK_ERROR, "HTTP %ld: %.*s", x->code, BODY_SHOWN,
		    buf_str(&x->body));
}

/* What became of x, into x->res (and x->samples). */
static void
xfer_finish(struct prom *p, struct xfer *x)
{
	struct prom_res *res = x->res;
	char msg[ERRMSG_MAX * 2];

	res->http_status = (int)x->net.code;
	res->status = net_xfer_status(&x->net);
	if (res->status == ST_HTTP) {
		http_error(&x->net, &res->v);
	} else if (res->status != ST_OK) {
		net_xfer_error(&x->net, "Prometheus", &p->opts, msg, sizeof msg);
		set_result(&res->v, CHECK_ERROR, "%s", msg);
	} else if (x->samples != NULL) {
		res->status = prom_parse_range(buf_str(&x->net.body), x->net.body.len, x->samples);
		res->v.result = x->samples->result;
		memcpy(res->v.err, x->samples->err, sizeof res->v.err);
	} else {
		res->status = prom_parse(buf_str(&x->net.body), x->net.body.len, &res->v);
	}
}

static void
run_batch(struct prom *p, struct xfer *xs, size_t n)
{
	size_t i;

	net_batch_run(p->multi, &xs[0].net, n, sizeof *xs, p->opts.deadline_ms);
	for (i = 0; i < n; i++)
		if (xs[i].net.easy != NULL)
			xfer_finish(p, &xs[i]);
}

static void
xfer_fini(struct prom *p, struct xfer *x)
{
	net_xfer_close(p->multi, &x->net);
	free(x->url);
	free(x->form);
}

/* The credentials of each server that asks for them again (a rotated
 * token file or client certificate is read before each batch); an error
 * keeps the last ones. */
static void
refresh_creds(struct prom *p)
{
	struct prom_creds c;
	size_t i;

	for (i = 0; i < p->n_servers; i++) {
		struct server *s = &p->servers[i];

		memset(&c, 0, sizeof c);
		if (s->creds == NULL || s->creds(s->creds_arg, &c) != ST_OK)
			continue;
		free_secret(s->token);
		s->token = c.bearer;
		if (c.cert_pem == NULL || c.key_pem == NULL) {
			free(c.cert_pem);
			free_secret(c.key_pem);
			continue;
		}
		free(s->cert_pem);
		free_secret(s->key_pem);
		s->cert_pem = c.cert_pem;
		s->cert_len = c.cert_len;
		s->key_pem = c.key_pem;
		s->key_len = c.key_len;
	}
}

/* Runs the n requests, each with the server added with block key
 * blocks[i] (blocks NULL, or blocks[i] NULL: the server of its url). */
static void
batch(struct prom *p, const struct prom_req *reqs, const char *const *blocks, size_t n,
    struct prom_res *out, const struct range *rg, struct metric_samples *samples)
{
	struct xfer *xs = xcalloc(n > 0 ? n : 1, sizeof *xs);
	const struct server *s;
	const char *base;
	size_t i;

	refresh_creds(p);
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].status = ST_NETWORK;
		set_result(&out[i].v, CHECK_ERROR, "query was not run");
		if (p->multi == NULL) {	/* no libcurl (prom_unusable) */
			out[i].status = ST_UNSUPPORTED;
			set_result(&out[i].v, CHECK_ERROR, "%s", p->no_curl);
			continue;
		}
		if (blocks == NULL || blocks[i] == NULL ||
		    (s = find_server(p, reqs[i].server, blocks[i])) == NULL)
			s = find_server(p, reqs[i].server, NULL);
		base = reqs[i].server != NULL ? reqs[i].server : s != NULL ? s->url : NULL;
		if (base == NULL || reqs[i].query == NULL) {
			out[i].status = ST_INVALID;
			set_result(&out[i].v, CHECK_ERROR, base == NULL ? "no Prometheus server given" :
			    "no query to send to Prometheus");
			continue;
		}
		xs[i].res = &out[i];
		xs[i].samples = samples != NULL ? &samples[i] : NULL;
		xfer_setup(p, &xs[i], s != NULL ? s : &p->anonymous, base, &reqs[i], rg);
	}
	if (p->multi != NULL)
		run_batch(p, xs, n);
	for (i = 0; i < n; i++)
		xfer_fini(p, &xs[i]);
	free(xs);
	log_debug("prometheus: %zu queries done", n);
}

void
prom_query_batch(struct prom *p, const struct prom_req *reqs, size_t n,
    struct prom_res *out)
{
	batch(p, reqs, NULL, n, out, NULL, NULL);
}

/* prom_range_batch with the block keys of batch. */
static void
range_batch(struct prom *p, const struct prom_req *reqs, const char *const *blocks, size_t n,
    const struct range *rg, struct metric_samples *samples, struct prom_res *res)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&samples[i], 0, sizeof samples[i]);
		samples[i].result = CHECK_ERROR;
	}
	batch(p, reqs, blocks, n, res, rg, samples);
	for (i = 0; i < n; i++) {
		if (res[i].v.result != CHECK_ERROR)
			continue;
		samples[i].result = CHECK_ERROR;
		samples[i].n = 0;
		memcpy(samples[i].err, res[i].v.err, sizeof samples[i].err);
	}
}

void
prom_range_batch(struct prom *p, const struct prom_req *reqs, size_t n, int64_t range_ms,
    int64_t step_ms, struct metric_samples *samples, struct prom_res *res)
{
	const struct range rg = { range_ms, step_ms };

	range_batch(p, reqs, NULL, n, &rg, samples, res);
}

/* ---- the metric backend (metrics/backend.h) ------------------------------- */

static void *
backend_open(const struct metric_backend_opts *o)
{
	struct prom_opts po = { .connect_timeout_ms = o->connect_timeout_ms,
		.timeout_ms = o->timeout_ms, .deadline_ms = o->deadline_ms, .max_body = o->max_body };

	return prom_new(&po);
}

static void
backend_close(void *b)
{
	prom_free(b);
}

static const char *
backend_unusable(void *b)
{
	return prom_unusable(b);
}

/* Secret keys: a bearer token, else basic auth (reference §1.2). */
enum { KEY_TOKEN, KEY_USERNAME, KEY_PASSWORD };

static const char *const secret_keys[] = { "token", "username", "password", NULL };

static int
backend_check_secret(const char *const *v, char *err, size_t errsz)
{
	if (v[KEY_TOKEN] == NULL && (v[KEY_USERNAME] == NULL || v[KEY_PASSWORD] == NULL)) {
		snprintf(err, errsz, "has no token, nor both username and password");
		return ST_INVALID;
	}
	return ST_OK;
}

static int
backend_add(void *b, const struct metric_provider *p)
{
	const char *token = p->secret != NULL ? p->secret[KEY_TOKEN] : NULL;
	struct prom_server_cfg sc = { .url = p->address, .ca_file = p->ca_file,
		.insecure = p->insecure, .headers = p->headers, .n_headers = p->n_headers,
		.block = p->block };

	if (p->secret != NULL) {
		sc.bearer_token = token;
		sc.username = token ? NULL : p->secret[KEY_USERNAME];
		sc.password = token ? NULL : p->secret[KEY_PASSWORD];
	}
	return prom_set_server(b, &sc);
}

/* The client's requests of n metric queries, and their provider blocks'
 * keys into *blocks (free both). */
static struct prom_req *
reqs_of(const struct metric_query *q, size_t n, const char ***blocks)
{
	struct prom_req *reqs = xcalloc(n > 0 ? n : 1, sizeof *reqs);
	size_t i;

	*blocks = xcalloc(n > 0 ? n : 1, sizeof **blocks);
	for (i = 0; i < n; i++) {
		reqs[i] = (struct prom_req){ .server = q[i].metric != NULL ? q[i].metric->server :
		    NULL, .query = q[i].query, .at_ms = q[i].at_ms };
		(*blocks)[i] = q[i].metric != NULL ? q[i].metric->block : NULL;
	}
	return reqs;
}

static int
backend_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct prom *p = ctx;
	const char **blocks;
	struct prom_req *reqs = reqs_of(q, n, &blocks);
	struct prom_res *res = xcalloc(n > 0 ? n : 1, sizeof *res);
	size_t i;

	batch(p, reqs, blocks, n, res, NULL, NULL);
	for (i = 0; i < n; i++) {
		out[i] = res[i].v;
		/* No answer (down, slow, 5xx): the backend is degraded, the
		 * metric is not failing (engine/machine.c). */
		out[i].unavailable = out[i].result == CHECK_ERROR && prom_unreachable(&res[i]);
	}
	free(blocks);
	free(reqs);
	free(res);
	return p->multi != NULL ? ST_OK : ST_UNSUPPORTED;
}

/* Range queries (the comparison judge): each query over (at - range,
 * at] every step, its one series into out[i]. */
static int
backend_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms,
    int64_t step_ms, struct metric_samples *out)
{
	struct prom *p = ctx;
	const struct range rg = { range_ms, step_ms };
	const char **blocks;
	struct prom_req *reqs = reqs_of(q, n, &blocks);
	struct prom_res *res = xcalloc(n > 0 ? n : 1, sizeof *res);
	size_t i;

	range_batch(p, reqs, blocks, n, &rg, out, res);
	for (i = 0; i < n; i++)
		out[i].unavailable = out[i].result == CHECK_ERROR && prom_unreachable(&res[i]);
	free(blocks);
	free(reqs);
	free(res);
	return p->multi != NULL ? ST_OK : ST_UNSUPPORTED;
}

const struct metric_backend_ops prometheus_backend = {
	.type = MT_PROMETHEUS,
	.past = true,
	.secret_keys = secret_keys,
	.open = backend_open,
	.close = backend_close,
	.unusable = backend_unusable,
	.check_secret = backend_check_secret,
	.add = backend_add,
	.eval = backend_eval,
	.samples = backend_samples,
};
