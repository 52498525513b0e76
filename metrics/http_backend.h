/*
 * http_backend.h — the machinery shared by the metric backends that ask an
 * HTTP API one request per query (graphite, datadog, newrelic, influxdb,
 * externalmetrics): provider blocks by key (metric_provider.block), else
 * by address, with their Secret values, a batch of requests on the wire at
 * once (net/http_batch.h: at most NET_MAX_CONNS, each with its own timeout,
 * the batch with a deadline), answers capped at max_body bytes, and the
 * classification of what came back (a value, no data, an error, no answer).
 *
 * A backend file gives a struct http_kind (how to build its request, how
 * to read its answer, its probe) and an ops table whose .open calls
 * hb_open with it; the other entries are the hb_* functions below.
 *
 * Ownership: hb_open/hb_close.  Secret values given to hb_add are copied
 * and wiped when replaced or closed; they are only ever put in request
 * headers or URLs, never in a message.  Threads: as metrics/backend.h (one
 * thread at a time per handle).
 */
#ifndef PERCH_METRICS_HTTP_BACKEND_H
#define PERCH_METRICS_HTTP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics/backend.h"

#define HB_MAX_BODY        (8u << 20)	/* default cap of an answer, bytes */
#define HB_DEADLINE_MS     60000	/* default deadline of a batch */
#define HB_MAX_KEYS        4		/* secret keys of one kind */
#define HB_BODY_SHOWN      160		/* bytes of an error body put in a message */

/* One provider block: what add was given, copied. */
struct hb_server {
	char *address;			/* as written, or the kind's default */
	char *secret[HB_MAX_KEYS];	/* the kind's secret_keys values, NULL: absent */
	bool  has_secret;		/* a secretRef was read */
	bool  insecure;
	char *ca_file;
	char *region;			/* provider.region, or NULL */
	struct kv *headers;		/* provider.headers */
	size_t n_headers;
	char *block;			/* metric_provider.block, or NULL */
	/* The block's own access token (a kind whose blocks sign in with
	 * their own key: stackdriver's service account), set by the kind's
	 * before hook; kept while the block is added again with the same
	 * Secret values, dropped on an HTTP 401 answer to its request. */
	char *token;
	int64_t token_until;		/* unix seconds */
	/* Why the before hook could not get the block's token (no secret in
	 * it), and its status, or NULL: the kind's request gives it to each
	 * query of the block alone, the others of the batch run. */
	char *token_err;
	int token_st;
	char *secret_ref;		/* metric_provider.secret_ref, or NULL */
};

/* One request a kind builds.  Strings are owned by the request
 * (hb_req_fini frees them, wiping those that may hold a secret). */
struct hb_req {
	char *url;
	char *post;			/* a POST body, or NULL for GET */
	char *hdr[8];			/* "Name: value" lines (may hold a secret) */
	size_t n_hdr;
	char *user, *pass;		/* HTTP Basic, or NULL */
	bool gzip;			/* Accept-Encoding: gzip (decoded by libcurl) */
	const char *token;		/* in: the handle's access token (hb_token_set), or NULL */
};

/* Adds a header line "name: value" to r. */
void hb_req_header(struct hb_req *r, const char *name, const char *value);
void hb_req_fini(struct hb_req *r);

