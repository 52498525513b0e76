/* test_engine_compare.c — the comparison judge in the engine: the runner
 * driving the simulated cluster with a metrics provider whose samples the
 * test chooses (perch.dev/compare): a canary twice as slow as its primary
 * fails its checks and is rolled back, one like its primary is promoted, a
 * marginal score holds without counting a failed check until the progress
 * deadline, a provider without samples follows the no-data policy; and the
 * demo's latency-drift scenarios on the simulator's own samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"
#include "engine/runner.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "util/status.h"

#define MAX_RECS 2048

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

static size_t
count_kind(const struct log *l, int kind)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += (int)l->recs[i].kind == kind;
	return n;
}

static size_t
count_event(const struct log *l, const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->recs[i].kind == REC_EVENT && strstr(l->recs[i].message, text) != NULL;
	return n;
}

/* The last record of a kind, or NULL. */
static const struct journal_rec *
last_kind(const struct log *l, int kind)
{
	size_t i;

	for (i = l->n; i > 0; i--)
		if ((int)l->recs[i - 1].kind == kind)
			return &l->recs[i - 1];
	return NULL;
}

/* The metrics provider: values from the simulator (in bounds), samples as
 * the test sets them: the primary's latency 100..118 ms, the canary's
 * `factor` times that; success rates alike for both. */
struct fake {
	struct sim_world *w;
	double factor;
};

static int
fk_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	return sim_metrics_ops.eval(((struct fake *)ctx)->w, q, n, out);
}

static int
fk_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms, int64_t step_ms,
    struct metric_samples *out)
{
	struct fake *f = ctx;
	size_t i, k;

	assert_true(range_ms == 30000 && step_ms == 3000);	/* interval 30s, tenths */
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].result = CHECK_PASS;
		out[i].n = 11;
		for (k = 0; k < 11; k++) {
			if (q[i].metric->kind == METRIC_DURATION)
				out[i].v[k] = (100 + (double)(k % 7) * 3) * (q[i].primary ? 1 : f->factor);
			else
				out[i].v[k] = 99.9 + (double)(k % 3) * 0.01;
		}
	}
	return ST_OK;
}

static const struct metrics_ops fake_metrics = { .name = "fake", .eval = fk_eval,
	.samples = fk_samples };
static const struct metrics_ops fake_no_samples = { .name = "fake", .eval = fk_eval };

struct outcome {
	enum phase phase;
	int failed_checks;
	char reason[256];
	struct compare_result compare;	/* the snapshot's */
	size_t max_failed;		/* the most failed checks seen */
};

/* Runs canary c of scenario s on the simulator until it ends, with the
 * metrics provider m (NULL: the simulator's own). */
static void
run(enum scenario s, struct canary_cfg *c, const struct metrics_ops *m, struct fake *f,
    struct log *log, struct outcome *out)
{
	struct perch_clock *clk = clock_new(CLOCK_KIND_INSTANT, SIM_EPOCH_MS, 0);
	struct sim_options o = { .seed = 7, .clock = &perch_clock_ops, .clock_ctx = clk };
	struct sim_world *w = sim_world_new(&o);
	struct runner_config rc = {
		.cluster = &sim_cluster_ops, .cluster_ctx = w,
		.metrics = m != NULL ? m : &sim_metrics_ops, .metrics_ctx = m != NULL ? (void *)f : w,
		.clock = &perch_clock_ops, .clock_ctx = clk,
		.actor = "ci@test", .context = "DEMO", .stop_when_done = true,
		.sink = log_sink, .sink_arg = log,
	};
	struct runner *r;
	struct snapshot *snap;
	char err[256];

