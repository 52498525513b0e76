/*
 * runner_observe.c — observing the store (see runner_int.h).
 *
 * Observer mode (perch watch) never calls a mutating op: it lists the
 * canaries in the store and re-reads their spec, status and journal tail
 * about every OBSERVE_MS of clock time.  Canaries whose control lock is
 * held by someone else are refreshed the same way in control mode (and an
 * interactive run tries to take them back, runner_control.c).  An
 * observer also reads each controller's heartbeat and tells whether the
 * controllers are alive (liveness).  Runner thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static uint64_t
tail_mark(const struct journal_rec *recs, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ n;
	const unsigned char *p;

	if (n == 0)
		return h;
	h ^= (uint64_t)recs[n - 1].time_ms;
	h *= 1099511628211ULL;
	for (p = (const unsigned char *)recs[n - 1].message; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (p = (const unsigned char *)recs[n - 1].metric; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static void
refresh(struct runner *r, struct rcan *c, struct journal_rec *recs)
{
	const struct store_ops *s = r->cfg.store;
	struct heartbeat hb;
	bool has_hb;
	struct canary_status st;
	char err[ERRMSG_MAX] = "", who[sizeof c->ctl.holder] = "", clean[sizeof c->ctl.holder] = "";
	size_t n = 0;
	uint64_t mark;
	int rc;

	if (s == NULL)
		return;
	memset(&st, 0, sizeof st);
	rc = s->load(r->cfg.store_ctx, c->key, &st, err);
	if (s->tail != NULL)
		n = s->tail(r->cfg.store_ctx, c->key, recs, HIST_EVENTS);
	mark = tail_mark(recs, n);
	/* An observer names who controls the canary (the snapshot's holder). */
	if (r->cfg.observer && s->holder != NULL &&
	    s->holder(r->cfg.store_ctx, c->key, who, sizeof who) == ST_OK)
		sanitize(clean, sizeof clean, who, strlen(who));
	memset(&hb, 0, sizeof hb);
	has_hb = r->cfg.observer && r->cfg.heartbeat != NULL &&
	    r->cfg.heartbeat->last(r->cfg.heartbeat_ctx, c->key, &hb) == ST_OK;
	pthread_mutex_lock(&r->mu);
	c->seen.hb = hb;
	c->seen.has_hb = has_hb;
	if (r->cfg.observer && strcmp(clean, c->ctl.holder) != 0) {
		memcpy(c->ctl.holder, clean, sizeof c->ctl.holder);
		r->pub.version++;
	}
	if (rc == ST_CORRUPT && !c->ctl.corrupt) {
		c->ctl.corrupt = true;
		sanitize(c->ctl.err, sizeof c->ctl.err, err, strlen(err));
		r->pub.version++;
	} else if (rc == ST_OK && (st.seq != c->st.seq || st.phase != c->st.phase ||
	    mark != c->run.journal_mark)) {
		c->ctl.corrupt = false;
		c->st = st;
		c->run.journal_mark = mark;
		rn_hist_from_journal(c, recs, n);
		r->pub.version++;
	}
	pthread_mutex_unlock(&r->mu);
}

/* A canary another controller drives: its status and events as that
 * controller publishes them, read from the cluster backend's watch caches
 * (cluster_ops.external); nothing is written.  Runner thread. */
static void
refresh_external(struct runner *r, struct rcan *c, struct journal_rec *recs)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	struct canary_status st;
	size_t n = 0;
	uint64_t mark;
	bool moved;

	if (cl == NULL || cl->external == NULL)
		return;
	memset(&st, 0, sizeof st);
	if (cl->external(r->cfg.cluster_ctx, c->cfg, &st, recs, HIST_EVENTS, &n) != ST_OK)
		return;
	mark = tail_mark(recs, n);
	pthread_mutex_lock(&r->mu);
	moved = memcmp(&st, &c->st, sizeof st) != 0;
	if (moved)
		memcpy(&c->st, &st, sizeof st);
	if (mark != c->run.journal_mark) {
		c->run.journal_mark = mark;
		rn_hist_events_from(c, recs, n);	/* its graphs are perch's own */
		moved = true;
	}
	if (moved)
		r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

