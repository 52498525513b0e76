/*
 * finalize.h — spec.revertOnDeletion on a cluster (reference §2.2 step 2,
 * §2.10, routers-providers §2.11): the finalizer perch keeps on a Canary
 * object whose revertOnDeletion is true, so that deleting it waits for the
 * revert, and the revert itself (the cluster_ops.finalize of k8s/cluster.c):
 *
 *   1. the target given back: a Deployment scaled to the primary's
 *      replicas (1 without a primary), a DaemonSet's scale-to-zero
 *      nodeSelector key removed; Service and Knative targets have nothing
 *      to scale;
 *      (the runner has scaled it up already and calls the finalize only
 *      once it is ready, engine/runner_control.c);
 *   2. the apex Service `<svc>` selecting the target's own pods again
 *      (Flagger's ClusterIP router Finalize);
 *   3. the router's revert (struct router_ops.revert, one per router):
 *      every route object sends all traffic to the target;
 *   4. the finalizer removed: the API server then deletes the Canary.
 *
 * The finalizer is Flagger's own name, so that a Canary Flagger marked is
 * finalised by perch and the other way round.
 *
 * Threads: any (the client is safe to share); perch run calls them from
 * the engine thread and from its Canary watch.
 */
#ifndef PERCH_K8S_FINALIZE_H
#define PERCH_K8S_FINALIZE_H

#include <jansson.h>
#include <stdbool.h>

#include "k8s/rest.h"

#define K8S_FINALIZER "finalizer.flagger.app"

/* Whether the Canary object obj holds the finalizer. */
bool k8s_canary_has_finalizer(json_t *obj);
/* Whether obj is being deleted (metadata.deletionTimestamp is set). */
bool k8s_canary_deleting(json_t *obj);
/* Adds the finalizer to Canary ns/name (want) or removes it; a Canary
 * being deleted never gets it, a missing one is fine.  ST_OK, or an error
 * with err filled (ERRMSG_MAX). */
int  k8s_canary_finalizer(struct k8s_client *c, const char *ns, const char *name, bool want,
    char *err);

#endif
