/*
 * rest.c — the Kubernetes REST client (see rest.h for the contract).
 *
 * One curl easy handle per client serves ordinary requests (keep-alive, under
 * the client's mutex); each watch opens its own handle.  Credentials come
 * from k8s_config_auth() per request, so token files are re-read and exec
 * credentials refreshed; after a 401 a cached exec credential is forgotten
 * and the request tried once more.  tls-server-name is honoured by
 * addressing the server by that name and connecting to the real address
 * (CURLOPT_CONNECT_TO), so the certificate is checked against it.
 */
#include "k8s/rest.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/curl_lazy.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static long long mono_ms(void);

const struct k8s_res k8s_resources[K8S__COUNT] = {
#define X(id, g, v, p, ns) [K8S_##id] = { g, v, p, ns },
	K8S_RESOURCES(X)
#undef X
};

struct k8s_client {
	struct k8s_config *cfg;
	struct k8s_client_opts o;
	char *base;			/* URL prefix, maybe with the TLS name as host */
	char *connect_to;		/* "name:port:host:port" or NULL */
	pthread_mutex_t lock;
	pthread_cond_t conn_free;	/* a connection was handed back (lock) */
	CURL *h[K8S_CONNS];		/* one connection each, taken by one
					 * request at a time (busy, under lock) */
	bool busy[K8S_CONNS];
	atomic_bool cancelled;		/* k8s_client_cancel */
	struct k8s_counters n;
	uint32_t rng;			/* backoff jitter (under lock) */
	/* The sockets of running watch streams, so that k8s_watch_interrupt
	 * can end one at once (wlock; curl closes them through wsock_close). */
	pthread_mutex_t wlock;
	struct wsock {
		atomic_bool *stop;
		curl_socket_t fd;
	} wsocks[32];
	size_t n_wsocks;
};

