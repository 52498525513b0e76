/*
 * machine_command.c — manual commands (DESIGN.md §5; see machine.h):
 * each judged on the facts of its canary (engine/command.h), refused whole
 * with the reason or done whole, with an event naming who gave it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"

static void cmd_ev(struct tk *k, const char *actor, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void refuse(struct tk *k, enum command_kind cmd, const char *actor, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
refuse(struct tk *k, enum command_kind cmd, const char *actor, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	/* Refused whole: the status, actions and events of any partial work
	 * are dropped. */
	k->o->st = *k->in->st;
	k->o->n_acts = 0;
	k->o->n_ev = 0;
	k->o->n_alerts = 0;
	k->o->refused = true;
	k->o->tick_now = false;
	snprintf(k->o->answer, sizeof k->o->answer, "%s %s refused: %s", k->c->name,
	    command_name(cmd), why);
	if (k->o->n_ev < MACH_MAX_EVENTS) {
		struct mach_event *e = &k->o->ev[k->o->n_ev++];

		e->sev = SEV_WARNING;
		snprintf(e->reason, sizeof e->reason, "Refused");
		snprintf(e->actor, sizeof e->actor, "%s", actor);
		snprintf(e->message, sizeof e->message, "Refused %s from %.95s: %.250s",
		    command_name(cmd), actor, why);
	}
}

static void
cmd_ev(struct tk *k, const char *actor, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mk_add_event(k, SEV_NORMAL, "Command", actor, fmt, ap);
	va_end(ap);
}

/* " (3 of 5 checks failed, last: request-duration 681ms > 500ms)" of a
 * command that bypasses the analysis, for its event. */
static void
health_words(const struct tk *k, char *out, size_t outsz)
{
	const struct canary_status *st = k->st;

	if (st->failed_checks == 0)
		snprintf(out, outsz, " (no check had failed)");
	else if (st->last_failure[0] != '\0')
		snprintf(out, outsz, " (%d of %d checks failed, last: %s)", st->failed_checks,
		    k->c->threshold, st->last_failure);
	else
		snprintf(out, outsz, " (%d of %d checks failed)", st->failed_checks, k->c->threshold);
}

/* Records who bypassed the analysis and how the canary stood then. */
static void
set_override(struct tk *k, enum override_kind o, const char *actor)
{
	struct canary_status *st = k->st;

	st->override = o;
	snprintf(st->override_by, sizeof st->override_by, "%s", actor);
	st->override_ms = k->now;
	st->override_failed = st->failed_checks;
	st->override_threshold = k->c->threshold;
}

static void
cmd_promote_step(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;

	(void)cmd;
	cmd_ev(k, actor, "Promote one step requested by %s", actor);
	mk_advance(k, true);
	if (st->phase == PHASE_PROMOTING)
		snprintf(k->o->answer, sizeof k->o->answer, "%s promoting revision %s", k->c->name,
		    mk_rev_label(k, st->last_applied, label));
	else
		mk_strategy_of(k->c)->step_words(k, k->o->answer, sizeof k->o->answer);
}

static void
cmd_promote_full(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX], health[sizeof k->st->last_failure + 64];

	(void)cmd;
	health_words(k, health, sizeof health);
	cmd_ev(k, actor, "Full promotion of revision %s requested by %s: skipping the remaining "
	    "steps and analysis%s", mk_rev_label(k, k->st->last_applied, label), actor, health);
	k->st->paused = false;
	set_override(k, OVR_FORCED, actor);
	mk_promote_now(k);
	snprintf(k->o->answer, sizeof k->o->answer, "%s promoting revision %s", k->c->name,
	    mk_rev_label(k, k->st->last_applied, label));
}

