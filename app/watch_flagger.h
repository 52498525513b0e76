/*
 * watch_flagger.h — perch watch on a cluster also shows the Canaries that
 * a running Flagger reconciles (k8s/cluster.h, k8s_flagger_driver): found
 * at the start among the canaries.flagger.app of the namespace (or of
 * every namespace), with their MetricTemplates, and followed through the
 * watches of k8s_cluster_watch_flagger: their status, detail and Events,
 * read-only.  While the runner runs, a watch of those Canaries follows the
 * cluster live: a Canary that Flagger starts to drive (its first status
 * written) is shown within moments, a deleted one is no longer shown, a
 * spec edit changes what is shown of it.  The same watch tells when
 * perch's own canaries (held by a controller or another perch run, shown
 * from their ConfigMaps) are deleted: they leave the screens too
 * (runner_observed_gone).  Only get, list and watch requests.
 *
 * Threads: new, add, follow, stop and free on the main thread (add before
 * the runner starts, follow after, stop before runner_stop); the watch's
 * own thread builds each new Canary's configuration and hands it to the
 * engine with runner_post.
 */
#ifndef PERCH_APP_WATCH_FLAGGER_H
#define PERCH_APP_WATCH_FLAGGER_H

#include <stddef.h>

#include "engine/runner.h"
#include "k8s/cluster.h"
#include "k8s/rest.h"
#include "metrics/backend.h"

struct watch_flagger;

/* c, k and mb are borrowed (they outlive it; mb NULL: no metrics); ns is
 * copied (NULL: every namespace). */
struct watch_flagger *watch_flagger_new(struct k8s_client *c, struct k8s_cluster *k,
    const char *ns, struct metric_backends *mb);
/* Adds to r (an observer, not started) each Canary that Flagger drives,
 * marked driven_by, its namespace watched in k.  Returns how many; a
 * Canary that cannot be read or used is logged and left out.  Each shown
 * Canary's MetricTemplates (servers and secretRef credentials) are
 * registered with mb, so that the observer evaluates and graphs its
 * metrics as perch run does (only GETs: the Secrets, and the queries);
 * those of a Canary found later, on the engine thread. */
size_t watch_flagger_add(struct watch_flagger *wf, struct runner *r);
/* Starts the watch of the Canaries for r (started).  ST_OK, or an error
 * (logged): the Canaries of the start stay shown, no others. */
int  watch_flagger_follow(struct watch_flagger *wf, struct runner *r);
/* Stops the watch (before runner_stop); nothing more is handed to r. */
void watch_flagger_stop(struct watch_flagger *wf);
void watch_flagger_free(struct watch_flagger *wf);

#endif
