/*
 * world.c — the simulated cluster: Deployments, readiness, revisions and
 * routes behind cluster_ops (see world.h).
 *
 * Each canary is a struct sim_app found by its "ns/name" in an
 * open-addressing table, so 10,000 canaries cost a hash per call.  Pods
 * become available one by one over the scenario's readiness time; a
 * Deployment still unavailable past the canary's progress deadline is
 * reported as not retriable, as Kubernetes' ProgressDeadlineExceeded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/world_impl.h"
#include "util/status.h"
#include "util/xalloc.h"

struct sim_world *
sim_world_new(const struct sim_options *opt)
{
	struct sim_world *w = xcalloc(1, sizeof *w);

	w->opt = *opt;
	if (w->opt.revision_pause_s <= 0)
		w->opt.revision_pause_s = 30;
	w->nslots = 64;
	w->slots = xcalloc(w->nslots, sizeof *w->slots);
	return w;
}

void
sim_world_free(struct sim_world *w)
{
	if (w == NULL)
		return;
	free(w->apps);
	free(w->slots);
	free(w);
}

size_t
sim_world_count(const struct sim_world *w)
{
	return w->n;
}

void
sim_world_stats(const struct sim_world *w, struct sim_stats *out)
{
	*out = w->stats;
}

static size_t
slot_of(const struct sim_world *w, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (w->nslots - 1);

	while (w->slots[i] != 0 && strcmp(w->apps[w->slots[i] - 1].key, key) != 0)
		i = (i + 1) & (w->nslots - 1);
	return i;
}

static void
grow_table(struct sim_world *w)
{
	size_t i;

	free(w->slots);
	w->nslots *= 2;
	w->slots = xcalloc(w->nslots, sizeof *w->slots);
	for (i = 0; i < w->n; i++)
		w->slots[slot_of(w, w->apps[i].key, w->apps[i].id)] = i + 1;
}

struct sim_app *
sim_find(struct sim_world *w, const char *key)
{
	size_t i = slot_of(w, key, rng_hash_str(key));

	return w->slots[i] != 0 ? &w->apps[w->slots[i] - 1] : NULL;
}

static bool
key_is(const struct sim_app *a, const struct canary_cfg *c)
{
	size_t n = strlen(c->ns);

	return strncmp(a->key, c->ns, n) == 0 && a->key[n] == '/' && strcmp(a->key + n + 1, c->name) == 0;
}

/* The engine asks with the same canary_cfg pointers tick after tick: a
 * pointer cache saves formatting and hashing the name each time; a hit is
 * still checked by name, so a reused address never finds the wrong app. */
struct sim_app *
sim_app_of(struct sim_world *w, const struct canary_cfg *c)
{
	size_t h = ((uintptr_t)c >> 4) & (SIM_LOOKUP_CACHE - 1);
	struct sim_app *a;
	char key[128];

	if (w->lookup[h].cfg == c && w->lookup[h].idx < w->n &&
	    key_is(&w->apps[w->lookup[h].idx], c))
		return &w->apps[w->lookup[h].idx];
	snprintf(key, sizeof key, "%s/%s", c->ns, c->name);
	if ((a = sim_find(w, key)) != NULL) {
		w->lookup[h].cfg = c;
		w->lookup[h].idx = (size_t)(a - w->apps);
	}
	return a;
}

static int
threshold_or_100(int t)
{
	return t > 0 && t <= 100 ? t : 100;
}

int
sim_world_add(struct sim_world *w, const struct canary_cfg *c, enum scenario s,
    char *err, size_t errsz)
{
	struct sim_app *a;
	char key[128];

	snprintf(key, sizeof key, "%s/%s", c->ns, c->name);
	if (sim_find(w, key) != NULL) {
		snprintf(err, errsz, "canary %s is already in the simulated world", key);
		return ST_CONFLICT;
	}
	if ((w->n + 1) * 2 > w->nslots)
		grow_table(w);
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->apps = xreallocarray(w->apps, w->cap, sizeof *w->apps);
	}
	a = &w->apps[w->n];
	memset(a, 0, sizeof *a);
	snprintf(a->key, sizeof a->key, "%s", key);
	snprintf(a->target, sizeof a->target, "%s", c->target != NULL ? c->target : c->name);
	a->id = rng_hash_str(key);
	a->scn = s;
	a->p = scenario_params(s);
	a->interval_s = c->interval_s > 0 ? c->interval_s : 60;
	a->progress_deadline_s = c->progress_deadline_s > 0 ? c->progress_deadline_s : 600;
	a->ready_threshold[WL_PRIMARY] = threshold_or_100(c->primary_ready_threshold);
	a->ready_threshold[WL_CANARY] = threshold_or_100(c->canary_ready_threshold);
	a->target_rev = 1;
	a->next_rev_ms = INT64_MAX;
	a->waiting_first = true;
	a->routes.primary = 100;
	a->last_touch_ms = INT64_MIN;
	w->slots[slot_of(w, key, a->id)] = ++w->n;
	return ST_OK;
}

