/*
 * machine_tick.c — the tick of one canary (see machine.h).
 *
 * The tick follows Flagger's advanceCanary order (reference §2.3): suspend,
 * initialisation, new-revision detection, primary readiness, confirm-rollout
 * gate, restart on a newer revision, canary readiness, skip-analysis,
 * rollback hooks, promotion traffic shift, finalising, threshold, first step
 * (pre-rollout hooks only) or analysis (rollout hooks, then metrics,
 * machine_analysis.c), then the strategy's advance (canary weights,
 * blue/green or A/B iterations, machine_strategy.c) and the promotion gate.
 *
 * perch's differences (DESIGN.md §5) are marked "perch:" in these files:
 * rollback in the tick that reaches the threshold, inconclusive checks (no
 * data, low request volume) following the no-data policy, the failure
 * reason kept in the status, failed checks kept after a rollback, a
 * consistent weight in WaitingPromotion, manual gates and manual commands,
 * routes reset when a run starts, and a progress deadline on readiness
 * waits kept by the engine as well as by the backend.
 */
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"
#include "util/status.h"

static void
revision_error(struct tk *k)
{
	char kind[32];
	size_t i;

	snprintf(kind, sizeof kind, "%s", k->c->target_kind ? k->c->target_kind : "Deployment");
	for (i = 0; kind[i]; i++)
		if (kind[i] >= 'A' && kind[i] <= 'Z')
			kind[i] = (char)(kind[i] - 'A' + 'a');
	mk_ev(k, SEV_WARNING, "%s %s get query error: %s", kind, mk_tn(k),
	    k->ob->rev_err[0] ? k->ob->rev_err : "unknown revision");
}

static bool
tick_initializing(struct tk *k)
{
	struct canary_status *st = k->st;
	const char *id;

	if (!mk_have(k, NEED_INIT))
		return mk_ask(k, NEED_INIT);
	if (k->ob->init_status != 0) {
		mk_ev(k, SEV_WARNING, "%s", k->ob->init_err[0] ? k->ob->init_err : "initialization failed");
		mk_set_reason(k, "%s", k->ob->init_err);
		return true;
	}
	if (!k->c->skip_analysis && k->c->n_metrics > 0) {
		/* Step 6: not fatal, reported. */
		if (!mk_have(k, NEED_PROVIDERS))
			return mk_ask(k, NEED_PROVIDERS);
		if (k->ob->providers_status == 0)
			mk_ev(k, SEV_NORMAL, "all the metrics providers are available!");
		else if (k->ob->providers_status != ST_UNSUPPORTED)
			mk_ev(k, SEV_WARNING, "Error checking metric providers: %s", k->ob->providers_err);
	}
	if (!k->c->skip_analysis) {
		if (!mk_have(k, NEED_PRIMARY))
			return mk_ask(k, NEED_PRIMARY);
		if (!k->ob->primary.ready)
			return mk_not_ready(k, true, &k->ob->primary);
	}
	if (!mk_have(k, NEED_REVISION))
		return mk_ask(k, NEED_REVISION);
	if (k->ob->rev_status != 0) {
		revision_error(k);
		return true;
	}
	/* The revision saved is the one the primary was made from: the
	 * target may have changed since (a `set image` while the primary got
	 * ready), and that change is a new revision for the next tick. */
	id = k->ob->init_rev.id[0] ? k->ob->init_rev.id : k->ob->rev.id;
	mk_set_phase(k, PHASE_INITIALIZED);
	mk_copy_id(st->last_applied, sizeof st->last_applied, id);
	mk_copy_id(st->last_promoted, sizeof st->last_promoted, id);
	st->wait_since_ms = 0;
	st->reason[0] = '\0';
	mk_ev(k, SEV_NORMAL, "Initialization done! %s", mk_nn(k));
	mk_alert(k, ALERT_INFO, true, "New %s detected, initialization completed.",
	    k->c->target_kind ? k->c->target_kind : "Deployment");
	return true;
}

/* Idle phases: true when there is no new revision (or it cannot be read). */
static bool
idle_unchanged(struct tk *k)
{
	const char *id;

	if (!mk_have(k, NEED_REVISION))
		return mk_ask(k, NEED_REVISION);
	if (k->ob->rev_status != 0) {
		revision_error(k);
		return true;
	}
	id = k->ob->rev.id;
	return id[0] == '\0' || strcmp(id, k->st->last_applied) == 0 ||
	    strcmp(id, k->st->last_promoted) == 0;
}

