/*
 * machine_strategy.c — how a canary advances (reference §2.7; see
 * machine_int.h): canary weights, blue/green iterations or A/B
 * iterations, each a row of the strategy table, and the promotion gate
 * they all pass before the promotion.
 */
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"

/* The confirm-promotion gate (perch's manual gate, then the hooks).
 * Returns true when the tick stops (waiting, or gathering hooks). */
static bool
promotion_gate(struct tk *k)
{
	char label[REV_LABEL_MAX];
	int bad;

	if ((k->confirm & CONFIRM_PROMOTION) && !(k->st->approved & CONFIRM_PROMOTION)) {
		k->o->gate = GATE_PROMOTION;
		if (k->st->phase != PHASE_WAITING_PROMOTION) {
			mk_set_phase(k, PHASE_WAITING_PROMOTION);
			mk_ev(k, SEV_WARNING, "Halt %s advancement waiting for promotion approval of revision %s",
			    mk_nn(k), mk_rev_label(k, k->st->last_applied, label));
			mk_alert(k, ALERT_WARN, false, "Canary promotion is waiting for approval.");
		}
		mk_set_reason(k, "waiting for promotion approval");
		return true;
	}
	if (mk_need_hooks(k, HOOK_CONFIRM_PROMOTION))
		return true;
	bad = mk_failed_hook(k, HOOK_CONFIRM_PROMOTION);
	if (bad >= 0) {
		k->o->gate = GATE_PROMOTION;
		if (k->st->phase != PHASE_WAITING_PROMOTION) {
			mk_set_phase(k, PHASE_WAITING_PROMOTION);
			mk_ev(k, SEV_WARNING, "Halt %s advancement waiting for promotion approval %s", mk_nn(k),
			    k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)
				mk_alert(k, ALERT_WARN, false, "Canary promotion is waiting for approval.");
		}
		mk_set_reason(k, "waiting for promotion approval %s", k->c->hooks[bad].name);
		return true;
	}
	mk_passed_hooks(k, HOOK_CONFIRM_PROMOTION, "Confirm-promotion");
	return false;
}

/* runCanary (reference §2.7) for the weight below the maximum. */
static void
run_canary(struct tk *k, int step)
{
	struct canary_status *st = k->st;
	int w = st->canary_weight, p = 100 - w;

	if (k->c->mirror && w == 0) {
		if (!st->mirrored) {
			st->mirrored = true;
		} else {
			st->mirrored = false;
			p = 100 - step;
			w = step;
		}
	} else {
		w = w + step > 100 ? 100 : w + step < 0 ? 0 : w + step;
		p = 100 - w;
	}
	mk_act_routes(k, p, w, st->mirrored);
	st->canary_weight = w;
	st->reason[0] = '\0';
	mk_ev(k, SEV_NORMAL, "Advance %s canary weight %d", mk_nn(k), w);
}

static bool
advance_canary(struct tk *k, bool manual)
{
	int step = machine_next_step(k->c, k->st->canary_weight);
	int bad;

	if (!manual && step > 0 && !k->st->mirrored && k->st->phase == PHASE_PROGRESSING) {
		if (mk_need_hooks(k, HOOK_CONFIRM_TRAFFIC_INCREASE))
			return true;
		bad = mk_failed_hook(k, HOOK_CONFIRM_TRAFFIC_INCREASE);
		if (bad >= 0) {
			k->o->gate = GATE_TRAFFIC;
			mk_ev(k, SEV_WARNING, "Halt %s advancement waiting for traffic increase approval %s",
			    mk_nn(k), k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)	/* every tick, as Flagger */
				mk_alert(k, ALERT_WARN, false, "Canary traffic increase is waiting for approval.");
			mk_set_reason(k, "waiting for traffic increase approval %s", k->c->hooks[bad].name);
			return true;
		}
		mk_passed_hooks(k, HOOK_CONFIRM_TRAFFIC_INCREASE, "Confirm-traffic-increase");
	}
	if (k->st->canary_weight < machine_max_weight(k->c)) {
		if (step > 0)
			run_canary(k, step);
		else	/* refused by machine_check_cfg; never promoted by it */
			mk_ev(k, SEV_WARNING, "Halt %s advancement: stepWeight %d is no step", mk_nn(k),
			    step);
		return true;
	}
	if (!manual && promotion_gate(k))
		return true;
	mk_promote_now(k);
	return true;
}

