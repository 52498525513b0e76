/* test_sim_resume.c — a simulated world rebuilt from a saved status
 * (perch demo --state-dir after a restart): during a rollout the target,
 * primary, canary and routes are where the saved status says and no other
 * revision appears; between rollouts the world starts afresh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"

struct world {
	struct mclock clock;
	struct sim_world *w;
	struct canary_cfg *cfg;
};

static void
world_init(struct world *x)
{
	struct sim_options o = { .seed = 3, .clock = &mclock_ops, .clock_ctx = &x->clock };
	char err[128];

	x->clock.now = SIM_EPOCH_MS;
	x->w = sim_world_new(&o);
	x->cfg = scenario_canary(SCN_HEALTHY, "shop", "checkout", 0);
	assert_int_equal(sim_world_add(x->w, x->cfg, SCN_HEALTHY, err, sizeof err), ST_OK);
}

static void
world_fini(struct world *x)
{
	canary_cfg_free(x->cfg);
	sim_world_free(x->w);
}

/* The two revision ids of the first rollout, as a first run sees them. */
static void
first_run_revisions(struct revision *r1, struct revision *r2)
{
	struct world x;
	char err[ERRMSG_MAX];

	world_init(&x);
	assert_int_equal(sim_cluster_ops.initialize(x.w, x.cfg, err), ST_OK);
	assert_int_equal(sim_cluster_ops.revision(x.w, x.cfg, r1, err), ST_OK);
	x.clock.now += 60000;
	assert_int_equal(sim_cluster_ops.revision(x.w, x.cfg, r2, err), ST_OK);
	assert_string_not_equal(r1->id, r2->id);
	world_fini(&x);
}

static void
test_resume_rows(void **state)
{
	static const struct {
		enum phase phase;
		int weight;
		int applied, promoted;	/* 1 or 2: which revision; 0 = "" */
		int want_rev;		/* target revision right after resume */
		int want_canary;	/* routes */
		bool canary_up;
		int want_primary_rev;
	} rows[] = {
		{ PHASE_PROGRESSING,       30, 2, 1, 2, 30, true,  1 },
		{ PHASE_PROGRESSING,        0, 2, 1, 2,  0, true,  1 },
		{ PHASE_WAITING_PROMOTION, 50, 2, 1, 2, 50, true,  1 },
		{ PHASE_PROMOTING,         50, 2, 1, 2, 50, true,  2 },
		{ PHASE_FINALISING,         0, 2, 1, 2,  0, true,  2 },
		/* between rollouts: a fresh world, whose revision is new to the canary */
		{ PHASE_SUCCEEDED,          0, 2, 2, 1,  0, false, 1 },
		{ PHASE_FAILED,             0, 2, 1, 1,  0, false, 1 },
		{ PHASE_WAITING,            0, 2, 1, 1,  0, false, 1 },
		{ PHASE_INITIALIZED,        0, 1, 1, 1,  0, false, 1 },
		{ PHASE_INITIALIZING,       0, 0, 0, 1,  0, false, 1 },
	};
	struct revision r[3], got;
	struct routes routes;
	struct sim_view v;
	char err[ERRMSG_MAX];
	size_t i;

	(void)state;
	memset(r, 0, sizeof r);
	first_run_revisions(&r[1], &r[2]);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_status st;
		struct world x;

		memset(&st, 0, sizeof st);
		st.phase = rows[i].phase;
		st.canary_weight = rows[i].weight;
		snprintf(st.last_applied, sizeof st.last_applied, "%s", r[rows[i].applied].id);
		snprintf(st.last_promoted, sizeof st.last_promoted, "%s", r[rows[i].promoted].id);
		world_init(&x);
		assert_int_equal(sim_world_resume(x.w, "shop/checkout", &st), ST_OK);
		assert_int_equal(sim_cluster_ops.revision(x.w, x.cfg, &got, err), ST_OK);
		if (strcmp(got.id, r[rows[i].want_rev].id) != 0)
			fail_msg("row %zu: revision %s, want %d", i, got.image, rows[i].want_rev);
		assert_int_equal(sim_cluster_ops.get_routes(x.w, x.cfg, &routes, err), ST_OK);
		assert_int_equal(routes.canary, rows[i].want_canary);
		assert_int_equal(routes.primary, 100 - rows[i].want_canary);
		assert_int_equal(sim_world_view(x.w, "shop/checkout", x.clock.now, &v), ST_OK);
		assert_int_equal(v.canary_replicas > 0, rows[i].canary_up);
		if (v.primary_rev != rows[i].want_primary_rev)
			fail_msg("row %zu: primary at %d, want %d", i, v.primary_rev, rows[i].want_primary_rev);
		/* Mid-rollout and after it, no other revision shows up later. */
		if (rows[i].want_rev == 2) {
			x.clock.now += 3600 * 1000;
			assert_int_equal(sim_cluster_ops.revision(x.w, x.cfg, &got, err), ST_OK);
			assert_string_equal(got.id, r[2].id);
		}
		world_fini(&x);
	}
}

static void
test_resume_unknown(void **state)
{
	struct canary_status st;
	struct world x;

	(void)state;
	memset(&st, 0, sizeof st);
	world_init(&x);
	assert_int_equal(sim_world_resume(x.w, "shop/nope", &st), ST_NOTFOUND);
	world_fini(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resume_rows),
		cmocka_unit_test(test_resume_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