/* Step 17: a new revision passes the confirm-rollout gates and starts. */
static bool
gate_rollout(struct tk *k)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;
	const char *rev;
	int bad;

	if (!mk_have(k, NEED_REVISION))
		return mk_ask(k, NEED_REVISION);
	rev = k->ob->rev_status == 0 && k->ob->rev.id[0] ? k->ob->rev.id : st->last_applied;
	if (st->phase != PHASE_WAITING || strcmp(rev, st->last_applied) != 0) {
		st->approved = 0;	/* a new revision: approvals start over */
		st->skip_requested = false;	/* and a skip given for another */
		st->override = OVR_NONE;
	}
	if ((k->confirm & CONFIRM_ROLLOUT) && !(st->approved & CONFIRM_ROLLOUT)) {
		k->o->gate = GATE_ROLLOUT;
		if (st->phase != PHASE_WAITING || strcmp(rev, st->last_applied) != 0) {
			mk_ev(k, SEV_WARNING, "Halt %s advancement waiting for rollout approval of revision %s",
			    mk_nn(k), mk_rev_label(k, rev, label));
			mk_alert(k, ALERT_WARN, false, "Canary is waiting for approval.");
		}
		mk_set_phase(k, PHASE_WAITING);
		mk_copy_id(st->last_applied, sizeof st->last_applied, rev);
		mk_set_reason(k, "waiting for rollout approval");
		return true;
	}
	if (mk_need_hooks(k, HOOK_CONFIRM_ROLLOUT))
		return true;
	bad = mk_failed_hook(k, HOOK_CONFIRM_ROLLOUT);
	if (bad >= 0) {
		k->o->gate = GATE_ROLLOUT;
		if (st->phase != PHASE_WAITING) {
			mk_ev(k, SEV_WARNING, "Halt %s advancement waiting for approval %s", mk_nn(k),
			    k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)
				mk_alert(k, ALERT_WARN, false, "Canary is waiting for approval.");
		}
		mk_set_phase(k, PHASE_WAITING);
		mk_copy_id(st->last_applied, sizeof st->last_applied, rev);
		mk_set_reason(k, "waiting for approval %s", k->c->hooks[bad].name);
		return true;
	}
	mk_passed_hooks(k, HOOK_CONFIRM_ROLLOUT, "Confirm-rollout");
	mk_start_run(k, rev);
	return true;
}

static bool
rollback_hooks(struct tk *k)
{
	size_t i;

	if (mk_need_hooks(k, HOOK_ROLLBACK))
		return true;
	for (i = 0; i < k->c->n_hooks; i++) {
		const struct hook_cfg *h = &k->c->hooks[i];
		char reason[ERRMSG_MAX + 128];

		if (h->type != HOOK_ROLLBACK || !k->ob->hooks[i].called)
			continue;
		if (!k->ob->hooks[i].r.ok) {
			mk_ev(k, SEV_NORMAL, "Rollback hook %s not signaling a rollback", h->name);
			continue;
		}
		mk_ev(k, SEV_WARNING, "Rollback check %s passed", h->name);
		mk_ev(k, SEV_WARNING, "Rolling back %s manual webhook invoked", mk_nn(k));
		mk_alert(k, ALERT_WARN, false, "Rolling back manual webhook invoked");
		snprintf(reason, sizeof reason, "rollback webhook %s: %s", h->name,
		    k->ob->hooks[i].r.msg[0] ? k->ob->hooks[i].r.msg : "rollback requested");
		mk_rollback(k, reason);
		return true;
	}
	return false;
}

/* runPromotionTrafficShift (reference §2.9). */
static bool
promotion_shift(struct tk *k)
{
	struct canary_status *st = k->st;
	int spw = k->c->step_weight_promotion, w = st->canary_weight;

	if (mk_kubernetes_provider(k->c)) {	/* nothing to shift */
		st->canary_weight = 0;
		mk_set_phase(k, PHASE_FINALISING);
		return true;
	}
	if (spw <= 0) {
		mk_ev(k, SEV_NORMAL, "Routing all traffic to primary");
		mk_act_routes(k, 100, 0, false);
		st->canary_weight = 0;
		mk_set_phase(k, PHASE_FINALISING);
		return true;
	}
	if (w > 0) {
		int p = 100 - w + spw > 100 ? 100 : 100 - w + spw;

		w = w - spw < 0 ? 0 : w - spw;
		mk_act_routes(k, p, w, false);
		mk_ev(k, SEV_NORMAL, "Advance %s primary weight %d", mk_nn(k), p);
		st->canary_weight = w;
		if (p < 100)
			return true;
		st->canary_weight = 0;
	}
	mk_set_phase(k, PHASE_FINALISING);
	return true;
}

static void
succeed(struct tk *k)
{
	mk_act(k, ACT_SCALE_DOWN, PHASE_SUCCEEDED);
	mk_set_phase(k, PHASE_SUCCEEDED);
	mk_clear_run(k->st);
	k->st->skip_requested = false;
	k->st->approved = 0;
	k->st->reason[0] = '\0';
	mk_act(k, ACT_POST_HOOKS, PHASE_SUCCEEDED);
}