	if (f != NULL)
		f->w = w;
	memset(out, 0, sizeof *out);
	clock_set_limit(clk, SIM_EPOCH_MS + 24LL * 3600 * 1000);
	assert_int_equal(sim_world_add(w, c, s, err, sizeof err), ST_OK);
	r = runner_new(&rc);
	runner_add(r, c);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	for (;;) {
		struct timespec ts = { 0, 1000000L };
		bool end;

		snap = runner_snapshot(r);
		end = phase_is_terminal(snap->canaries[0].phase) || clock_at_limit(clk);
		if ((size_t)snap->canaries[0].failed_checks > out->max_failed)
			out->max_failed = (size_t)snap->canaries[0].failed_checks;
		snapshot_unref(snap);
		if (end)
			break;
		nanosleep(&ts, NULL);
	}
	runner_stop(r);
	snap = runner_snapshot(r);
	out->phase = snap->canaries[0].phase;
	out->failed_checks = snap->canaries[0].failed_checks;
	out->compare = snap->canaries[0].compare;
	snprintf(out->reason, sizeof out->reason, "%s", snap->canaries[0].reason);
	snapshot_unref(snap);
	runner_free(r);
	sim_world_free(w);
	clock_free(clk);
}

/* The healthy scenario's canary (in bounds everywhere), comparing what
 * `compare` names, with the scores given (NULL: default). */
static struct canary_cfg *
judged(const char *compare, const char *scores)
{
	struct canary_cfg *c = scenario_canary(SCN_HEALTHY, "shop", "checkout", 0);

	judge_config_init(&c->judge);
	assert_int_equal(judge_config_apply(&c->judge, "perch.dev/compare", compare, NULL, 0), ST_OK);
	if (scores != NULL)
		assert_int_equal(judge_config_apply(&c->judge, "perch.dev/compare-scores", scores,
		    NULL, 0), ST_OK);
	return c;
}

static void
test_twice_as_slow_is_rolled_back(void **state)
{
	struct fake f = { .factor = 2 };
	struct log *log = calloc(1, sizeof *log);
	struct outcome out;
	const struct journal_rec *rec;

	(void)state;
	run(SCN_HEALTHY, judged("request-duration=increase", NULL), &fake_metrics, &f, log, &out);
	assert_int_equal(out.phase, PHASE_FAILED);
	assert_int_equal(out.max_failed, 5);	/* the threshold */
	/* every analysis of the run: a compare and a score record */
	assert_int_equal(count_kind(log, REC_COMPARE), 5);
	assert_int_equal(count_kind(log, REC_SCORE), 5);
	rec = last_kind(log, REC_COMPARE);
	assert_string_equal(rec->metric, "request-duration");
	assert_int_equal(rec->judge_class, JUDGE_HIGH);
	assert_true(rec->canary_median == 2 * rec->primary_median);
	assert_true(fabs(rec->effect - 2) < 1e-9);
	rec = last_kind(log, REC_SCORE);
	assert_true(rec->value == 0 && rec->verdict == JUDGE_VERDICT_FAIL);
	assert_int_equal(count_event(log, "Halt checkout.shop advancement compared with the primary: "
	    "compare score 0 (fail): request-duration High (canary 212 vs primary 106, x2.00)"), 5);
	assert_int_equal(count_event(log, "Rolling back checkout.shop failed checks threshold reached 5"), 1);
	/* the detail screen's copy */
	assert_true(out.compare.done);
	assert_int_equal(out.compare.n, 1);
	assert_int_equal(out.compare.m[0].classification, JUDGE_HIGH);
	assert_int_equal(out.compare.m[0].n_canary, 11);
	assert_true(out.compare.m[0].canary[0] == 200 && out.compare.m[0].primary[0] == 100);
	free(log);
}

static void
test_like_the_primary_is_promoted(void **state)
{
	struct fake f = { .factor = 1 };
	struct log *log = calloc(1, sizeof *log);
	struct outcome out;

	(void)state;
	run(SCN_HEALTHY, judged("request-duration=increase,request-success-rate=decrease", NULL),
	    &fake_metrics, &f, log, &out);
	assert_int_equal(out.phase, PHASE_SUCCEEDED);
	assert_int_equal(out.max_failed, 0);
	assert_int_equal(count_kind(log, REC_COMPARE), 2 * count_kind(log, REC_SCORE));
	assert_true(count_kind(log, REC_SCORE) >= 5);
	assert_true(last_kind(log, REC_SCORE)->value == 100);
	assert_int_equal(last_kind(log, REC_SCORE)->verdict, JUDGE_VERDICT_PASS);
	assert_int_equal(count_event(log, "compared with the primary"), 0);
	free(log);
}