/* Watch mode: picks up canaries that appeared in the store. */
static void
observe_list(struct runner *r)
{
	const struct store_ops *s = r->cfg.store;
	char **names = NULL;
	size_t n, i;

	if (s == NULL || s->list == NULL)
		return;
	n = s->list(r->cfg.store_ctx, &names);
	for (i = 0; i < n; i++) {
		struct canary_cfg *cfg = NULL;
		char err[ERRMSG_MAX];
		struct rcan *c;

		if (rn_find(r, names[i]) == NULL) {
			if (s->load_spec == NULL || s->load_spec(r->cfg.store_ctx, names[i], &cfg, err) != ST_OK)
				cfg = rn_stub_cfg(names[i]);
			c = rn_canary_new(cfg, names[i]);
			c->ctl.control = false;
			c->ctl.readonly = true;
			/* Shown with its status from the first snapshot on (its
			 * history comes with the next refresh). */
			if (s->load(r->cfg.store_ctx, names[i], &c->st, err) != ST_OK)
				memset(&c->st, 0, sizeof c->st);
			pthread_mutex_lock(&r->mu);
			rn_add_canary(r, c);
			r->pub.version++;
			pthread_mutex_unlock(&r->mu);
		}
		free(names[i]);
	}
	free(names);
}

/* Whether the canaries' controllers are alive, from their heartbeats:
 * lost when any missed HEARTBEAT_MISSED beats (the longest silence is
 * shown), stopped when every one exited cleanly, live when they beat (the
 * header shows their backends' health).  Bumps the version when what the
 * screens show of it changes (the silence counts in seconds).  mu held. */
static void
liveness(struct runner *r)
{
	enum ctl_state ctl = CTL_UNKNOWN;
	int64_t silent = 0;
	bool api = true, met = true, slow = false, live = false, stopped = false;
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		if (!c->seen.has_hb)
			continue;
		if (c->seen.hb.context[0] != '\0' && strcmp(r->health.ctl_context, c->seen.hb.context) != 0) {
			snprintf(r->health.ctl_context, sizeof r->health.ctl_context, "%s", c->seen.hb.context);
			r->pub.version++;
		}
		if (c->seen.hb.stopped) {
			stopped = true;
			silent = c->seen.hb.age_ms > silent ? c->seen.hb.age_ms : silent;
		} else if (c->seen.hb.age_ms > HEARTBEAT_MISSED * c->seen.hb.every_ms) {
			if (ctl != CTL_LOST)
				silent = 0;
			ctl = CTL_LOST;
			silent = c->seen.hb.age_ms > silent ? c->seen.hb.age_ms : silent;
		} else {
			live = true;
			api = api && c->seen.hb.api_ok;
			met = met && c->seen.hb.metrics_ok;
			slow = slow || c->seen.hb.metrics_degraded;
		}
	}
	if (ctl != CTL_LOST)
		ctl = live ? CTL_LIVE : stopped ? CTL_STOPPED : CTL_UNKNOWN;
	if (ctl == CTL_LIVE || ctl == CTL_UNKNOWN)
		silent = 0;
	if (ctl != r->health.ctl || silent / 1000 != r->health.ctl_silent_ms / 1000 || api != r->health.api_ok ||
	    met != r->health.metrics_ok || slow != r->health.metrics_degraded)
		r->pub.version++;
	r->health.ctl = ctl;
	r->health.ctl_silent_ms = silent;
	r->health.api_ok = api;
	r->health.metrics_ok = met;
	r->health.metrics_degraded = slow;
}

void
rn_observe(struct runner *r)
{
	int64_t now = rn_now_ms(r);
	size_t i;

	if (r->watch.tail == NULL)
		r->watch.tail = xcalloc(HIST_EVENTS, sizeof *r->watch.tail);
	if (r->cfg.observer)
		observe_list(r);
	rn_retake_all(r, now);
	for (i = 0; i < r->tab.n; i++) {
		if (r->tab.cs[i]->cfg->driven_by != NULL) {	/* also in watch mode */
			if (r->tab.cs[i]->ctl.removed)
				continue;	/* its Canary was deleted */
			refresh_external(r, r->tab.cs[i], r->watch.tail);
			rn_external_metrics(r, r->tab.cs[i], now);
			continue;
		}
		if (r->tab.cs[i]->ctl.readonly && !r->tab.cs[i]->ctl.removed)
			refresh(r, r->tab.cs[i], r->watch.tail);
	}
	if (r->cfg.observer) {
		pthread_mutex_lock(&r->mu);
		liveness(r);
		pthread_mutex_unlock(&r->mu);
	}
}
