/*
 * runner_journal.c — what a canary's events and check results become
 * (see runner_int.h): its history for the screens, a record in the sink
 * (headless output) and in the store's journal, notifications to the
 * cluster's event recorder and the event webhooks (queued for the
 * notifier), alerts; and the notifier's answers taken back on the runner
 * thread.  Events of a tick are journalled after its status
 * (runner_apply.c): a crash between the two loses them, it never
 * duplicates them.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/status.h"

static void
rec_status(struct journal_rec *rec, const struct rcan *c, int64_t t)
{
	memset(rec, 0, sizeof *rec);
	rec->time_ms = t;
	snprintf(rec->canary, sizeof rec->canary, "%s", c->key);
	rec->phase = c->st.phase;
	rec->weight = c->st.canary_weight;
	rec->failed_checks = c->st.failed_checks;
	rec->iteration = c->st.iterations;
}

/* The answer of a journal append: a failure is an Error event once (the
 * event itself cannot be journalled either, and says so), and a journal
 * that works again says how many records it lost.  ST_AGAIN is a store
 * that keeps what it could not write and tries again (the cluster's): not
 * lost, but still a failure of the store.  Either way the run's exit
 * status says the store failed (runner_outcome). */
static void
journal_answer(struct runner *r, struct rcan *c, int rc, const char *err, int64_t t)
{
	unsigned long lost;

	if (rc != ST_OK) {
		c->run.journal_lost += rc != ST_AGAIN;
		if (c->run.journal_failing)
			return;
		c->run.journal_failing = true;
		c->run.store_failed = true;
		rn_publish_msg(r, c, SEV_ERROR, t, "cannot write the journal of %s: %s; %s", c->key,
		    err[0] ? err : status_text(rc), rc == ST_AGAIN ? "its records are kept and "
		    "written when it can" : "events and check results are not saved");
		return;
	}
	if (!c->run.journal_failing)
		return;
	lost = c->run.journal_lost;
	c->run.journal_failing = false;
	c->run.journal_lost = 0;
	if (lost == 0)
		rn_publish_msg(r, c, SEV_WARNING, t, "the journal of %s is written again", c->key);
	else
		rn_publish_msg(r, c, SEV_WARNING, t, "the journal of %s is written again; %lu record%s "
		    "could not be saved", c->key, lost, lost == 1 ? "" : "s");
}

/* One record to the sink (headless output) and, when we control the
 * canary, to the store's journal.  rec is r->tick.rec: used up before any
 * event about the journal itself is published. */
static void
journal(struct runner *r, struct rcan *c, const struct journal_rec *rec)
{
	char err[ERRMSG_MAX] = "";
	int64_t t = rec->time_ms;
	int rc;

	if (r->cfg.sink != NULL)
		r->cfg.sink(r->cfg.sink_arg, rec);
	if (r->cfg.store == NULL || r->cfg.store->append == NULL || !c->ctl.control ||
	    r->cfg.observer)
		return;
	rc = r->cfg.store->append(r->cfg.store_ctx, rec, err);
	journal_answer(r, c, rc, err, t);
}

/* Records one event: history (under mu), journal, sink, cluster, hooks. */
void
rn_publish_event(struct runner *r, struct rcan *c, const struct mach_event *e, int64_t t)
{
	struct journal_rec *rec = &r->tick.rec;
	char msg[MACH_MSG_MAX];
	size_t i;

	rn_clean(msg, sizeof msg, e->message);
	pthread_mutex_lock(&r->mu);
	rn_hist_event(c, t, e->sev, msg, e->actor, true);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.observer)
		return;
	if (r->cfg.store != NULL || r->cfg.sink != NULL) {
		rec_status(rec, c, t);
		rec->kind = REC_EVENT;
		rec->severity = e->sev;
		snprintf(rec->type, sizeof rec->type, "%s", severity_name(e->sev));
		snprintf(rec->reason, sizeof rec->reason, "%s", e->reason);
		snprintf(rec->message, sizeof rec->message, "%s", msg);
		rn_clean(rec->actor, sizeof rec->actor, e->actor);
		journal(r, c, rec);
	}
	if (r->cfg.cluster->emit_event != NULL)
		rn_note_push(r, c, -1, e, t, msg);
	for (i = 0; r->cfg.webhook != NULL && i < c->cfg->n_hooks; i++)
		if (c->cfg->hooks[i].type == HOOK_EVENT)
			rn_note_push(r, c, (int)i, e, t, msg);
}

void
rn_publish_msg(struct runner *r, struct rcan *c, enum severity sev, int64_t t, const char *fmt, ...)
{
	struct mach_event e;
	va_list ap;

	memset(&e, 0, sizeof e);
	e.sev = sev;
	snprintf(e.reason, sizeof e.reason, "Engine");
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	rn_publish_event(r, c, &e, t);
}

