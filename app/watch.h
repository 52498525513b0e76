/*
 * watch.h — `perch watch` without its command line (app/cmd/watch.c): the
 * live screens of the canaries another perch controls, read-only, from a
 * state directory or from a cluster.  Both run the front end over a runner
 * in observer mode on a read-only store; errors go to stderr as "perch
 * watch: ...".
 *
 * On a cluster: the canaries whose state a controlling perch keeps in
 * ConfigMaps perch-<canary> (store/k8s.h).  The REST client is read-only,
 * so only get, list and watch requests ever leave this process: the
 * ConfigMaps are watched (store/k8s.h, store_k8s_watch), so the view
 * follows each write of the controller at once, and reads between writes
 * stay local.  The Canaries a running Flagger drives are shown too
 * (app/watch_flagger.h).  UI (main) thread.
 */
#ifndef PERCH_APP_WATCH_H
#define PERCH_APP_WATCH_H

#include <stdbool.h>

/* The state directory dir (its clock and heartbeat from DIR/clock.json).
 * Returns an exit status: 0 on q, 3 when the directory cannot be read or
 * the runner cannot start, or tui_run's. */
int watch_dir(const char *dir, const char *theme);

/* The cluster to watch: kubeconfig, context, ns as perch run (NULL =
 * defaults); all_ns (-A): the canaries of every namespace. */
struct watch_where {
	const char *kubeconfig, *context, *ns;
	bool all_ns;
	/* The default Prometheus of the Flagger canaries' metrics, as perch
	 * run: a URL, else a Service NS/NAME:PORT through the API server's
	 * service proxy (app/prom_service.h); both NULL: none. */
	const char *prometheus, *prometheus_service;
};

/* Returns an exit status: 0 on q, 3 when the cluster cannot be used, or
 * tui_run's. */
int watch_cluster(const struct watch_where *w, const char *theme);

#endif
