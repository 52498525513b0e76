/*
 * test_command.c — the table of manual commands (COMMAND_LIST) and its
 * judge (engine/command.c): each command applies in exactly its phases;
 * each precondition refuses with its own words, control first; the
 * override words of a skipped or forced promotion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/command.h"

/* Facts under which every precondition holds, in phase p. */
static void
all_good(struct cmd_facts *f, enum phase p, enum command_kind c)
{
	memset(f, 0, sizeof *f);
	f->phase = p;
	f->control = true;
	f->paused = c == CMD_RESUME;
	f->manual_gate = p == PHASE_WAITING ? CONFIRM_ROLLOUT : CONFIRM_PROMOTION;
	snprintf(f->failed_rev, sizeof f->failed_rev, "abc123");
	f->primary = f->canary = READY_YES;
}

/* With every precondition holding, a command applies in its phases and
 * in no other, and says why not in the others. */
static void
test_phases(void **state)
{
	static const struct {
		enum command_kind cmd;
		unsigned phases;
	} want[] = {
		{ CMD_PROMOTE_STEP, PH(PROGRESSING) },
		{ CMD_PROMOTE_FULL, PH(PROGRESSING) | PH(WAITING_PROMOTION) },
		{ CMD_PAUSE, PH(PROGRESSING) | PH(WAITING_PROMOTION) },
		{ CMD_RESUME, PH(PROGRESSING) | PH(WAITING_PROMOTION) },
		{ CMD_ROLLBACK, PH(WAITING) | PH(PROGRESSING) | PH(WAITING_PROMOTION) },
		{ CMD_RETRY, PH(FAILED) },
		{ CMD_SKIP, PH(WAITING) | PH(PROGRESSING) | PH(WAITING_PROMOTION) },
		{ CMD_APPROVE, PH(WAITING) | PH(WAITING_PROMOTION) },
	};
	struct cmd_facts f;
	char why[400];
	enum precond failed;
	size_t i;
	int p;

	(void)state;
	assert_int_equal(sizeof want / sizeof want[0], CMD__COUNT);
	for (i = 0; i < CMD__COUNT; i++) {
		assert_int_equal(want[i].cmd, (int)i);
		assert_int_equal(command_phases(want[i].cmd), want[i].phases);
		for (p = 0; p < PHASE__COUNT; p++) {
			bool ok;

			all_good(&f, (enum phase)p, want[i].cmd);
			ok = command_allowed(want[i].cmd, &f, why, sizeof why, &failed);
			if (ok != ((want[i].phases >> p) & 1u))
				fail_msg("%s in %s: allowed %d (%s)", command_name(want[i].cmd),
				    phase_name((enum phase)p), ok, why);
			if (!ok) {
				assert_int_equal(failed, PRE_PHASE);
				assert_true(strlen(why) > 0);
			}
		}
	}
	/* the commands that bypass or end a rollout ask first */
	assert_true(command_asks(CMD_PROMOTE_FULL));
	assert_true(command_asks(CMD_SKIP));
	assert_true(command_asks(CMD_ROLLBACK));
	assert_true(command_asks(CMD_APPROVE));
	assert_false(command_asks(CMD_PROMOTE_STEP));
	assert_false(command_asks(CMD_PAUSE));
	assert_false(command_asks(CMD_RETRY));
	assert_false(command_allowed(CMD__COUNT, &f, why, sizeof why, NULL));
}

/* One row per precondition a command has: break it, and the command is
 * refused for that reason, in those words. */
struct pre_row {
	enum command_kind cmd;
	enum phase phase;
	void (*breaks)(struct cmd_facts *f);
	bool allowed;
	enum precond failed;
	const char *why;
};

