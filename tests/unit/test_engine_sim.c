/* test_engine_sim.c — the runner driving the simulator (sim/) on an instant
 * clock: the canonical checkout canary promotes on Flagger's timeline, and
 * every scenario ends the way it promises (scenario.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"
#include "engine/runner.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "util/status.h"

#define MAX_RECS 512

struct log {
	struct journal_rec recs[MAX_RECS];
	size_t n;
};

static void
log_sink(void *arg, const struct journal_rec *rec)
{
	struct log *l = arg;

	if (l->n < MAX_RECS)
		l->recs[l->n++] = *rec;
}

/* The time of the first event containing text, or -1. */
static int64_t
event_at(const struct log *l, const char *text)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->recs[i].kind == REC_EVENT && strstr(l->recs[i].message, text) != NULL)
			return l->recs[i].time_ms;
	return -1;
}

static size_t
count(const struct log *l, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		if (l->recs[i].kind == REC_EVENT && strstr(l->recs[i].message, text) != NULL)
			n++;
	return n;
}

struct outcome {
	enum phase phase;
	int weight;
	int failed_checks;
	char reason[256];
	int exit;
};

/* Runs scenario s alone until it ends; fills out and the event log. */
static void
run_scenario(enum scenario s, struct log *log, struct outcome *out)
{
	struct perch_clock *clk = clock_new(CLOCK_KIND_INSTANT, SIM_EPOCH_MS, 0);
	struct sim_options o = { .seed = 7, .clock = &perch_clock_ops, .clock_ctx = clk };
	struct sim_world *w = sim_world_new(&o);
	struct canary_cfg *c = scenario_canary(s, "shop", scenario_app(s), 0);
	struct runner_config rc = {
		.cluster = &sim_cluster_ops, .cluster_ctx = w,
		.metrics = &sim_metrics_ops, .metrics_ctx = w,
		.clock = &perch_clock_ops, .clock_ctx = clk,
		.actor = "ci@test", .context = "DEMO", .stop_when_done = true,
		.sink = log_sink, .sink_arg = log,
	};
	struct runner *r;
	struct snapshot *snap;
	char err[256];

	/* A day of virtual time at most, whatever happens. */
	clock_set_limit(clk, SIM_EPOCH_MS + 24LL * 3600 * 1000);
	assert_int_equal(sim_world_add(w, c, s, err, sizeof err), ST_OK);
	r = runner_new(&rc);
	runner_add(r, c);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	/* Until it ends (runner_wait would wait forever if it did not). */
	for (;;) {
		struct timespec ts = { 0, 1000000L };

		snap = runner_snapshot(r);
		if (phase_is_terminal(snap->canaries[0].phase) || clock_at_limit(clk)) {
			snapshot_unref(snap);
			break;
		}
		snapshot_unref(snap);
		nanosleep(&ts, NULL);
	}
	runner_stop(r);
	snap = runner_snapshot(r);
	out->phase = snap->canaries[0].phase;
	out->weight = snap->canaries[0].weight;
	out->failed_checks = snap->canaries[0].failed_checks;
	snprintf(out->reason, sizeof out->reason, "%s", snap->canaries[0].reason);
	snapshot_unref(snap);
	out->exit = runner_outcome(r);
	runner_free(r);
	sim_world_free(w);
	clock_free(clk);
}

static void
test_sim_checkout_timeline(void **state)
{
	static const int weights[] = { 10, 20, 30, 40, 50 };
	struct log *log = calloc(1, sizeof *log);
	struct outcome out;
	int64_t start, t;
	char text[96];
	size_t i;

	(void)state;
	run_scenario(SCN_HEALTHY, log, &out);
	assert_int_equal(out.phase, PHASE_SUCCEEDED);
	assert_int_equal(out.exit, 0);
	assert_int_equal(out.failed_checks, 0);
	start = event_at(log, "New revision detected! Scaling up checkout.shop");
	assert_true(start > 0);
	/* One step per 30 s interval, promotion one interval after max weight. */
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "Advance checkout.shop canary weight %d", weights[i]);
		t = event_at(log, text);
		assert_int_equal(t - start, (int64_t)(i + 1) * 30000);
		assert_int_equal(count(log, text), 1);
	}
	assert_int_equal(event_at(log, "Starting canary analysis for checkout.shop") - start, 30000);
	assert_int_equal(event_at(log, "Copying checkout.shop template spec to checkout-primary.shop") -
	    start, 6 * 30000);
	assert_true(event_at(log, "Promotion completed! Scaling down checkout.shop") > start + 6 * 30000);
	assert_int_equal(count(log, "Copying checkout.shop template spec"), 1);
	free(log);
}

struct scn_row {
	enum scenario s;
	enum phase phase;
	int exit;
	const char *reason;	/* substring of the final reason, or NULL */
	const char *event;	/* an event that must be there, or NULL */
};

static void
test_sim_scenarios(void **state)
{
	static const struct scn_row rows[] = {
		{ SCN_ERROR_SPIKE, PHASE_FAILED, 1, "request-success-rate",
		  "Rolling back payments.shop failed checks threshold reached" },
		{ SCN_LATENCY_REGRESSION, PHASE_FAILED, 1, "request-duration",
		  "Halt search.shop advancement request duration" },
		{ SCN_NO_TRAFFIC, PHASE_FAILED, 1, "no traffic", "Rolling back invoices.shop no traffic" },
		{ SCN_SLOW_START, PHASE_SUCCEEDED, 0, NULL, "canary deployment cart.shop not ready" },
		{ SCN_PROMOTION_FAILURE, PHASE_FAILED, 1, "promotion failed",
		  "Promotion of shipping.shop failed, primary not ready" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct log *log = calloc(1, sizeof *log);
		struct outcome out;

		run_scenario(rows[i].s, log, &out);
		if (out.phase != rows[i].phase || out.exit != rows[i].exit ||
		    (rows[i].reason && !strstr(out.reason, rows[i].reason)) ||
		    (rows[i].event && event_at(log, rows[i].event) < 0))
			fail_msg("%s: %s exit %d reason \"%s\"", scenario_name(rows[i].s),
			    phase_name(out.phase), out.exit, out.reason);
		if (rows[i].s == SCN_NO_TRAFFIC)
			assert_int_equal(count(log, "Copying"), 0);
		if (rows[i].s == SCN_PROMOTION_FAILURE)
			assert_int_equal(out.weight, 100);	/* users stay on the canary */
		if (rows[i].s == SCN_SLOW_START)
			assert_int_equal(out.failed_checks, 0);
		free(log);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_checkout_timeline),
		cmocka_unit_test(test_sim_scenarios),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
