/*
 * watch.c — `perch watch` (see watch.h): the runner as an observer over a
 * read-only store, the state directory's or the cluster's, with the
 * read-only front end.
 *
 * The state directory is opened read-only (every mutating store op is
 * refused without touching the disk), the runner runs as an observer (it
 * reads the store and never writes), and the front end is read-only (no
 * code path sends a command).  Its clock follows the controller's
 * (DIR/clock.json, written by the demo; real time without it), so times
 * and ages read as on the controller's screen.
 */
#include "app/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app/cli_msg.h"
#include "app/clock.h"
#include "app/clock_file.h"
#include "app/cluster_conn.h"
#include "app/interrupt.h"
#include "app/metric_kube.h"
#include "app/prom_service.h"
#include "app/watch_flagger.h"
#include "engine/runner.h"
#include "metrics/backend.h"
#include "store/dir.h"
#include "store/k8s.h"
#include "tui/tui.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/status.h"

/* Adds canaries to the runner before it starts (watch_cluster), or NULL;
 * start (may be NULL) follows the cluster once it runs, stop ends that
 * before it stops. */
struct watch_prep {
	void (*fn)(struct runner *r, void *arg);
	void *arg;
	void (*start)(struct runner *r, void *arg);
	void (*stop)(void *arg);
};

static int
watch_observe(const struct runner_config *rc, const char *context, const char *theme,
    const struct watch_prep *prep)
{
	struct runner_config cfg = *rc;
	/* The header follows the controller (its context, from its heartbeat);
	 * context is shown until one is read. */
	struct tui *t = tui_new(&(struct tui_config){ .theme = theme, .read_only = true });
	struct runner *r;
	char err[ERRMSG_MAX];
	int status;

	if (t == NULL) {
		cli_error("watch", "cannot create the wake pipe");
		return EXIT_INFRA;
	}
	cfg.observer = true;
	cfg.context = context;
	cfg.notify = tui_notify;
	cfg.notify_arg = t;
	r = runner_new(&cfg);
	if (prep != NULL)
		prep->fn(r, prep->arg);
	if (runner_start(r, err, sizeof err) != ST_OK) {
		cli_error("watch", "%s", err);
		status = EXIT_INFRA;
	} else {
		if (prep != NULL && prep->start != NULL)
			prep->start(r, prep->arg);
		interrupt_attach(r, t);
		status = tui_run(t, r);
		if (prep != NULL && prep->stop != NULL)
			prep->stop(prep->arg);
		runner_stop(r);
		interrupt_detach();
	}
	runner_free(r);
	tui_free(t);
	return status;
}

int
watch_dir(const char *dir, const char *theme)
{
	char err[ERRMSG_MAX], ctx[160], actor[IDENTITY_MAX];
	struct store_dir *sd;
	struct clock_follow *clock;
	int rc;

	sd = store_dir_open(dir, true, err, sizeof err);
	if (sd == NULL) {
		/* One line: what is wrong, and how to get a directory to watch. */
		if (access(dir, F_OK) != 0)
			cli_error("watch", "%s; a controller writes it: start `perch demo "
			    "--state-dir %s` or `perch run --state-dir %s` (or watch a cluster with "
			    "--kubeconfig, --context and -n)", err, dir, dir);
		else
			cli_error("watch", "%s", err);
		return EXIT_INFRA;
	}
	snprintf(ctx, sizeof ctx, "watch %s", dir);
	/* The controller's time and heartbeat: DIR/clock.json (real time when
	 * there is none). */
	clock = clock_follow_new(dir);
	rc = watch_observe(&(struct runner_config){
		.store = &store_dir_ops, .store_ctx = sd,
		.clock = &clock_follow_ops, .clock_ctx = clock,
		.heartbeat = &clock_follow_heartbeat_ops, .heartbeat_ctx = clock,
		.actor = identity_get(actor, sizeof actor), .context = ctx,
	}, ctx, theme, NULL);
	clock_follow_free(clock);
	store_dir_close(sd);
	return rc;
}

/* The metric backends of the Flagger canaries, and the cluster for those
 * that read it. */