static void
set_err(struct k8s_err *e, int http, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_err(struct k8s_err *e, int http, const char *reason, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	if (!e)
		return;
	e->http = http;
	e->maybe_done = false;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(e->msg, sizeof e->msg, raw, strlen(raw));
}

/* ---- setup --------------------------------------------------------------- */

static int
split_server(struct k8s_client *c, struct buf *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int st = ST_OK;

	if (curl_url_set(u, CURLUPART_URL, c->cfg->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		buf_reset(err);
		buf_printf(err, "%s: context %s: server is not a valid URL", c->cfg->file,
		    c->cfg->context);
		st = ST_INVALID;
		goto out;
	}
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	if (path && strcmp(path, "/") == 0)
		path[0] = '\0';
	if (c->cfg->tls_server_name && *c->cfg->tls_server_name) {
		c->base = xasprintf("%s://%s:%s%s", scheme, c->cfg->tls_server_name, port,
		    path ? path : "");
		c->connect_to = xasprintf("%s:%s:%s:%s", c->cfg->tls_server_name, port, host, port);
	} else {
		c->base = xstrdup(c->cfg->server);
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return st;
}

int
k8s_client_new(struct k8s_config *cfg, const struct k8s_client_opts *o,
    struct k8s_client **out, struct buf *err)
{
	struct k8s_client *c;
	char why[640];
	size_t i;
	int st;

	if ((st = curl_lazy_load("the Kubernetes API client", why, sizeof why)) != ST_OK) {
		if (err != NULL) {
			buf_reset(err);
			buf_printf(err, "%s", why);
		}
		*out = NULL;
		return st;
	}
	c = xcalloc(1, sizeof *c);
	c->cfg = cfg;
	if (o)
		c->o = *o;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = 10000;
	if (c->o.connect_timeout_ms <= 0)
		c->o.connect_timeout_ms = 5000;
	if (c->o.max_response == 0)
		c->o.max_response = 16u << 20;
	if (c->o.retries < 0)
		c->o.retries = 0;
	else if (c->o.retries == 0)
		c->o.retries = 4;
	if (c->o.backoff_ms <= 0)
		c->o.backoff_ms = 200;
	if (c->o.conflict_retries <= 0)
		c->o.conflict_retries = 5;
	if ((st = split_server(c, err)) != ST_OK) {
		free(c);
		*out = NULL;
		return st;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->wlock, NULL);
	pthread_cond_init(&c->conn_free, NULL);
	c->rng = (uint32_t)time(NULL) ^ (uint32_t)getpid() ^ (uint32_t)(uintptr_t)c;
	if (c->rng == 0)
		c->rng = 1;
	for (i = 0; i < K8S_CONNS; i++)
		if ((c->h[i] = curl_easy_init()) == NULL)
			xalloc_fatal(0);
	*out = c;
	return ST_OK;
}

void
k8s_client_cancel(struct k8s_client *c)
{
	if (c != NULL)
		atomic_store(&c->cancelled, true);
}

/* libcurl's progress callback of a request: non-zero ends it. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const struct k8s_client *c = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&c->cancelled) ? 1 : 0;
}

void
k8s_client_free(struct k8s_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < K8S_CONNS; i++)
		curl_easy_cleanup(c->h[i]);
	pthread_cond_destroy(&c->conn_free);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->wlock);
	free(c->base);
	free(c->connect_to);
	free(c);
}

const char *
k8s_client_namespace(const struct k8s_client *c)
{
	return c->cfg->ns;
}

void
k8s_client_counters(struct k8s_client *c, struct k8s_counters *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->n;
	pthread_mutex_unlock(&c->lock);
}

/* ---- one HTTP exchange --------------------------------------------------- */

struct sink {
	struct buf *b;
	bool toobig;
};

static size_t
on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;

	if (buf_append(s->b, p, sz * n) != ST_OK) {
		s->toobig = true;
		return 0;
	}
	return sz * n;
}

/* Sets TLS and credentials on h; the header list is returned for freeing. */
static int
setup_auth(struct k8s_client *c, CURL *h, struct k8s_auth *a, struct curl_slist **hdrs,
    struct k8s_err *e)
{
	struct k8s_config *cfg = c->cfg;
	struct curl_blob blob;
	struct buf berr;
	char *line;
	int st;

	buf_init(&berr, ERRMSG_MAX);
	st = k8s_config_auth(cfg, time(NULL), a, &berr);
	if (st != ST_OK) {
		/* No credential (a plugin that failed, hung or is missing, a
		 * token file that cannot be read): not a network error, never
		 * tried again in this exchange. */
		set_err(e, 0, "Credential", "%s (context %s): %s", cfg->server, cfg->context,
		    buf_str(&berr));
		buf_fini(&berr);
		return ST_AUTH;
	}
	buf_fini(&berr);
	if (a->bearer) {
		line = xasprintf("Authorization: Bearer %s", a->bearer);
		*hdrs = curl_slist_append(*hdrs, line);
		memset(line, 0, strlen(line));
		free(line);
	}
	if (cfg->ca_data) {
		blob = (struct curl_blob){ cfg->ca_data, cfg->ca_len, CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (cfg->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	}
	if (cfg->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (a->cert_pem) {
		blob = (struct curl_blob){ a->cert_pem, a->cert_len, CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		blob = (struct curl_blob){ a->key_pem, a->key_len, CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
	} else if (a->cert_file) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, a->cert_file);
		curl_easy_setopt(h, CURLOPT_SSLKEY, a->key_file);
	}
	return ST_OK;
}

long long
k8s_mono_ms(void)
{
	return mono_ms();
}

int
k8s_status_from_answer(int http, const char *body, size_t len, struct k8s_err *e)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(j, "message"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	int st;

	if (http >= 200 && http < 300) {
		json_decref(j);
		return ST_OK;
	}
	switch (http) {
	case 401: case 403: st = ST_AUTH; break;
	case 404: st = ST_NOTFOUND; break;
	case 409: st = ST_CONFLICT; break;
	case 400: case 422: st = ST_INVALID; break;
	case 410: st = ST_AGAIN; break;
	default: st = ST_HTTP; break;
	}
	set_err(e, http, reason ? reason : "", "%s", msg ? msg : http == 401 ? "Unauthorized" :
	    http == 403 ? "Forbidden" : http == 404 ? "not found" : "the API server answered");
	if (e && !msg) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, " HTTP %d", http);
	}
	json_decref(j);
	return st;
}

struct exchange {
	const char *method;
	const char *url;
	const char *ctype;	/* request body type, or NULL */
	const char *body;
	size_t body_len;
	bool once;		/* not to be repeated after an answer that may be lost
				 * (POST, JSON patch): see rest.h */
};

/* What one attempt left: its answer's Retry-After, and whether the request
 * surely did not reach the server (no connection). */
struct attempt_info {
	long retry_after_ms;
	bool not_sent;
};

static void
common_opts(struct k8s_client *c, CURL *h, const struct exchange *x, struct sink *s,
    struct curl_slist *hdrs)
{
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "perch/" PERCH_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (c->connect_to) {
		struct curl_slist *ct = curl_slist_append(NULL, c->connect_to);
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, ct);
		/* curl keeps the pointer: freed with the handle's next reset */
		curl_easy_setopt(h, CURLOPT_PRIVATE, ct);
	}
	if (x->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)x->body_len);
	} else if (strcmp(x->method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	}
}

static void
free_connect_to(CURL *h)
{
	struct curl_slist *ct = NULL;

	curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&ct);
	curl_slist_free_all(ct);
	curl_easy_setopt(h, CURLOPT_PRIVATE, NULL);
}

/* Why a request got no answer, in words: a certificate not trusted, a
 * connection refused, a name not resolved, ... with curl's detail. */
static void
net_cause(CURL *h, CURLcode rc, const char *detail, char *out, size_t outsz)
{
	long os_errno = 0;
	const char *d = detail[0] ? detail : curl_easy_strerror(rc);

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(out, outsz, "certificate not trusted (%s)", d);
		break;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == ECONNREFUSED)
			snprintf(out, outsz, "connection refused (is the API server up?)");
		else
			snprintf(out, outsz, "cannot connect (%s)", os_errno ? strerror((int)os_errno) : d);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, outsz, "host name not resolved (%s)", d);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(out, outsz, "TLS handshake failed (%s)", d);
		break;
	case CURLE_SSL_CERTPROBLEM:
		snprintf(out, outsz, "client certificate not usable (%s)", d);
		break;
	case CURLE_GOT_NOTHING:
		snprintf(out, outsz, "the server closed the connection without answering");
		break;
	default:
		snprintf(out, outsz, "%s", d);
		break;
	}
}

/* A connection that could not be made: the request never left. */
static bool
never_sent(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR;
}

