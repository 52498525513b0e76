/*
 * runner_hist.c — a canary's history for the screens (see runner_int.h):
 * the last values of each metric and the last events, in rings that grow
 * as they fill up to the canary's depth (smaller when there are thousands
 * of canaries, rn_hist_depth), and rebuilt from the journal for a canary
 * observed in the store.  Caller holds mu.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

void
rn_hist_point(struct rcan *c, size_t m, int64_t t, const struct mach_check *ch)
{
	struct rring_pts *ring = &c->hist.pts[m];
	struct rpoint *p;

	if (ring->cap < c->hist.max_pts && ring->n == ring->cap) {
		size_t ncap = ring->cap ? ring->cap * 2 : 8;

		if (ncap > c->hist.max_pts)
			ncap = c->hist.max_pts;
		ring->p = xreallocarray(ring->p, ncap, sizeof *ring->p);
		ring->cap = ncap;
	}
	if (ring->n < ring->cap) {
		p = &ring->p[(ring->head + ring->n) % ring->cap];
		ring->n++;
	} else {
		p = &ring->p[ring->head];
		ring->head = (ring->head + 1) % ring->cap;
	}
	p->t_ms = t;
	p->value = (float)(ch->has_value ? ch->value : 0);
	p->result = (unsigned char)ch->result;
}

/* is_clean: msg is already sanitized. */
void
rn_hist_event(struct rcan *c, int64_t t, enum severity sev, const char *msg, const char *actor,
    bool is_clean)
{
	struct revent *e;

	if (c->hist.ev_cap < c->hist.max_ev && c->hist.ev_n == c->hist.ev_cap) {
		size_t ncap = c->hist.ev_cap ? c->hist.ev_cap * 2 : 8;

		if (ncap > c->hist.max_ev)
			ncap = c->hist.max_ev;
		c->hist.ev = xreallocarray(c->hist.ev, ncap, sizeof *c->hist.ev);
		c->hist.ev_cap = ncap;
	}
	if (c->hist.ev_n < c->hist.ev_cap) {
		e = &c->hist.ev[(c->hist.ev_head + c->hist.ev_n) % c->hist.ev_cap];
		c->hist.ev_n++;
	} else {
		e = &c->hist.ev[c->hist.ev_head];
		free(e->msg);
		free(e->actor);
		c->hist.ev_head = (c->hist.ev_head + 1) % c->hist.ev_cap;
	}
	/* Exact sizes: 10,000 canaries' histories must stay small. */
	if (is_clean) {
		size_t len = strlen(msg);

		e->msg = xmalloc(len + 1);
		memcpy(e->msg, msg, len + 1);
	} else {
		e->msg = sanitize_dup(msg, MACH_MSG_MAX);
	}
	e->t_ms = t;
	e->sev = sev;
	e->actor = actor && actor[0] ? sanitize_dup(actor, 95) : NULL;
}

static void
hist_clear_events(struct rcan *c)
{
	size_t i;

	for (i = 0; i < c->hist.ev_n; i++) {
		struct revent *e = &c->hist.ev[(c->hist.ev_head + i) % c->hist.ev_cap];

		free(e->msg);
		free(e->actor);
	}
	c->hist.ev_n = c->hist.ev_head = 0;
}

void
rn_hist_events_from(struct rcan *c, const struct journal_rec *recs, size_t n)
{
	size_t i;

	hist_clear_events(c);
	for (i = 0; i < n; i++)
		if (recs[i].kind == REC_EVENT)
			rn_hist_event(c, recs[i].time_ms, recs[i].severity, recs[i].message,
			    recs[i].actor, false);
}

void
rn_hist_clear(struct rcan *c)
{
	size_t i;

	hist_clear_events(c);
	for (i = 0; c->cfg && i < c->cfg->n_metrics; i++)
		c->hist.pts[i].n = c->hist.pts[i].head = 0;
	c->hist.compare.done = false;
}

/* History depth of a canary when there are n of them (HIST_BUDGET). */
void
rn_hist_depth(struct rcan *c, size_t n)
{
	size_t ev = HIST_BUDGET / n, pts = HIST_BUDGET / n;

	c->hist.max_ev = (unsigned short)(ev > HIST_EVENTS ? HIST_EVENTS : ev < HIST_MIN ? HIST_MIN : ev);
	c->hist.max_pts = (unsigned short)(pts > HIST_POINTS ? HIST_POINTS : pts < HIST_MIN ? HIST_MIN : pts);
}

/* A compare record joins the comparison being read back (pending); a
 * score record ends it, and it becomes the last one shown. */
static void
hist_compare(struct rcan *c, struct compare_result *pending, const struct journal_rec *rec)
{
	struct compare_metric *m;

	if (rec->kind == REC_SCORE) {
		pending->done = true;
		pending->score = rec->value;
		pending->verdict = rec->verdict;
		sanitize(pending->reason, sizeof pending->reason, rec->message, strlen(rec->message));
		c->hist.compare = *pending;
		memset(pending, 0, sizeof *pending);
		return;
	}
	if (pending->n == COMPARE_MAX)
		return;
	m = &pending->m[pending->n++];
	m->metric = -1;
	sanitize(m->name, sizeof m->name, rec->metric, strlen(rec->metric));
	m->classification = rec->judge_class;
	m->canary_median = rec->canary_median;
	m->primary_median = rec->primary_median;
	m->effect = rec->effect;
	m->n_canary = rec->n_canary;
	m->n_primary = rec->n_primary;
	memcpy(m->canary, rec->canary_samples, sizeof m->canary);
	memcpy(m->primary, rec->primary_samples, sizeof m->primary);
	sanitize(m->reason, sizeof m->reason, rec->message, strlen(rec->message));
}

/* Rebuilds c's history from journal records.  Caller holds mu. */
void
rn_hist_from_journal(struct rcan *c, const struct journal_rec *recs, size_t n)
{
	struct compare_result pending;
	size_t i, m;

	rn_hist_clear(c);
	memset(&pending, 0, sizeof pending);
	for (i = 0; i < n; i++) {
		const struct journal_rec *rec = &recs[i];

		if (rec->kind == REC_EVENT) {
			rn_hist_event(c, rec->time_ms, rec->severity, rec->message, rec->actor, false);
			continue;
		}
		if (rec->kind == REC_COMPARE || rec->kind == REC_SCORE) {
			hist_compare(c, &pending, rec);
			continue;
		}
		for (m = 0; m < c->cfg->n_metrics; m++) {
			if (strcmp(c->cfg->metrics[m].name, rec->metric) == 0) {
				struct mach_check ch = { .metric = m, .result = rec->result,
					.has_value = rec->has_value, .value = rec->value };

				rn_hist_point(c, m, rec->time_ms, &ch);
				break;
			}
		}
	}
}
