/* test_runner_slow.c — a slow backend of one canary must not stall the
 * others beyond one call's own timeout (issue 4).  A manual clock
 * (helper_clock.h) that the providers move on: every webhook call of the
 * "slow" canary takes its whole timeout; the other canaries answer at once.  The test measures how late
 * the quick canaries' ticks run (their readiness calls against their
 * deadlines) and checks that the slow one still finishes, its post-rollout
 * hooks stopping at the first that answers "no". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/runner.h"
#include "tests/unit/helper_canary.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"
#include "util/xalloc.h"

#define N_QUICK    3
#define HOOK_MS    5000		/* the slow canary's webhook timeout */
#define INTERVAL_S 30		/* fixture_canary's interval */

/* ---- the world ----------------------------------------------------------- */

struct quick {
	int64_t ticks[64];		/* clock at each canary readiness call */
	size_t n;
};

struct world {
	struct mclock clock;
	int revisions[N_QUICK + 1];	/* revision calls per canary */
	struct quick quick[N_QUICK];
	int hook_calls;
	int post_calls[3];		/* notify-a, notify-b (answers "no"), notify-c */
};

static int
canary_index(const struct canary_cfg *c)
{
	return strcmp(c->name, "slow") == 0 ? N_QUICK : atoi(c->name + strlen("quick-"));
}

static int
w_initialize(void *ctx, const struct canary_cfg *c, char *err)
{
	(void)ctx; (void)c; (void)err;
	return ST_OK;
}

/* v1 at initialization, v2 from then on: one rollout each. */
static int
w_revision(void *ctx, const struct canary_cfg *c, struct revision *out, char *err)
{
	struct world *w = ctx;

	(void)err;
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", w->revisions[canary_index(c)]++ ? "v2" : "v1");
	return ST_OK;
}

static int
w_readiness(void *ctx, const struct canary_cfg *c, enum workload wl, int64_t now,
    struct readiness *out)
{
	struct world *w = ctx;
	int i = canary_index(c);

	(void)now;
	out->ready = true;
	if (wl == WL_CANARY && i < N_QUICK && w->quick[i].n < 64)
		w->quick[i].ticks[w->quick[i].n++] = atomic_load(&w->clock.now);
	return ST_OK;
}

static int
w_scale(void *ctx, const struct canary_cfg *c, bool up, char *err)
{
	(void)ctx; (void)c; (void)up; (void)err;
	return ST_OK;
}

static int
w_promote(void *ctx, const struct canary_cfg *c, char *err)
{
	(void)ctx; (void)c; (void)err;
	return ST_OK;
}

static int
w_set_routes(void *ctx, const struct canary_cfg *c, const struct routes *r, char *err)
{
	(void)ctx; (void)c; (void)r; (void)err;
	return ST_OK;
}

static int
w_get_routes(void *ctx, const struct canary_cfg *c, struct routes *out, char *err)
{
	(void)ctx; (void)c; (void)err;
	out->primary = 100;
	out->canary = 0;
	out->mirrored = false;
	return ST_OK;
}

static const struct cluster_ops world_cluster = {
	.name = "world", .initialize = w_initialize, .revision = w_revision,
	.readiness = w_readiness, .scale = w_scale, .promote = w_promote,
	.set_routes = w_set_routes, .get_routes = w_get_routes,
};

static int
w_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		out[i].result = CHECK_PASS;
		out[i].value = q[i].metric->kind == METRIC_DURATION ? 200 : 99.9;
	}
	return ST_OK;
}

static const struct metrics_ops world_metrics = { .name = "world", .eval = w_eval };

/* Every call takes its whole timeout and then answers: rollback hooks "no"
 * (no rollback wanted), the others "yes". */
static size_t
w_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	struct world *w = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		atomic_fetch_add(&w->clock.now, calls[i].hook->timeout_ms);
		w->hook_calls++;
		memset(&out[i], 0, sizeof out[i]);
		out[i].ok = calls[i].hook->type != HOOK_ROLLBACK &&
		    strcmp(calls[i].hook->name, "notify-b") != 0;
		out[i].http_status = out[i].ok ? 200 : 404;
		if (calls[i].hook->type == HOOK_POST_ROLLOUT)
			w->post_calls[calls[i].hook->name[strlen("notify-")] - 'a']++;
		if (!out[i].ok && calls[i].hook->type != HOOK_ROLLBACK)
			return i + 1;	/* the first failure stops the rest */
	}
	return n;
}

static const struct webhook_ops world_webhook = { .name = "world", .call = w_call };

/* ---- canaries ------------------------------------------------------------ */

static void
add_hook(struct canary_cfg *c, const char *name, enum hook_type t)
{
	fixture_add_hook(c, name, t)->timeout_ms = HOOK_MS;
}

/* The slow canary: every hook type that a progressing tick calls, and an
 * event hook called for each of its events. */
static struct canary_cfg *
slow_canary(void)
{
	struct canary_cfg *c = fixture_canary("slow", 1);

	add_hook(c, "rollback-gate", HOOK_ROLLBACK);
	add_hook(c, "load-test", HOOK_ROLLOUT);
	add_hook(c, "traffic-gate", HOOK_CONFIRM_TRAFFIC_INCREASE);
	add_hook(c, "events", HOOK_EVENT);
	add_hook(c, "more-events", HOOK_EVENT);
	add_hook(c, "notify-a", HOOK_POST_ROLLOUT);
	add_hook(c, "notify-b", HOOK_POST_ROLLOUT);
	add_hook(c, "notify-c", HOOK_POST_ROLLOUT);
	return c;
}

/* ---- the measurement ----------------------------------------------------- */

static void
test_slow_canary_does_not_stall_others(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	struct runner_config rc = {
		.cluster = &world_cluster, .cluster_ctx = w,
		.metrics = &world_metrics, .metrics_ctx = w,
		.webhook = &world_webhook, .webhook_ctx = w,
		.clock = &mclock_ops, .clock_ctx = &w->clock,
		.actor = "ci@runner", .context = "TEST", .stop_when_done = true,
	};
	struct runner *r;
	char err[256], name[32];
	int64_t worst = 0;
	size_t i, k;

	(void)state;
	atomic_init(&w->clock.now, 1000000);
	r = runner_new(&rc);
	runner_add(r, slow_canary());	/* first: due first, ahead of the others */
	for (i = 0; i < N_QUICK; i++) {
		snprintf(name, sizeof name, "quick-%zu", i);
		runner_add(r, fixture_canary(name, 1));
	}
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);		/* the slow one finished too */
	for (i = 0; i < N_QUICK; i++) {
		assert_true(w->quick[i].n >= 5);
		for (k = 1; k < w->quick[i].n; k++) {
			int64_t late = w->quick[i].ticks[k] - w->quick[i].ticks[k - 1] -
			    INTERVAL_S * 1000;

			if (late > worst)
				worst = late;
		}
	}
	print_message("slow backends: %d webhook calls of %d ms; quick canaries at most %lld ms late\n",
	    w->hook_calls, HOOK_MS, (long long)worst);
	/* One call of the slow canary at most, never the sum of its calls. */
	assert_true(worst <= HOOK_MS);
	assert_true(w->hook_calls > 10);
	/* Post-rollout hooks, one call each, still stop at the first "no". */
	assert_int_equal(w->post_calls[0], 1);
	assert_int_equal(w->post_calls[1], 1);
	assert_int_equal(w->post_calls[2], 0);
	runner_free(r);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_canary_does_not_stall_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