/* One attempt.  *http = 0 when there was no answer. */
static int
attempt(struct k8s_client *c, CURL *h, const struct exchange *x, struct buf *resp, long *http,
    struct attempt_info *ai, struct k8s_err *e)
{
	curl_off_t ra = 0;
	struct curl_slist *hdrs = NULL;
	struct sink s = { .b = resp };
	struct k8s_auth a;
	CURLcode rc;
	char *ctline = NULL, detail[CURL_ERROR_SIZE] = "", cause[ERRMSG_MAX];
	int st;

	*http = 0;
	*ai = (struct attempt_info){ .not_sent = true };
	curl_easy_reset(h);
	if ((st = setup_auth(c, h, &a, &hdrs, e)) != ST_OK)
		return st;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (x->ctype) {
		ctline = xasprintf("Content-Type: %s", x->ctype);
		hdrs = curl_slist_append(hdrs, ctline);
		free(ctline);
	}
	common_opts(c, h, x, &s, hdrs);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		ai->retry_after_ms = ra > K8S_RETRY_AFTER_MAX_MS / 1000 ? K8S_RETRY_AFTER_MAX_MS + 1 :
		    (long)ra * 1000;
	ai->not_sent = never_sent(rc);
	free_connect_to(h);
	curl_slist_free_all(hdrs);
	k8s_auth_fini(&a);
	if (s.toobig) {
		set_err(e, (int)*http, "TooBig", "%s %s: the answer exceeds %zu bytes", x->method,
		    c->cfg->server, c->o.max_response);
		return ST_TOOBIG;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		set_err(e, 0, "Timeout", "%s (context %s): no answer within %ld ms", c->cfg->server,
		    c->cfg->context, c->o.timeout_ms);
		return ST_TIMEOUT;
	}
	if (rc != CURLE_OK) {
		net_cause(h, rc, detail, cause, sizeof cause);
		/* A certificate that is not trusted stays so: "Certificate"
		 * tells exchange() not to try again. */
		set_err(e, 0, rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ?
		    "Certificate" : "Network", "%s (context %s): %s", c->cfg->server, c->cfg->context,
		    cause);
		*http = 0;
		return ST_NETWORK;
	}
	return ST_OK;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* An answer that is an error (not 404 or 409, which callers expect) names
 * the server and the context in front of the server's own message:
 * "HTTP 401 Unauthorized from https://... (context prod): ...". */
static void
answer_where(struct k8s_client *c, int st, long http, struct k8s_err *e)
{
	char msg[ERRMSG_MAX], reason[64];	/* as large as e's */

	if (e == NULL || http == 0 || (st != ST_AUTH && st != ST_HTTP && st != ST_INVALID))
		return;
	snprintf(msg, sizeof msg, "%s", e->msg);
	snprintf(reason, sizeof reason, "%s", e->reason);
	set_err(e, (int)http, reason, "HTTP %ld%s%s from %s (context %s): %s", http,
	    reason[0] ? " " : "", reason, c->cfg->server, c->cfg->context, msg);
}

/* The wait before attempt tries+1: the server's Retry-After when it gave
 * one, else the backoff doubled per attempt (capped at 5 s), drawn from
 * [half, whole] so that clients that failed together do not come back
 * together.  c->lock held. */
static long
backoff(struct k8s_client *c, int tries, long retry_after_ms)
{
	long d = c->o.backoff_ms;
	int i;

	if (retry_after_ms > 0)
		return retry_after_ms;
	for (i = 0; i < tries && d < 5000; i++)
		d *= 2;
	if (d > 5000)
		d = 5000;
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return d / 2 + (long)(c->rng % (uint32_t)(d / 2 + 1));
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether the failed attempt may have been carried out by the server: no
 * answer after the request left, a timeout, or a 5xx. */
static bool
maybe_carried_out(int st, long http, const struct attempt_info *ai)
{
	if (http == 429 || ai->not_sent)
		return false;
	return st == ST_NETWORK || st == ST_TIMEOUT || http >= 500;
}

/* Whether attempt `tries` is the last: see rest.h for what is repeated.  A
 * timeout is repeated only once (a server that does not answer in time
 * would most likely not answer a second time either); a missing credential
 * and a certificate not trusted never. */
static bool
give_up(const struct k8s_client *c, const struct exchange *x, int tries, int st, long http,
    const struct attempt_info *ai, int timeouts, long wait_ms, const struct k8s_err *e)
{
	if (tries >= c->o.retries || (st == ST_TIMEOUT && timeouts > 1))
		return true;
	if (st == ST_NETWORK && e != NULL && strcmp(e->reason, "Certificate") == 0)
		return true;
	if (!(st == ST_NETWORK || st == ST_TIMEOUT || http == 429 || http >= 500))
		return true;
	if (x->once && maybe_carried_out(st, http, ai))
		return true;	/* the caller finds out what happened */
	return wait_ms > K8S_RETRY_AFTER_MAX_MS;
}

/* A connection of the client's for one request, waited for while every
 * one is busy; handed back with conn_give.  c->lock held. */
static size_t
conn_take(struct k8s_client *c)
{
	size_t i;

	for (;;) {
		for (i = 0; i < K8S_CONNS; i++)
			if (!c->busy[i]) {
				c->busy[i] = true;
				return i;
			}
		pthread_cond_wait(&c->conn_free, &c->lock);
	}
}

static void
conn_give(struct k8s_client *c, size_t i)
{
	c->busy[i] = false;
	pthread_cond_signal(&c->conn_free);
}

/* An exchange: attempts repeated as rest.h says, and once more after a 401
 * when an exec credential may have expired.  e->maybe_done is set when an
 * attempt may have been carried out though its answer was lost. */
static int
exchange(struct k8s_client *c, const struct exchange *x, json_t **out, struct k8s_err *e)
{
	struct attempt_info ai;
	struct buf resp;
	long http = 0, wait_ms;
	int st, tries, reauth = 0, timeouts = 0;
	size_t conn;
	bool maybe = false;

	buf_init(&resp, c->o.max_response);
	pthread_mutex_lock(&c->lock);
	conn = conn_take(c);
	for (tries = 0;; tries++) {
		if (atomic_load(&c->cancelled)) {
			set_err(e, 0, "Cancelled", "%s %s: cancelled", x->method, c->cfg->server);
			st = ST_IO;
			break;
		}
		buf_reset(&resp);
		pthread_mutex_unlock(&c->lock);
		st = attempt(c, c->h[conn], x, &resp, &http, &ai, e);
		pthread_mutex_lock(&c->lock);
		if (st == ST_OK && http == 401 && c->cfg->exec && !reauth++) {
			k8s_config_forget(c->cfg);
			continue;
		}
		if (st == ST_OK)
			st = k8s_status_from_answer((int)http, resp.data, resp.len, e);
		maybe = maybe || (st != ST_OK && maybe_carried_out(st, http, &ai));
		timeouts += st == ST_TIMEOUT;
		c->n.throttled += http == 429;
		if (st == ST_NETWORK || st == ST_TIMEOUT || http == 429 || http >= 500)
			c->n.troubled_ms = mono_ms();	/* the server's trouble, not a 404 */
		wait_ms = backoff(c, tries, http == 429 ? ai.retry_after_ms : 0);
		if (st == ST_OK || give_up(c, x, tries, st, http, &ai, timeouts, wait_ms, e))
			break;
		c->n.retries++;
		log_debug("k8s: %s %s: %s, retrying in %ld ms", x->method, x->url,
		    e ? e->msg : "", wait_ms);
		pthread_mutex_unlock(&c->lock);
		sleep_ms(wait_ms);
		pthread_mutex_lock(&c->lock);
	}
	conn_give(c, conn);
	pthread_mutex_unlock(&c->lock);
	answer_where(c, st, http, e);
	if (e)
		e->maybe_done = maybe;
	if (st == ST_OK && out) {
		*out = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
		if (!*out) {
			set_err(e, (int)http, "BadAnswer", "%s %s: the answer is not JSON", x->method,
			    c->cfg->server);
			st = ST_PARSE;
		}
	}
	buf_fini(&resp);
	return st;
}

/* ---- URLs and verbs ------------------------------------------------------ */

static char *
res_url(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    const char *sub, const char *query)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, c->base);
	if (*r->group)
		buf_printf(&b, "/apis/%s/%s", r->group, r->version);
	else
		buf_printf(&b, "/api/%s", r->version);
	if (r->namespaced && ns)
		buf_printf(&b, "/namespaces/%s", ns);
	buf_printf(&b, "/%s", r->plural);
	if (name)
		buf_printf(&b, "/%s", name);
	if (sub)
		buf_printf(&b, "/%s", sub);
	if (query && *query)
		buf_printf(&b, "?%s", query);
	return buf_take(&b);
}