static void b_none(struct cmd_facts *f) { (void)f; }
static void b_held(struct cmd_facts *f) { f->control = false; strcpy(f->holder, "bob@ci pid 7"); }
static void b_held_anon(struct cmd_facts *f) { f->control = false; }
static void b_watch(struct cmd_facts *f) { f->control = false; f->watch = true; }
static void b_corrupt(struct cmd_facts *f) { f->corrupt = true; }
static void b_deleted(struct cmd_facts *f) { f->control = false; f->deleted = true; }
static void
b_refused(struct cmd_facts *f)
{
	f->control = false;
	f->refused = true;
	strcpy(f->refused_why, "cannot drive shop/cart: stepWeight -1 is not a weight between 1 "
	    "and 100");
}
static void b_paused(struct cmd_facts *f) { f->paused = true; }
static void b_running(struct cmd_facts *f) { f->paused = false; }
static void b_skip(struct cmd_facts *f) { f->skip_requested = true; }
static void b_no_gate(struct cmd_facts *f) { f->manual_gate = 0; }
static void b_no_rev(struct cmd_facts *f) { f->failed_rev[0] = '\0'; }
static void b_moved(struct cmd_facts *f) { strcpy(f->target_rev, "def456"); }
static void b_same(struct cmd_facts *f) { strcpy(f->target_rev, "abc123"); }
static void b_pre(struct cmd_facts *f) { f->pre_rollout_pending = true; }
static void b_traffic(struct cmd_facts *f) { f->traffic_gate = true; }
static void b_promo(struct cmd_facts *f) { f->promotion_next = f->promotion_gated = true; }
static void b_promo_open(struct cmd_facts *f) { f->promotion_next = true; }
static void
b_canary(struct cmd_facts *f)
{
	f->canary = READY_NO;
	strcpy(f->canary_why, "canary deployment cart.shop not ready: waiting for rollout to "
	    "finish: 2 of 3 (readyThreshold 100%) updated replicas are available");
}
static void
b_primary(struct cmd_facts *f)
{
	f->primary = READY_NO;
	strcpy(f->primary_why, "cart-primary.shop not ready: 0 of 3");
}
static void b_unknown(struct cmd_facts *f) { f->canary = f->primary = READY_UNKNOWN; }
static void b_held_and_phase(struct cmd_facts *f) { b_held(f); f->phase = PHASE_SUCCEEDED; }

