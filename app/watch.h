/*
 * watch.h — `perch watch` on a cluster: the canaries whose state a
 * controlling perch keeps in ConfigMaps perch-<canary> (store/k8s.h),
 * shown read-only.  The REST client is read-only, so only get, list and
 * watch requests ever leave this process: the ConfigMaps are watched
 * (store/k8s.h, store_k8s_watch), so the view follows each write of the
 * controller at once, and reads between writes stay local.  Also the end
 * both kinds of watch share (watch_observe).  UI (main) thread.
 */
#ifndef PERCH_APP_WATCH_K8S_H
#define PERCH_APP_WATCH_K8S_H

struct runner_config;

/* Runs the read-only front end (header text `context`, theme `theme`) over
 * a runner in observer mode on rc's store and clock (rc's notify and
 * observer are set here; the rest is the caller's), until the user quits.
 * Errors go to stderr as "perch watch: ...".  Returns an exit status: 3
 * when the wake pipe or the runner cannot start, else tui_run's.  The
 * caller still owns rc's store and clock and frees them afterwards.
 * Defined in app/cmd/watch.c. */
int watch_observe(const struct runner_config *rc, const char *context, const char *theme);

/* kubeconfig, context, ns: as perch run (NULL = defaults).  Returns an exit
 * status: 0 on q, 3 when the cluster cannot be used, or tui_run's. */
int watch_cluster(const char *kubeconfig, const char *context, const char *ns,
    const char *theme);

#endif