/* One metric High, one Pass: score 50; with scores 40/95 that is marginal:
 * held, never a failed check, until the progress deadline rolls it back. */
static void
test_marginal_holds_until_the_deadline(void **state)
{
	struct fake f = { .factor = 2 };
	struct log *log = calloc(1, sizeof *log);
	struct outcome out;

	(void)state;
	run(SCN_HEALTHY, judged("request-duration=increase,request-success-rate=decrease", "40/95"),
	    &fake_metrics, &f, log, &out);
	assert_int_equal(out.phase, PHASE_FAILED);
	assert_int_equal(out.max_failed, 0);
	assert_true(last_kind(log, REC_SCORE)->value == 50);
	assert_int_equal(last_kind(log, REC_SCORE)->verdict, JUDGE_VERDICT_MARGINAL);
	assert_true(count_event(log, "compare score 50 (marginal): request-duration High") >= 10);
	assert_true(count_event(log, "(inconclusive: not counted as a failed check; promote, skip or "
	    "roll back)") >= 10);
	assert_int_equal(count_event(log, "past the progress deadline"), 1);
	assert_int_equal(count_event(log, "Weight"), 0);
	free(log);
}

/* A provider without samples: NoData, score 0 forced; the no-data policy
 * decides (pass: promoted, and the records say why). */
static void
test_no_samples_follow_the_no_data_policy(void **state)
{
	struct fake f = { .factor = 2 };
	struct log *log = calloc(1, sizeof *log);
	struct canary_cfg *c = judged("request-duration", NULL);
	struct outcome out;
	const struct journal_rec *rec;

	(void)state;
	c->nodata = NODATA_PASS;
	run(SCN_HEALTHY, c, &fake_no_samples, &f, log, &out);
	assert_int_equal(out.phase, PHASE_SUCCEEDED);
	rec = last_kind(log, REC_COMPARE);
	assert_int_equal(rec->judge_class, JUDGE_NODATA);
	assert_string_equal(rec->message, "canary: no samples: the metrics provider has no range queries");
	assert_true(isnan(rec->canary_median));
	rec = last_kind(log, REC_SCORE);
	assert_true(rec->value == 0 && rec->verdict == JUDGE_VERDICT_FAIL);
	assert_string_equal(rec->message, "Canary Failed: 50% or more metrics returned NODATA");
	free(log);
}

/* The demo's variant of latency-regression on the simulator's own
 * samples: fixed bounds promote it, the judge rolls it back. */
static void
test_latency_drift_scenarios(void **state)
{
	struct log *log = calloc(1, sizeof *log);
	struct outcome out;

	(void)state;
	run(SCN_LATENCY_DRIFT, scenario_canary(SCN_LATENCY_DRIFT, "shop", "lookup", 0), NULL, NULL,
	    log, &out);
	assert_int_equal(out.phase, PHASE_SUCCEEDED);
	assert_int_equal(count_kind(log, REC_COMPARE), 0);
	log->n = 0;
	run(SCN_LATENCY_DRIFT_JUDGED, scenario_canary(SCN_LATENCY_DRIFT_JUDGED, "shop",
	    "lookup-judged", 0), NULL, NULL, log, &out);
	assert_int_equal(out.phase, PHASE_FAILED);
	assert_int_equal(out.max_failed, 5);
	assert_int_equal(last_kind(log, REC_COMPARE)->judge_class, JUDGE_HIGH);
	assert_true(last_kind(log, REC_COMPARE)->effect > 1.8);
	assert_true(strstr(out.reason, "request-duration High") != NULL);
	free(log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_twice_as_slow_is_rolled_back),
		cmocka_unit_test(test_like_the_primary_is_promoted),
		cmocka_unit_test(test_marginal_holds_until_the_deadline),
		cmocka_unit_test(test_no_samples_follow_the_no_data_policy),
		cmocka_unit_test(test_latency_drift_scenarios),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
