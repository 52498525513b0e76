/*
 * runner_apply.c — saving and acting on a tick's or a command's result
 * (see runner_int.h):
 *
 *   1. the new status (with the intended actions implied by it) is SAVED
 *      first (write-ahead); if the save fails, the tick is dropped whole and
 *      retried at the next interval, nothing is executed;
 *   2. events and check results go to the journal, sink(), the cluster's
 *      event recorder and the event webhooks; alerts to the alert backend
 *      (runner_journal.c);
 *   3. the actions run: routes are set to ABSOLUTE weights and scaling is a
 *      desired state, so running them twice changes nothing;  a promotion is
 *      guarded by a saved marker: the status says "promoting revision X"
 *      (phase Promoting/Finalising/Succeeded with last_promoted != X) before
 *      the call, and last_promoted := X is saved right after it succeeds;
 *      a promotion is only issued while that marker says it is pending.
 *
 * Crash safety (kill -9 at any point), what a restart sees:
 *   - before the save: the old status; the tick runs again from the same
 *     state (no step was taken, none is taken twice);
 *   - after the save, before or during the actions: the new status; at start
 *     the runner re-applies the routes and scale that status implies
 *     (idempotent, rn_reconcile), and re-issues a promotion only while its
 *     marker is still pending.  The one window where a promotion call may
 *     be repeated is "promote returned, marker not yet saved";
 *     cluster_ops->promote must therefore be idempotent for the same
 *     revision (the backend leaves a primary that already runs it
 *     untouched), so there is never a second effective promotion.
 *   - events of a tick are journalled after its status: a crash between the
 *     two loses them (they are never duplicated); post-rollout hooks are
 *     called at most once for the same reason.
 *
 * Runner thread, no lock held (it takes mu to change what snapshots read).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"

/* Whether two statuses differ in anything but bookkeeping. */
static bool
status_changed(const struct canary_status *a, const struct canary_status *b)
{
	struct canary_status x = *a, y = *b;

	x.next_tick_ms = y.next_tick_ms = 0;
	x.last_transition_ms = y.last_transition_ms = 0;
	x.seq = y.seq = 0;
	return memcmp(&x, &y, sizeof x) != 0;
}

/* Saves c's status (when there is a store and we control it). */
int
rn_save(struct runner *r, struct rcan *c, const struct canary_status *st, char *err)
{
	int rc;

	err[0] = '\0';
	if (r->cfg.store == NULL || r->cfg.observer || !c->ctl.control)
		return ST_OK;
	rc = r->cfg.store->save(r->cfg.store_ctx, c->key, st, err);
	if (rc != ST_OK)
		c->run.store_failed = true;		/* the exit status says so */
	return rc;
}

