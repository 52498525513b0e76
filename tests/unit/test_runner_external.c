/* test_runner_external.c — the metric graphs of a canary another
 * controller drives (engine/runner_external.c), on the engine thread with
 * a manual clock, a cluster whose only op is `external` (a Flagger run
 * that progresses for 25 s from a start the test sets) and metrics that
 * answer instant queries and Flagger's history (range queries of
 * flagger_canary_metric_analysis and of its timestamp()).  The graphs hold
 * the run's past checks at their own times (durations in ms, an earlier
 * run's check left out, a sample seen at two steps once), then perch's own
 * check each analysis interval while the run progresses, judged against
 * the bounds; a new run starts again from its own history.  A run seen
 * 3000 s (300 intervals) after its start still shows the controller's
 * checks one interval apart, as many as the graph holds, the history asked
 * in range queries of at most METRIC_SAMPLES_MAX samples each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/runner.h"
#include "engine/snapshot.h"
#include "tests/unit/helper_canary.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Two runs, 100 s apart, each seen 20 s after its start (perch opened in
 * the middle of it) and progressing for 45 s from its start.  The second
 * is shown once the test has looked at the first (released). */
#define T0       1800000000000LL
#define RUN_GAP  100000
#define SEEN_AT  20000
#define RUN_MS   45000

struct fx {
	struct mclock clock;
	_Atomic int64_t since;		/* the run shown: its start */
	atomic_bool released;		/* the second run may be shown */
	_Atomic int evals, ranges;
	_Atomic int64_t range_ms, at_ms;	/* the last history query's */
	char query[2][512];		/* the first history queries, value and time */
};

static int
fx_external(void *ctx, const struct canary_cfg *c, struct canary_status *st,
    struct journal_rec *ev, size_t max, size_t *n_ev)
{
	struct fx *f = ctx;
	int64_t since = T0 - SEEN_AT;
	int i;

	(void)c; (void)ev; (void)max;
	*n_ev = 0;
	if (atomic_load(&f->clock.now) >= T0 + RUN_GAP) {
		struct timespec ts = { 0, 1000000 };

		for (i = 0; i < 10000 * test_timeout_scale() && !atomic_load(&f->released); i++)
			nanosleep(&ts, NULL);
		since += RUN_GAP;
	}
	atomic_store(&f->since, since);
	st->phase = atomic_load(&f->clock.now) < since + RUN_MS ? PHASE_PROGRESSING :
	    PHASE_WAITING_PROMOTION;
	st->phase_since_ms = since;
	st->canary_weight = 20;
	return ST_OK;
}

static const struct cluster_ops fx_cluster = { .name = "fx", .external = fx_external };

/* Instant queries: 95 % success (below its minimum 99), 248 ms. */
static void
fill_values(const struct metric_query *q, size_t n, struct metric_value *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i].result = CHECK_PASS;
		out[i].value = q[i].metric->kind == METRIC_DURATION ? 248 : 95;
	}
}

static int
fx_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct fx *f = ctx;

	atomic_fetch_add(&f->evals, 1);
	fill_values(q, n, out);
	return ST_OK;
}

/* Flagger's history: a check of an earlier run, then two of this one
 * (the first seen at two steps), durations in seconds. */
static int
fx_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms, int64_t step_ms,
    struct metric_samples *out)
{
	struct fx *f = ctx;
	double s0 = (double)atomic_load(&f->since) / 1000;
	size_t i;

	(void)step_ms;
	if (atomic_fetch_add(&f->ranges, 1) == 0 && n >= 2) {
		snprintf(f->query[0], sizeof f->query[0], "%s", q[0].query);
		snprintf(f->query[1], sizeof f->query[1], "%s", q[1].query);
	}
	atomic_store(&f->range_ms, range_ms);
	atomic_store(&f->at_ms, q[0].at_ms);
	for (i = 0; i < n; i++) {
		bool stamp = strncmp(q[i].query, "timestamp(", 10) == 0;
		bool dur = strstr(q[i].query, "metric=\"request-duration\"") != NULL;
		const double t[4] = { s0 - 30, s0 + 5, s0 + 5, s0 + 15 };
		const double v[2][4] = { { 42, 99.9, 99.9, 99.5 }, { 9, 0.110, 0.110, 0.130 } };

		out[i].result = CHECK_PASS;
		out[i].n = 4;
		memcpy(out[i].v, stamp ? t : v[dur], sizeof t);
	}
	return ST_OK;
}

static const struct metrics_ops fx_metrics = { .name = "fx", .eval = fx_eval,
	.samples = fx_samples };

static int64_t
sec(struct fx *f, int s)
{
	return atomic_load(&f->since) + (int64_t)s * 1000;
}

