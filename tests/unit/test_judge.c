/* test_judge.c — the comparison judge against statistics worked out by
 * hand: Mann–Whitney U, its tie and continuity corrections, z and the
 * p-value; the shift interval and verdicts of reference §5.8; NoData,
 * NaN and infinity; directions and tolerance; the weighted score and its
 * thresholds; and the perch.dev/compare* annotations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/judge.h"
#include "util/status.h"

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* ---- Mann–Whitney U ---------------------------------------------------- */

/* x = {1, 2, 4}, y = {2, 3, 5, 5}; nx = 3, ny = 4, N = 7.
 * Combined, sorted:  1x 2x 2y 3y 4x 5y 5y
 * ranks:             1  2.5 2.5 4  5  6.5 6.5  (the two 2s share (2+3)/2,
 *                                               the two 5s share (6+7)/2)
 * R_x = 1 + 2.5 + 5 = 8.5
 * U_x = R_x - nx(nx+1)/2 = 8.5 - 6 = 2.5
 *   check by pairs x > y (a tie counts 1/2): x=1: 0; x=2: 1/2 (the 2);
 *   x=4: 2 (2 and 3) -> 2.5.   U_y = nx*ny - U_x = 12 - 2.5 = 9.5
 * tie groups {2,2} and {5,5}: sum(t^3 - t) = 6 + 6 = 12
 * sigma^2 = nx ny / 12 * ((N+1) - 12 / (N(N-1))) = 1 * (8 - 12/42)
 *         = 8 - 2/7 = 54/7 = 7.7142857...,  sigma = 2.7774602993
 * d = U_x - nx ny / 2 = 2.5 - 6 = -3.5; continuity -0.5 sign(d) = +0.5
 * z = (-3.5 + 0.5) / 2.7774602993 = -1.0801234497
 * p = 2 Phi(-1.0801) = erfc(1.0801/sqrt 2) = 0.2800872108
 *   (a normal table gives Phi(-1.08) = 0.1401, so p is about 0.280). */
static void
test_mw_hand_with_ties(void **state)
{
	static const double x[] = { 1, 2, 4 }, y[] = { 2, 3, 5, 5 };
	struct judge_mw mw;
	char err[128] = "";

	(void)state;
	assert_int_equal(judge_mann_whitney(x, 3, y, 4, &mw, err, sizeof err), ST_OK);
	assert_int_equal(mw.nx, 3);
	assert_int_equal(mw.ny, 4);
	NEAR(mw.rank_sum_x, 8.5, 1e-12);
	NEAR(mw.u_x, 2.5, 1e-12);
	NEAR(mw.u_y, 9.5, 1e-12);
	NEAR(mw.ties, 12, 1e-12);
	NEAR(mw.sigma, sqrt(54.0 / 7.0), 1e-12);
	NEAR(mw.sigma, 2.7774602993, 1e-9);
	NEAR(mw.z, -1.0801234497, 1e-9);
	NEAR(mw.p, 0.2800872108, 1e-9);
	/* without the tie correction sigma would be sqrt(12 * 8 / 12) */
	assert_true(fabs(mw.sigma - sqrt(8.0)) > 0.05);
}

/* x = {3, 4, 5}, y = {1, 2}: no ties, every x above every y.
 * ranks 3, 4, 5 for x: R_x = 12, U_x = 12 - 6 = 6 = nx ny, U_y = 0
 * sigma^2 = 3*2/12 * (6 - 0) = 3, sigma = 1.7320508076
 * d = 6 - 3 = 3, z = (3 - 0.5) / sqrt 3 = 1.4433756730
 * p = 2 (1 - Phi(1.4434)) = 0.1489146732 (table: 1 - Phi(1.44) = 0.0749). */
static void
test_mw_hand_no_ties(void **state)
{
	static const double x[] = { 3, 4, 5 }, y[] = { 1, 2 };
	struct judge_mw mw;

	(void)state;
	assert_int_equal(judge_mann_whitney(x, 3, y, 2, &mw, NULL, 0), ST_OK);
	NEAR(mw.rank_sum_x, 12, 1e-12);
	NEAR(mw.u_x, 6, 1e-12);
	NEAR(mw.u_y, 0, 1e-12);
	NEAR(mw.ties, 0, 1e-12);
	NEAR(mw.sigma, sqrt(3.0), 1e-12);
	NEAR(mw.z, 1.4433756730, 1e-9);
	NEAR(mw.p, 0.1489146732, 1e-9);
}