void
rn_save_set(struct runner *r, struct rcan *c, const struct canary_status *st, int64_t now)
{
	char err[ERRMSG_MAX] = "";

	if (rn_save(r, c, st, err) != ST_OK)
		rn_publish_msg(r, c, SEV_ERROR, now, "cannot save state of %s: %s", c->key, err);
	pthread_mutex_lock(&r->mu);
	c->st = *st;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

static void
action_failed(struct runner *r, struct rcan *c, int64_t now, const char *what, int st,
    const char *err)
{
	rn_publish_msg(r, c, SEV_ERROR, now, "%s %s failed: %s", what, c->key,
	    err && err[0] ? err : status_text(st));
	c->run.reconcile = true;
}

static void
do_promote(struct runner *r, struct rcan *c, int64_t now)
{
	char err[ERRMSG_MAX] = "";
	struct canary_status st;
	int rc;

	if (!machine_promote_pending(&c->st))
		return;		/* the saved marker says it is done */
	rc = r->cfg.cluster->promote(r->cfg.cluster_ctx, c->cfg, err);
	if (rc != ST_OK) {
		action_failed(r, c, now, "promotion of", rc, err);
		return;
	}
	st = c->st;
	memcpy(st.last_promoted, st.last_applied, sizeof st.last_promoted);
	memcpy(st.promoted_name, st.applied_name, sizeof st.promoted_name);
	st.seq++;
	rn_save_set(r, c, &st, now);
}

/* Post-rollout hooks (reference §5.1: their answers change nothing) are
 * queued like notifications, one call each, for the notifier thread: slow
 * ones hold up neither the ticks nor the commands, and their answers come
 * back to this thread (post_answer, runner_journal.c).  Without a webhook client each is
 * reported as failed at once. */
static void
post_hooks(struct runner *r, struct rcan *c, enum phase phase, int64_t now)
{
	size_t i;

	if (r->cfg.webhook != NULL) {
		r->tick.post_batch++;
		for (i = 0; i < c->cfg->n_hooks; i++) {
			struct note n;

			if (c->cfg->hooks[i].type != HOOK_POST_ROLLOUT)
				continue;
			rn_note_init(&n, c, (int)i, phase, now);
			n.post = true;
			n.batch = r->tick.post_batch;
			rn_note_queue(r, &n);
		}
		return;
	}
	obs_reset(&r->tick.obs, c->cfg->n_hooks, c->cfg->n_metrics);
	rn_gather_hooks(r, c, HOOK_POST_ROLLOUT, phase);
	memset(&r->tick.post, 0, sizeof r->tick.post);
	r->tick.post.st = c->st;
	machine_post_hook_events(c->cfg, r->tick.obs.hooks, &r->tick.post);
	for (i = 0; i < r->tick.post.n_ev; i++)
		rn_publish_event(r, c, &r->tick.post.ev[i], now);
}

/* c cannot be driven (its configuration, or a cluster without the means
 * its provider needs): said once, as an Error event and in its reason, and
 * never acted on again; a headless run ends with it as a failure instead
 * of warning at every tick. */
void
rn_refuse_canary(struct runner *r, struct rcan *c, int64_t now, const char *why)
{
	char msg[ERRMSG_MAX + 64];

	if (c->ctl.refused)
		return;
	snprintf(msg, sizeof msg, "cannot drive %s: %s", c->key, why);
	pthread_mutex_lock(&r->mu);
	c->ctl.refused = true;
	c->run.reconcile = false;
	sanitize(c->ctl.err, sizeof c->ctl.err, msg, strlen(msg));
	rn_heap_remove(r, c);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	log_error("%s", msg);
	rn_publish_msg(r, c, SEV_ERROR, now, "%s", msg);
}

static void
execute(struct runner *r, struct rcan *c, const struct action *a, int64_t now)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	char err[ERRMSG_MAX] = "";
	int rc;

	if (c->ctl.refused)
		return;		/* an earlier action found it cannot be driven */
	switch (a->kind) {
	case ACT_SET_ROUTES:
		rc = cl->set_routes(r->cfg.cluster_ctx, c->cfg, &a->routes, err);
		if (rc == ST_UNSUPPORTED)
			rn_refuse_canary(r, c, now, err[0] ? err : status_text(rc));
		else if (rc != ST_OK)
			action_failed(r, c, now, "setting routes of", rc, err);
		break;
	case ACT_SCALE_UP:
	case ACT_SCALE_DOWN:
		rc = cl->scale(r->cfg.cluster_ctx, c->cfg, a->kind == ACT_SCALE_UP, err);
		if (rc != ST_OK) {
			/* Flagger's text (reference §7.2); retried by rn_reconcile(). */
			rn_publish_msg(r, c, SEV_WARNING, now, "scaling %s canary %s %s.%s failed: %s",
			    a->kind == ACT_SCALE_UP ? "up" : "down",
			    c->cfg->target_kind ? c->cfg->target_kind : "Deployment",
			    c->cfg->target ? c->cfg->target : "", c->cfg->ns ? c->cfg->ns : "",
			    err[0] ? err : status_text(rc));
			c->run.reconcile = true;
		}
		break;
	case ACT_PROMOTE:
		do_promote(r, c, now);
		break;
	case ACT_POST_HOOKS:
		post_hooks(r, c, a->hook_phase, now);
		break;
	}
}

/* Re-applies what the saved status implies (after a restart or a failed
 * action): absolute routes and the desired scale.  Idempotent. */
