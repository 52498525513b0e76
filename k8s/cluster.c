/*
 * cluster.c — struct cluster_ops on a Kubernetes API server (see cluster.h):
 * the ops table, initialization order, Kubernetes Events, and the check that
 * no running Flagger reconciles the same Canary.  Workloads live in
 * workload.c, services and routers in router.c.
 */
#include "k8s/cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/cluster_int.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

json_t *
jpath(json_t *o, const char *path)
{
	char key[128];
	const char *dot;
	size_t n;

	while (o && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (dot ? 1 : 0);
	}
	return o;
}

const char *
jstr(json_t *o, const char *path)
{
	return json_string_value(jpath(o, path));
}

int
errf(char *err, int st, const char *fmt, ...)
{
	char raw[ERRMSG_MAX * 2];
	va_list ap;

	if (!err)
		return st;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize(err, ERRMSG_MAX, raw, strlen(raw));
	return st;
}

int
kerr(char *err, int st, const struct k8s_err *e)
{
	return errf(err, st, "%s", e->msg);
}

struct k8s_cluster *
k8s_cluster_new(struct k8s_client *c)
{
	struct k8s_cluster *k = xcalloc(1, sizeof *k);

	k->c = c;
	k->ev = c;
	return k;
}

static json_t *
str_array(const char *const *v, size_t n)
{
	json_t *a;
	size_t i;

	if (n == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void
k8s_cluster_set_routing(struct k8s_cluster *k, const char *ns, const char *name,
    const struct k8s_routing *r)
{
	struct routing *g;

	k->routing = xreallocarray(k->routing, k->n_routing + 1, sizeof *k->routing);
	g = &k->routing[k->n_routing++];
	memset(g, 0, sizeof *g);
	snprintf(g->key, sizeof g->key, "%s/%s", ns, name);
	g->parent_refs = r->parent_refs ? json_deep_copy(r->parent_refs) : NULL;
	g->hosts = str_array(r->hosts, r->n_hosts);
	g->gateways = str_array(r->gateways, r->n_gateways);
	g->ingress = r->ingress ? xstrdup(r->ingress) : NULL;
	g->match = json_is_array(r->match) ? json_deep_copy(r->match) : NULL;
	g->service_match = json_is_array(r->service_match) ? json_deep_copy(r->service_match) :
	    NULL;
	if (r->target_port && *r->target_port)
		g->target_port = strspn(r->target_port, "0123456789") == strlen(r->target_port) ?
		    json_integer(atoi(r->target_port)) : json_string(r->target_port);
}

const struct routing *
routing_of(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	char key[200];
	size_t i;

	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	for (i = k->n_routing; i-- > 0;)
		if (strcmp(k->routing[i].key, key) == 0)
			return &k->routing[i];
	return NULL;
}

/* The owner entry of a canary, once find_owner looked it up; else NULL. */
static struct owner *
owner_entry(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	char key[200];
	size_t i;

	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	for (i = 0; i < k->n_owners; i++)
		if (strcmp(k->owners[i].key, key) == 0)
			return &k->owners[i];
	return NULL;
}

json_t *
owner_of(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	const struct owner *o = owner_entry(k, cfg);

	return o != NULL ? o->refs : NULL;
}

void
own(json_t *obj, json_t *refs)
{
	json_t *meta = json_object_get(obj, "metadata");

	if (refs && json_is_object(meta))
		json_object_set_new(meta, "ownerReferences", json_deep_copy(refs));
}

/* Reference §4: generated objects are owned by the Canary object when it
 * exists in the cluster (garbage-collected with it).  Looked up on
 * initialization; a Canary that is gone (or never was) owns nothing. */
static void
find_owner(struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	struct owner *o = owner_entry(k, cfg);
	struct k8s_err e;
	json_t *obj;

	if (!o) {
		k->owners = xreallocarray(k->owners, k->n_owners + 1, sizeof *k->owners);
		o = &k->owners[k->n_owners++];
		memset(o, 0, sizeof *o);
		snprintf(o->key, sizeof o->key, "%s/%s", cfg->ns, cfg->name);
	}
	json_decref(o->refs);
	o->refs = NULL;
	if (k8s_get(k->c, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) != ST_OK)
		return;
	if (jstr(obj, "metadata.uid") && *jstr(obj, "metadata.uid"))
		o->refs = json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion",
		    "flagger.app/v1beta1", "kind", "Canary", "name", cfg->name, "uid",
		    jstr(obj, "metadata.uid"), "controller", 1, "blockOwnerDeletion", 1);
	json_decref(obj);
}

/* ---- watches ---------------------------------------------------------------- */

static int
watch_one(struct k8s_cluster *k, const struct k8s_res *res, const char *ns,
    k8s_informer_fn on_change, void *arg)
{
	struct k8s_informer_opts o = { .res = res, .ns = ns, .on_change = on_change, .arg = arg };
	struct watched *w;
	size_t i;

	for (i = 0; i < k->n_watched; i++)
		if (k->watched[i].res == res && strcmp(k->watched[i].ns, ns) == 0)
			return ST_OK;
	if (k->n_watched == MAX_WATCHED || strlen(ns) >= sizeof k->watched[0].ns)
		return ST_TOOBIG;	/* reads of that namespace go to the server */
	w = &k->watched[k->n_watched];
	memset(w, 0, sizeof *w);
	w->res = res;
	snprintf(w->ns, sizeof w->ns, "%s", ns);
	w->inf = k8s_informer_new(k->c, &o);
	if (k8s_informer_start(w->inf) != ST_OK) {
		k8s_informer_free(w->inf);
		return ST_ERR;
	}
	k->n_watched++;
	return ST_OK;
}

int
k8s_cluster_watch(struct k8s_cluster *k, const char *ns, k8s_informer_fn on_change, void *arg)
{
	int st = watch_one(k, K8S_RES(DEPLOYMENTS), ns, on_change, arg);

	return st == ST_OK ? watch_one(k, K8S_RES(SERVICES), ns, NULL, NULL) : st;
}

void
k8s_cluster_unwatch(struct k8s_cluster *k)
{
	if (k == NULL)
		return;
	while (k->n_watched > 0)
		k8s_informer_free(k->watched[--k->n_watched].inf);
}

void
k8s_cluster_watch_stats(struct k8s_cluster *k, struct k8s_informer_stats *out)
{
	struct k8s_informer_stats s;
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < k->n_watched; i++) {
		k8s_informer_stats(k->watched[i].inf, &s);
		out->events += s.events;
		out->relists += s.relists;
		out->drops += s.drops;
		out->hits += s.hits;
		out->misses += s.misses;
	}
}

