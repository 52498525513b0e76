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
 * Written by the store's save only when one of those fields (other than
 * lastTransitionTime) changed since the last write: an idle tick costs no
 * request.  A canary with no Canary object (perch run -f on a cluster
 * without it) is looked up once and then left alone.
 * Threads: the thread that saves (the engine's).
 */
#ifndef PERCH_STORE_K8S_STATUS_H
#define PERCH_STORE_K8S_STATUS_H

#include <jansson.h>

#include "engine/canary.h"
#include "store/k8s_core.h"

/* The Flagger status for st (new reference); kind names the target in the
 * Initializing message ("Deployment" when NULL). */
json_t *sk_flagger_status(const struct canary_status *st, const char *kind);
/* Writes it to the Canary key's /status when it changed.  ST_OK (also
 * when there is no Canary object), or the API's error (err), logged. */
int sk_canary_status(struct store_k8s *s, const char *key, const struct canary_status *st,
    char *err);

#endif
