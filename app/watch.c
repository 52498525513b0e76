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

#include <pthread.h>
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
#include "app/startup.h"
#include "app/watch_flagger.h"
#include "engine/runner.h"
#include "metrics/backend.h"
#include "store/dir.h"
#include "store/k8s.h"
#include "tui/tui.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/status.h"

/* The state directory's runner under the read-only front end; hint: the
 * empty overview's text. */
static int
watch_observe(const struct runner_config *rc, const char *theme, const char *hint)
{
	struct runner_config cfg = *rc;
	struct tui *t = tui_new(&(struct tui_config){ .theme = theme, .read_only = true,
		.empty_hint = hint });
	struct runner *r;
	char err[ERRMSG_MAX];
	int status;

	if (t == NULL) {
		cli_error("watch", "cannot create the wake pipe");
		return EXIT_INFRA;
	}
	cfg.observer = true;
	cfg.notify = tui_notify;
	cfg.notify_arg = t;
	r = runner_new(&cfg);
	if (runner_start(r, err, sizeof err) != ST_OK) {
		cli_error("watch", "%s", err);
		status = EXIT_INFRA;
	} else {
		interrupt_attach(r, t);
		status = tui_run(t, r);
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
	}, theme, "no canaries yet: a controller started with --state-dir on this directory "
	    "(perch demo --state-dir DIR) writes them");
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


/* The cluster watch's start (app/startup.h), on a thread of its own while
 * the screen is up: the first answer, then the runner, unless the user
 * quit first.  Nothing here writes: the client is read-only. */
struct watch_boot {
	const struct watch_where *w;
	struct cluster_conn *cc;
	struct startup *st;
	struct store_k8s *store;
	struct watch_flagger *wf;
	struct runner_config cfg;
	struct runner *r;		/* started, or NULL */
	int rc;
};

/* The first request: the Canaries of the namespace (all with -A).  Only
 * an API server that does not answer or refuses the credentials fails the
 * start; a missing CRD or a refused list is the runner's to report. */
static bool
reachable(struct watch_boot *b)
{
	struct k8s_err e = { 0 };
	json_t *list = NULL;
	int st = k8s_list(b->cc->client, K8S_RES(CANARIES), b->w->all_ns ? NULL : b->cc->cfg->ns,
	    NULL, &list, &e);

	json_decref(list);
	if (st == ST_NETWORK || st == ST_TIMEOUT || e.http == 401) {
		cli_error("watch", "%s", e.msg);
		return false;
	}
	return true;
}

static void
boot_runner(struct watch_boot *b)
{
	char err[ERRMSG_MAX];
	struct runner *r;

	if (store_k8s_watch(b->store) != ST_OK)
		log_warn("watch: cannot watch the perch ConfigMaps of %s; reading them instead",
		    b->w->all_ns ? "every namespace" : b->cc->cfg->ns);
	r = runner_new(&b->cfg);
	watch_flagger_add(b->wf, r);
	if (runner_start(r, err, sizeof err) != ST_OK) {
		cli_error("watch", "%s", err);
		runner_free(r);
		b->rc = EXIT_INFRA;
		return;
	}
	(void)watch_flagger_follow(b->wf, r);	/* logged */
	b->r = r;
	startup_ready(b->st, r);
}

static void *
watch_boot_main(void *arg)
{
	struct watch_boot *b = arg;

	startup_say(b->st, "connecting to %s (context %s)...", b->cc->cfg->server,
	    b->cc->cfg->context);
	if (!reachable(b))
		b->rc = EXIT_INFRA;
	else if (!startup_quit(b->st))
		boot_runner(b);
	if (b->rc != EXIT_OK && !startup_fail(b->st))
		b->rc = EXIT_OK;	/* the user quit while it started */
	return NULL;
}

/* The user quit before the runner ran: the requests of the start end. */
static void
watch_give_up(void *arg)
{
	k8s_client_cancel(arg);
}

/* The screen at once, the start behind it; the runner stopped after. */
static int
watch_tui(struct watch_boot *b, const char *theme, const char *hint)
{
	struct tui *t = tui_new(&(struct tui_config){ .theme = theme, .read_only = true,
		.empty_hint = hint });
	pthread_t th;
	int status;

	if (t == NULL) {
		cli_error("watch", "cannot create the wake pipe");
		return EXIT_INFRA;
	}
	b->cfg.observer = true;
	b->cfg.notify = tui_notify;
	b->cfg.notify_arg = t;
	b->st = startup_new(t, b->cfg.context);
	startup_set_cancel(b->st, watch_give_up, b->cc->client);
	interrupt_attach(NULL, t);
	if (pthread_create(&th, NULL, watch_boot_main, b) != 0) {
		startup_say(b->st, "cannot start a thread");
		b->rc = EXIT_INFRA;
		status = startup_tui(b->st, t);
	} else {
		status = startup_tui(b->st, t);
		pthread_join(th, NULL);
	}
	if (b->r != NULL) {
		interrupt_attach(b->r, t);
		watch_flagger_stop(b->wf);
		runner_stop(b->r);
		runner_free(b->r);
	}
	interrupt_detach();
	startup_free(b->st);
	tui_free(t);
	return status == EXIT_OK ? b->rc : status;
}

int
watch_cluster(const struct watch_where *w, const char *theme)
{
	struct cluster_conn cc;
	struct watch_metrics wm;
	struct watch_boot b = { .w = w, .cc = &cc };
	struct k8s_cluster *k;
	struct perch_clock *clock;
	char header[200], hint[200], actor[IDENTITY_MAX];
	int rc;

	if ((rc = cluster_connect("watch", w->kubeconfig, w->context, w->ns, true, &cc)) != EXIT_OK)
		return rc;
	if ((rc = open_metrics(w, &cc, &wm)) != EXIT_OK) {
		metric_backends_free(wm.mb);
		cluster_disconnect(&cc);
		return rc;
	}
	snprintf(header, sizeof header, "watch %s/%s", cc.cfg->context, w->all_ns ?
	    "all namespaces" : cc.cfg->ns);
	snprintf(hint, sizeof hint, "no canaries in %s%s (perch's and Flagger's Canaries are "
	    "shown as they appear)", w->all_ns ? "any namespace" : "namespace ",
	    w->all_ns ? "" : cc.cfg->ns);
	b.store = store_k8s_open(cc.client, true, 0);
	if (w->all_ns)
		store_k8s_all_namespaces(b.store);
	clock = clock_new(CLOCK_KIND_REAL, 0, 1);
	k = k8s_cluster_new(cc.client);
	b.wf = watch_flagger_new(cc.client, k, w->all_ns ? NULL : cc.cfg->ns, wm.mb);
	b.cfg = (struct runner_config){
		.cluster = &k8s_cluster_ops, .cluster_ctx = k,
		.store = &store_k8s_ops, .store_ctx = b.store,
		.heartbeat = &store_k8s_heartbeat_ops, .heartbeat_ctx = b.store,
		.clock = &perch_clock_ops, .clock_ctx = clock,
		.actor = identity_get(actor, sizeof actor), .context = header,
		.ns = w->all_ns ? NULL : cc.cfg->ns,
		.metrics = metric_backends_engine_ops(), .metrics_ctx = wm.mb,
		.metrics_off = w->prometheus == NULL && w->prometheus_service == NULL ?
		    PROM_NONE_NOTE : NULL,
	};
	rc = watch_tui(&b, theme, hint);
	watch_flagger_free(b.wf);
	k8s_cluster_free(k);
	metric_backends_free(wm.mb);
	clock_free(clock);
	store_k8s_close(b.store);
	cluster_disconnect(&cc);
	return rc;
}
