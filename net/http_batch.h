/*
 * http_batch.h — a batch of HTTP requests on the wire at once over
 * libcurl's multi interface: the one transfer loop of the metric backends
 * (metrics/prom.c, metrics/http_backend.c).
 *
 * A caller sets up each request (net_xfer_open, then its own options:
 * headers, auth, a POST body), runs them together (net_batch_run) and
 * reads each one's outcome (net_xfer_status, net_xfer_error, the capped
 * body).  At most NET_MAX_CONNS requests are on the wire at once: the
 * others wait unsent, so that a request's connect and total timeouts
 * measure the server, never the queue.  The batch has a deadline of its
 * own: what has not answered by then is abandoned, and what was never
 * sent is not sent.
 *
 * Contract: libcurl is loaded (net/curl_lazy.h) before any of these.
 * Ownership: a struct net_xfer is embedded in the caller's request
 * (net_xfer_open/net_xfer_close); the strings given to libcurl stay the
 * caller's and must live until net_xfer_close.  Threads: one thread at a
 * time per multi handle and its transfers.
 */
#ifndef PERCH_NET_HTTP_BATCH_H
#define PERCH_NET_HTTP_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "net/curl_lazy.h"
#include "util/buf.h"

#define NET_MAX_CONNS 8		/* requests on the wire at once */

/* The limits of a batch (0: the caller's defaults were not applied). */
struct net_limits {
	int    connect_timeout_ms;	/* one request's connection */
	int    timeout_ms;		/* one request on the wire */
	int    deadline_ms;		/* the whole batch */
	size_t max_body;		/* cap of one answer, bytes */
};

/* One request: set up, then on the wire (its timeout running from then),
 * then done (answered, failed, or expired with the batch). */
struct net_xfer {
	CURL      *easy;		/* NULL: not to be sent */
	struct buf body;		/* the answer, capped at max_body */
	char       curl_err[CURL_ERROR_SIZE];
	bool       toobig;		/* the answer went over the cap */
	bool       added;		/* it was put on the wire */
	bool       done;
	bool       expired;		/* the batch's deadline came first */
	CURLcode   cc;			/* libcurl's result, when done and not expired */
	long       code;		/* the HTTP status; 0: no answer */
};

/* A multi handle (at most NET_MAX_CONNS connections a host) whose
 * connection cache serves one batch after the other; curl_multi_cleanup
 * frees it. */
CURLM *net_multi_new(void);

/* Sets x up for url with lim's timeouts and answer cap, the options every
 * request of perch has (http and https only, no signals, perch's
 * User-Agent) and TLS: ca_file (NULL: the system's trust) and insecure
 * (no verification).  url must live until net_xfer_close. */
void net_xfer_open(struct net_xfer *x, const char *url, const struct net_limits *lim,
    const char *ca_file, bool insecure);
/* Frees x (taken off m when still on the wire). */
void net_xfer_close(CURLM *m, struct net_xfer *x);

/* Runs n requests on m until each is done or deadline_ms has passed:
 * the first at xs, the next each `stride` bytes further (the caller's
 * array of requests, each with its struct net_xfer at the same place);
 * those without an easy handle are left alone. */
void net_batch_run(CURLM *m, struct net_xfer *xs, size_t n, size_t stride, int deadline_ms);

/* What became of x: ST_OK (an answer of HTTP 2xx/3xx), ST_HTTP (an
 * answer of HTTP >= 400), ST_TOOBIG, ST_TIMEOUT (its own timeout or the
 * batch's deadline) or ST_NETWORK. */
int net_xfer_status(const struct net_xfer *x);
/* Fills msg with why x has no answer (status ST_TOOBIG, ST_TIMEOUT or
 * ST_NETWORK), naming the service `label` ("Prometheus"). */
void net_xfer_error(const struct net_xfer *x, const char *label, const struct net_limits *lim,
    char *msg, size_t n);

#endif