static void
test_preconditions(void **state)
{
	static const struct pre_row rows[] = {
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_none, true, 0, "" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_held, false, PRE_CONTROL,
		    "read-only: controlled by bob@ci pid 7" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_held_anon, false, PRE_CONTROL,
		    "read-only: controlled by another perch" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_watch, false, PRE_CONTROL,
		    "read-only: perch watch cannot change rollouts" },
		{ CMD_ROLLBACK, PHASE_PROGRESSING, b_corrupt, false, PRE_CONTROL, "corrupted state" },
		{ CMD_RESUME, PHASE_PROGRESSING, b_deleted, false, PRE_CONTROL,
		    "its Canary was deleted: no longer controlled" },
		{ CMD_PAUSE, PHASE_PROGRESSING, b_refused, false, PRE_CONTROL,
		    "cannot drive shop/cart: stepWeight -1" },
		/* control is judged before the phase */
		{ CMD_PAUSE, PHASE_PROGRESSING, b_held_and_phase, false, PRE_CONTROL, "controlled by" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_canary, false, PRE_CANARY_READY,
		    "canary deployment cart.shop not ready: waiting for rollout to finish: 2 of 3" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_primary, false, PRE_PRIMARY_READY,
		    "cart-primary.shop not ready: 0 of 3" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_unknown, true, 0, "" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_pre, false, PRE_PRE_ROLLOUT,
		    "pre-rollout checks have not run yet" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_traffic, false, PRE_TRAFFIC_GATE,
		    "confirm-traffic-increase webhook holds the weight" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_promo, false, PRE_PROMOTION_GATE,
		    "the next step is the promotion, which waits for approval" },
		{ CMD_PROMOTE_STEP, PHASE_PROGRESSING, b_promo_open, true, 0, "" },
		{ CMD_PROMOTE_STEP, PHASE_WAITING_PROMOTION, b_none, false, PRE_PHASE,
		    "at the last step, waiting for promotion approval" },
		{ CMD_PROMOTE_FULL, PHASE_PROGRESSING, b_canary, false, PRE_CANARY_READY,
		    "not ready: waiting for rollout to finish: 2 of 3" },
		{ CMD_PROMOTE_FULL, PHASE_WAITING_PROMOTION, b_primary, false, PRE_PRIMARY_READY,
		    "cart-primary.shop not ready" },
		{ CMD_PROMOTE_FULL, PHASE_PROGRESSING, b_traffic, true, 0, "" },
		{ CMD_PROMOTE_FULL, PHASE_WAITING, b_none, false, PRE_PHASE, "has not started" },
		{ CMD_SKIP, PHASE_PROGRESSING, b_canary, true, 0, "" },
		{ CMD_SKIP, PHASE_PROGRESSING, b_skip, false, PRE_NO_SKIP, "already requested" },
		{ CMD_PAUSE, PHASE_PROGRESSING, b_paused, false, PRE_NOT_PAUSED, "already paused" },
		{ CMD_PAUSE, PHASE_PROGRESSING, b_canary, true, 0, "" },
		{ CMD_RESUME, PHASE_PROGRESSING, b_running, false, PRE_PAUSED, "not paused" },
		{ CMD_ROLLBACK, PHASE_PROGRESSING, b_canary, true, 0, "" },
		{ CMD_ROLLBACK, PHASE_PROMOTING, b_none, false, PRE_PHASE, "already being promoted" },
		{ CMD_APPROVE, PHASE_WAITING, b_no_gate, false, PRE_MANUAL_GATE, "a webhook holds it" },
		{ CMD_RETRY, PHASE_FAILED, b_no_rev, false, PRE_FAILED_REV, "no failed revision" },
		{ CMD_RETRY, PHASE_FAILED, b_moved, false, PRE_FAILED_REV,
		    "the target runs revision def456 now, not the failed abc123" },
		{ CMD_RETRY, PHASE_FAILED, b_same, true, 0, "" },
	};
	struct cmd_facts f;
	char why[400];
	enum precond failed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct pre_row *r = &rows[i];
		bool ok;

		all_good(&f, r->phase, r->cmd);
		r->breaks(&f);
		failed = (enum precond)-1;
		ok = command_allowed(r->cmd, &f, why, sizeof why, &failed);
		if (ok != r->allowed || strstr(why, r->why) == NULL ||
		    (!ok && failed != r->failed))
			fail_msg("row %zu (%s in %s): allowed %d failed %s why '%s'", i,
			    command_name(r->cmd), phase_name(r->phase), ok,
			    ok ? "-" : precond_text(failed), why);
		if (ok)
			assert_string_equal(why, "");
		/* the reason is never needed to judge */
		assert_int_equal(command_allowed(r->cmd, &f, NULL, 0, NULL), r->allowed);
	}
}

/* The words of a skipped or forced promotion, by phase. */
static void
test_override_words(void **state)
{
	static const struct {
		enum override_kind o;
		enum phase phase;
		int failed;
		const char *want;
	} rows[] = {
		{ OVR_NONE, PHASE_SUCCEEDED, 3, "" },
		{ OVR_SKIPPED, PHASE_PROGRESSING, 3,
		    "analysis skipped by alice@host, 3 of 5 checks failed: promoted once its pods are ready" },
		{ OVR_SKIPPED, PHASE_SUCCEEDED, 3,
		    "promoted with analysis skipped by alice@host, 3 of 5 checks failed" },
		{ OVR_SKIPPED, PHASE_SUCCEEDED, 0,
		    "promoted with analysis skipped by alice@host, no check had failed" },
		{ OVR_FORCED, PHASE_PROMOTING, 1,
		    "promotion forced by alice@host, 1 of 5 checks failed: promoting" },
		{ OVR_FORCED, PHASE_SUCCEEDED, 1, "promotion forced by alice@host, 1 of 5 checks failed" },
		{ OVR_FORCED, PHASE_FAILED, 1,
		    "promotion forced by alice@host, 1 of 5 checks failed; the promotion failed" },
	};
	struct canary_status st;
	char out[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&st, 0, sizeof st);
		st.phase = rows[i].phase;
		st.override = rows[i].o;
		strcpy(st.override_by, "alice@host");
		st.override_failed = rows[i].failed;
		st.override_threshold = 5;
		assert_string_equal(override_text(&st, out, sizeof out), rows[i].want);
	}
	assert_string_equal(override_name(OVR_SKIPPED), "skipped");
	assert_int_equal(override_from_name("forced"), OVR_FORCED);
	assert_int_equal(override_from_name("sideways"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_override_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