static struct watched *
watched_of(struct k8s_cluster *k, const struct k8s_res *r, const char *ns)
{
	size_t i;

	for (i = 0; i < k->n_watched; i++)
		if (k->watched[i].res == r && strcmp(k->watched[i].ns, ns) == 0)
			return &k->watched[i];
	return NULL;
}

static struct fresh *
fresh_of(struct watched *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n_fresh; i++)
		if (strcmp(w->fresh[i].name, name) == 0)
			return &w->fresh[i];
	return NULL;
}

void
written(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name)
{
	struct watched *w = watched_of(k, r, ns);
	struct fresh *f;

	if (w == NULL)
		return;
	if ((f = fresh_of(w, name)) == NULL) {
		if (w->n_fresh == sizeof w->fresh / sizeof w->fresh[0])
			memmove(w->fresh, w->fresh + 1, --w->n_fresh * sizeof w->fresh[0]);
		f = &w->fresh[w->n_fresh++];
		snprintf(f->name, sizeof f->name, "%s", name);
	}
	f->min_rv[0] = '\0';
}

/* Whether the cached rv is at least min (resourceVersions are opaque, but
 * every API server gives integers; anything else never counts as caught up). */
static bool
caught_up(json_t *cached, const char *min)
{
	const char *rv = jstr(cached, "metadata.resourceVersion");
	char *end1, *end2;
	unsigned long long a, b;

	if (rv == NULL || !*min)
		return false;
	if (strcmp(rv, min) == 0)
		return true;
	a = strtoull(rv, &end1, 10);
	b = strtoull(min, &end2, 10);
	return *end1 == '\0' && *end2 == '\0' && a >= b;
}

/* ST_OK when the cache answered (or gave a reason to ask the server
 * without a decision), ST_AGAIN to ask the server; fills *fresh_out. */
static int
cache_read(struct watched *w, const char *ns, const char *name, json_t **out,
    struct fresh **fresh_out)
{
	struct fresh *f = fresh_of(w, name);
	int st = k8s_informer_get(w->inf, ns, name, out);