int64_t
world_now(const struct sim_world *w)
{
	return w->opt.clock->now_ms(w->opt.clock_ctx);
}

static void record_weight(struct sim_app *a, int64_t now, int weight);

/* The primary (a copy of the running target, ready at once), the target
 * at zero, all traffic on the primary. */
static void
init_app(struct sim_app *a, int64_t now)
{
	a->initialized = true;
	a->dep[WL_PRIMARY] = (struct sim_deploy){ .replicas = a->p->replicas,
	    .rev = a->target_rev, .changed_ms = now };
	a->dep[WL_CANARY] = (struct sim_deploy){ .replicas = 0, .rev = a->target_rev,
	    .changed_ms = now };
	a->routes = (struct routes){ .primary = 100, .canary = 0 };
	record_weight(a, now, 0);
}

/* Counts one tick per canary and instant, and brings revisions due by now.
 * A canary resumed from saved state is past Initializing and never asks
 * for initialize: its world is set up on first contact instead. */
static void
touch(struct sim_world *w, struct sim_app *a, int64_t now)
{
	if (!a->initialized)
		init_app(a, now);
	if (now != a->last_touch_ms) {
		a->last_touch_ms = now;
		w->stats.ticks++;
	}
	if (now >= a->next_rev_ms) {
		a->target_rev++;
		a->next_rev_ms = INT64_MAX;
		a->rolling = true;
		w->stats.revisions++;
		/* After a failed promotion, the operators have put the primary
		 * back on its last good pods by the time the next fix ships. */
		if (a->dep[WL_PRIMARY].never_ready) {
			a->dep[WL_PRIMARY].never_ready = false;
			a->dep[WL_PRIMARY].ready_s = 0;
		}
	}
}

static int
available(const struct sim_deploy *d, int64_t now)
{
	int64_t elapsed = now - d->changed_ms, n;

	if (d->replicas <= 0 || d->never_ready)
		return 0;
	if (d->ready_s <= 0)
		return d->replicas;
	if (elapsed <= 0)
		return 0;
	n = elapsed * d->replicas / ((int64_t)d->ready_s * 1000);
	return n > d->replicas ? d->replicas : (int)n;
}

static void
record_weight(struct sim_app *a, int64_t now, int weight)
{
	struct weight_change *last = a->n_hist > 0 ?
	    &a->hist[(a->n_hist - 1) % SIM_HISTORY] : NULL;

	if (last != NULL && last->weight == weight)
		return;
	a->hist_gen++;
	if (last != NULL && last->t_ms == now) {
		last->weight = weight;
		return;
	}
	a->hist[a->n_hist % SIM_HISTORY] = (struct weight_change){ now, weight };
	a->n_hist++;
}

int
sim_weight_at(const struct sim_app *a, int64_t t_ms)
{
	unsigned kept = a->n_hist < SIM_HISTORY ? a->n_hist : SIM_HISTORY;
	unsigned i;

	for (i = 0; i < kept; i++) {
		const struct weight_change *c = &a->hist[(a->n_hist - 1 - i) % SIM_HISTORY];

		if (c->t_ms <= t_ms)
			return c->weight;
	}
	/* Before the first change: 0; before the oldest kept: its weight. */
	return kept < SIM_HISTORY || kept == 0 ? 0 : a->hist[a->n_hist % SIM_HISTORY].weight;
}

/* ---- cluster_ops -------------------------------------------------------- */

#define LOOKUP(w, a, c, err) do { \
	if (((a) = sim_app_of((w), (c))) == NULL) { \
		if ((err) != NULL) \
			snprintf((err), ERRMSG_MAX, "canary %s/%s is not in the simulated world", \
			    (c)->ns, (c)->name); \
		return ST_NOTFOUND; \
	} \
} while (0)

