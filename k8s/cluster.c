/*
 * cluster.c — struct cluster_ops on a Kubernetes API server (see cluster.h):
 * the ops table, initialization order, Kubernetes Events, and the check that
 * no running Flagger reconciles the same Canary.  Workloads live in
 * workload.c, Services in services.c, the routers behind router.c (one
 * file each under routers/); the watch-fed caches in cluster_cache.c, what
 * the cluster knows of each canary (routing, owners) in cluster_refs.c.
 */
#include "k8s/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/cluster_int.h"
#include "util/status.h"
#include "util/xalloc.h"

struct k8s_cluster *
k8s_cluster_new(struct k8s_client *c)
{
	struct k8s_cluster *k = xcalloc(1, sizeof *k);

	k->c = c;
	k->ev = c;
	return k;
}

void
k8s_cluster_set_event_client(struct k8s_cluster *k, struct k8s_client *ev)
{
	k->ev = ev != NULL ? ev : k->c;
}

void
k8s_cluster_free(struct k8s_cluster *k)
{
	if (!k)
		return;
	k8s_cluster_unwatch(k);
	cluster_refs_free(k);
	free(k);
}

/* ---- watches --------------------------------------------------------------- */

int
k8s_cluster_watch_target(struct k8s_cluster *k, const struct canary_cfg *cfg,
    k8s_informer_fn on_change, void *arg)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	int st = k8s_cluster_watch(k, cfg->ns, on_change, arg);

	if (st != ST_OK || wk == NULL || wk->service || wk->res == K8S_RES(DEPLOYMENTS))
		return st;
	return watch_one(k, wk->res, cfg->ns, on_change, arg);
}

/* ---- ops ------------------------------------------------------------------ */

/* The target and the primary may have been written: read them from the
 * server until the cache has caught up. */
static void
wrote_workloads(struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	char name[300];

	if (wk == NULL)
		return;
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	written(k, wk->res, cfg->ns, cfg->target);
	written(k, wk->res, cfg->ns, name);
	if (wk->service) {
		snprintf(name, sizeof name, "%s-canary", cfg->target);
		written(k, wk->res, cfg->ns, name);
	}
}

/* Reference §2.3/§4.7: the Services, (on initialization) the primary, and
 * the route objects, created or brought back to what perch wants (live
 * weights kept).  Runs on initialization and on every tick. */
