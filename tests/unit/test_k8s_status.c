/* test_k8s_status.c — the Canary's Flagger status built from perch's
 * (store/k8s_status.c): fields, and the Promoted condition of each phase. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/machine.h"
#include "store/k8s_status.h"

static const char *
cond(json_t *st, const char *field)
{
	return json_string_value(json_object_get(json_array_get(json_object_get(st, "conditions"), 0),
	    field));
}

/* A canary at 30% of its analysis. */
static void
progressing(struct canary_status *st)
{
	machine_status_init(st, 1796600000123);
	st->phase = PHASE_PROGRESSING;
	st->canary_weight = 30;
	st->failed_checks = 1;
	st->iterations = 2;
	strcpy(st->last_applied, "abc123");
	strcpy(st->last_promoted, "def456");
}

static void
test_fields(void **state)
{
	struct canary_status st;
	json_t *j;

	(void)state;
	progressing(&st);
	j = sk_flagger_status(&st, "DaemonSet");
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Progressing");
	assert_int_equal(json_integer_value(json_object_get(j, "canaryWeight")), 30);
	assert_int_equal(json_integer_value(json_object_get(j, "failedChecks")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "iterations")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "lastAppliedSpec")), "abc123");
	assert_string_equal(json_string_value(json_object_get(j, "lastPromotedSpec")), "def456");
	/* whole seconds, as metav1.Time */
	assert_string_equal(json_string_value(json_object_get(j, "lastTransitionTime")),
	    "2026-12-06T23:33:20Z");
	assert_int_equal(json_array_size(json_object_get(j, "conditions")), 1);
	assert_string_equal(cond(j, "type"), "Promoted");
	assert_string_equal(cond(j, "status"), "Unknown");
	assert_string_equal(cond(j, "reason"), "Progressing");
	assert_string_equal(cond(j, "message"), "New revision detected, progressing canary analysis.");
	assert_null(json_object_get(j, "sessionAffinityCookie"));
	json_decref(j);
}

static void
test_conditions(void **state)
{
	static const struct { enum phase p; const char *status, *msg; } tab[] = {
		{ PHASE_INITIALIZING, "Unknown", "New DaemonSet detected, starting initialization." },
		{ PHASE_INITIALIZED, "True", "DaemonSet initialization completed." },
		{ PHASE_WAITING, "Unknown", "Waiting for approval." },
		{ PHASE_WAITING_PROMOTION, "Unknown", "Waiting for approval." },
		{ PHASE_PROMOTING, "Unknown", "Canary analysis completed, starting primary rolling update." },
		{ PHASE_FINALISING, "Unknown", "Canary analysis completed, routing all traffic to primary." },
		{ PHASE_SUCCEEDED, "True", "Canary analysis completed successfully, promotion finished." },
		{ PHASE_FAILED, "False", "Canary analysis failed, DaemonSet scaled to zero." },
	};
	struct canary_status st;
	json_t *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		machine_status_init(&st, 0);
		st.phase = tab[i].p;
		j = sk_flagger_status(&st, "DaemonSet");
		assert_string_equal(cond(j, "status"), tab[i].status);
		assert_string_equal(cond(j, "reason"), phase_name(tab[i].p));
		assert_string_equal(cond(j, "message"), tab[i].msg);
		json_decref(j);
	}
	machine_status_init(&st, 0);
	j = sk_flagger_status(&st, NULL);
	assert_string_equal(cond(j, "message"), "New Deployment detected, starting initialization.");
	json_decref(j);
}

/* While a deleted canary's revert runs: phase Terminating, weight and
 * iterations 0, and the condition's message says what the revert does or
 * waits for (machine_terminating). */
static void
test_terminating(void **state)
{
	struct canary_status st;
	json_t *j;

	(void)state;
	progressing(&st);
	machine_terminating(&st, 1796600000123, "Reverting on deletion, try 1 did not finish "
	    "(again in 3s): web.default not ready");
	j = sk_flagger_status(&st, "Deployment");
	assert_string_equal(json_string_value(json_object_get(j, "phase")), "Terminating");
	assert_int_equal(json_integer_value(json_object_get(j, "canaryWeight")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "iterations")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "lastAppliedSpec")), "abc123");
	assert_string_equal(cond(j, "status"), "Unknown");
	assert_string_equal(cond(j, "reason"), "Terminating");
	assert_string_equal(cond(j, "message"), "Reverting on deletion, try 1 did not finish "
	    "(again in 3s): web.default not ready");
	json_decref(j);
	st.reason[0] = '\0';
	j = sk_flagger_status(&st, "Deployment");
	assert_string_equal(cond(j, "message"), "Reverting on deletion.");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_terminating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