static int
op_initialize(void *ctx, const struct canary_cfg *c, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	int64_t now = world_now(w);

	LOOKUP(w, a, c, err);
	touch(w, a, now);
	return ST_OK;
}

static void
revision_id(const struct sim_app *a, int rev, struct revision *out)
{
	snprintf(out->id, sizeof out->id, "%016" PRIx64, rng_hash(a->id, (uint64_t)rev, 0, 0));
	snprintf(out->image, sizeof out->image, "%s:v%d", a->target, rev);
}

static int
op_revision(void *ctx, const struct canary_cfg *c, struct revision *out, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	int64_t now = world_now(w);

	LOOKUP(w, a, c, err);
	touch(w, a, now);
	/* The first new revision comes once the engine has seen the running
	 * one with the primary in place: the rollout then starts cleanly. */
	if (a->waiting_first && a->initialized &&
	    available(&a->dep[WL_PRIMARY], now) == a->dep[WL_PRIMARY].replicas) {
		a->waiting_first = false;
		a->next_rev_ms = now + (w->opt.first_revision_s > 0 ?
		    (int64_t)w->opt.first_revision_s * 1000 : (int64_t)a->interval_s * 500);
	}
	revision_id(a, a->target_rev, out);
	return ST_OK;
}

/* The revision number whose id is `id`, or 0 when none of the first ones. */
static int
rev_of(const struct sim_app *a, const char *id)
{
	struct revision r;
	int rev;

	for (rev = 1; id[0] != '\0' && rev <= 64; rev++) {
		revision_id(a, rev, &r);
		if (strcmp(r.id, id) == 0)
			return rev;
	}
	return 0;
}

int
sim_world_resume(struct sim_world *w, const char *canary, const struct canary_status *st)
{
	struct sim_app *a = sim_find(w, canary);
	int64_t now = world_now(w);
	int applied, promoted, weight;

	if (a == NULL)
		return ST_NOTFOUND;
	applied = rev_of(a, st->last_applied);
	promoted = rev_of(a, st->last_promoted);
	if (applied == 0 || st->phase == PHASE_WAITING || phase_is_terminal(st->phase))
		return ST_OK;		/* not in a rollout: a fresh world */
	a->target_rev = applied;
	init_app(a, now);
	a->dep[WL_PRIMARY].rev = promoted > 0 ? promoted : applied;
	switch (st->phase) {
	case PHASE_INITIALIZING:
	case PHASE_INITIALIZED:
		return ST_OK;		/* the first revision comes as usual */
	case PHASE_PROGRESSING:
	case PHASE_WAITING_PROMOTION:
	case PHASE_PROMOTING:
	case PHASE_FINALISING:
		a->waiting_first = false;
		a->rolling = true;
		a->dep[WL_CANARY].replicas = a->p->replicas;
		if (st->phase == PHASE_PROMOTING || st->phase == PHASE_FINALISING)
			a->dep[WL_PRIMARY].rev = applied;
		weight = st->canary_weight < 0 ? 0 : st->canary_weight > 100 ? 100 : st->canary_weight;
		a->routes = (struct routes){ .primary = 100 - weight, .canary = weight,
		    .mirrored = st->mirrored };
		record_weight(a, now, weight);
		return ST_OK;
	default:
		/* Waiting, Succeeded, Failed: between rollouts the demo's world
		 * starts afresh, and the canary rolls out what it runs. */
		return ST_OK;
	}
}

static int
op_readiness(void *ctx, const struct canary_cfg *c, enum workload wl, int64_t now_ms,
    struct readiness *out)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	const struct sim_deploy *d;
	char *err = NULL;
	int avail, need;

	memset(out, 0, sizeof *out);
	LOOKUP(w, a, c, err);
	touch(w, a, now_ms);
	d = &a->dep[wl == WL_CANARY ? WL_CANARY : WL_PRIMARY];
	avail = available(d, now_ms);
	need = (int)((double)d->replicas * a->ready_threshold[wl == WL_CANARY] / 100.0);
	out->retriable = true;
	if (avail >= need) {
		out->ready = true;
		return ST_OK;
	}
	if (now_ms - d->changed_ms > (int64_t)a->progress_deadline_s * 1000) {
		out->retriable = false;
		snprintf(out->msg, sizeof out->msg, "deployment \"%s%s\" exceeded its progress deadline",
		    a->target, wl == WL_PRIMARY ? "-primary" : "");
		return ST_OK;
	}
	snprintf(out->msg, sizeof out->msg,
	    "waiting for rollout to finish: %d of %d (readyThreshold %d%%) updated replicas are available",
	    avail, d->replicas, a->ready_threshold[wl == WL_CANARY]);
	return ST_OK;
}

