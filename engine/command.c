/*
 * command.c — the judge of manual commands (see command.h): COMMAND_LIST's
 * phases and preconditions, each precondition a row of one table with its
 * test and the words of its refusal.
 */
#include <stdio.h>
#include <string.h>

#include "engine/command.h"

static const struct {
	unsigned phases, pre;
	bool asks;
} commands[CMD__COUNT] = {
#define X(id, text, help, phases, pre, asks) [CMD_##id] = { phases, pre, asks },
	COMMAND_LIST(X)
#undef X
};

static const char *const precond_texts[] = {
#define X(id, text) text,
	PRECOND_LIST(X)
#undef X
};

unsigned
command_phases(enum command_kind c)
{
	return (int)c >= 0 && c < CMD__COUNT ? commands[c].phases : 0;
}

unsigned
command_preconds(enum command_kind c)
{
	return (int)c >= 0 && c < CMD__COUNT ? commands[c].pre : 0;
}

bool
command_asks(enum command_kind c)
{
	return (int)c >= 0 && c < CMD__COUNT && commands[c].asks;
}

const char *
precond_text(enum precond p)
{
	return (int)p >= 0 && p < PRE__COUNT ? precond_texts[p] : "?";
}

/* ---- the phase -------------------------------------------------------- */

/* What a command cannot do outside its phases ("... (it is Waiting)"). */
static const char *const phase_words[CMD__COUNT] = {
	[CMD_PROMOTE_STEP] = "no step to promote",
	[CMD_PROMOTE_FULL] = "nothing to promote",
	[CMD_PAUSE] = "only a progressing canary can be paused",
	[CMD_RESUME] = "only a progressing canary can be resumed",
	[CMD_ROLLBACK] = "nothing to roll back",
	[CMD_RETRY] = "only a failed canary can be retried",
	[CMD_SKIP] = "no analysis to skip",
	[CMD_APPROVE] = "nothing waits for approval",
};

/* Where a phase has more to say than the words above. */
static const struct {
	enum command_kind cmd;
	enum phase phase;
	const char *why;
} phase_hints[] = {
	{ CMD_PROMOTE_STEP, PHASE_WAITING_PROMOTION,
	    "at the last step, waiting for promotion approval: approve or promote fully" },
	{ CMD_PROMOTE_STEP, PHASE_WAITING,
	    "the revision has not started: approve it first" },
	{ CMD_PROMOTE_FULL, PHASE_WAITING,
	    "the revision has not started: approve it or skip analysis" },
	{ CMD_ROLLBACK, PHASE_PROMOTING, "the primary is already being promoted" },
	{ CMD_ROLLBACK, PHASE_FINALISING, "the primary is already being promoted" },
};

static void
phase_refusal(enum command_kind c, enum phase p, char *why, size_t whysz)
{
	size_t i;

	for (i = 0; i < sizeof phase_hints / sizeof phase_hints[0]; i++)
		if (phase_hints[i].cmd == c && phase_hints[i].phase == p) {
			snprintf(why, whysz, "%s", phase_hints[i].why);
			return;
		}
	snprintf(why, whysz, "%s (it is %s)", phase_words[c] ? phase_words[c] : "not now",
	    phase_name(p));
}

/* ---- a canary Flagger drives ----------------------------------------- */

#define HAS(f, h) (((f)->driven_hooks & (1u << HOOK_##h)) != 0)

/* What Flagger offers for each command (its gates, its spec): a key with
 * nothing to do says so, and how to get it. */
static bool
driven_allowed(enum command_kind c, const struct cmd_facts *f, char *why, size_t whysz,
    enum precond *failed)
{
	const char *no = NULL;

