/*
 * webhook.h — Flagger-compatible webhooks over HTTP (reference §5):
 * POST of the JSON payload of §5.3, success iff the status is <= 202, a
 * timeout per hook, retries with exponential backoff on connection errors,
 * 5xx and 429, disableTLS, and the answer's body (sanitized, bounded) as
 * the message when a hook fails.
 *
 * Ownership: webhook_client_new/_free; ctx of http_webhook_ops is a struct
 * webhook_client (NULL = default settings).  Threads: a client is used by
 * one thread at a time (the engine thread); calls block for at most
 * (retries + 1) x timeout plus the backoff.
 */
#ifndef PERCH_METRICS_WEBHOOK_H
#define PERCH_METRICS_WEBHOOK_H

#include <stddef.h>

#include <jansson.h>

#include "engine/providers.h"

#define WEBHOOK_TIMEOUT_MS_DEFAULT 10000
#define WEBHOOK_MAX_BODY (64u << 10)	/* bytes of an answer kept */

struct webhook_opts {
	int backoff_min_ms;	/* first wait before a retry; 0 = 1000 */
	int backoff_max_ms;	/* cap; 0 = 30000 */
};

struct webhook_client;

struct webhook_client *webhook_client_new(const struct webhook_opts *opts);
void webhook_client_free(struct webhook_client *c);

/* The JSON body sent for a call, byte for byte as Flagger's Go encoder
 * writes it: compact, metadata keys sorted, <, >, & and U+2028/U+2029
 * escaped as \u00XX.  A new string; free() it. */
char *webhook_payload(const struct hook_call *call);

/* o as compact JSON in key order, with Go's escapes for <, >, & and
 * U+2028/U+2029, as Flagger's encoder writes them (also used for the alert
 * payloads, metrics/notify.c).  Takes o (NULL is out of memory).  A new
 * string; free() it. */
char *webhook_go_json(json_t *o);

extern const struct webhook_ops http_webhook_ops;

#endif