static void
cmd_pause(struct tk *k, enum command_kind cmd, const char *actor)
{
	struct canary_status *st = k->st;

	st->paused = cmd == CMD_PAUSE;
	if (st->paused) {
		cmd_ev(k, actor, "Paused by %s at canary weight %d", actor, st->canary_weight);
		mk_set_reason(k, "paused by %s", actor);
	} else {
		cmd_ev(k, actor, "Resumed by %s at canary weight %d", actor, st->canary_weight);
		st->reason[0] = '\0';
	}
	snprintf(k->o->answer, sizeof k->o->answer, "%s %s at canary weight %d", k->c->name,
	    st->paused ? "paused" : "resumed", st->canary_weight);
}

static void
cmd_rollback(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX];
	char reason[160];

	(void)cmd;
	cmd_ev(k, actor, "Rollback of revision %s requested by %s",
	    mk_rev_label(k, k->st->last_applied, label), actor);
	snprintf(reason, sizeof reason, "rolled back by %s", actor);
	/* perch: a manual rollback is announced like a rollback webhook's. */
	mk_alert(k, ALERT_WARN, false, "Rolling back manual command invoked by %s", actor);
	mk_rollback(k, reason);
	snprintf(k->o->answer, sizeof k->o->answer, "%s rolled back", k->c->name);
}

static void
cmd_retry(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX];
	char rev[sizeof k->st->failed_revision];

	(void)cmd;
	mk_copy_id(rev, sizeof rev, k->st->failed_revision);
	mk_rev_label(k, rev, label);
	cmd_ev(k, actor, "Retry of revision %s requested by %s", label, actor);
	mk_start_run(k, rev);
	snprintf(k->o->answer, sizeof k->o->answer, "%s retrying revision %s", k->c->name, label);
}

static void
cmd_skip(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX], health[sizeof k->st->last_failure + 64];

	(void)cmd;
	health_words(k, health, sizeof health);
	k->st->skip_requested = true;
	k->st->approved |= CONFIRM_ROLLOUT;
	k->st->paused = false;
	k->o->tick_now = true;
	set_override(k, OVR_SKIPPED, actor);
	cmd_ev(k, actor, "Skip analysis of revision %s requested by %s%s",
	    mk_rev_label(k, k->st->last_applied, label), actor, health);
	snprintf(k->o->answer, sizeof k->o->answer, "%s skipping analysis: promoted once its pods "
	    "are ready", k->c->name);
}

static void
cmd_approve(struct tk *k, enum command_kind cmd, const char *actor)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;
	unsigned gate = st->phase == PHASE_WAITING ? CONFIRM_ROLLOUT : CONFIRM_PROMOTION;

	(void)cmd;
	st->approved |= gate;
	k->o->tick_now = true;
	mk_rev_label(k, st->last_applied, label);
	cmd_ev(k, actor, "Revision %s approved for %s by %s", label,
	    gate == CONFIRM_ROLLOUT ? "rollout" : "promotion", actor);
	snprintf(k->o->answer, sizeof k->o->answer, "%s revision %s approved for %s", k->c->name,
	    label, gate == CONFIRM_ROLLOUT ? "rollout" : "promotion");
}

/* What each command does; who may give it and when is COMMAND_LIST's
 * (engine/canary.h, judged by engine/command.c).  A new command is a row
 * there and a row here. */
static const struct {
	void (*run)(struct tk *k, enum command_kind cmd, const char *actor);
	bool bake;		/* a step or a new run: the next tick is one
				 * interval away (a new bake time) */
} commands[CMD__COUNT] = {
	[CMD_PROMOTE_STEP] = { cmd_promote_step, true },
	[CMD_PROMOTE_FULL] = { cmd_promote_full, true },
	[CMD_PAUSE]        = { cmd_pause, false },
	[CMD_RESUME]       = { cmd_pause, false },
	[CMD_ROLLBACK]     = { cmd_rollback, true },
	[CMD_RETRY]        = { cmd_retry, true },
	[CMD_SKIP]         = { cmd_skip, false },
	[CMD_APPROVE]      = { cmd_approve, false },
};

static void
facts_ready(const struct canary_cfg *c, bool primary, const struct readiness *r,
    enum ready_state *state, char *why, size_t whysz)
{
	*state = r == NULL ? READY_UNKNOWN : r->ready ? READY_YES : READY_NO;
	why[0] = '\0';
	if (r != NULL && !r->ready)
		mk_not_ready_words(c, primary, r, why, whysz);
}