	if (failed != NULL)
		*failed = PRE_PHASE;
	switch (c) {
	case CMD_APPROVE:
		if (!HAS(f, CONFIRM_ROLLOUT) && !HAS(f, CONFIRM_PROMOTION) &&
		    !HAS(f, CONFIRM_TRAFFIC_INCREASE))
			no = "it has no confirm-rollout, confirm-promotion or confirm-traffic-increase "
			    "webhook to open; add one served by the load tester, e.g. {name: approve, "
			    "type: confirm-promotion, url: http://flagger-loadtester.test/gate/check}";
		break;
	case CMD_PROMOTE_STEP:
		if (!HAS(f, CONFIRM_TRAFFIC_INCREASE))
			no = "Flagger moves one step only through a confirm-traffic-increase gate; add "
			    "{name: step, type: confirm-traffic-increase, url: "
			    "http://flagger-loadtester.test/gate/check} to analysis.webhooks";
		break;
	case CMD_ROLLBACK:
		if (!HAS(f, ROLLBACK))
			no = "it has no rollback webhook, and Flagger rolls back by hand only through one; "
			    "add {name: rollback, type: rollback, url: "
			    "http://flagger-loadtester.test/rollback/check} to analysis.webhooks";
		break;
	case CMD_SKIP:
		no = "Flagger has no skip of its own here: P promotes fully (its confirm-promotion "
		    "gate, or spec.skipAnalysis)";
		break;
	default:
		break;
	}
	if (no != NULL) {
		snprintf(why, whysz, "unavailable: %s", no);
		return false;
	}
	return true;
}

/* ---- the preconditions ------------------------------------------------ */

typedef bool precond_fn(const struct cmd_facts *f, char *why, size_t whysz);

static bool
pre_control(const struct cmd_facts *f, char *why, size_t whysz)
{
	if ((f->control || f->requestable) && !f->watch && !f->corrupt && !f->deleted && !f->refused)
		return true;
	if (f->watch)
		snprintf(why, whysz, "read-only: perch watch cannot change rollouts");
	else if (f->refused)
		snprintf(why, whysz, "%s", f->refused_why[0] ? f->refused_why :
		    "perch cannot drive this canary");
	else if (f->deleted)
		snprintf(why, whysz, "its Canary was deleted: no longer controlled");
	else if (f->corrupt)
		snprintf(why, whysz, "read-only: corrupted state (repair or remove it to take control)");
	else
		snprintf(why, whysz, "read-only: controlled by %s",
		    f->holder[0] ? f->holder : "another perch");
	return false;
}

static bool
pre_phase(const struct cmd_facts *f, char *why, size_t whysz)
{
	(void)f, (void)why, (void)whysz;
	return true;	/* judged with the command's phases, before this table */
}

static bool
pre_not_paused(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (!f->paused)
		return true;
	snprintf(why, whysz, "already paused");
	return false;
}

static bool
pre_paused(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (f->paused)
		return true;
	snprintf(why, whysz, "not paused");
	return false;
}

static bool
pre_no_skip(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (!f->skip_requested)
		return true;
	snprintf(why, whysz, "skipping analysis was already requested");
	return false;
}

static bool
pre_manual_gate(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (f->manual_gate != 0)
		return true;
	snprintf(why, whysz, "no manual gate is waiting (a webhook holds it)");
	return false;
}

static bool
pre_failed_rev(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (f->failed_rev[0] == '\0') {
		snprintf(why, whysz, "no failed revision to retry");
		return false;
	}
	if (f->target_rev[0] != '\0' && strcmp(f->target_rev, f->failed_rev) != 0) {
		snprintf(why, whysz, "the target runs revision %s now, not the failed %s",
		    f->target_rev, f->failed_rev);
		return false;
	}
	return true;
}

static bool
pre_pre_rollout(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (!f->pre_rollout_pending)
		return true;
	/* Stepping now would send traffic before the pre-rollout checks
	 * (reference §5.1), and they would never run. */
	snprintf(why, whysz, "the pre-rollout checks have not run yet: the next check runs them");
	return false;
}

static bool
pre_traffic_gate(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (!f->traffic_gate)
		return true;
	snprintf(why, whysz, "a confirm-traffic-increase webhook holds the weight: it must "
	    "approve the next step first");
	return false;
}

static bool
pre_promotion_gate(const struct cmd_facts *f, char *why, size_t whysz)
{
	if (!(f->promotion_next && f->promotion_gated))
		return true;
	snprintf(why, whysz, "the next step is the promotion, which waits for approval: "
	    "approve it at the gate or promote fully");
	return false;
}

