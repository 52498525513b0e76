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
/* Moves the acknowledgements staged for canary into data (the save's
 * patch); sk_acks_restore puts them back when the save failed. */
json_t *sk_acks_take(struct store_k8s *s, const char *canary);
void sk_acks_restore(struct store_k8s *s, const char *canary, json_t *acks);

#endif