static int
reconcile(struct k8s_cluster *k, const struct canary_cfg *cfg, bool primary, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	const char *label, *value;
	struct k8s_err e;
	json_t *target;
	int st;

	if (wk == NULL)
		return wl_unsupported(cfg, err);
	if (wk->service) {
		/* Plain Service target: its copies on every tick, no Services of
		 * perch's own (routers-providers §3.3). */
		if (!owner_known(k, cfg))
			find_owner(k, cfg);
		st = wl_ensure_primary(k->c, cfg, owner_of(k, cfg), err);
		wrote_workloads(k, cfg);
		return st == ST_OK ? rt_initialize(k, cfg, err) : st;
	}
	if ((st = cached_get(k, wk->res, cfg->ns, cfg->target, &target, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", wk->noun, cfg->target, cfg->ns, e.msg);
	st = wl_selector(target, wk->noun, &label, &value, err);
	if (st == ST_OK && primary) {
		st = wl_ensure_primary(k->c, cfg, owner_of(k, cfg), err);
		wrote_workloads(k, cfg);
	}
	if (st == ST_OK && !owner_known(k, cfg))
		find_owner(k, cfg);
	if (st == ST_OK)
		st = rt_services(k, cfg, label, value, err);
	json_decref(target);
	return st == ST_OK ? rt_initialize(k, cfg, err) : st;
}

static int
op_initialize(void *ctx, const struct canary_cfg *cfg, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	struct k8s_cluster *k = ctx;
	struct readiness rd;
	char name[300], msg[ERRMSG_MAX];
	struct k8s_err e;
	json_t *prim;
	int st;

	if ((st = k8s_flagger_check(k->c, cfg, (long)time(NULL), err)) != ST_OK)
		return st;
	find_owner(k, cfg);
	if (wk == NULL)
		return wl_unsupported(cfg, err);
	if ((st = reconcile(k, cfg, true, err)) != ST_OK)
		return st;
	if (wk->readiness != NULL)
		return ST_OK;	/* no primary object, nothing scaled (Knative) */
	/* Once the primary runs, the target goes to zero until a new revision. */
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	if (cached_get(k, wk->res, cfg->ns, name, &prim, &e) != ST_OK)
		return ST_OK;
	wk->ready(prim, cfg->primary_ready_threshold > 0 ? cfg->primary_ready_threshold : 100,
	    (long)time(NULL), &rd, msg, sizeof msg);
	json_decref(prim);
	if (!rd.ready)
		return ST_OK;
	st = wl_scale(k->c, cfg, false, err);
	wrote_workloads(k, cfg);
	return st;
}

static int
op_revision(void *ctx, const struct canary_cfg *cfg, struct revision *out, char *err)
{
	struct k8s_cluster *k = ctx;
	int st;

	/* The revision is read on every tick: the routers are reconciled first,
	 * as Flagger does before its checks. */
	if ((st = reconcile(k, cfg, false, err)) != ST_OK)
		return st;
	return wl_revision(k, cfg, out, err);
}

static int
op_primary_revision(void *ctx, const struct canary_cfg *cfg, struct revision *out, char *err)
{
	return wl_primary_revision(ctx, cfg, out, err);
}

static int
op_readiness(void *ctx, const struct canary_cfg *cfg, enum workload w, int64_t now_ms,
    struct readiness *out)
{
	struct k8s_cluster *k = ctx;

	return wl_readiness(k, cfg, w, now_ms, out);
}

static int
op_scale(void *ctx, const struct canary_cfg *cfg, bool up, char *err)
{
	struct k8s_cluster *k = ctx;
	int st = wl_scale(k->c, cfg, up, err);

	wrote_workloads(k, cfg);
	return st;
}

static int
op_promote(void *ctx, const struct canary_cfg *cfg, char *err)
{
	struct k8s_cluster *k = ctx;
	int st = wl_promote(k->c, cfg, owner_of(k, cfg), err);

	wrote_workloads(k, cfg);
	return st;
}

static int
op_set_routes(void *ctx, const struct canary_cfg *cfg, const struct routes *r, char *err)
{
	return rt_set(ctx, cfg, r, err);
}

static int
op_get_routes(void *ctx, const struct canary_cfg *cfg, struct routes *out, char *err)
{
	return rt_get(ctx, cfg, out, err);
}

/* spec.revertOnDeletion (k8s/finalize.h). */
static int
op_finalize(void *ctx, const struct canary_cfg *cfg, bool revert, char *err)
{
	int st = k8s_finalize(ctx, cfg, revert, err);

	wrote_workloads(ctx, cfg);
	return st;
}

/* A core/v1 Event on the target workload, reason "Synced" as Flagger. */
static int
op_emit_event(void *ctx, const struct canary_cfg *cfg, enum severity sev, const char *message)
{
	struct k8s_cluster *k = ctx;
	struct timespec ts;
	struct k8s_err e;
	char now[32], name[300];
	const struct wl_kind *wk = wl_kind_of(cfg);
	const char *kind = wk != NULL ? wk->kind : "Deployment";
	char api[128];
	json_t *ev;
	int st;

	if (wk != NULL)
		snprintf(api, sizeof api, "%s%s%s", wk->res->group, *wk->res->group ? "/" : "",
		    wk->res->version);
	else
		snprintf(api, sizeof api, "apps/v1");
	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&ts.tv_sec));
	snprintf(name, sizeof name, "%.200s.%lx%05lx", cfg->target, (long)ts.tv_sec,
	    (long)(ts.tv_nsec / 10000) & 0xFFFFF);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
	    " s:s, s:s, s:i, s:s}", "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
	    "namespace", cfg->ns, "involvedObject", "apiVersion", api, "kind", kind,
	    "name", cfg->target, "namespace", cfg->ns, "reason", "Synced", "message", message,
	    "type", sev == SEV_NORMAL ? "Normal" : "Warning", "source", "component", "perch",
	    "firstTimestamp", now, "lastTimestamp", now, "count", 1, "reportingComponent", "perch");
	if (!ev)
		return ST_INVALID;
	st = k8s_create(k->ev, K8S_RES(EVENTS), cfg->ns, ev, NULL, &e);
	json_decref(ev);
	return st;
}

bool
k8s_cluster_degraded(struct k8s_cluster *k, long long now_ms)
{
	struct k8s_counters n;
	long long last;

	k8s_client_counters(k->c, &n);
	last = n.troubled_ms;
	if (k->ev != k->c) {
		k8s_client_counters(k->ev, &n);
		if (n.troubled_ms > last)
			last = n.troubled_ms;
	}
	return last > 0 && now_ms - last < K8S_DEGRADED_MS;
}

static bool
op_degraded(void *ctx)
{
	return k8s_cluster_degraded(ctx, k8s_mono_ms());
}

static int
op_external(void *ctx, const struct canary_cfg *cfg, struct canary_status *st,
    struct journal_rec *ev, size_t max, size_t *n_ev)
{
	return k8s_flagger_view(ctx, cfg, st, ev, max, n_ev);
}

static int
op_external_command(void *ctx, const struct canary_cfg *cfg, enum command_kind kind, bool paused,
    const char *actor, char *answer, size_t answersz)
{
	return k8s_flagger_command(ctx, cfg, kind, paused, actor, answer, answersz);
}

const struct cluster_ops k8s_cluster_ops = {
	.name = "k8s",
	.initialize = op_initialize,
	.revision = op_revision,
	.primary_revision = op_primary_revision,
	.readiness = op_readiness,
	.scale = op_scale,
	.promote = op_promote,
	.set_routes = op_set_routes,
	.get_routes = op_get_routes,
	.finalize = op_finalize,
	.emit_event = op_emit_event,
	.degraded = op_degraded,
	.external = op_external,
	.external_command = op_external_command,
};