static int
op_scale(void *ctx, const struct canary_cfg *c, bool up, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	struct sim_deploy *d;
	int64_t now = world_now(w);

	LOOKUP(w, a, c, err);
	touch(w, a, now);
	d = &a->dep[WL_CANARY];
	if (up) {
		if (d->replicas > 0 && d->rev == a->target_rev)
			return ST_OK;
		*d = (struct sim_deploy){ .replicas = a->p->replicas, .rev = a->target_rev,
		    .changed_ms = now, .ready_s = a->p->canary_ready_s };
		return ST_OK;
	}
	if (d->replicas > 0) {
		d->replicas = 0;
		d->changed_ms = now;
	}
	if (a->rolling) {
		a->rolling = false;
		if (w->opt.new_revisions)
			a->next_rev_ms = now + (int64_t)w->opt.revision_pause_s * 1000;
	}
	return ST_OK;
}

static int
op_promote(void *ctx, const struct canary_cfg *c, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	int64_t now = world_now(w);

	LOOKUP(w, a, c, err);
	touch(w, a, now);
	if (a->dep[WL_PRIMARY].rev == a->target_rev)
		return ST_OK;
	a->dep[WL_PRIMARY] = (struct sim_deploy){ .replicas = a->p->replicas,
	    .rev = a->target_rev, .changed_ms = now, .ready_s = a->p->primary_ready_s,
	    .never_ready = a->p->primary_fails };
	return ST_OK;
}

static int
op_set_routes(void *ctx, const struct canary_cfg *c, const struct routes *r, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;
	int64_t now = world_now(w);

	LOOKUP(w, a, c, err);
	touch(w, a, now);
	if (r->primary < 0 || r->canary < 0 || r->primary + r->canary != 100) {
		snprintf(err, ERRMSG_MAX, "invalid route weights %d/%d (they must add up to 100)",
		    r->primary, r->canary);
		return ST_INVALID;
	}
	a->routes = *r;
	record_weight(a, now, r->canary);
	/* A failed promotion leaves all traffic on the canary and the target
	 * scaled up: that rollout is over too. */
	if (r->canary == 100 && a->dep[WL_PRIMARY].never_ready && a->rolling) {
		a->rolling = false;
		if (w->opt.new_revisions)
			a->next_rev_ms = now + (int64_t)w->opt.revision_pause_s * 1000;
	}
	return ST_OK;
}

static int
op_get_routes(void *ctx, const struct canary_cfg *c, struct routes *out, char *err)
{
	struct sim_world *w = ctx;
	struct sim_app *a;

	LOOKUP(w, a, c, err);
	touch(w, a, world_now(w));
	*out = a->routes;
	return ST_OK;
}

const struct cluster_ops sim_cluster_ops = {
	.name = "sim",
	.initialize = op_initialize,
	.revision = op_revision,
	.readiness = op_readiness,
	.scale = op_scale,
	.promote = op_promote,
	.set_routes = op_set_routes,
	.get_routes = op_get_routes,
	.emit_event = NULL,
};

/* ---- inspection --------------------------------------------------------- */

int
sim_world_view(struct sim_world *w, const char *canary, int64_t now_ms, struct sim_view *out)
{
	struct sim_app *a = sim_find(w, canary);

	if (a == NULL)
		return ST_NOTFOUND;
	out->target_rev = a->target_rev;
	out->primary_rev = a->dep[WL_PRIMARY].rev;
	out->canary_rev = a->dep[WL_CANARY].rev;
	out->primary_replicas = a->dep[WL_PRIMARY].replicas;
	out->canary_replicas = a->dep[WL_CANARY].replicas;
	out->primary_available = available(&a->dep[WL_PRIMARY], now_ms);
	out->canary_available = available(&a->dep[WL_CANARY], now_ms);
	out->routes = a->routes;
	return ST_OK;
}