static bool
bad_name(const char *s)
{
	if (!s || !*s || strlen(s) > 253)
		return true;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return true;
	return false;
}

static int
check_args(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    bool write, struct k8s_err *e)
{
	if (write && c->o.read_only) {
		pthread_mutex_lock(&c->lock);
		c->n.refused++;
		pthread_mutex_unlock(&c->lock);
		set_err(e, 0, "ReadOnly", "refusing to write %s: this client is read-only", r->plural);
		return ST_REFUSED;
	}
	if ((r->namespaced && ns && bad_name(ns)) || (name && bad_name(name))) {
		set_err(e, 0, "Invalid", "invalid object name or namespace for %s", r->plural);
		return ST_INVALID;
	}
	return ST_OK;
}

static void
count(struct k8s_client *c, unsigned long *field)
{
	pthread_mutex_lock(&c->lock);
	(*field)++;
	pthread_mutex_unlock(&c->lock);
}

int
k8s_get(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e)
{
	struct exchange x = { .method = "GET" };
	char *url;
	int st;

	*out = NULL;
	if ((st = check_args(c, r, ns, name, false, e)) != ST_OK)
		return st;
	count(c, &c->n.get);
	x.url = url = res_url(c, r, ns, name, NULL, NULL);
	st = exchange(c, &x, out, e);
	free(url);
	return st;
}

int
k8s_list(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    const char *label_selector, json_t **out, struct k8s_err *e)
{
	struct exchange x = { .method = "GET" };
	char *url, *q = NULL, *esc;
	int st;

	*out = NULL;
	if ((st = check_args(c, r, ns, NULL, false, e)) != ST_OK)
		return st;
	if (label_selector && *label_selector) {
		esc = curl_easy_escape(NULL, label_selector, 0);
		q = xasprintf("labelSelector=%s", esc);
		curl_free(esc);
	}
	count(c, &c->n.list);
	x.url = url = res_url(c, r, ns, NULL, NULL, q);
	st = exchange(c, &x, out, e);
	free(url);
	free(q);
	return st;
}