void
rn_publish_check(struct runner *r, struct rcan *c, const struct mach_check *ch, int64_t t)
{
	const struct metric_cfg *m = &c->cfg->metrics[ch->metric];
	struct journal_rec *rec = &r->tick.rec;

	pthread_mutex_lock(&r->mu);
	rn_hist_point(c, ch->metric, t, ch);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.store == NULL && r->cfg.sink == NULL)
		return;
	rec_status(rec, c, t);
	rec->kind = REC_CHECK;
	snprintf(rec->metric, sizeof rec->metric, "%s", m->name);
	rec->value = ch->value;
	rec->has_value = ch->has_value;
	rec->has_min = m->has_min;
	rec->has_max = m->has_max;
	rec->min = m->min;
	rec->max = m->max;
	rec->result = ch->result;
	rec->has_volume = ch->has_volume;
	rec->volume = ch->volume;
	journal(r, c, rec);
}

void
rn_publish_compare(struct runner *r, struct rcan *c, const struct compare_result *cr, int64_t t)
{
	struct journal_rec *rec = &r->tick.rec;
	size_t i;

	pthread_mutex_lock(&r->mu);
	c->hist.compare = *cr;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.store == NULL && r->cfg.sink == NULL)
		return;
	for (i = 0; i <= cr->n; i++) {
		rec_status(rec, c, t);
		rec->canary_median = rec->primary_median = rec->effect = NAN;
		if (i < cr->n) {
			rec->kind = REC_COMPARE;
			snprintf(rec->metric, sizeof rec->metric, "%s", cr->m[i].name);
			rec->judge_class = cr->m[i].classification;
			rec->canary_median = cr->m[i].canary_median;
			rec->primary_median = cr->m[i].primary_median;
			rec->effect = cr->m[i].effect;
			rec->n_canary = cr->m[i].n_canary;
			rec->n_primary = cr->m[i].n_primary;
			memcpy(rec->canary_samples, cr->m[i].canary, sizeof rec->canary_samples);
			memcpy(rec->primary_samples, cr->m[i].primary, sizeof rec->primary_samples);
			snprintf(rec->message, sizeof rec->message, "%s", cr->m[i].reason);
		} else {
			rec->kind = REC_SCORE;
			rec->value = cr->score;
			rec->has_value = true;
			rec->verdict = cr->verdict;
			snprintf(rec->message, sizeof rec->message, "%s", cr->reason);
		}
		journal(r, c, rec);
	}
}

/* Queues an alert for every analysis.alerts entry that wants its severity
 * (without entries nothing is sent: perch has no global notifier). */
void
rn_queue_alert(struct runner *r, struct rcan *c, const struct mach_alert *a, int64_t t)
{
	size_t j;

	if (r->cfg.alert == NULL || r->cfg.observer)
		return;
	for (j = 0; j < c->cfg->n_alerts; j++) {
		struct note n;

		if (!machine_alert_wanted(c->cfg->alerts[j].severity, a->sev))
			continue;
		rn_note_init(&n, c, -1, c->st.phase, t);
		n.alert = (int)j;
		n.meta = a->metadata;
		n.asev = a->sev;
		rn_clean(n.msg, sizeof n.msg, a->message);
		rn_note_queue(r, &n);
	}
}

/* A post-rollout hook's answer (runner thread, not inside a tick: it uses
 * the tick's scratch space): the hook's state and its events. */
static void
post_answer(struct runner *r, const struct nres *x)
{
	struct rcan *c = x->c;
	const struct canary_cfg *cfg = c->cfg;
	size_t i;

	pthread_mutex_lock(&r->mu);
	c->hist.hooks[x->hook].last = x->res.ok ? CHECK_PASS : CHECK_FAIL;
	sanitize(c->hist.hooks[x->hook].msg, sizeof c->hist.hooks[x->hook].msg, x->res.msg,
	    strlen(x->res.msg));
	pthread_mutex_unlock(&r->mu);
	obs_reset(&r->tick.obs, cfg->n_hooks, cfg->n_metrics);
	r->tick.obs.hooks[x->hook].called = true;
	r->tick.obs.hooks[x->hook].r = x->res;
	memset(&r->tick.post, 0, sizeof r->tick.post);
	r->tick.post.st = c->st;
	machine_post_hook_events(cfg, r->tick.obs.hooks, &r->tick.post);
	for (i = 0; i < r->tick.post.n_ev; i++)
		rn_publish_event(r, c, &r->tick.post.ev[i], x->t);
}

/* Publishes what the notifier handed back (runner thread, mu held on entry
 * and exit, released while publishing). */
void
rn_take_results(struct runner *r, int64_t now)
{
	struct nres *res = r->nt.res;
	size_t n = r->nt.res_n, cap = r->nt.res_cap, i;

	r->nt.res = NULL;
	r->nt.res_n = r->nt.res_cap = 0;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < n; i++) {
		if (res[i].gen != res[i].c->ctl.gen)
			continue;	/* for a configuration replaced since */
		if (res[i].post)
			post_answer(r, &res[i]);
		else
			rn_publish_msg(r, res[i].c, SEV_WARNING, now, "%s", res[i].msg);
	}
	pthread_mutex_lock(&r->mu);
	if (r->nt.res == NULL) {		/* keep the larger buffer */
		r->nt.res = res;
		r->nt.res_cap = cap;
	} else {
		free(res);
	}
}