/* The first snapshot of r with one canary that done(s, arg) accepts. */
static struct snapshot *
await_snap(struct runner *r, bool (*done)(const struct snapshot *s, void *arg), void *arg)
{
	int i;

	for (i = 0; i < 20000 * test_timeout_scale(); i++) {
		struct snapshot *s = runner_snapshot(r);
		struct timespec ts = { 0, 1000000 };

		if (s->n_canaries == 1 && done(s, arg))
			return s;
		snapshot_unref(s);
		nanosleep(&ts, NULL);
	}
	fail_msg("the run's checks never showed");
	return NULL;
}

struct run_wait {
	struct fx *f;
	int64_t since;
};

/* The run's checks are all in: its history and three of perch's. */
static bool
run_done(const struct snapshot *s, void *arg)
{
	const struct run_wait *w = arg;
	const struct snap_canary *c = &s->canaries[0];

	return atomic_load(&w->f->since) == w->since && c->n_metrics == 2 &&
	    c->metrics[0].n_points == 5 && c->metrics[1].n_points == 5 &&
	    c->metrics[0].points[0].t_ms == sec(w->f, 5) &&
	    s->now_ms > sec(w->f, RUN_MS / 1000 + 1);
}

static struct snapshot *
await_run(struct runner *r, struct fx *f, int64_t since)
{
	return await_snap(r, run_done, &(struct run_wait){ f, since });
}

static void
expect_point(const struct snap_point *p, int64_t t, double v, enum check_result res)
{
	assert_int_equal(p->t_ms, t);
	assert_true(p->value > v - 1e-3 && p->value < v + 1e-3);
	assert_int_equal(p->result, res);
}

/* The points of one run: Flagger's two past checks, then perch's own
 * every 10 s from when it saw the run. */
static void
expect_run(const struct snapshot *s, struct fx *f)
{
	const struct snap_metric *sr = &s->canaries[0].metrics[0], *d = &s->canaries[0].metrics[1];
	int64_t first = sr->points[2].t_ms;
	int k;

	expect_point(&sr->points[0], sec(f, 5), 99.9, CHECK_PASS);
	expect_point(&sr->points[1], sec(f, 15), 99.5, CHECK_PASS);
	expect_point(&d->points[0], sec(f, 5), 110, CHECK_PASS);	/* seconds as ms */
	expect_point(&d->points[1], sec(f, 15), 130, CHECK_PASS);
	assert_true(first >= sec(f, SEEN_AT / 1000) && first < sec(f, SEEN_AT / 1000 + 1));
	/* The history is asked over the run so far, when it was seen. */
	assert_int_equal(atomic_load(&f->at_ms), first);
	assert_true(atomic_load(&f->range_ms) >= SEEN_AT && atomic_load(&f->range_ms) < SEEN_AT + 10000);
	for (k = 0; k < 3; k++) {
		expect_point(&sr->points[2 + k], first + k * 10000, 95, CHECK_FAIL);
		expect_point(&d->points[2 + k], first + k * 10000, 248, CHECK_PASS);
	}
}

static void
test_external_graphs(void **state)
{
	struct fx f;
	struct canary_cfg *c = fixture_canary("podinfo", 2);
	struct runner_config rc;
	struct runner *r;
	struct snapshot *s;
	char err[256];

	(void)state;
	memset(&f, 0, sizeof f);
	atomic_init(&f.clock.now, T0);
	atomic_init(&f.since, T0 - SEEN_AT);
	c->interval_s = 10;
	c->driven_by = xstrdup("Flagger (flagger-system/flagger)");
	rc = (struct runner_config){ .cluster = &fx_cluster, .cluster_ctx = &f,
		.metrics = &fx_metrics, .metrics_ctx = &f, .clock = &mclock_ops,
		.clock_ctx = &f.clock, .actor = "ci@runner", .context = "TEST" };
	r = runner_new(&rc);
	runner_add(r, c);
	if (runner_start(r, err, sizeof err) != ST_OK)
		fail_msg("runner_start: %s", err);
	s = await_run(r, &f, T0 - SEEN_AT);
	expect_run(s, &f);
	assert_int_equal(atomic_load(&f.evals), 3);
	assert_string_equal(f.query[0], "flagger_canary_metric_analysis{name=\"podinfo\","
	    "namespace=\"shop\",metric=\"request-success-rate\"}");
	assert_string_equal(f.query[1], "timestamp(flagger_canary_metric_analysis{name=\"podinfo\","
	    "namespace=\"shop\",metric=\"request-success-rate\"})");
	snapshot_unref(s);
	/* A new run: its own history, the last run's points gone. */
	atomic_store(&f.released, true);
	s = await_run(r, &f, T0 - SEEN_AT + RUN_GAP);
	expect_run(s, &f);
	assert_int_equal(atomic_load(&f.evals), 6);
	assert_int_equal(atomic_load(&f.ranges), 2);
	snapshot_unref(s);
	runner_stop(r);
	runner_free(r);
}

/* ---- a long run ------------------------------------------------------ */

#define LONG_SEEN 3005000	/* seen that long after the run's start */