/* What an answer was: a value, no data, an error. */
struct http_kind {
	const char *label;		/* "Datadog": messages */
	const char *default_address;	/* NULL: provider.address is required */
	/* The address of a provider block without one, made from the rest of
	 * it (cloudwatch: its region's endpoint); NULL when the block is not
	 * usable (hb_add: ST_INVALID).  NULL hook: default_address. */
	char *(*default_for)(const struct metric_provider *p);
	const char *const *secret_keys;	/* the ops table's, at most HB_MAX_KEYS */
	int timeout_ms;			/* one request (Flagger's), unless opts say otherwise */
	/* Builds the request of one query for server s at now_s (unix
	 * seconds): ST_OK, or an error with err (no secret in it).  The
	 * request is sent as built (a kind may sign it whole, as SigV4 does);
	 * the headers perch adds (Accept, User-Agent, provider.headers) come
	 * after the kind's. */
	int (*request)(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
	    struct hb_req *r, char *err, size_t errsz);
	/* Reads a 2xx answer into out (CHECK_PASS, CHECK_NODATA or CHECK_ERROR). */
	void (*parse)(const char *body, size_t len, struct metric_value *out);
	/* The probe's request, and whether an answer with HTTP code and
	 * parsed value means online.  NULL: not probed. */
	int (*probe_request)(const struct hb_server *s, int64_t now_s, struct hb_req *r,
	    char *err, size_t errsz);
	bool (*probe_ok)(long code, const struct metric_value *v);
	/* probe_ok NULL: HTTP 200 is online, and so is 400 with this set
	 * (Flagger's IsOnline for APIs that refuse the probe's empty query). */
	bool probe_400_ok;
	/* The provider's own error JSON in an HTTP error answer below 500:
	 * true when it was read into out.  NULL or false: the message below. */
	bool (*error_json)(const char *body, size_t len, struct metric_value *out);
	/* Before the requests of a batch or of a probe: fetches what they
	 * need (an access token: hb_fetch, hb_token_set).  ST_OK, or an error
	 * with err that every query of the batch gets (no answer when
	 * ST_NETWORK or ST_TIMEOUT); a hook that signs in per block keeps a
	 * block's failure on it (hb_server.token_err) and returns ST_OK, and
	 * the kind's request refuses that block's queries with it (no answer
	 * when the request returns ST_NETWORK or ST_TIMEOUT).  NULL: nothing
	 * to fetch.  When a request
	 * is answered 401, the tokens it carried are dropped, before is
	 * called again and the request sent once more. */
	int (*before)(void *b, char *err, size_t errsz);
	/* The message of an HTTP error answer (>= 400; NULL: "HTTP <code>: <body>"). */
	void (*http_error)(long code, const char *body, size_t len, struct metric_value *out);
};

void *hb_open(const struct http_kind *k, const struct metric_backend_opts *o);
void hb_close(void *b);
const char *hb_unusable(void *b);
int hb_add(void *b, const struct metric_provider *p);
int hb_eval(void *b, const struct metric_query *q, size_t n, struct metric_value *out);
int hb_probe(void *b, const char *address, char *err);

/* Runs one request r (taken over, finished) outside a batch, without
 * provider settings: the answer's HTTP code and body (*body malloc'd,
 * NUL-terminated, capped) and ST_OK, or why there was none in err
 * (ST_NETWORK, ST_TIMEOUT, ST_TOOBIG, ST_UNSUPPORTED). */
int hb_fetch(void *b, struct hb_req *r, long *code, char **body, char *err, size_t errsz);
/* The access token given to the kind's requests (hb_req.token) until
 * until_s (unix seconds); hb_token is it while valid, else NULL. */
void hb_token_set(void *b, const char *token, int64_t until_s);
const char *hb_token(void *b);
/* The provider blocks of the handle (for a before hook that signs in per
 * block), *n of them; valid until the next hb_add. */
struct hb_server *hb_servers(void *b, size_t *n);

/* The check_secret of a kind whose Secret key `key` (an index into keys)
 * must be there and not empty: ST_OK, or ST_INVALID with "has no <key>". */
int hb_secret_has(const char *const *keys, const char *const *v, size_t key, char *err,
    size_t errsz);

/* Whether server s has its Secret key `key` (an index into keys), not
 * empty, for query q (NULL: the probe): ST_OK, or hb_missing_key's error. */
int hb_need_key(const struct hb_server *s, const struct metric_query *q,
    const char *const *keys, size_t key, char *err, size_t errsz);

/* The length of address without its trailing slashes (for "%.*s/path"). */
int hb_base_len(const char *address);

/* The query's window in seconds (metrics[].interval; 60 when unset). */
int hb_interval_s(const struct metric_query *q);
/* The "namespace/name" of query q's MetricTemplate, or "?". */
const char *hb_template_ref(const struct metric_query *q);
/* Fills err with "MetricTemplate <ref>: ..." naming the key that is
 * missing from the Secret (or that there is no secretRef), and returns
 * ST_INVALID. */
int hb_missing_key(const struct hb_server *s, const struct metric_query *q, const char *key,
    char *err, size_t errsz);

/* Sets out to r with a sanitised message (the helpers of the parsers). */
void hb_result(struct metric_value *out, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hb_value(struct metric_value *out, double v);

/* Appends "key=value" pairs, form-decoded, from a URL query string: '&'
 * separates pairs, '+' is a space, %XX a byte.  Returns the number of
 * pairs (keys and values are new strings), or -1 on a bad escape. */
int hb_form_parse(const char *s, struct kv **out, size_t *n);
void hb_kv_free(struct kv *kv, size_t n);
/* "key=value&..." percent-encoded (RFC 3986 unreserved kept). */
char *hb_form_encode(const struct kv *kv, size_t n);
/* s percent-encoded for a query string or a path segment. */
char *hb_escape(const char *s);

#endif