void
machine_facts(const struct canary_cfg *c, const struct canary_status *st, unsigned confirm,
    const struct readiness *primary, const struct readiness *canary, const char *target_rev,
    struct cmd_facts *f)
{
	unsigned conf = confirm | c->confirm;

	memset(f, 0, sizeof *f);
	f->phase = st->phase;
	f->control = true;
	f->paused = st->paused;
	f->skip_requested = st->skip_requested;
	if (st->phase == PHASE_WAITING && (conf & CONFIRM_ROLLOUT) &&
	    !(st->approved & CONFIRM_ROLLOUT))
		f->manual_gate = CONFIRM_ROLLOUT;
	else if (st->phase == PHASE_WAITING_PROMOTION && (conf & CONFIRM_PROMOTION) &&
	    !(st->approved & CONFIRM_PROMOTION))
		f->manual_gate = CONFIRM_PROMOTION;
	f->pre_rollout_pending = st->phase == PHASE_PROGRESSING && mk_at_first_step_of(c, st) &&
	    mk_has_hooks(c, HOOK_PRE_ROLLOUT);
	f->promotion_next = st->phase == PHASE_PROGRESSING && mk_strategy_of(c)->promotion_next(c, st);
	f->promotion_gated = ((conf & CONFIRM_PROMOTION) && !(st->approved & CONFIRM_PROMOTION)) ||
	    mk_has_hooks(c, HOOK_CONFIRM_PROMOTION);
	mk_copy_id(f->failed_rev, sizeof f->failed_rev, st->failed_revision);
	if (target_rev != NULL)
		mk_copy_id(f->target_rev, sizeof f->target_rev, target_rev);
	facts_ready(c, true, c->skip_analysis ? NULL : primary, &f->primary, f->primary_why,
	    sizeof f->primary_why);
	facts_ready(c, false, canary, &f->canary, f->canary_why, sizeof f->canary_why);
}

/* machine_facts of a command's input: its obs readiness and revision. */
static void
input_facts(const struct tk *k, struct cmd_facts *f)
{
	const struct obs *o = k->ob;
	bool rev = o != NULL && mk_have(k, NEED_REVISION) && o->rev_status == 0;

	machine_facts(k->c, k->in->st, k->in->confirm,
	    o != NULL && mk_have(k, NEED_PRIMARY) ? &o->primary : NULL,
	    o != NULL && mk_have(k, NEED_CANARY) ? &o->canary : NULL,
	    rev ? o->rev.id : NULL, f);
}

void
machine_command(const struct tick_in *in, enum command_kind cmd, const char *actor,
    struct tick_out *out)
{
	struct tk k;
	struct cmd_facts own;
	const struct cmd_facts *f = in->facts;
	int64_t next = in->st->next_tick_ms;
	char why[400];

	mk_init(&k, in, out);
	out->st.next_tick_ms = next;
	if (actor == NULL || actor[0] == '\0')
		actor = "unknown";
	if (f == NULL) {
		input_facts(&k, &own);
		f = &own;
	}
	if (!command_allowed(cmd, f, why, sizeof why, NULL)) {
		refuse(&k, cmd, actor, "%s", why);
		return;
	}
	if ((int)cmd < 0 || cmd >= CMD__COUNT || commands[cmd].run == NULL) {
		refuse(&k, cmd, actor, "unknown command");
		return;
	}
	commands[cmd].run(&k, cmd, actor);
	if (out->refused)
		return;
	/* A step or a new run starts a new bake time; a gate opened or a skip
	 * acts at once. */
	if (out->tick_now)
		out->st.next_tick_ms = in->now_ms;
	else if (commands[cmd].bake)
		out->st.next_tick_ms = in->now_ms + (int64_t)(in->cfg->interval_s > 0 ? in->cfg->interval_s : 60) * 1000;
}