struct watch_metrics {
	struct metric_kube kube;
	struct metric_backends *mb;
};

/* The Canaries Flagger drives, shown beside perch's own: those of the
 * start, then those created or deleted while it runs. */
static void
add_flagger(struct runner *r, void *arg)
{
	watch_flagger_add(arg, r);
}

/* The metric backends of the Flagger canaries, their default Prometheus
 * that of w.  EXIT_OK, or EXIT_INFRA with the reason on stderr. */
static int
open_metrics(const struct watch_where *w, struct cluster_conn *cc, struct watch_metrics *wm)
{
	struct metric_provider ps = { .address = w->prometheus };
	char err[ERRMSG_MAX];

	metric_kube_init(&wm->kube, cc->client);
	wm->mb = metric_backends_new(&(struct metric_backend_opts){ .kube = &wm->kube });
	if (w->prometheus != NULL)
		metric_backends_add(wm->mb, NULL, &ps, err, sizeof err);
	else if (w->prometheus_service != NULL &&
	    prom_service_use(wm->mb, cc->cfg, w->prometheus_service, err, sizeof err) != ST_OK) {
		cli_error("watch", "%s", err);
		return EXIT_INFRA;
	}
	return EXIT_OK;
}

static void
follow_flagger(struct runner *r, void *arg)
{
	(void)watch_flagger_follow(arg, r);	/* logged */
}

static void
stop_flagger(void *arg)
{
	watch_flagger_stop(arg);
}

int
watch_cluster(const struct watch_where *w, const char *theme)
{
	struct cluster_conn cc;
	struct watch_metrics wm;
	struct watch_flagger *wf;
	struct k8s_cluster *k;
	struct store_k8s *store;
	struct perch_clock *clock;
	char header[200], actor[IDENTITY_MAX];
	int rc;

	if ((rc = cluster_connect("watch", w->kubeconfig, w->context, w->ns, true, &cc)) != EXIT_OK)
		return rc;
	if ((rc = open_metrics(w, &cc, &wm)) != EXIT_OK) {
		metric_backends_free(wm.mb);
		cluster_disconnect(&cc);
		return rc;
	}
	cli_progress("watch", "connecting to %s (context %s)", cc.cfg->server, cc.cfg->context);
	snprintf(header, sizeof header, "watch %s/%s", cc.cfg->context, w->all_ns ?
	    "all namespaces" : cc.cfg->ns);
	store = store_k8s_open(cc.client, true, 0);
	if (w->all_ns)
		store_k8s_all_namespaces(store);
	if (store_k8s_watch(store) != ST_OK)
		log_warn("watch: cannot watch the perch ConfigMaps of %s; reading them instead",
		    w->all_ns ? "every namespace" : cc.cfg->ns);
	clock = clock_new(CLOCK_KIND_REAL, 0, 1);
	k = k8s_cluster_new(cc.client);
	wf = watch_flagger_new(cc.client, k, w->all_ns ? NULL : cc.cfg->ns, wm.mb);
	rc = watch_observe(&(struct runner_config){
		.cluster = &k8s_cluster_ops, .cluster_ctx = k,
		.store = &store_k8s_ops, .store_ctx = store,
		.heartbeat = &store_k8s_heartbeat_ops, .heartbeat_ctx = store,
		.clock = &perch_clock_ops, .clock_ctx = clock,
		.actor = identity_get(actor, sizeof actor), .context = header,
		.ns = w->all_ns ? NULL : cc.cfg->ns,
		.metrics = metric_backends_engine_ops(), .metrics_ctx = wm.mb,
		.metrics_off = w->prometheus == NULL && w->prometheus_service == NULL ?
		    PROM_NONE_NOTE : NULL,
	}, header, theme, &(struct watch_prep){ add_flagger, wf, follow_flagger, stop_flagger });
	watch_flagger_free(wf);
	k8s_cluster_free(k);
	metric_backends_free(wm.mb);
	clock_free(clock);
	store_k8s_close(store);
	cluster_disconnect(&cc);
	return rc;
}