static int
send_obj(struct k8s_client *c, const char *method, const char *url, const char *ctype,
    json_t *obj, json_t **out, struct k8s_err *e)
{
	struct exchange x = { .method = method, .url = url, .ctype = ctype,
		.once = strcmp(method, "POST") == 0 ||
		    strcmp(ctype, "application/json-patch+json") == 0 };
	char *body = json_dumps(obj, JSON_COMPACT);
	int st;

	if (!body) {
		set_err(e, 0, "Invalid", "%s: the object cannot be encoded", method);
		return ST_INVALID;
	}
	x.body = body;
	x.body_len = strlen(body);
	st = exchange(c, &x, out, e);
	free(body);
	return st;
}

static const char *
obj_name(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

/* Whether `have` holds everything of `sent`: every member of an object (the
 * server adds defaults and its own metadata), every element of an array,
 * every other value equal.  metadata.resourceVersion of sent is skipped
 * (a write moves it). */
static bool
holds(json_t *have, json_t *sent, bool top_meta)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(sent)) {
		if (!json_is_object(have))
			return false;
		json_object_foreach(sent, k, v) {
			if (top_meta && strcmp(k, "resourceVersion") == 0)
				continue;
			if (!holds(json_object_get(have, k), v, false))
				return false;
		}
		return true;
	}
	if (json_is_array(sent)) {
		if (!json_is_array(have) || json_array_size(have) != json_array_size(sent))
			return false;
		json_array_foreach(sent, i, v) {
			if (!holds(json_array_get(have, i), v, false))
				return false;
		}
		return true;
	}
	return json_equal(have, sent);
}

/* Whether the object is, on the server, what a write whose answer was lost
 * sent (the status subresource aside): ST_OK with *out (may be NULL) the
 * live object; ST_CONFLICT when it exists but differs; ST_NOTFOUND; or the
 * read's error (e untouched then, so the write's error is what is told). */
static int
read_back(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *sent,
    json_t **out, struct k8s_err *e)
{
	const char *name = obj_name(sent);
	struct k8s_err ge;
	const char *k;
	json_t *live, *v;
	bool same = true;
	int st;

	if (name == NULL)
		return ST_INVALID;
	pthread_mutex_lock(&c->lock);
	c->n.verified++;
	pthread_mutex_unlock(&c->lock);
	if ((st = k8s_get(c, r, ns, name, &live, &ge)) != ST_OK)
		return st;
	json_object_foreach(sent, k, v) {
		if (strcmp(k, "status") != 0 &&
		    !holds(json_object_get(live, k), v, strcmp(k, "metadata") == 0))
			same = false;
	}
	if (!same) {
		json_decref(live);
		if (e && e->http != 409)
			set_err(e, 409, "Conflict", "%s %s: another object of that name is there "
			    "(a write whose answer was lost was read back)", r->plural, name);
		return ST_CONFLICT;
	}
	log_info("k8s: %s %s: the answer was lost, the write is there", r->plural, name);
	if (out)
		*out = live;
	else
		json_decref(live);
	return ST_OK;
}

/* POST obj once; after an answer that may be lost, obj is read back: there
 * (ours) is a success, absent is sent again (up to the client's retries),
 * someone else's is ST_CONFLICT.  An AlreadyExists that follows a lost
 * answer is read back the same way. */
int
k8s_create(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    json_t **out, struct k8s_err *e)
{
	struct k8s_err mine;
	bool lost = false;
	char *url;
	int st, vst, n;

	if (out)
		*out = NULL;
	if (e == NULL)
		e = &mine;
	if ((st = check_args(c, r, ns, NULL, true, e)) != ST_OK)
		return st;
	url = res_url(c, r, ns, NULL, NULL, NULL);
	for (n = 0;; n++) {
		count(c, &c->n.create);
		st = send_obj(c, "POST", url, "application/json", obj, out, e);
		if (st == ST_CONFLICT && lost)
			st = read_back(c, r, ns, obj, out, e) == ST_OK ? ST_OK : ST_CONFLICT;
		if (st == ST_OK || st == ST_CONFLICT || !e->maybe_done || n >= c->o.retries ||
		    obj_name(obj) == NULL)
			break;
		lost = true;
		vst = read_back(c, r, ns, obj, out, e);
		if (vst == ST_OK || vst == ST_CONFLICT) {
			st = vst;
			break;
		}
		if (vst != ST_NOTFOUND)
			break;		/* cannot tell: the write's error, maybe_done set */
		log_info("k8s: %s %s: the answer was lost and the object is not there: "
		    "creating it again", r->plural, obj_name(obj));
	}
	free(url);
	return st;
}

static int
put(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    const char *sub, json_t **out, struct k8s_err *e)
{
	const char *name = obj_name(obj);
	char *url;
	int st;

	if (out)
		*out = NULL;
	if ((st = check_args(c, r, ns, name ? name : "", true, e)) != ST_OK)
		return st;
	count(c, &c->n.update);
	url = res_url(c, r, ns, name, sub, NULL);
	st = send_obj(c, "PUT", url, "application/json", obj, out, e);
	free(url);
	/* A 409 after an attempt whose answer was lost: our own write may have
	 * moved the resourceVersion.  (Not for /status: the rest of obj is not
	 * what that write sets.) */
	if (st == ST_CONFLICT && e != NULL && e->maybe_done && sub == NULL &&
	    read_back(c, r, ns, obj, out, e) == ST_OK)
		st = ST_OK;
	return st;
}

