/*
 * watch_k8s.h — `perch watch` on a cluster: the canaries whose state a
 * controlling perch keeps in ConfigMaps perch-<canary> (app/store_k8s.h),
 * shown read-only.  The REST client is read-only, so only get, list and
 * watch requests ever leave this process: the ConfigMaps are watched
 * (app/store_k8s.h, store_k8s_watch), so the view follows each write of the
 * controller at once, and reads between writes stay local.  UI (main)
 * thread.
 */
#ifndef PERCH_APP_WATCH_K8S_H
#define PERCH_APP_WATCH_K8S_H

/* kubeconfig, context, ns: as perch run (NULL = defaults).  Returns an exit
 * status: 0 on q, 3 when the cluster cannot be used, or tui_run's. */
int watch_cluster(const char *kubeconfig, const char *context, const char *ns,
    const char *theme);

#endif