struct fx_long {
	struct mclock clock;
	int64_t since;
	atomic_bool released;		/* evaluations after the first may go on */
	_Atomic int evals, ranges, too_many;
};

static int
long_external(void *ctx, const struct canary_cfg *c, struct canary_status *st,
    struct journal_rec *ev, size_t max, size_t *n_ev)
{
	struct fx_long *f = ctx;

	(void)c; (void)ev; (void)max;
	*n_ev = 0;
	st->phase = PHASE_PROGRESSING;
	st->phase_since_ms = f->since;
	st->canary_weight = 20;
	return ST_OK;
}

static const struct cluster_ops long_cluster = { .name = "fx", .external = long_external };

/* The first evaluation answers at once, the next wait for the test. */
static int
long_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct fx_long *f = ctx;
	struct timespec ts = { 0, 1000000 };
	int k;

	for (k = 0; atomic_fetch_add(&f->evals, 1) > 0 && k < 10000 * test_timeout_scale() &&
	    !atomic_load(&f->released); k++)
		nanosleep(&ts, NULL);
	fill_values(q, n, out);
	return ST_OK;
}

/* As Prometheus answers a range query of Flagger's gauge: at each step
 * from at - range to at, the last check (one every 10 s from the run's
 * start on, its value 90 + its number modulo 10) and its timestamp. */
static int
long_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms, int64_t step_ms,
    struct metric_samples *out)
{
	struct fx_long *f = ctx;
	size_t i;
	int64_t t, k;

	atomic_fetch_add(&f->ranges, 1);
	if (range_ms / step_ms + 1 > METRIC_SAMPLES_MAX)
		atomic_fetch_add(&f->too_many, 1);
	for (i = 0; i < n; i++) {
		bool stamp = strncmp(q[i].query, "timestamp(", 10) == 0;

		out[i].result = CHECK_PASS;
		out[i].n = 0;
		for (t = q[i].at_ms - range_ms; t <= q[i].at_ms && out[i].n < METRIC_SAMPLES_MAX;
		    t += step_ms) {
			k = (t - f->since) / 10000;
			if (k < 1)
				continue;
			out[i].v[out[i].n++] = stamp ? (double)(f->since + k * 10000) / 1000 :
			    (double)(90 + k % 10);
		}
	}
	return ST_OK;
}

static const struct metrics_ops long_metrics = { .name = "fx", .eval = long_eval,
	.samples = long_samples };

/* perch's first check is in, after the history. */
static bool
long_done(const struct snapshot *s, void *arg)
{
	struct fx_long *f = arg;
	const struct snap_metric *m = &s->canaries[0].metrics[0];

	return atomic_load(&f->evals) > 0 && s->canaries[0].n_metrics == 2 && m->n_points > 0 &&
	    m->points[m->n_points - 1].t_ms > f->since + LONG_SEEN - 1000;
}

static void
test_external_long_run(void **state)
{
	struct fx_long f;
	struct canary_cfg *c = fixture_canary("podinfo", 2);
	struct runner *r;
	struct snapshot *s;
	const struct snap_metric *m;
	char err[256];
	size_t j;

	(void)state;
	memset(&f, 0, sizeof f);
	f.since = T0 - LONG_SEEN;
	atomic_init(&f.clock.now, T0);
	c->interval_s = 10;
	c->driven_by = xstrdup("Flagger (flagger-system/flagger)");
	r = runner_new(&(struct runner_config){ .cluster = &long_cluster, .cluster_ctx = &f,
		.metrics = &long_metrics, .metrics_ctx = &f, .clock = &mclock_ops,
		.clock_ctx = &f.clock, .actor = "ci@runner", .context = "TEST" });
	runner_add(r, c);
	if (runner_start(r, err, sizeof err) != ST_OK)
		fail_msg("runner_start: %s", err);
	s = await_snap(r, long_done, &f);
	m = &s->canaries[0].metrics[0];
	/* The graph is full: the last checks of Flagger, one interval apart,
	 * up to its last (3000 s), then perch's own. */
	assert_true(m->n_points >= 100);
	assert_int_equal(m->points[m->n_points - 2].t_ms, f.since + 3000000);
	for (j = 0; j + 2 < m->n_points; j++) {
		int64_t k = (m->points[j].t_ms - f.since) / 10000;

		assert_int_equal(m->points[j + 1].t_ms - m->points[j].t_ms, 10000);
		assert_true(m->points[j].value > 90 + k % 10 - 1e-3 &&
		    m->points[j].value < 90 + k % 10 + 1e-3);
	}
	expect_point(&m->points[m->n_points - 1], T0, 95, CHECK_FAIL);
	assert_true(atomic_load(&f.ranges) >= 2);
	assert_int_equal(atomic_load(&f.too_many), 0);
	snapshot_unref(s);
	atomic_store(&f.released, true);
	runner_stop(r);
	runner_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_external_graphs),
		cmocka_unit_test(test_external_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