/* perch: a promotion that skipped the analysis says so, with who and how
 * the canary stood, as it ends (the status keeps it: override_text). */
static void
override_event(struct tk *k)
{
	char text[MACH_MSG_MAX];

	if (k->st->override == OVR_NONE)
		return;
	override_text(k->st, text, sizeof text);
	if (text[0] >= 'a' && text[0] <= 'z')
		text[0] = (char)(text[0] - 'a' + 'A');
	mk_ev(k, k->st->override_failed > 0 ? SEV_WARNING : SEV_NORMAL, "%s", text);
}

static void
skip_promote(struct tk *k)
{
	mk_act_routes(k, 100, 0, false);
	mk_ev(k, SEV_NORMAL, "Copying %s template spec to %s-primary.%s", mk_tn(k), k->c->target, k->c->ns);
	mk_act(k, ACT_PROMOTE, PHASE_SUCCEEDED);
	succeed(k);
	mk_ev(k, SEV_NORMAL, "Promotion completed! Canary analysis was skipped for %s", mk_tn(k));
	override_event(k);
	mk_alert(k, ALERT_INFO, false, "Canary analysis was skipped, promotion finished.");
}

static bool
at_first_step(const struct tk *k)
{
	return mk_at_first_step_of(k->c, k->st);
}

static bool
tick_run(struct tk *k)
{
	struct canary_status *st = k->st;
	enum phase ph = st->phase;
	bool idle = ph == PHASE_INITIALIZED || ph == PHASE_SUCCEEDED || ph == PHASE_FAILED;
	bool running = ph == PHASE_PROGRESSING || ph == PHASE_WAITING_PROMOTION;
	bool skip = k->c->skip_analysis || st->skip_requested;

	if (machine_promote_pending(st)) {
		mk_act(k, ACT_PROMOTE, ph);	/* decided, not confirmed done */
		return true;
	}
	if (idle && idle_unchanged(k))
		return true;
	if (!k->c->skip_analysis) {
		if (!mk_have(k, NEED_PRIMARY))
			return mk_ask(k, NEED_PRIMARY);
		if (!k->ob->primary.ready)
			return mk_not_ready(k, true, &k->ob->primary);
	}
	if (idle || ph == PHASE_WAITING)
		return gate_rollout(k);
	if (running) {
		if (!mk_have(k, NEED_REVISION))
			return mk_ask(k, NEED_REVISION);
		if (k->ob->rev_status == 0 && k->ob->rev.id[0] &&
		    strcmp(k->ob->rev.id, st->last_applied) != 0) {
			mk_ev(k, SEV_NORMAL, "New revision detected! Restarting analysis for %s", mk_tn(k));
			mk_act_routes(k, 100, 0, false);
			mk_clear_run(st);
			st->failed_checks = 0;
			st->approved &= ~(unsigned)CONFIRM_PROMOTION;
			st->skip_requested = false;	/* it named the older revision */
			mk_new_run_marks(st);
			mk_set_phase(k, PHASE_PROGRESSING);
			mk_copy_id(st->last_applied, sizeof st->last_applied, k->ob->rev.id);
			st->reason[0] = '\0';
			return true;
		}
	}
	if (!mk_have(k, NEED_CANARY))
		return mk_ask(k, NEED_CANARY);
	if (!k->ob->canary.ready)
		return mk_not_ready(k, false, &k->ob->canary);
	st->wait_since_ms = 0;
	if (skip) {
		skip_promote(k);
		return true;
	}
	if (running && rollback_hooks(k))
		return true;
	if (ph == PHASE_PROMOTING)
		return promotion_shift(k);
	if (ph == PHASE_FINALISING) {
		succeed(k);
		mk_ev(k, SEV_NORMAL, "Promotion completed! Scaling down %s", mk_tn(k));
		override_event(k);
		mk_alert(k, ALERT_INFO, false, "Canary analysis completed successfully, promotion finished.");
		return true;
	}
	if (st->failed_checks >= k->c->threshold) {
		mk_rollback(k, st->reason[0] ? st->reason : "failed checks threshold reached");
		return true;
	}
	if (at_first_step(k) ? mk_first_step(k) : mk_analyse(k))
		return true;
	if (st->paused)
		return true;
	return mk_advance(k, false);
}

enum need
machine_tick(const struct tick_in *in, struct tick_out *out)
{
	struct tk k;

	mk_init(&k, in, out);
	if (in->cfg->suspend) {
		mk_ev(&k, SEV_NORMAL, "skipping canary run as object is suspended");
		return NEED_NONE;
	}
	if (in->st->phase == PHASE_TERMINATING) {	/* reverted, created again */
		mk_set_phase(&k, PHASE_INITIALIZING);
		k.st->reason[0] = '\0';
	}
	if (k.st->phase == PHASE_INITIALIZING)
		tick_initializing(&k);
	else
		tick_run(&k);
	return out->need;
}