int
k8s_update(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    json_t **out, struct k8s_err *e)
{
	return put(c, r, ns, obj, NULL, out, e);
}

int
k8s_update_status(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    json_t **out, struct k8s_err *e)
{
	return put(c, r, ns, obj, "status", out, e);
}

int
k8s_patch(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    enum k8s_patch type, json_t *patch, json_t **out, struct k8s_err *e)
{
	static const char *const ctypes[] = {
		[K8S_PATCH_MERGE] = "application/merge-patch+json",
		[K8S_PATCH_JSON] = "application/json-patch+json",
		[K8S_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
	};
	char *url;
	int st;

	if (out)
		*out = NULL;
	if ((st = check_args(c, r, ns, name, true, e)) != ST_OK)
		return st;
	count(c, &c->n.patch);
	url = res_url(c, r, ns, name, NULL, NULL);
	st = send_obj(c, "PATCH", url, ctypes[type], patch, out, e);
	free(url);
	return st;
}

int
k8s_delete(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    struct k8s_err *e)
{
	struct exchange x = { .method = "DELETE" };
	char *url;
	int st;

	if ((st = check_args(c, r, ns, name, true, e)) != ST_OK)
		return st;
	count(c, &c->n.del);
	x.url = url = res_url(c, r, ns, name, NULL, NULL);
	st = exchange(c, &x, NULL, e);
	free(url);
	if (st == ST_NOTFOUND && e != NULL && e->maybe_done) {
		log_info("k8s: %s %s: the answer was lost, the object is gone", r->plural, name);
		st = ST_OK;	/* an earlier attempt deleted it */
	}
	return st;
}

int
k8s_modify(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    k8s_mutate_fn fn, void *arg, json_t **out, struct k8s_err *e)
{
	json_t *obj;
	int st = ST_CONFLICT, i;

	if (out)
		*out = NULL;
	for (i = 0; i < c->o.conflict_retries; i++) {
		if ((st = k8s_get(c, r, ns, name, &obj, e)) != ST_OK)
			return st;
		st = fn(obj, arg);
		if (st == ST_AGAIN) {
			if (out)
				*out = obj;
			else
				json_decref(obj);
			return ST_OK;
		}
		if (st != ST_OK) {
			json_decref(obj);
			return st;
		}
		st = k8s_update(c, r, ns, obj, out, e);
		json_decref(obj);
		if (st != ST_CONFLICT)
			return st;
		log_debug("k8s: %s %s/%s: conflict, re-reading (%d)", r->plural, ns ? ns : "", name,
		    i + 1);
	}
	return st;
}

/* ---- watch --------------------------------------------------------------- */

struct wstate {
	k8s_watch_fn fn;
	void *arg;
	atomic_bool *stop;
	struct buf line;	/* the current, incomplete event line */
	char rv[64];		/* last resourceVersion seen */
	bool gone;		/* 410: relist */
	bool stopped;		/* fn or *stop ended the watch */
	bool toobig;
	bool failed;		/* an ERROR event other than 410 */
	long retry_after_ms;	/* the last answer's Retry-After, 0: none */
	struct k8s_err *e;
	CURL *h;		/* the stream's handle, while it runs */
	struct k8s_client *c;
};

/* A stream's new socket: known to k8s_watch_interrupt from now on; refused
 * when the watch is already told to stop (so no interrupt is missed). */
static int
wsock_open(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct wstate *w = arg;
	struct k8s_client *c = w->c;
	int rc = CURL_SOCKOPT_OK;

	(void)purpose;
	pthread_mutex_lock(&c->wlock);
	if (w->stop && atomic_load(w->stop))
		rc = CURL_SOCKOPT_ERROR;
	else if (c->n_wsocks < sizeof c->wsocks / sizeof c->wsocks[0])
		c->wsocks[c->n_wsocks++] = (struct wsock){ w->stop, fd };
	pthread_mutex_unlock(&c->wlock);
	return rc;
}

static int
wsock_close(void *arg, curl_socket_t fd)
{
	struct k8s_client *c = arg;
	size_t i;

	pthread_mutex_lock(&c->wlock);
	for (i = 0; i < c->n_wsocks; i++)
		if (c->wsocks[i].fd == fd) {
			c->wsocks[i] = c->wsocks[--c->n_wsocks];
			break;
		}
	pthread_mutex_unlock(&c->wlock);
	return close(fd);
}

void
k8s_watch_interrupt(struct k8s_client *c, atomic_bool *stop)
{
	size_t i;

	atomic_store(stop, true);
	pthread_mutex_lock(&c->wlock);
	for (i = 0; i < c->n_wsocks; i++)
		if (c->wsocks[i].stop == stop)
			shutdown(c->wsocks[i].fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->wlock);
}

static void
watch_line(struct wstate *w)
{
	json_t *ev = json_loadb(w->line.data ? w->line.data : "", w->line.len, 0, NULL);
	json_t *obj = json_object_get(ev, "object");
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
	    "resourceVersion"));

	if (!type || !json_is_object(obj)) {
		if (w->line.len)
			log_warn("k8s: watch: an event line that is not a watch event");
	} else if (strcmp(type, "ERROR") == 0) {
		if (json_integer_value(json_object_get(obj, "code")) == 410) {
			w->gone = true;
		} else {
			w->failed = true;
			set_err(w->e, (int)json_integer_value(json_object_get(obj, "code")), "WatchError",
			    "%s", json_string_value(json_object_get(obj, "message")) ?
			    json_string_value(json_object_get(obj, "message")) : "watch error");
		}
	} else if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0 &&
	    strcmp(type, "DELETED") != 0 && strcmp(type, "BOOKMARK") != 0) {
		/* SYNC, RELISTED, OPENED, DROPPED are the watch's own words to fn:
		 * a server never gets to say them. */
		log_warn("k8s: watch: an event of an unknown type, skipped");
	} else {
		if (rv)
			snprintf(w->rv, sizeof w->rv, "%s", rv);
		if (strcmp(type, "BOOKMARK") != 0 && !w->fn(type, obj, w->arg))
			w->stopped = true;
	}
	json_decref(ev);
	buf_reset(&w->line);
}