	*fresh_out = f;
	if (f == NULL || (st == ST_OK && caught_up(*out, f->min_rv))) {
		if (f != NULL)		/* caught up: reads from the cache again */
			*f = w->fresh[--w->n_fresh];
		*fresh_out = NULL;
		return st;
	}
	json_decref(*out);
	*out = NULL;
	return ST_AGAIN;
}

int
cached_get(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e)
{
	struct watched *w = watched_of(k, r, ns);
	struct fresh *f = NULL;
	const char *rv;
	int st;

	if (w != NULL) {
		st = cache_read(w, ns, name, out, &f);
		if (st == ST_OK)
			return ST_OK;
		if (st == ST_NOTFOUND) {
			memset(e, 0, sizeof *e);
			e->http = 404;
			snprintf(e->reason, sizeof e->reason, "NotFound");
			snprintf(e->msg, sizeof e->msg, "%s \"%.100s\" not found", r->plural, name);
			return ST_NOTFOUND;
		}
	}
	st = k8s_get(k->c, r, ns, name, out, e);
	if (f != NULL && st == ST_OK && (rv = jstr(*out, "metadata.resourceVersion")) != NULL)
		snprintf(f->min_rv, sizeof f->min_rv, "%s", rv);
	return st;
}

void
k8s_cluster_set_event_client(struct k8s_cluster *k, struct k8s_client *ev)
{
	k->ev = ev != NULL ? ev : k->c;
}

void
k8s_cluster_free(struct k8s_cluster *k)
{
	size_t i;

	if (!k)
		return;
	k8s_cluster_unwatch(k);
	for (i = 0; i < k->n_owners; i++)
		json_decref(k->owners[i].refs);
	free(k->owners);
	for (i = 0; i < k->n_routing; i++) {
		json_decref(k->routing[i].parent_refs);
		json_decref(k->routing[i].hosts);
		json_decref(k->routing[i].gateways);
		free(k->routing[i].ingress);
		json_decref(k->routing[i].target_port);
		json_decref(k->routing[i].match);
		json_decref(k->routing[i].service_match);
	}
	free(k->routing);
	free(k);
}

/* ---- Flagger -------------------------------------------------------------- */

#define FLAGGER_FRESH_S 600	/* a status written this recently means a live Flagger */

/* A running Flagger Deployment anywhere in the cluster ("ns/name" into out),
 * found by its usual labels; false when none is found or listing is denied. */
static bool
running_flagger(struct k8s_client *c, char *out, size_t outsz)
{
	static const char *const selectors[] = { "app.kubernetes.io/name=flagger", "app=flagger" };
	struct k8s_err e;
	json_t *list, *d;
	size_t i, k;
	bool found = false;

	for (k = 0; k < 2 && !found; k++) {
		if (k8s_list(c, K8S_RES(DEPLOYMENTS), NULL, selectors[k], &list, &e) != ST_OK)
			continue;
		json_array_foreach(json_object_get(list, "items"), i, d) {
			if (json_integer_value(jpath(d, "status.availableReplicas")) > 0) {
				snprintf(out, outsz, "%s/%s", jstr(d, "metadata.namespace") ?
				    jstr(d, "metadata.namespace") : "", jstr(d, "metadata.name") ?
				    jstr(d, "metadata.name") : "");
				found = true;
				break;
			}
		}
		json_decref(list);
	}
	return found;
}

int
k8s_flagger_check(struct k8s_client *c, const struct canary_cfg *cfg, long now, char *err)
{
	struct k8s_err e;
	json_t *obj, *cond;
	const char *t;
	char flagger[200];
	time_t when;
	size_t i;

	if (k8s_get(c, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) != ST_OK)
		return ST_OK;	/* no Canary object (or no CRD): nobody else controls it */
	if (json_is_true(jpath(obj, "spec.suspend"))) {
		json_decref(obj);
		return ST_OK;	/* Flagger leaves a suspended Canary alone */
	}
	json_array_foreach(jpath(obj, "status.conditions"), i, cond) {
		t = jstr(cond, "lastUpdateTime") ? jstr(cond, "lastUpdateTime") :
		    jstr(cond, "lastTransitionTime");
		if (t && k8s_parse_time(t, &when) == ST_OK && now - (long)when < FLAGGER_FRESH_S) {
			errf(err, ST_REFUSED, "canary %s/%s is reconciled by a running Flagger (its "
			    "status condition %s was updated at %s); perch will not control it — "
			    "suspend it in Flagger (spec.suspend: true) first", cfg->ns, cfg->name,
			    jstr(cond, "type") ? jstr(cond, "type") : "", t);
			json_decref(obj);
			return ST_REFUSED;
		}
	}
	json_decref(obj);
	if (running_flagger(c, flagger, sizeof flagger))
		return errf(err, ST_REFUSED, "canary %s/%s exists as a Canary object and Flagger runs "
		    "in this cluster (deployment %s); perch will not control it — suspend it in "
		    "Flagger (spec.suspend: true) first", cfg->ns, cfg->name, flagger);
	return ST_OK;
}

