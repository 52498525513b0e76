/*
 * runner_snap.c — snapshots (see runner.h, engine/snapshot.h): built on
 * demand under mu from every canary's status, configuration and history,
 * sanitized, in the order the controller and its watchers share.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/route_words.h"
#include "engine/runner_int.h"
#include "util/fmt.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

static char *
sdup(const char *s, size_t max)
{
	return sanitize_dup(s ? s : "", max);
}

static void
snap_history(struct snap_canary *sc, const struct rcan *c)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t i, j;

	sc->n_metrics = cfg->n_metrics;
	sc->metrics = cfg->n_metrics ? xcalloc(cfg->n_metrics, sizeof *sc->metrics) : NULL;
	for (i = 0; i < cfg->n_metrics; i++) {
		const struct rring_pts *ring = &c->hist.pts[i];
		struct snap_metric *m = &sc->metrics[i];

		m->name = sdup(cfg->metrics[i].name, 63);
		m->kind = cfg->metrics[i].kind;
		m->query = sdup(cfg->metrics[i].query, 1024);
		m->has_min = cfg->metrics[i].has_min;
		m->has_max = cfg->metrics[i].has_max;
		m->min = cfg->metrics[i].min;
		m->max = cfg->metrics[i].max;
		m->n_points = ring->n;
		m->points = ring->n ? xcalloc(ring->n, sizeof *m->points) : NULL;
		for (j = 0; j < ring->n; j++) {
			const struct rpoint *p = &ring->p[(ring->head + j) % ring->cap];

			m->points[j].t_ms = p->t_ms;
			m->points[j].value = p->value;
			m->points[j].result = (enum check_result)p->result;
		}
	}
	sc->n_hooks = cfg->n_hooks;
	sc->hooks = cfg->n_hooks ? xcalloc(cfg->n_hooks, sizeof *sc->hooks) : NULL;
	for (i = 0; i < cfg->n_hooks; i++) {
		sc->hooks[i].name = sdup(cfg->hooks[i].name, 63);
		sc->hooks[i].type = cfg->hooks[i].type;
		sc->hooks[i].last = c->hist.hooks[i].last;
		sc->hooks[i].message = xstrdup(c->hist.hooks[i].msg);
	}
	sc->n_events = c->hist.ev_n;
	sc->events = c->hist.ev_n ? xcalloc(c->hist.ev_n, sizeof *sc->events) : NULL;
	for (i = 0; i < c->hist.ev_n; i++) {
		const struct revent *e = &c->hist.ev[(c->hist.ev_head + i) % c->hist.ev_cap];

		sc->events[i].t_ms = e->t_ms;
		sc->events[i].severity = e->sev;
		sc->events[i].message = xstrdup(e->msg);
		sc->events[i].actor = xstrdup(e->actor ? e->actor : "");
	}
}

static void
snap_canary(struct runner *r, struct snap_canary *sc, const struct rcan *c)
{
	const struct canary_cfg *cfg = c->cfg;
	char rev[128];
	int ladder[128];
	char text[300], route[200];
	size_t n, i;

	sc->ns = sdup(cfg->ns, 63);
	sc->name = sdup(cfg->name, 63);
	sc->target = sdup(cfg->target, 63);
	sc->provider = sdup(cfg->provider, 63);
	route_words(cfg, route, sizeof route);
	sc->route = sdup(route, 200);
	sc->strategy = machine_strategy(cfg);
	sc->phase = c->st.phase;
	sc->weight = c->st.canary_weight;
	sc->max_weight = machine_max_weight(cfg);
	n = machine_ladder(cfg, ladder, 128);
	sc->ladder = n ? xcalloc(n, sizeof *sc->ladder) : NULL;
	sc->n_ladder = n;
	for (i = 0; i < n; i++) {
		sc->ladder[i] = ladder[i];
		if (ladder[i] <= c->st.canary_weight)
			sc->step = (int)i + 1;
	}
	sc->iteration = c->st.iterations;
	sc->iterations = machine_iterations(cfg);
	sc->failed_checks = c->st.failed_checks;
	sc->threshold = cfg->threshold;
	sc->interval_s = cfg->interval_s;
	/* From the status and the configuration only, as a watcher fills
	 * it from the saved ones: the same canary looks the same in both. */
	sc->order = cfg->order;
	sc->paused = c->st.paused;
	sc->held = c->st.held;
	sc->gate = c->st.gate;
	sc->can_control = c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !r->cfg.observer;
	sc->phase_since_ms = c->st.phase_since_ms;
	sc->next_check_ms = c->sched.heap != NO_HEAP || c->ctl.readonly ? c->st.next_tick_ms : 0;
	fmt_revision(rev, sizeof rev, c->st.promoted_name, c->st.last_promoted);
	sc->rev_from = sdup(rev, 127);
	fmt_revision(rev, sizeof rev, c->st.applied_name, c->st.last_applied);
	sc->rev_to = sdup(rev, 127);
	sc->run_since_ms = c->st.run_since_ms;
	sc->last_phase = c->st.last_phase;
	sc->last_end_ms = c->st.last_end_ms;
	sc->last_reason = sdup(c->st.last_reason, 255);
	sc->affinity = cfg->affinity != NULL;
	sc->refused = c->ctl.refused;
	sc->driven_by = sdup(cfg->driven_by ? cfg->driven_by : "", 127);
	sc->terminating = c->ctl.terminating;
	if (c->ctl.corrupt || c->ctl.refused || c->ctl.terminating)
		sc->reason = sdup(c->ctl.err, 255);
	else
		sc->reason = sdup(c->st.reason, 255);
	sc->sticky = sdup(c->st.affinity_cookie, AFFINITY_COOKIE_MAX - 1);
	rn_known_facts(r, c, &sc->facts);
	sc->last_failure = sdup(c->st.last_failure, sizeof c->st.last_failure - 1);
	sc->last_failure_ms = c->st.last_failure_ms;
	sc->compare = c->hist.compare;
	sc->compares = cfg->judge.n_metrics > 0 || sc->compare.done;
	sc->override = c->st.override;
	sc->override_text = sdup(override_text(&c->st, text, sizeof text), sizeof text - 1);
	sc->metrics_note = sdup(rn_metrics_off(r, cfg) ? r->cfg.metrics_off : "", 255);
	snap_history(sc, c);
}

