/*
 * k8s_request.h — requests to a canary's holder in its ConfigMap (see
 * k8s.h): the store_ops request, pending, ack and answer of the cluster
 * store, and the staged acknowledgements its save writes.  Not for other
 * modules: use k8s.h.
 */
#ifndef PERCH_STORE_K8S_REQUEST_H
#define PERCH_STORE_K8S_REQUEST_H

#include <jansson.h>

#include "engine/providers.h"
#include "store/k8s_core.h"

int sk_request(void *ctx, const char *canary, struct cmd_request *rq, char *err);
size_t sk_pending(void *ctx, const char *canary, struct cmd_request *out, size_t max);
void sk_ack(void *ctx, const char *canary, const struct cmd_ack *ack);
int sk_answer(void *ctx, const char *canary, const char *requester, struct cmd_ack *out);
/* The parsers of what a ConfigMap's data holds, cm from the cluster and
 * trusted in nothing (tests/fuzz/fuzz_k8s_request.c); now_ms: the wall
 * clock the ages are taken on.
 * sk_requests_above: the requests of cm above their acknowledgement (in
 * cm, or in mine: {"ack.<h>": seq} staged or written by this store, may
 * be NULL), up to max; returns the count.
 * sk_ack_read: the acknowledgement of id's requests in cm (ST_OK, or
 * ST_NOTFOUND: none), out->wait_ms the age of id's request in cm when
 * its seq is asked (else -1). */
size_t sk_requests_above(json_t *cm, json_t *mine, int64_t now_ms, struct cmd_request *out,
    size_t max);
int sk_ack_read(json_t *cm, const char *id, uint64_t asked, int64_t now_ms, struct cmd_ack *out);
/* Moves the acknowledgements staged for canary into data (the save's
 * patch); sk_acks_restore puts them back when the save failed. */
json_t *sk_acks_take(struct store_k8s *s, const char *canary);
void sk_acks_restore(struct store_k8s *s, const char *canary, json_t *acks);

#endif