static void
advance_iteration(struct tk *k)
{
	k->st->iterations++;
	k->st->reason[0] = '\0';
	mk_ev(k, SEV_NORMAL, "Advance %s canary iteration %d/%d", mk_nn(k), k->st->iterations,
	    machine_iterations(k->c));
}

/* runBlueGreen (reference §2.7). */
static bool
advance_bluegreen(struct tk *k, bool manual)
{
	struct canary_status *st = k->st;
	int n = machine_iterations(k->c);
	bool k8s = mk_kubernetes_provider(k->c);

	if (st->iterations < n) {
		if (k->c->mirror && !st->mirrored && !k8s) {
			st->mirrored = true;
			mk_act_routes(k, 100, 0, true);
		}
		advance_iteration(k);
		return true;
	}
	if (st->iterations == n) {
		if (!manual && promotion_gate(k))
			return true;
		if (k8s) {
			/* The apex service always selects the primary: no switch. */
			st->iterations++;
			return true;
		}
		if (st->mirrored)
			mk_ev(k, SEV_NORMAL, "Stop traffic mirroring and route all traffic to canary");
		else
			mk_ev(k, SEV_NORMAL, "Routing all traffic to canary");
		mk_act_routes(k, 0, 100, false);
		st->mirrored = false;
		st->canary_weight = 100;
		st->iterations++;
		return true;
	}
	mk_promote_now(k);
	return true;
}

/* runAB (reference §2.7): the router applies the match rules. */
static bool
advance_ab(struct tk *k, bool manual)
{
	if (k->st->iterations < machine_iterations(k->c)) {
		mk_act_routes(k, 0, 100, false);
		k->st->canary_weight = 100;
		advance_iteration(k);
		return true;
	}
	if (!manual && promotion_gate(k))
		return true;
	mk_promote_now(k);
	return true;
}

/* Whether the next step of a progressing canary is its promotion: at the
 * maximum weight, or past the last iteration. */
static bool
weight_at_max(const struct canary_cfg *c, const struct canary_status *st)
{
	return st->canary_weight >= machine_max_weight(c);
}

static bool
iterations_done(const struct canary_cfg *c, const struct canary_status *st)
{
	return st->iterations >= machine_iterations(c);
}

/* The answer to a manual step that did not promote. */
static void
weight_words(const struct tk *k, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s promoted one step: canary weight %d", k->c->name,
	    k->st->canary_weight);
}

static void
iteration_words(const struct tk *k, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s promoted one step: iteration %d/%d", k->c->name,
	    k->st->iterations, machine_iterations(k->c));
}

/* The strategies, by enum strategy (the one in effect: machine_strategy). */
static const struct mk_strategy strategies[STRATEGY__COUNT] = {
	[STRATEGY_CANARY] = {
		.name = "canary", .advance = advance_canary,
		.promotion_next = weight_at_max, .step_words = weight_words,
	},
	[STRATEGY_BLUEGREEN] = {
		.name = "blue-green", .advance = advance_bluegreen,
		.promotion_next = iterations_done, .step_words = iteration_words,
	},
	[STRATEGY_ABTESTING] = {
		.name = "A/B testing", .advance = advance_ab,
		.promotion_next = iterations_done, .step_words = iteration_words,
	},
};

const struct mk_strategy *
mk_strategy_of(const struct canary_cfg *c)
{
	enum strategy s = machine_strategy(c);

	return (int)s >= 0 && s < STRATEGY__COUNT ? &strategies[s] : &strategies[STRATEGY_CANARY];
}

bool
mk_advance(struct tk *k, bool manual)
{
	/* reference §1.1: the kubernetes provider only does blue/green. */
	if (mk_kubernetes_provider(k->c) && !manual) {
		if (k->c->strategy == STRATEGY_ABTESTING)
			mk_ev(k, SEV_WARNING, "A/B testing is not supported when using the kubernetes provider");
		if (k->c->iterations < 1) {
			mk_ev(k, SEV_WARNING, "Progressive traffic is not supported when using the kubernetes provider");
			mk_ev(k, SEV_WARNING, "Setting canaryAnalysis.iterations: 10");
		}
	}
	return mk_strategy_of(k->c)->advance(k, manual);
}