/* x = {1, 2}, y = {2, 1}: R_x = 1.5 + 3.5 = 5 (two tie groups of 2),
 * U_x = 5 - 3 = 2 = nx ny / 2, d = 0: no continuity correction, z = 0,
 * p = 1.  sigma^2 = 4/12 * (5 - 12/12) = 4/3. */
static void
test_mw_hand_centre(void **state)
{
	static const double x[] = { 1, 2 }, y[] = { 2, 1 };
	struct judge_mw mw;

	(void)state;
	assert_int_equal(judge_mann_whitney(x, 2, y, 2, &mw, NULL, 0), ST_OK);
	NEAR(mw.u_x, 2, 1e-12);
	NEAR(mw.ties, 12, 1e-12);
	NEAR(mw.sigma, sqrt(4.0 / 3.0), 1e-12);
	NEAR(mw.z, 0, 1e-12);
	NEAR(mw.p, 1, 1e-12);
}

static void
test_mw_errors(void **state)
{
	static const double same[] = { 7, 7, 7 }, inf[] = { 1, INFINITY }, nan[] = { NAN, 1 };
	struct judge_mw mw;
	char err[128];

	(void)state;
	assert_int_equal(judge_mann_whitney(same, 3, same, 2, &mw, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "all observations are tied");
	assert_int_equal(judge_mann_whitney(inf, 2, same, 3, &mw, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "canary sample value 1 is +Inf");
	assert_int_equal(judge_mann_whitney(same, 3, nan, 2, &mw, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "primary sample value 0 is NaN");
	assert_int_equal(judge_mann_whitney(same, 0, same, 2, &mw, err, sizeof err), ST_INVALID);
	assert_string_equal(err, "the canary sample is empty");
}

static void
test_normal_quantile(void **state)
{
	(void)state;
	/* table values: Phi^-1(0.01) = -2.3263478740, Phi^-1(0.975) = 1.9599639845 */
	NEAR(judge_normal_quantile(0.01), -2.3263478740, 1e-9);
	NEAR(judge_normal_quantile(0.975), 1.9599639845, 1e-9);
	NEAR(judge_normal_quantile(0.5), 0, 1e-12);
	assert_true(isnan(judge_normal_quantile(0)));
	assert_true(isnan(judge_normal_quantile(1)));
	assert_true(isnan(judge_normal_quantile(NAN)));
}

static void
test_median(void **state)
{
	static const double odd[] = { 9, 1, 5 }, even[] = { 4, 1, 3, 10 };

	(void)state;
	NEAR(judge_median(odd, 3), 5, 0);
	NEAR(judge_median(even, 4), 3.5, 0);
	assert_true(isnan(judge_median(NULL, 0)));
}

/* ---- one metric -------------------------------------------------------- */

static void
seq(double *v, size_t n, double from)
{
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = from + (double)i;
}

static struct judge_metric
classify(enum judge_direction dir, double tol, const double *x, size_t nx, const double *y,
    size_t ny)
{
	struct judge_params p;
	struct judge_metric m;
	char err[128] = "";

	judge_params_init(&p);
	p.direction = dir;
	p.tolerance = tol;
	assert_int_equal(judge_classify(&p, "latency", x, nx, y, ny, &m, err, sizeof err), ST_OK);
	assert_string_equal(err, "");
	return m;
}

/* Reference §5.8: control 10..19; tolerance 0.25, confidence 0.98,
 * direction either; compare with a tolerance of 1e-3. */
static void
test_reference_vectors(void **state)
{
	static const struct {
		double from, lower, upper, estimate, ratio;
		enum judge_class want;
	} rows[] = {
		{ 20.0, 6.0, 14.0, 10.0, 1.6897, JUDGE_HIGH },
		{ 10.5, -3.5, 4.5, 0.5, 1.0345, JUDGE_PASS },
		{ 5.0, -9.0, -1.0, -5.0, 0.6552, JUDGE_PASS },	/* -1.0 is not < -1.25 */
	};
	double control[10], experiment[10];
	struct judge_metric m;
	size_t i;

	(void)state;
	seq(control, 10, 10);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		seq(experiment, 10, rows[i].from);
		m = classify(JUDGE_DIR_EITHER, 0.25, experiment, 10, control, 10);
		NEAR(m.lower, rows[i].lower, 1e-3);
		NEAR(m.upper, rows[i].upper, 1e-3);
		NEAR(m.estimate, rows[i].estimate, 1e-3);
		NEAR(m.ratio, rows[i].ratio, 1e-4);
		NEAR(m.bound, 0.25 * fabs(rows[i].estimate), 1e-3);
		assert_int_equal(m.classification, rows[i].want);
		assert_int_equal(m.n_canary, 10);
		assert_int_equal(m.n_primary, 10);
		NEAR(m.primary_median, 14.5, 0);
		NEAR(m.canary_median, rows[i].from + 4.5, 0);
	}
	seq(experiment, 10, 20);
	m = classify(JUDGE_DIR_EITHER, 0.25, experiment, 10, control, 10);
	assert_string_equal(m.reason, "latency was classified as High");
}

/* The same data with the samples swapped gives the mirrored interval and
 * Low; direction decides which of High and Low counts. */
static void
test_directions(void **state)
{
	double control[10], up[10], down[10];
	struct judge_metric m;

	(void)state;
	seq(control, 10, 10);
	seq(up, 10, 20);
	seq(down, 10, 0);
	assert_int_equal(classify(JUDGE_DIR_INCREASE, 0.25, up, 10, control, 10).classification,
	    JUDGE_HIGH);
	assert_int_equal(classify(JUDGE_DIR_DECREASE, 0.25, up, 10, control, 10).classification,
	    JUDGE_PASS);
	m = classify(JUDGE_DIR_EITHER, 0.25, down, 10, control, 10);
	assert_int_equal(m.classification, JUDGE_LOW);
	NEAR(m.lower, -14.0, 1e-3);
	NEAR(m.upper, -6.0, 1e-3);
	NEAR(m.estimate, -10.0, 1e-3);
	assert_string_equal(m.reason, "latency was classified as Low");
	assert_int_equal(classify(JUDGE_DIR_DECREASE, 0.25, down, 10, control, 10).classification,
	    JUDGE_LOW);
	assert_int_equal(classify(JUDGE_DIR_INCREASE, 0.25, down, 10, control, 10).classification,
	    JUDGE_PASS);
}

/* The bound is tolerance * |estimate|: the third vector (upper -1.0,
 * estimate -5.0) passes at 0.25 (bound 1.25) and is Low at 0.1 (0.5). */
static void
test_tolerance_and_effect(void **state)
{
	double control[10], lower[10], higher[10];
	struct judge_params p;
	struct judge_metric m;

	(void)state;
	seq(control, 10, 10);
	seq(lower, 10, 5);
	seq(higher, 10, 20);
	assert_int_equal(classify(JUDGE_DIR_EITHER, 0.25, lower, 10, control, 10).classification,
	    JUDGE_PASS);
	m = classify(JUDGE_DIR_EITHER, 0.1, lower, 10, control, 10);
	assert_int_equal(m.classification, JUDGE_LOW);
	NEAR(m.bound, 0.5, 1e-3);
	/* the effect size gate: a mean ratio of 1.69 is below an allowed 2.0 */
	judge_params_init(&p);
	p.allowed_increase = 2.0;
	assert_int_equal(judge_classify(&p, "m", higher, 10, control, 10, &m, NULL, 0), ST_OK);
	assert_int_equal(m.classification, JUDGE_PASS);
}

static void
test_nodata(void **state)
{
	static const double v[] = { 1, 2, 3 }, nans[] = { NAN, NAN };
	struct judge_params p;
	struct judge_metric m;

	(void)state;
	m = classify(JUDGE_DIR_EITHER, 0.25, NULL, 0, v, 3);
	assert_int_equal(m.classification, JUDGE_NODATA);
	assert_string_equal(m.reason, "Missing data for latency");
	assert_true(isnan(m.canary_median));
	NEAR(m.primary_median, 2, 0);
	assert_true(isnan(m.ratio));
	assert_true(isnan(m.lower));
	assert_int_equal(classify(JUDGE_DIR_EITHER, 0.25, v, 3, NULL, 0).classification, JUDGE_NODATA);
	m = classify(JUDGE_DIR_EITHER, 0.25, v, 3, nans, 2);
	assert_int_equal(m.classification, JUDGE_NODATA);
	assert_int_equal(m.n_primary, 0);
	/* a minimum sample count: 2 values are too few for 3, 3 are enough */
	judge_params_init(&p);
	p.min_samples = 3;
	assert_int_equal(judge_classify(&p, "m", v, 2, v, 3, &m, NULL, 0), ST_OK);
	assert_int_equal(m.classification, JUDGE_NODATA);
	assert_int_equal(judge_classify(&p, "m", v, 3, v, 3, &m, NULL, 0), ST_OK);
	assert_int_equal(m.classification, JUDGE_PASS);
}

/* NaN values are dropped (Kayenta's nanStrategy "remove"); an infinity is
 * an error with the classification Error, not a silent pass. */
static void
test_nan_and_inf(void **state)
{
	double control[10], up[12];
	static const double inf[] = { 1, 2, -INFINITY };
	struct judge_params p;
	struct judge_metric m, clean;
	char err[128];

	(void)state;
	seq(control, 10, 10);
	seq(up, 10, 20);
	clean = classify(JUDGE_DIR_EITHER, 0.25, up, 10, control, 10);
	up[10] = up[3];
	up[11] = up[0];
	up[0] = NAN;
	up[3] = NAN;
	m = classify(JUDGE_DIR_EITHER, 0.25, up, 12, control, 10);
	assert_int_equal(m.n_canary, 10);
	assert_int_equal(m.classification, clean.classification);
	NEAR(m.lower, clean.lower, 1e-9);
	NEAR(m.estimate, clean.estimate, 1e-9);
	NEAR(m.canary_median, 24.5, 0);
	judge_params_init(&p);
	assert_int_equal(judge_classify(&p, "m", control, 10, inf, 3, &m, err, sizeof err), ST_INVALID);
	assert_int_equal(m.classification, JUDGE_ERROR);
	assert_string_equal(err, "primary sample value 2 is -Inf");
	p.confidence = 1.0;
	assert_int_equal(judge_classify(&p, "m", control, 10, control, 10, &m, err, sizeof err),
	    ST_INVALID);
	assert_string_equal(err, "confidence 1 is not between 0 and 1");
}

/* §5.3 rules 2 and 3, and one value per sample (perch's deterministic
 * limit of Kayenta's jitter: the interval is the point a - b). */
static void
test_degenerate_samples(void **state)
{
	static const double a[] = { 3, 1, 2 }, b[] = { 2, 3, 1 }, five3[] = { 5, 5, 5 },
	    five2[] = { 5, 5 }, eight[] = { 8, 8, 8 }, four[] = { 4, 4, 4, 4 };
	struct judge_metric m;

	(void)state;
	m = classify(JUDGE_DIR_EITHER, 0.25, a, 3, b, 3);
	assert_int_equal(m.classification, JUDGE_PASS);
	assert_string_equal(m.reason, "The Canary and Baseline data are identical");
	assert_true(isnan(m.estimate));
	assert_int_equal(classify(JUDGE_DIR_EITHER, 0.25, five3, 3, five2, 2).classification,
	    JUDGE_PASS);
	m = classify(JUDGE_DIR_EITHER, 0.25, eight, 3, four, 4);
	assert_int_equal(m.classification, JUDGE_HIGH);
	NEAR(m.lower, 4, 0);
	NEAR(m.upper, 4, 0);
	NEAR(m.estimate, 4, 0);
	NEAR(m.ratio, 2, 0);
	assert_int_equal(classify(JUDGE_DIR_DECREASE, 0.25, eight, 3, four, 4).classification,
	    JUDGE_PASS);
	assert_int_equal(classify(JUDGE_DIR_EITHER, 0.25, four, 4, eight, 3).classification,
	    JUDGE_LOW);
}

/* ---- the score --------------------------------------------------------- */

static struct judge_score
score(const struct judge_scored *r, size_t n, const struct judge_weight *w, size_t nw)
{
	struct judge_thresholds t = { .marginal = 75, .pass = 95 };
	struct judge_score s;

	judge_score(r, n, w, nw, &t, &s);
	return s;
}

static const char *const g_errors[] = { "errors" }, *const g_latency[] = { "latency" };
static const char *const g_a[] = { "a" }, *const g_b[] = { "b" }, *const g_c[] = { "c" },
    *const g_d[] = { "d" };

/* Reference §5.8: errors (60: Pass, High) and latency (40: Pass)
 * -> 60 * 50/100 + 40 * 100/100 = 70 -> fail at 75/95. */
static void
test_score_reference(void **state)
{
	const struct judge_scored r[] = {
		{ .classification = JUDGE_PASS, .groups = g_errors, .n_groups = 1 },
		{ .classification = JUDGE_HIGH, .groups = g_errors, .n_groups = 1 },
		{ .classification = JUDGE_PASS, .groups = g_latency, .n_groups = 1 },
	};
	const struct judge_weight w[] = { { "errors", 60 }, { "latency", 40 } };
	struct judge_score s = score(r, 3, w, 2);

	(void)state;
	NEAR(s.score, 70.0, 1e-9);
	assert_int_equal(s.verdict, JUDGE_VERDICT_FAIL);
	assert_string_equal(judge_verdict_name(s.verdict), "fail");
	assert_string_equal(s.reason, "");
}

/* Exactly 75 is marginal, exactly 95 passes; a hundredth below each is
 * the verdict below. */
static void
test_score_edges(void **state)
{
	const struct judge_scored r[] = {
		{ .classification = JUDGE_PASS, .groups = g_a, .n_groups = 1 },
		{ .classification = JUDGE_HIGH, .groups = g_b, .n_groups = 1 },
	};
	static const double edges[][2] = { { 75, JUDGE_VERDICT_MARGINAL }, { 74.99, JUDGE_VERDICT_FAIL },
		{ 95, JUDGE_VERDICT_PASS }, { 94.99, JUDGE_VERDICT_MARGINAL },
		{ 100, JUDGE_VERDICT_PASS } };
	struct judge_weight w[2] = { { "a", 0 }, { "b", 0 } };
	struct judge_score s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof edges / sizeof edges[0]; i++) {
		w[0].weight = edges[i][0];
		w[1].weight = 100 - edges[i][0];
		s = score(r, 2, w, 2);
		NEAR(s.score, edges[i][0], 1e-9);
		assert_int_equal(s.verdict, (int)edges[i][1]);
	}
}

/* Unlisted groups share what the listed weights leave: a (listed 50),
 * b and c unlisted -> 25 each.  a Pass, b High, c Pass -> 50 + 0 + 25. */
static void
test_score_unlisted(void **state)
{
	const struct judge_scored r[] = {
		{ .classification = JUDGE_PASS, .groups = g_a, .n_groups = 1 },
		{ .classification = JUDGE_HIGH, .groups = g_b, .n_groups = 1 },
		{ .classification = JUDGE_PASS, .groups = g_c, .n_groups = 1 },
	};
	const struct judge_weight w[] = { { "a", 50 } };
	struct judge_score s;

	(void)state;
	s = score(r, 3, w, 1);
	NEAR(s.score, 75, 1e-9);
	assert_int_equal(s.verdict, JUDGE_VERDICT_MARGINAL);
	/* one group per metric, no weights: each a third; 2 of 3 pass
	 * -> 66.666... rounded half-up to 66.67 */
	s = score(r, 3, NULL, 0);
	NEAR(s.score, 66.67, 1e-9);
	/* no groups at all -> 0 */
	const struct judge_scored lone = { .classification = JUDGE_PASS };
	s = score(&lone, 1, NULL, 0);
	NEAR(s.score, 0, 0);
	assert_int_equal(s.verdict, JUDGE_VERDICT_FAIL);
}

/* NoData: a group with only NoData counts as 100; half or more of the
 * results NoData forces 0; a critical failure forces 0. */
static void
test_score_nodata_and_critical(void **state)
{
	struct judge_scored r[] = {
		{ .classification = JUDGE_PASS, .groups = g_a, .n_groups = 1 },
		{ .classification = JUDGE_HIGH, .groups = g_b, .n_groups = 1 },
		{ .classification = JUDGE_NODATA, .groups = g_c, .n_groups = 1 },
		{ .classification = JUDGE_NODATA, .groups = g_d, .n_groups = 1 },
	};
	struct judge_score s;

	(void)state;
	/* a 100, b 0, c (no data) 100 -> 200/3 = 66.67 */
	s = score(r, 3, NULL, 0);
	NEAR(s.score, 66.67, 1e-9);
	/* 2 NoData of 4 = 50 % */
	s = score(r, 4, NULL, 0);
	NEAR(s.score, 0, 0);
	assert_string_equal(s.reason, "Canary Failed: 50% or more metrics returned NODATA");
	r[1].critical = true;
	r[1].reason = "latency was classified as High";
	s = score(r, 2, NULL, 0);
	NEAR(s.score, 0, 0);
	assert_int_equal(s.verdict, JUDGE_VERDICT_FAIL);
	assert_string_equal(s.reason, "Canary Failed: latency was classified as High");
	r[1].classification = JUDGE_PASS;
	s = score(r, 2, NULL, 0);
	NEAR(s.score, 100, 0);
}

/* ---- annotations ------------------------------------------------------- */

static void
test_config_valid(void **state)
{
	struct judge_config c;
	char err[256] = "x";

	(void)state;
	judge_config_init(&c);
	NEAR(c.confidence, 0.98, 0);
	NEAR(c.tolerance, 0.25, 0);
	NEAR(c.scores.marginal, 75, 0);
	NEAR(c.scores.pass, 95, 0);
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare",
	    " request-duration=increase , request-success-rate = decrease,404s percentage",
	    err, sizeof err), ST_OK);
	assert_string_equal(err, "");
	assert_int_equal(c.n_metrics, 3);
	assert_string_equal(c.metrics[0].metric, "request-duration");
	assert_int_equal(c.metrics[0].direction, JUDGE_DIR_INCREASE);
	assert_string_equal(c.metrics[1].metric, "request-success-rate");
	assert_int_equal(c.metrics[1].direction, JUDGE_DIR_DECREASE);
	assert_string_equal(c.metrics[2].metric, "404s percentage");
	assert_int_equal(c.metrics[2].direction, JUDGE_DIR_EITHER);
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare-confidence", "0.95", err, sizeof err),
	    ST_OK);
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare-tolerance", "0", err, sizeof err),
	    ST_OK);
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare-scores", "60.5/90", err, sizeof err),
	    ST_OK);
	NEAR(c.confidence, 0.95, 0);
	NEAR(c.tolerance, 0, 0);
	NEAR(c.scores.marginal, 60.5, 0);
	NEAR(c.scores.pass, 90, 0);
	/* a second compare annotation replaces the list */
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare", "x=either", err, sizeof err), ST_OK);
	assert_int_equal(c.n_metrics, 1);
	assert_string_equal(c.metrics[0].metric, "x");
	/* other annotations are not the judge's */
	assert_int_equal(judge_config_apply(&c, "perch.dev/comparison", "1", err, sizeof err), ST_OK);
	assert_int_equal(judge_config_apply(&c, "flagger.app/x", "1", err, sizeof err), ST_OK);
	assert_int_equal(c.n_metrics, 1);
	judge_config_fini(&c);
	assert_null(c.metrics);
}

