/*
 * k8s_status.h — the Canary object's own status subresource, kept as
 * Flagger keeps it (k8s_status.c), so that `kubectl get canaries`,
 * `kubectl wait --for=condition=promoted`, k9s and the health checks of
 * Flux and Argo CD read perch's canaries as they read Flagger's: phase,
 * canaryWeight, failedChecks, iterations, lastAppliedSpec,
 * lastPromotedSpec, lastTransitionTime, the session affinity cookies and
 * one condition Promoted (reason = phase, status and message by phase).
 * What Flagger's status has no field for stays in the ConfigMap.
 *
 * Written when one of those fields (other than lastTransitionTime)
 * changed since the last write: an idle tick costs no request.  A canary
 * with no Canary object (perch run -f on a cluster without it) is looked
 * up once and then left alone.
 *
 * Off the save's path: the save (the engine's thread) writes the ConfigMap,
 * which is what a restart or a takeover resumes from, and only queues the
 * Canary's status (its GET and PUT) for STORE_K8S_STATUS_WRITERS threads,
 * so a round of ticks waits for one request per step, not three.  Only
 * the newest status of a canary waits (a newer one replaces it); one
 * canary is written by one thread at a time, so its writes never reorder.
 * A writer drops a status whose Lease this store no longer holds; the
 * release of a Lease waits for its canary's status to be written first
 * (sk_canary_status_settle), and close writes what is queued before it
 * gives the Leases back.  Nothing the engine acts on is read from it.
 */
#ifndef PERCH_STORE_K8S_STATUS_H
#define PERCH_STORE_K8S_STATUS_H

#include <jansson.h>

#include "engine/canary.h"
#include "store/k8s_core.h"

/* The Flagger status for st (new reference); kind names the target in the
 * Initializing message ("Deployment" when NULL). */
json_t *sk_flagger_status(const struct canary_status *st, const char *kind);
/* Queues st as the Canary key's status, replacing one not yet written
 * (any thread; no request).  Without writer threads it is written at once. */
void sk_canary_status_queue(struct store_k8s *s, const char *key, const struct canary_status *st);
/* Returns once no status of key is queued or being written. */
void sk_canary_status_settle(struct store_k8s *s, const char *key);
/* Writes what is queued (of the canaries still held) and joins the
 * writers (store_k8s_close, before the Leases are given back). */
void sk_canary_status_stop(struct store_k8s *s);

#endif