static size_t
on_watch_body(char *p, size_t sz, size_t n, void *arg)
{
	struct wstate *w = arg;
	size_t len = sz * n, i, start = 0;

	for (i = 0; i < len && !w->stopped && !w->gone && !w->failed; i++) {
		if (p[i] != '\n')
			continue;
		if (buf_append(&w->line, p + start, i - start) != ST_OK) {
			w->toobig = true;
			return 0;
		}
		watch_line(w);
		start = i + 1;
	}
	if (w->stopped || w->gone || w->failed)
		return 0;
	if (start < len && buf_append(&w->line, p + start, len - start) != ST_OK) {
		w->toobig = true;
		return 0;
	}
	return len;
}

int
k8s_watch_parse(const char *data, size_t len, size_t piece, size_t max_line, k8s_watch_fn fn,
    void *arg)
{
	struct wstate w = { .fn = fn, .arg = arg };
	struct k8s_err e;
	size_t at = 0, n;
	int st = ST_OK;

	w.e = &e;
	buf_init(&w.line, max_line ? max_line : 1);
	if (piece == 0)
		piece = len ? len : 1;
	while (at < len) {
		n = len - at < piece ? len - at : piece;
		if (on_watch_body((char *)data + at, 1, n, &w) != n)
			break;
		at += n;
	}
	if (w.toobig)
		st = ST_TOOBIG;
	else if (w.gone)
		st = ST_AGAIN;
	else if (w.failed)
		st = ST_HTTP;
	buf_fini(&w.line);
	return st;
}

/* The end of the answer's headers: a 200 means the stream is open. */
static size_t
on_watch_header(char *p, size_t sz, size_t n, void *arg)
{
	struct wstate *w = arg;
	long http = 0;
	json_t *none;

	if (sz * n == 2 && p[0] == '\r' && p[1] == '\n' && w->h != NULL) {
		curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &http);
		if (http == 200) {
			none = json_object();
			if (!w->fn("OPENED", none, w->arg))
				w->stopped = true;
			json_decref(none);
		}
	}
	return w->stopped ? 0 : sz * n;
}

static int
on_watch_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct wstate *w = arg;

	(void)a, (void)b, (void)c, (void)d;
	if (w->stop && atomic_load(w->stop)) {
		w->stopped = true;
		return 1;
	}
	return 0;
}

#define WATCH_SERVER_TIMEOUT 300	/* seconds the server keeps one stream */

static int
watch_stream(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    const char *sel, struct wstate *w)
{
	struct exchange x = { .method = "GET" };
	struct curl_slist *hdrs = NULL;
	struct buf errbody;
	struct sink s = { .b = &errbody };
	struct k8s_auth a;
	CURL *h = curl_easy_init();
	char *q, *esc = sel && *sel ? curl_easy_escape(NULL, sel, 0) : NULL, *url;
	long http = 0;
	CURLcode rc;
	int st;

	if (!h)
		xalloc_fatal(0);
	q = xasprintf("watch=1&resourceVersion=%s&timeoutSeconds=%d&allowWatchBookmarks=true%s%s",
	    w->rv, WATCH_SERVER_TIMEOUT, esc ? "&labelSelector=" : "", esc ? esc : "");
	curl_free(esc);
	x.url = url = res_url(c, r, ns, NULL, NULL, q);
	free(q);
	buf_init(&errbody, 64 * 1024);
	if ((st = setup_auth(c, h, &a, &hdrs, w->e)) != ST_OK)
		goto out;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	common_opts(c, h, &x, &s, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_watch_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_watch_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_watch_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, w);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, wsock_open);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, w);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, wsock_close);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, c);
	w->h = h;
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(WATCH_SERVER_TIMEOUT + 30) * 1000L);
	count(c, &c->n.watch);
	rc = curl_easy_perform(h);
	w->h = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
	{
		curl_off_t ra = 0;

		w->retry_after_ms = curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
		    ra > 0 ? (ra > K8S_RETRY_AFTER_MAX_MS / 1000 ? K8S_RETRY_AFTER_MAX_MS :
		    (long)ra * 1000) : 0;
	}
	free_connect_to(h);
	k8s_auth_fini(&a);
	if (w->stopped || w->gone)
		st = ST_OK;
	else if (http == 410)
		w->gone = true, st = ST_OK;
	else if (http >= 300)
		st = k8s_status_from_answer((int)http, w->line.data, w->line.len, w->e);
	else if (w->toobig)
		st = ST_TOOBIG, set_err(w->e, 0, "TooBig", "watch %s: an event is too large", r->plural);
	else if (w->failed)
		st = ST_HTTP;
	else if (rc != CURLE_OK)
		st = ST_NETWORK, set_err(w->e, 0, "Network", "watch %s: %s", r->plural,
		    curl_easy_strerror(rc));