void
rn_reconcile(struct runner *r, struct rcan *c, int64_t now)
{
	struct action a;

	c->run.reconcile = false;
	if (c->st.phase == PHASE_INITIALIZING)
		return;
	memset(&a, 0, sizeof a);
	a.kind = ACT_SET_ROUTES;
	a.routes = machine_routes(&c->st);
	execute(r, c, &a, now);
	a.kind = machine_scaled_up(&c->st) ? ACT_SCALE_UP : ACT_SCALE_DOWN;
	execute(r, c, &a, now);
}

static bool
run_active(enum phase p)
{
	return p != PHASE_INITIALIZING && p != PHASE_INITIALIZED && !phase_is_terminal(p);
}

/* What the screens read of a new status, set the same way for every
 * canary so that the controller's screens and its watchers' (which read the
 * saved status) show the same: whether it is held, what it waits for, the
 * names of its revisions, when the current revision's run began and how
 * the one before ended. */
static void
for_people(const struct rcan *c, const struct tick_out *out, struct canary_status *st,
    int64_t now)
{
	const struct canary_status *was = &c->st;

	if (!out->refused) {
		st->held = out->held && !phase_is_terminal(st->phase);
		st->gate = out->gate;
	}
	if (c->run.rev_id[0] && strcmp(c->run.rev_id, st->last_applied) == 0)
		snprintf(st->applied_name, sizeof st->applied_name, "%s", c->run.rev_image);
	else if (strcmp(was->last_applied, st->last_applied) != 0)
		st->applied_name[0] = '\0';	/* a revision whose image was not read */
	if (c->run.rev_id[0] && strcmp(c->run.rev_id, st->last_promoted) == 0)
		snprintf(st->promoted_name, sizeof st->promoted_name, "%s", c->run.rev_image);
	if (run_active(st->phase) && (!run_active(was->phase) ||
	    strcmp(was->last_applied, st->last_applied) != 0))
		st->run_since_ms = now;		/* a new run: its checks start here */
	if (phase_is_terminal(st->phase) && !phase_is_terminal(was->phase)) {
		st->last_phase = st->phase;
		st->last_end_ms = now;
		snprintf(st->last_reason, sizeof st->last_reason, "%s", st->reason);
	}
}

/* Saves, publishes and executes a tick's or a command's result (see the
 * top comment for the order).  false: the status could not be saved and
 * nothing was done (err says why). */
bool
rn_apply(struct runner *r, struct rcan *c, struct tick_out *out, int64_t now, char *err)
{
	struct canary_status st = out->st;
	size_t i;

	rn_grow_scratch(r, c->cfg);
	for_people(c, out, &st, now);
	if (status_changed(&c->st, &st) || out->n_acts > 0) {
		st.seq = c->st.seq + 1;
		st.last_transition_ms = now;
		if (rn_save(r, c, &st, err) != ST_OK) {
			rn_publish_msg(r, c, SEV_ERROR, now,
			    "cannot save state of %s: %s; the step is retried at the next interval",
			    c->key, err);
			pthread_mutex_lock(&r->mu);
			c->st.next_tick_ms = now + rn_interval_ms(c->cfg);
			pthread_mutex_unlock(&r->mu);
			return false;
		}
	}
	pthread_mutex_lock(&r->mu);
	if (c->st.phase != st.phase || strcmp(c->st.last_applied, st.last_applied) != 0)
		c->seen.ready_known[0] = c->seen.ready_known[1] = false;
	c->st = st;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < out->n_ev; i++)
		rn_publish_event(r, c, &out->ev[i], now);
	for (i = 0; i < out->n_checks; i++)
		rn_publish_check(r, c, &out->checks[i], now);
	if (out->compare.done)
		rn_publish_compare(r, c, &out->compare, now);
	for (i = 0; i < out->n_alerts; i++)
		rn_queue_alert(r, c, &out->alerts[i], now);
	for (i = 0; i < out->n_acts; i++)
		execute(r, c, &out->acts[i], now);
	return true;
}