static bool
pre_ready(enum ready_state r, const char *what, char *why, size_t whysz)
{
	/* Unknown passes: the engine observes it before it acts. */
	if (r != READY_NO)
		return true;
	snprintf(why, whysz, "%s", what[0] ? what : "not ready");
	return false;
}

static bool
pre_primary_ready(const struct cmd_facts *f, char *why, size_t whysz)
{
	return pre_ready(f->primary, f->primary_why, why, whysz);
}

static bool
pre_canary_ready(const struct cmd_facts *f, char *why, size_t whysz)
{
	return pre_ready(f->canary, f->canary_why, why, whysz);
}

static precond_fn *const precond_fns[PRE__COUNT] = {
	[PRE_CONTROL] = pre_control,
	[PRE_PHASE] = pre_phase,
	[PRE_NOT_PAUSED] = pre_not_paused,
	[PRE_PAUSED] = pre_paused,
	[PRE_NO_SKIP] = pre_no_skip,
	[PRE_MANUAL_GATE] = pre_manual_gate,
	[PRE_FAILED_REV] = pre_failed_rev,
	[PRE_PRE_ROLLOUT] = pre_pre_rollout,
	[PRE_TRAFFIC_GATE] = pre_traffic_gate,
	[PRE_PROMOTION_GATE] = pre_promotion_gate,
	[PRE_PRIMARY_READY] = pre_primary_ready,
	[PRE_CANARY_READY] = pre_canary_ready,
};

bool
command_allowed(enum command_kind c, const struct cmd_facts *f, char *why, size_t whysz,
    enum precond *failed)
{
	char scratch[8];
	unsigned pre;
	int p;

	if (why == NULL || whysz == 0) {
		why = scratch;
		whysz = sizeof scratch;
	}
	why[0] = '\0';
	if ((int)c < 0 || c >= CMD__COUNT) {
		snprintf(why, whysz, "unknown command");
		return false;
	}
	if (f->driven && !f->watch)
		return driven_allowed(c, f, why, whysz, failed);
	pre = commands[c].pre;
	/* Control first: a read-only canary says so whatever its phase. */
	if ((pre & PRE(CONTROL)) && !pre_control(f, why, whysz)) {
		if (failed != NULL)
			*failed = PRE_CONTROL;
		return false;
	}
	if (!(commands[c].phases & (1u << f->phase))) {
		phase_refusal(c, f->phase, why, whysz);
		if (failed != NULL)
			*failed = PRE_PHASE;
		return false;
	}
	for (p = 0; p < PRE__COUNT; p++)
		if ((pre & (1u << p)) && !precond_fns[p](f, why, whysz)) {
			if (failed != NULL)
				*failed = (enum precond)p;
			return false;
		}
	return true;
}

/* ---- a skipped or forced promotion ------------------------------------ */

char *
override_text(const struct canary_status *st, char *out, size_t outsz)
{
	char checks[64];
	const char *by = st->override_by[0] ? st->override_by : "unknown";

	out[0] = '\0';
	if (st->override == OVR_NONE)
		return out;
	if (st->override_failed > 0)
		snprintf(checks, sizeof checks, "%d of %d checks failed", st->override_failed,
		    st->override_threshold);
	else
		snprintf(checks, sizeof checks, "no check had failed");
	if (st->override == OVR_SKIPPED && st->phase == PHASE_SUCCEEDED)
		snprintf(out, outsz, "promoted with analysis skipped by %s, %s", by, checks);
	else if (st->override == OVR_SKIPPED && st->phase == PHASE_FAILED)
		snprintf(out, outsz, "analysis skipped by %s, %s; the promotion failed", by, checks);
	else if (st->override == OVR_SKIPPED)
		snprintf(out, outsz, "analysis skipped by %s, %s: promoted once its pods are ready",
		    by, checks);
	else if (st->phase == PHASE_SUCCEEDED)
		snprintf(out, outsz, "promotion forced by %s, %s", by, checks);
	else if (st->phase == PHASE_FAILED)
		snprintf(out, outsz, "promotion forced by %s, %s; the promotion failed", by, checks);
	else
		snprintf(out, outsz, "promotion forced by %s, %s: promoting", by, checks);
	return out;
}
