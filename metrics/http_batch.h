/*
 * http_batch.h — what the HTTP metric backends other than Prometheus share:
 * a batch of requests run concurrently over libcurl (one multi handle per
 * struct hb, its connection cache reused from one batch to the next, at
 * most HB_MAX_CONNS on the wire at once, the rest waiting unsent so that a
 * request's timeouts measure the server and never the queue), each answer
 * capped, the whole batch under a deadline; and the provider blocks a
 * backend was given (struct hb_block: address, TLS, headers, region and a
 * copy of the Secret's values, wiped when freed).
 *
 * Ownership: hb_new/hb_free; a request's strings are borrowed for the call,
 * a result's body belongs to the result (hb_res_fini).  Threads: a struct
 * hb is used by one thread at a time.  Secrets are held only in blocks and
 * request headers; they are never put in a message.
 */
#ifndef PERCH_METRICS_HTTP_BATCH_H
#define PERCH_METRICS_HTTP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "metrics/backend.h"
#include "util/buf.h"

#define HB_MAX_CONNS     8
#define HB_MAX_HEADERS   8
#define HB_MAX_BODY      (8u << 20)
#define HB_DEADLINE_MS   60000
#define HB_BODY_SHOWN    160	/* bytes of an error body put in a message */

/* One provider block (a MetricTemplate's spec.provider), copied. */
struct hb_block {
	char  *address;		/* NULL: none given */
	char  *region;
	char  *ca_file;
	bool   insecure;
	char **headers;		/* "Name: value", n_headers of them */
	size_t n_headers;
	char **secret;		/* the backend's secret_keys values (NULL: absent) */
	size_t n_secret;
};

struct hb_req {
	const char *url;
	const char *method;	/* NULL: GET, or POST when body is set */
	const char *body;	/* request body, or NULL */
	const char *headers[HB_MAX_HEADERS];	/* "Name: value", NULL-ended */
	const struct hb_block *block;	/* TLS settings and extra headers, or NULL */
	int timeout_ms;		/* 0: the handle's */
};

struct hb_res {
	int  status;		/* ST_OK (an HTTP answer), ST_NETWORK, ST_TIMEOUT, ST_TOOBIG,
				 * ST_UNSUPPORTED (no libcurl) */
	long http;		/* the HTTP status; 0 when there was no answer */
	struct buf body;	/* the answer (capped) */
	char err[ERRMSG_MAX];	/* when status != ST_OK: why, sanitized */
};

struct hb;

/* what: "the Dynatrace client", for the message when libcurl cannot be
 * loaded.  o: timeouts and cap (0: 5 s connect, timeout_default_ms per
 * request, HB_DEADLINE_MS per batch, HB_MAX_BODY). */
struct hb *hb_new(const char *what, const struct metric_backend_opts *o, int timeout_default_ms);
void hb_free(struct hb *h);
const char *hb_batch_unusable(const struct hb *h);
/* Percent-encodes s (RFC 3986 unreserved kept); malloc'd (metrics/http_backend.c). */
char *hb_escape(const char *s);

/* Runs n requests; fills out[i] (hb_res_fini each). */
void hb_run(struct hb *h, const struct hb_req *r, size_t n, struct hb_res *out);
void hb_res_fini(struct hb_res *r);
/* Whether a result is "no answer": unreachable, timed out, HTTP 5xx. */
bool hb_unreachable(const struct hb_res *r);

/* Blocks: adds or replaces p (by address; NULL address is one block of its
 * own), copying nkeys secret values.  The first added is the default. */
void hb_block_add(struct hb *h, const struct metric_provider *p, size_t nkeys);
/* The block of address (NULL: the default), or NULL when none. */
const struct hb_block *hb_block_find(const struct hb *h, const char *address);
/* The secret value of key index k, or NULL. */
const char *hb_secret(const struct hb_block *b, size_t k);

/* The end of a metric's window (ms since the epoch): q->at_ms, else now;
 * the start is end − 10 × the metric's interval (Flagger's window). */
int64_t hb_window_end_ms(const struct metric_query *q);
int64_t hb_window_ms(const struct metric_query *q);

/* (metrics/http_backend.c) out = r (CHECK_PASS with v, or an error/no data with a sanitized message). */
void hb_value(struct metric_value *out, double v);
void hb_result(struct metric_value *out, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* out for a result that is not a 2xx answer: what went wrong, naming the
 * provider (who: "Dynatrace"); unavailable set when there was no answer. */
void hb_failed(struct metric_value *out, const char *who, const struct hb_res *r);

#endif