/* ---- ops ------------------------------------------------------------------ */

/* The target and the primary may have been written: read them from the
 * server until the cache has caught up. */
static void
wrote_workloads(struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	char name[300];

	snprintf(name, sizeof name, "%s-primary", cfg->target);
	written(k, K8S_RES(DEPLOYMENTS), cfg->ns, cfg->target);
	written(k, K8S_RES(DEPLOYMENTS), cfg->ns, name);
}

/* Reference §2.3/§4.7: the Services, (on initialization) the primary, and
 * the route objects, created or brought back to what perch wants (live
 * weights kept).  Runs on initialization and on every tick. */
static int
reconcile(struct k8s_cluster *k, const struct canary_cfg *cfg, bool primary, char *err)
{
	const char *label, *value;
	struct k8s_err e;
	json_t *target;
	int st;

	if ((st = cached_get(k, K8S_RES(DEPLOYMENTS), cfg->ns, cfg->target, &target, &e)) != ST_OK)
		return errf(err, st, "deployment %s.%s: %s", cfg->target, cfg->ns, e.msg);
	st = wl_selector(target, &label, &value, err);
	if (st == ST_OK && primary) {
		st = wl_ensure_primary(k->c, cfg, owner_of(k, cfg), err);
		wrote_workloads(k, cfg);
	}
	if (st == ST_OK && owner_entry(k, cfg) == NULL)
		find_owner(k, cfg);
	if (st == ST_OK)
		st = rt_services(k, cfg, label, value, err);
	json_decref(target);
	return st == ST_OK ? rt_initialize(k, cfg, err) : st;
}

static int
op_initialize(void *ctx, const struct canary_cfg *cfg, char *err)
{
	struct k8s_cluster *k = ctx;
	struct readiness rd;
	char name[300], msg[ERRMSG_MAX];
	struct k8s_err e;
	json_t *prim;
	int st;

	if ((st = k8s_flagger_check(k->c, cfg, (long)time(NULL), err)) != ST_OK)
		return st;
	find_owner(k, cfg);
	if (cfg->target_kind && strcmp(cfg->target_kind, "Deployment") != 0)
		return errf(err, ST_UNSUPPORTED, "canary %s/%s: target kind %s is not supported on a "
		    "cluster (Deployment only)", cfg->ns, cfg->name, cfg->target_kind);
	if ((st = reconcile(k, cfg, true, err)) != ST_OK)
		return st;
	/* Once the primary runs, the target goes to zero until a new revision. */
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	if (cached_get(k, K8S_RES(DEPLOYMENTS), cfg->ns, name, &prim, &e) != ST_OK)
		return ST_OK;
	wl_ready(prim, cfg->primary_ready_threshold > 0 ? cfg->primary_ready_threshold : 100,
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

/* A core/v1 Event on the target Deployment, reason "Synced" as Flagger. */
static int
op_emit_event(void *ctx, const struct canary_cfg *cfg, enum severity sev, const char *message)
{
	struct k8s_cluster *k = ctx;
	struct timespec ts;
	struct k8s_err e;
	char now[32], name[300];
	json_t *ev;
	int st;

	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime(&ts.tv_sec));
	snprintf(name, sizeof name, "%.200s.%lx%05lx", cfg->target, (long)ts.tv_sec,
	    (long)(ts.tv_nsec / 10000) & 0xFFFFF);
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
	    " s:s, s:s, s:i, s:s}", "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
	    "namespace", cfg->ns, "involvedObject", "apiVersion", "apps/v1", "kind", "Deployment",
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

const struct cluster_ops k8s_cluster_ops = {
	.name = "k8s",
	.initialize = op_initialize,
	.revision = op_revision,
	.readiness = op_readiness,
	.scale = op_scale,
	.promote = op_promote,
	.set_routes = op_set_routes,
	.get_routes = op_get_routes,
	.emit_event = op_emit_event,
	.degraded = op_degraded,
};
