/*
 * machine_trans.c — the transitions every part of a tick uses (see
 * machine_int.h): roll back, a failed promotion, start a run, promote, a
 * failed check (perch: the threshold-th one rolls back in the same tick),
 * and waiting for readiness within the progress deadline.
 */
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"

void
mk_clear_run(struct canary_status *st)
{
	st->canary_weight = 0;
	st->iterations = 0;
	st->mirrored = false;
	st->paused = false;
	st->hold_since_ms = 0;
	st->wait_since_ms = 0;
}

/* reference §2.10 mk_rollback(); perch: failed checks and the reason stay. */
void
mk_rollback(struct tk *k, const char *why)
{
	struct canary_status *st = k->st;
	char reason[sizeof st->reason];

	snprintf(reason, sizeof reason, "%s", why);	/* why may be st->reason */
	if (st->failed_checks >= k->c->threshold) {
		mk_ev(k, SEV_WARNING, "Rolling back %s failed checks threshold reached %d", mk_nn(k),
		    st->failed_checks);
		mk_alert(k, ALERT_ERROR, false, "Failed checks threshold reached %d", st->failed_checks);
	}
	mk_act_routes(k, 100, 0, false);
	mk_ev(k, SEV_WARNING, "Canary failed! Scaling down %s", mk_nn(k));
	mk_act(k, ACT_SCALE_DOWN, PHASE_FAILED);
	mk_set_phase(k, PHASE_FAILED);
	mk_clear_run(st);
	st->skip_requested = false;
	st->override = OVR_NONE;	/* nothing was promoted */
	mk_copy_id(st->failed_revision, sizeof st->failed_revision, st->last_applied);
	mk_set_reason(k, "%s", reason);
	mk_act(k, ACT_POST_HOOKS, PHASE_FAILED);
}

/* reference §2.9 handleFailedPromotion: users stay on the canary. */
void
mk_failed_promotion(struct tk *k, const char *msg)
{
	struct canary_status *st = k->st;

	mk_ev(k, SEV_WARNING, "Promotion of %s failed, primary not ready: %s", mk_tn(k), msg);
	mk_alert(k, ALERT_ERROR, false, "Promotion failed, primary not ready: %s", msg);
	mk_act_routes(k, 0, 100, false);
	mk_set_phase(k, PHASE_FAILED);
	mk_clear_run(st);
	st->canary_weight = 100;
	st->skip_requested = false;
	mk_copy_id(st->failed_revision, sizeof st->failed_revision, st->last_applied);
	mk_set_reason(k, "promotion failed, primary not ready: %s", msg);
	mk_act(k, ACT_POST_HOOKS, PHASE_FAILED);
}

/* A run starts: its last failure and any override of an earlier run are
 * forgotten (a skip given for the revision that starts now stays). */
void
mk_new_run_marks(struct canary_status *st)
{
	st->last_failure[0] = '\0';
	st->last_failure_ms = 0;
	if (!st->skip_requested)
		st->override = OVR_NONE;
}

/* A new run of revision `rev` (reference §2.3 step 17). */
void
mk_start_run(struct tk *k, const char *rev)
{
	struct canary_status *st = k->st;

	mk_ev(k, SEV_NORMAL, "New revision detected! Scaling up %s", mk_tn(k));
	mk_alert(k, ALERT_INFO, true, "New revision detected, progressing canary analysis.");
	/* perch: routes are reset (a failed promotion left them on the canary). */
	mk_act_routes(k, 100, 0, false);
	mk_act(k, ACT_SCALE_UP, PHASE_PROGRESSING);
	mk_set_phase(k, PHASE_PROGRESSING);
	mk_clear_run(st);
	st->failed_checks = 0;
	st->approved &= ~(unsigned)CONFIRM_PROMOTION;
	/* A skip named the revision it was given for (the waiting one). */
	if (strcmp(rev, st->last_applied) != 0)
		st->skip_requested = false;
	mk_new_run_marks(st);
	mk_copy_id(st->last_applied, sizeof st->last_applied, rev);
	st->reason[0] = '\0';
}

void
mk_promote_now(struct tk *k)
{
	mk_ev(k, SEV_NORMAL, "Copying %s template spec to %s-primary.%s", mk_tn(k), k->c->target,
	    k->c->ns);
	mk_act(k, ACT_PROMOTE, PHASE_PROMOTING);
	mk_set_phase(k, PHASE_PROMOTING);
	k->st->reason[0] = '\0';
}

/* perch: the failed check counts, and the threshold-th one rolls back in
 * the same tick. */
bool
mk_fail_check(struct tk *k, const char *why)
{
	char reason[sizeof k->st->reason];

	snprintf(reason, sizeof reason, "%s", why);	/* why may be st->reason */
	k->st->failed_checks++;
	mk_set_reason(k, "%s", reason);
	snprintf(k->st->last_failure, sizeof k->st->last_failure, "%s", k->st->reason);
	k->st->last_failure_ms = k->now;
	if (k->st->failed_checks >= k->c->threshold)
		mk_rollback(k, reason);
	return true;
}

/* Flagger's words for a workload that is not ready (reference §2.6). */
void
mk_not_ready_words(const struct canary_cfg *c, bool primary, const struct readiness *r, char *out,
    size_t outsz)
{
	const char *why = r->msg[0] ? r->msg : "not ready";

	if (primary)
		snprintf(out, outsz, "%s-primary.%s not ready: %s", c->target ? c->target : "",
		    c->ns ? c->ns : "", why);
	else	/* Flagger's DaemonSet words spell "damonset": perch does not */
		snprintf(out, outsz, "canary %s %s.%s not ready: %s", c->target_kind != NULL &&
		    strcmp(c->target_kind, "DaemonSet") == 0 ? "daemonset" : "deployment",
		    c->target ? c->target : "", c->ns ? c->ns : "", why);
}

/* A readiness wait; returns true (the tick stops). */
bool
mk_not_ready(struct tk *k, bool primary, const struct readiness *r)
{
	char msg[ERRMSG_MAX + 200];
	int64_t deadline = (int64_t)(k->c->progress_deadline_s > 0 ? k->c->progress_deadline_s : 600) * 1000;
	const char *why = r->msg[0] ? r->msg : "not ready";

	mk_not_ready_words(k->c, primary, r, msg, sizeof msg);
	mk_ev(k, SEV_WARNING, "%s", msg);
	if (k->st->wait_since_ms == 0)
		k->st->wait_since_ms = k->now;
	mk_set_reason(k, "%s", msg);
	if (r->retriable && k->now - k->st->wait_since_ms < deadline)
		return true;
	if (primary && (k->st->phase == PHASE_PROMOTING || k->st->phase == PHASE_FINALISING)) {
		mk_failed_promotion(k, why);
		return true;
	}
	mk_ev(k, SEV_WARNING, "Rolling back %s progress deadline exceeded %s", mk_nn(k), msg);
	/* perch: Flagger's alert for this is unreachable (reference §2.3
	 * step 24); perch sends it. */
	mk_alert(k, ALERT_ERROR, false, "Progress deadline exceeded %s", msg);
	mk_rollback(k, msg);
	return true;
}