static int
snap_cmp(const void *a, const void *b)
{
	const struct snap_canary *x = a, *y = b;
	int c;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if ((c = strcmp(x->ns, y->ns)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* The same order and header namespace for the controller and its watchers:
 * the order the controller was given its canaries in (saved with each
 * spec), then by name; without a namespace of its own, the header names the
 * one every canary shares. */
static void
snap_order(struct snapshot *s)
{
	size_t i;

	if (s->n_canaries == 0)
		return;
	qsort(s->canaries, s->n_canaries, sizeof *s->canaries, snap_cmp);
	if (s->ns[0] != '\0')
		return;
	for (i = 1; i < s->n_canaries; i++)
		if (strcmp(s->canaries[i].ns, s->canaries[0].ns) != 0)
			return;
	free(s->ns);
	s->ns = xstrdup(s->canaries[0].ns);
}

static struct snapshot *
build_snapshot(struct runner *r)
{
	struct snapshot *s = snapshot_new();
	size_t i, controlled = 0, external = 0;
	const char *holder = "";

	s->version = r->pub.version;
	s->now_ms = r->pub.now;
	/* A watcher shows the header its controller shows (its context). */
	s->context = xstrdup(r->cfg.observer && r->health.ctl_context[0] ? r->health.ctl_context : r->context);
	s->ns = xstrdup(r->ns);
	s->api_ok = r->health.api_ok;
	s->api_degraded = r->health.api_degraded;
	s->metrics_ok = r->health.metrics_ok;
	s->ctl = r->cfg.observer ? r->health.ctl : CTL_SELF;
	s->ctl_silent_ms = r->health.ctl_silent_ms;
	s->metrics_degraded = r->health.metrics_degraded;
	s->status_msg = xstrdup(r->pub.status_msg);
	s->status_canary = xstrdup(r->pub.status_canary);
	s->status_seq = r->pub.status_seq;
	s->canaries = r->tab.n ? xcalloc(r->tab.n, sizeof *s->canaries) : NULL;
	for (i = 0; i < r->tab.n; i++) {
		if (r->tab.cs[i]->ctl.removed && (r->tab.cs[i]->cfg->driven_by != NULL ||
		    r->cfg.observer))
			continue;	/* deleted: gone (watch: perch's own too) */
		snap_canary(r, &s->canaries[s->n_canaries++], r->tab.cs[i]);
		if (r->tab.cs[i]->cfg->driven_by != NULL || r->tab.cs[i]->ctl.removed)
			external++;	/* shown, never controlled (or deleted): not read-only for it */
		else if (s->canaries[s->n_canaries - 1].can_control)
			controlled++;
		else if (r->tab.cs[i]->ctl.holder[0] && holder[0] == '\0')
			holder = r->tab.cs[i]->ctl.holder;
	}
	s->read_only = r->cfg.observer || (s->n_canaries > external && controlled == 0);
	s->holder = xstrdup(holder);
	snap_order(s);
	return s;
}

void
runner_health(struct runner *r, struct runner_health *h)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	h->api_ok = r->health.api_ok;
	h->metrics_ok = r->health.metrics_ok;
	h->metrics_degraded = r->health.metrics_degraded;
	h->controls = false;
	for (i = 0; i < r->tab.n && !r->cfg.observer; i++) {
		const struct rcan *c = r->tab.cs[i];

		if ((c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt) || c->ctl.let_go)
			h->controls = true;
	}
	pthread_mutex_unlock(&r->mu);
}

struct snapshot *
runner_snapshot(struct runner *r)
{
	struct snapshot *s;

	pthread_mutex_lock(&r->mu);
	/* Rebuilt after a change, and as the clock moves on (countdowns). */
	if (r->pub.snap == NULL || r->pub.snap_version != r->pub.version || r->pub.now - r->pub.snap->now_ms >= 1000) {
		snapshot_unref(r->pub.snap);
		r->pub.snap = build_snapshot(r);
		r->pub.snap_version = r->pub.version;
	}
	s = snapshot_ref(r->pub.snap);
	r->pub.notify_pending = false;
	pthread_mutex_unlock(&r->mu);
	return s;
}
