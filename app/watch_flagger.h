/*
 * watch_flagger.h — perch watch on a cluster also shows the Canaries that
 * a running Flagger reconciles (k8s/cluster.h, k8s_flagger_driver): found
 * at the start among the canaries.flagger.app of the namespace (or of
 * every namespace), with their MetricTemplates, and followed through the
 * watches of k8s_cluster_watch_flagger: their status, detail and Events,
 * read-only.  Only get, list and watch requests.  Main thread, before the
 * runner starts.
 */
#ifndef PERCH_APP_WATCH_FLAGGER_H
#define PERCH_APP_WATCH_FLAGGER_H

#include <stddef.h>

#include "engine/runner.h"
#include "k8s/cluster.h"
#include "k8s/rest.h"
#include "metrics/backend.h"

/* Adds to r (an observer) each Canary of ns (NULL: every namespace) that
 * Flagger drives, marked driven_by, its namespace watched in k.  Returns
 * how many; a Canary that cannot be read or used is logged and left out.
 * Registers with mb (borrowed; NULL: none) the servers and secretRef
 * credentials of each added Canary's MetricTemplates, so that the
 * observer evaluates and graphs its metrics as perch run does (only GETs:
 * the Secrets, and the queries). */
size_t watch_flagger_add(struct k8s_client *c, struct k8s_cluster *k, const char *ns,
    struct runner *r, struct metric_backends *mb);

#endif