static void
test_config_errors(void **state)
{
	static const struct { const char *key, *value; int st; const char *err; } rows[] = {
		{ "perch.dev/compare", "", ST_PARSE, "annotation perch.dev/compare: no metric named "
		  "(expected name=increase|decrease|either, ...)" },
		{ "perch.dev/compare", "a=increase,", ST_PARSE, "annotation perch.dev/compare: item 2 is empty" },
		{ "perch.dev/compare", "a,,b", ST_PARSE, "annotation perch.dev/compare: item 2 is empty" },
		{ "perch.dev/compare", "a=increase, =decrease", ST_PARSE,
		  "annotation perch.dev/compare: item 2 \"=decrease\" has no metric name" },
		{ "perch.dev/compare", "request-duration=up", ST_INVALID, "annotation perch.dev/compare: "
		  "item 1 \"request-duration=up\": direction \"up\" is not increase, decrease or either" },
		{ "perch.dev/compare", "a=", ST_INVALID, "annotation perch.dev/compare: "
		  "item 1 \"a=\": direction \"\" is not increase, decrease or either" },
		{ "perch.dev/compare", "a=Increase", ST_INVALID, "annotation perch.dev/compare: "
		  "item 1 \"a=Increase\": direction \"Increase\" is not increase, decrease or either" },
		{ "perch.dev/compare", "a=increase,b,a=decrease", ST_INVALID,
		  "annotation perch.dev/compare: item 3: metric \"a\" is named twice" },
		{ "perch.dev/compare", "x=up\x1b[31m", ST_INVALID, "annotation perch.dev/compare: "
		  "item 1 \"x=up\": direction \"up\" is not increase, decrease or either" },
		{ "perch.dev/compare", "a\tb\x01=increase", ST_PARSE,
		  "annotation perch.dev/compare: item 1: metric name \"a b\" has a control character" },
		{ "perch.dev/compare-confidence", "1", ST_INVALID, "annotation perch.dev/compare-confidence: "
		  "\"1\" is not a confidence level between 0 and 1, such as 0.98" },
		{ "perch.dev/compare-confidence", "0", ST_INVALID, NULL },
		{ "perch.dev/compare-confidence", "98%", ST_INVALID, NULL },
		{ "perch.dev/compare-confidence", "nan", ST_INVALID, NULL },
		{ "perch.dev/compare-confidence", "1e-1", ST_INVALID, NULL },
		{ "perch.dev/compare-confidence", "0.9.8", ST_INVALID, NULL },
		{ "perch.dev/compare-confidence", ".", ST_INVALID, NULL },
		{ "perch.dev/compare-tolerance", "-0.1", ST_INVALID, "annotation perch.dev/compare-tolerance: "
		  "\"-0.1\" is not an effect-size tolerance from 0 up to (not including) 1, such as 0.25" },
		{ "perch.dev/compare-tolerance", "1.0", ST_INVALID, NULL },
		{ "perch.dev/compare-scores", "75-95", ST_PARSE,
		  "annotation perch.dev/compare-scores: \"75-95\" is not marginal/pass, such as 75/95" },
		{ "perch.dev/compare-scores", "75/95/99", ST_PARSE, NULL },
		{ "perch.dev/compare-scores", "seventy/95", ST_INVALID,
		  "annotation perch.dev/compare-scores: marginal score \"seventy\" is not a number from 0 to 100" },
		{ "perch.dev/compare-scores", "75/101", ST_INVALID,
		  "annotation perch.dev/compare-scores: pass score \"101\" is not a number from 0 to 100" },
		{ "perch.dev/compare-scores", "96/95", ST_INVALID,
		  "annotation perch.dev/compare-scores: marginal score 96 is above pass score 95" },
		{ "perch.dev/compare-confidance", "0.9", ST_INVALID, "annotation perch.dev/compare-confidance: "
		  "unknown annotation (perch.dev/compare, -confidence, -tolerance or -scores)" },
	};
	struct judge_config c;
	char err[256];
	size_t i;

	(void)state;
	judge_config_init(&c);
	assert_int_equal(judge_config_apply(&c, "perch.dev/compare", "keep=decrease", err, sizeof err),
	    ST_OK);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err[0] = '\0';
		if (judge_config_apply(&c, rows[i].key, rows[i].value, err, sizeof err) != rows[i].st)
			fail_msg("row %zu: %s=%s: unexpected status (%s)", i, rows[i].key, rows[i].value, err);
		if (rows[i].err != NULL)
			assert_string_equal(err, rows[i].err);
		else
			assert_true(strncmp(err, "annotation ", 11) == 0);
		/* a bad value leaves the config as it was */
		assert_int_equal(c.n_metrics, 1);
		assert_string_equal(c.metrics[0].metric, "keep");
		NEAR(c.confidence, 0.98, 0);
		NEAR(c.tolerance, 0.25, 0);
		NEAR(c.scores.marginal, 75, 0);
		NEAR(c.scores.pass, 95, 0);
	}
	judge_config_fini(&c);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(judge_class_name(JUDGE_HIGH), "High");
	assert_string_equal(judge_class_name(JUDGE_NODATA), "NoData");
	assert_string_equal(judge_class_name(JUDGE_CLASS__COUNT), "?");
	assert_string_equal(judge_direction_name(JUDGE_DIR_DECREASE), "decrease");
	assert_string_equal(judge_verdict_name(JUDGE_VERDICT_MARGINAL), "marginal");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mw_hand_with_ties),
		cmocka_unit_test(test_mw_hand_no_ties),
		cmocka_unit_test(test_mw_hand_centre),
		cmocka_unit_test(test_mw_errors),
		cmocka_unit_test(test_normal_quantile),
		cmocka_unit_test(test_median),
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_tolerance_and_effect),
		cmocka_unit_test(test_nodata),
		cmocka_unit_test(test_nan_and_inf),
		cmocka_unit_test(test_degenerate_samples),
		cmocka_unit_test(test_score_reference),
		cmocka_unit_test(test_score_edges),
		cmocka_unit_test(test_score_unlisted),
		cmocka_unit_test(test_score_nodata_and_critical),
		cmocka_unit_test(test_config_valid),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