out:
	buf_reset(&w->line);
	buf_fini(&errbody);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(url);
	return st;
}

static bool
wait_or_stop(long ms, atomic_bool *stop)
{
	for (; ms > 0; ms -= 100) {
		if (stop && atomic_load(stop))
			return true;
		sleep_ms(ms < 100 ? ms : 100);
	}
	return stop && atomic_load(stop);
}

static int
watch_relist(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *sel,
    struct wstate *w)
{
	json_t *list, *item;
	const char *rv;
	size_t i;
	int st = k8s_list(c, r, ns, sel, &list, w->e);

	if (st != ST_OK)
		return st;
	json_array_foreach(json_object_get(list, "items"), i, item) {
		if (!w->fn("SYNC", item, w->arg)) {
			w->stopped = true;
			break;
		}
	}
	if (!w->stopped && !w->fn("RELISTED", list, w->arg))
		w->stopped = true;
	rv = json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
	snprintf(w->rv, sizeof w->rv, "%s", rv ? rv : "0");
	json_decref(list);
	return ST_OK;
}

/* fn hears of a stream that ended in an error; false when fn stops. */
static bool
tell_dropped(struct wstate *w, int st)
{
	json_t *why = json_pack("{s:s, s:s}", "status", status_name(st), "message",
	    w->e ? w->e->msg : "");
	bool go_on = w->fn("DROPPED", why, w->arg);

	json_decref(why);
	return go_on;
}

static bool
fatal_status(int st)
{
	return st == ST_AUTH || st == ST_INVALID || st == ST_NOTFOUND || st == ST_REFUSED;
}

int
k8s_watch(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    const char *label_selector, const char *resource_version, k8s_watch_fn fn, void *arg,
    atomic_bool *stop, struct k8s_err *e)
{
	struct wstate w = { .fn = fn, .arg = arg, .stop = stop, .e = e, .c = c };
	bool have_rv = resource_version && *resource_version;
	int st = ST_OK, fails = 0;
	long wait;

	if ((st = check_args(c, r, ns, NULL, false, e)) != ST_OK)
		return st;
	buf_init(&w.line, c->o.max_response);
	if (have_rv)
		snprintf(w.rv, sizeof w.rv, "%s", resource_version);
	while (!(stop && atomic_load(stop))) {
		w.gone = w.failed = w.toobig = false;
		st = have_rv ? watch_stream(c, r, ns, label_selector, &w) :
		    watch_relist(c, r, ns, label_selector, &w);
		if (w.stopped) {
			st = ST_OK;
			break;
		}
		if (fatal_status(st))
			break;
		if (w.gone) {
			log_info("k8s: watch %s: resourceVersion %s is gone, relisting", r->plural, w.rv);
			have_rv = false;
			continue;
		}
		if (st == ST_OK) {
			have_rv = true;
			fails = 0;
			continue;
		}
		pthread_mutex_lock(&c->lock);
		wait = backoff(c, fails++, w.retry_after_ms);
		c->n.troubled_ms = mono_ms();
		pthread_mutex_unlock(&c->lock);
		log_debug("k8s: watch %s: %s; again in %ld ms", r->plural, e ? e->msg : "", wait);
		if (!tell_dropped(&w, st)) {
			st = ST_OK;
			break;
		}
		if (wait_or_stop(wait, stop))
			break;
	}
	buf_fini(&w.line);
	return stop && atomic_load(stop) ? ST_OK : st;
}

/* ---- the service proxy ---------------------------------------------------- */

int
k8s_service_post(struct k8s_client *c, const char *ns, const char *svc, int port,
    const char *path, const char *body, long *http, char *answer, size_t answersz,
    struct k8s_err *e)
{
	struct exchange x = { .method = "POST", .ctype = "application/json", .body = body,
		.body_len = strlen(body), .once = true };
	struct attempt_info ai;
	struct buf resp;
	size_t conn;
	char *url;
	int st;

	*http = 0;
	if (answer != NULL && answersz > 0)
		answer[0] = '\0';
	if (c->o.read_only) {
		set_err(e, 0, "ReadOnly", "refusing to call service %s: this client is read-only", svc);
		return ST_REFUSED;
	}
	if (bad_name(ns) || bad_name(svc) || port <= 0 || port > 65535 || strstr(path, "..")) {
		set_err(e, 0, "Invalid", "invalid service %s.%s:%d or path", svc, ns, port);
		return ST_INVALID;
	}
	while (*path == '/')
		path++;
	url = xasprintf("%s/api/v1/namespaces/%s/services/%s:%d/proxy/%s", c->base, ns, svc, port,
	    path);
	x.url = url;
	buf_init(&resp, 64 * 1024);
	pthread_mutex_lock(&c->lock);
	conn = conn_take(c);
	pthread_mutex_unlock(&c->lock);
	st = attempt(c, c->h[conn], &x, &resp, http, &ai, e);
	pthread_mutex_lock(&c->lock);
	conn_give(c, conn);
	pthread_mutex_unlock(&c->lock);
	if (answer != NULL && answersz > 0)
		sanitize(answer, answersz, resp.data ? resp.data : "", resp.len);
	buf_fini(&resp);
	free(url);
	return st;
}
