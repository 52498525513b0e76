/*
 * judge.h — the comparison judge: is the canary's metric worse than the
 * primary's over the same window?  Kayenta's NetflixACAJudge as reference
 * §5 specifies it (Mann–Whitney U, its normal-approximation confidence
 * interval for the shift, the effect-size tolerance, the weighted score),
 * plus the perch.dev/compare* annotations that configure it.
 *
 * Everything here is pure: no I/O, no clock, no globals, no randomness.
 * Every function may be called from any thread; none keeps a pointer to
 * its arguments.  Working memory is allocated with xmalloc (out of memory
 * aborts in one place) and freed before returning.
 *
 * Errors are values: functions return ST_OK or a status of util/status.h
 * and, when err is not NULL, write a one-line message into err (errsz
 * bytes, always NUL-terminated).  Strings from outside (annotation values)
 * are sanitised (util/sanitize.h) before they reach a message.
 *
 * Samples: "x" / "canary" is Kayenta's experiment, "y" / "primary" its
 * control.  NaN values are dropped (Kayenta's default nanStrategy
 * "remove"); an infinite value is rejected with ST_INVALID and a message
 * naming the sample and index, because the shift interval of §5.4 is not
 * defined for it (a p99 that reads +Inf must not quietly pass: the caller
 * reports it as it reports a failed query).
 *
 * Where perch departs from Kayenta, on purpose:
 *   - when each sample holds one distinct value (and they differ), Kayenta
 *     adds Gaussian noise of sigma value*1e-5 before the test; perch
 *     returns that computation's limit instead, deterministically: the
 *     search interval [min x - max y, max x - min y] is then the single
 *     point a - b, so lower bound = upper bound = estimate = a - b;
 *   - the classification "Error" (a runtime failure) is the status this
 *     API returns, with JUDGE_ERROR in the result; mustHaveData, critical
 *     escalation and outlier removal are not offered by the annotations
 *     (the scorer still honours a result marked critical);
 *   - a minimum sample count (min_samples, default 1: Kayenta's rule,
 *     only an empty sample is NoData) can be raised by the caller.
 */
#ifndef PERCH_ENGINE_JUDGE_H
#define PERCH_ENGINE_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

/* Which change of the canary's value is bad (Kayenta's "direction"). */
#define JUDGE_DIRECTION_LIST(X) \
	X(INCREASE, "increase") \
	X(DECREASE, "decrease") \
	X(EITHER,   "either")

enum judge_direction {
#define X(id, text) JUDGE_DIR_##id,
	JUDGE_DIRECTION_LIST(X)
#undef X
	JUDGE_DIR__COUNT
};

/* One metric's classification; the text is what -o json prints. */
#define JUDGE_CLASS_LIST(X) \
	X(HIGH,   "High") \
	X(LOW,    "Low") \
	X(PASS,   "Pass") \
	X(NODATA, "NoData") \
	X(ERROR,  "Error")

enum judge_class {
#define X(id, text) JUDGE_##id,
	JUDGE_CLASS_LIST(X)
#undef X
	JUDGE_CLASS__COUNT
};

/* The score's verdict (Kayenta's ThresholdScoreClassifier). */
#define JUDGE_VERDICT_LIST(X) \
	X(PASS,     "pass") \
	X(MARGINAL, "marginal") \
	X(FAIL,     "fail")

enum judge_verdict {
#define X(id, text) JUDGE_VERDICT_##id,
	JUDGE_VERDICT_LIST(X)
#undef X
	JUDGE_VERDICT__COUNT
};

/* Static strings; "?" for a value outside the list. */
const char *judge_direction_name(enum judge_direction d);
const char *judge_class_name(enum judge_class c);
const char *judge_verdict_name(enum judge_verdict v);

/* Defaults (reference §5.2 and the issue). */
#define JUDGE_DEFAULT_CONFIDENCE 0.98
#define JUDGE_DEFAULT_TOLERANCE  0.25
#define JUDGE_DEFAULT_MARGINAL   75.0
#define JUDGE_DEFAULT_PASS       95.0

/* ---- Mann–Whitney U at shift 0 ---------------------------------------- */

/* The two-sided test of x against y, normal approximation with the tie
 * correction and the continuity correction (R's wilcox.test with
 * exact = FALSE, correct = TRUE; reference §5.4 at mu = 0). */
struct judge_mw {
	size_t nx, ny;
	double rank_sum_x;	/* R_x: ranks of x in x u y, ties averaged */
	double u_x, u_y;	/* U_x = R_x - nx(nx+1)/2, U_y = nx*ny - U_x */
	double ties;		/* sum over tie groups of t^3 - t */
	double sigma;		/* sqrt(nx ny/12 ((N+1) - ties/(N(N-1)))) */
	double z;		/* (U_x - nx ny/2 - 0.5 sign(.)) / sigma */
	double p;		/* two-sided p-value, 2 * Phi(-|z|), at most 1 */
};

/* x and y are finite (no NaN, no infinity), nx, ny >= 1.  ST_INVALID when
 * an argument breaks that or when every observation is tied (sigma 0). */
int judge_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
    struct judge_mw *out, char *err, size_t errsz);

/* The confidence interval and Hodges–Lehmann-type estimate of the shift
 * of x over y (reference §5.4): lower = root(+z), upper = root(z) with
 * z = Phi^-1((1 - confidence)/2), estimate = Brent root at 0.  Same input
 * rules as judge_mann_whitney, 0 < confidence < 1. */
struct judge_interval {
	double lower, upper, estimate;
};

int judge_shift_interval(const double *x, size_t nx, const double *y, size_t ny,
    double confidence, struct judge_interval *out, char *err, size_t errsz);

/* Phi^-1(p) for 0 < p < 1 (the standard normal quantile), to about 1e-15. */
double judge_normal_quantile(double p);

/* Median of n values (the mean of the two middle ones when n is even);
 * NaN when n is 0.  Does not change v. */
double judge_median(const double *v, size_t n);

/* ---- one metric -------------------------------------------------------- */

struct judge_params {
	enum judge_direction direction;
	double confidence;	/* 0 < c < 1, default 0.98 */
	double tolerance;	/* 0 <= t < 1, default 0.25 */
	double allowed_increase;	/* meanRatio thresholds, default 1.0 */
	double allowed_decrease;
	size_t min_samples;	/* per sample after NaN removal; 0 counts as 1 */
};

/* Kayenta's defaults with direction "either". */
void judge_params_init(struct judge_params *p);

struct judge_metric {
	enum judge_class classification;
	size_t n_canary, n_primary;	/* values used (NaN dropped) */
	double canary_median, primary_median;	/* NaN for an empty sample */
	/* Kayenta's effect size (measure meanRatio): mean(canary) /
	 * mean(primary); NaN when a sample is empty or a mean is 0.  This is
	 * the "effectSize" a compare record prints. */
	double ratio;
	/* The test (NaN when it did not run: NoData, identical samples). */
	double lower, upper, estimate;
	double bound;		/* tolerance * |estimate| */
	char reason[160];	/* "<metric> was classified as High", ... */
};

/* Classifies one metric (reference §5.3-§5.5).  metric names it in the
 * reason (not sanitised here: the caller's own metric name, sanitised when
 * printed).  canary/primary may be NULL when their count is 0.  Returns
 * ST_OK with out filled, or an error status with out->classification
 * JUDGE_ERROR (an infinite value, bad params). */
int judge_classify(const struct judge_params *p, const char *metric,
    const double *canary, size_t n_canary, const double *primary, size_t n_primary,
    struct judge_metric *out, char *err, size_t errsz);

/* ---- the score --------------------------------------------------------- */

/* One classified metric as the scorer sees it (muted ones left out by the
 * caller).  groups: the groups it counts in (borrowed); a metric in no
 * group counts for none, as in Kayenta.  For the perch.dev/compare
 * annotation each metric is its own group (groups = &its name), no
 * weights: every metric then weighs the same. */
struct judge_scored {
	enum judge_class classification;
	bool critical;
	const char *const *groups;
	size_t n_groups;
	const char *reason;	/* for "Canary Failed: <reason>"; may be NULL */
};

struct judge_weight {
	const char *group;
	double weight;		/* percent */
};

struct judge_thresholds {
	double marginal, pass;	/* 0 <= marginal <= pass <= 100 */
};

struct judge_score {
	double score;		/* 0..100, rounded half-up to 2 decimals */
	enum judge_verdict verdict;	/* >= pass: pass; >= marginal: marginal */
	char reason[200];	/* why the score is 0 when forced, else "" */
};

/* Kayenta's WeightedSumScorer and ThresholdScoreClassifier (§5.6). */
void judge_score(const struct judge_scored *r, size_t n, const struct judge_weight *w, size_t nw,
    const struct judge_thresholds *t, struct judge_score *out);

/* ---- the perch.dev/compare* annotations ------------------------------- */

#define JUDGE_ANNOTATION_LIST(X) \
	X(COMPARE,    "perch.dev/compare") \
	X(CONFIDENCE, "perch.dev/compare-confidence") \
	X(TOLERANCE,  "perch.dev/compare-tolerance") \
	X(SCORES,     "perch.dev/compare-scores")

struct judge_compare {
	char *metric;		/* owned */
	enum judge_direction direction;
};

struct judge_config {
	struct judge_compare *metrics;	/* owned, n_metrics entries */
	size_t n_metrics;
	double confidence;
	double tolerance;
	struct judge_thresholds scores;
};

/* Defaults, no metrics.  _fini frees what the config owns. */
void judge_config_init(struct judge_config *c);
void judge_config_fini(struct judge_config *c);

/* Applies one annotation.  A key outside the perch.dev/compare family is
 * not the judge's and is ignored (ST_OK, nothing changes); a key inside it
 * that is not one of the list (a typo) is ST_INVALID.  A bad value is
 * ST_PARSE or ST_INVALID with a message naming the annotation and the bad
 * part; c is then unchanged.  Accepted values:
 *   perch.dev/compare: "name=direction,name,..." — comma-separated, spaces
 *       around items, names and "=" ignored; direction increase, decrease
 *       or either, omitted means either; a name at most once;
 *   perch.dev/compare-confidence: a decimal 0 < c < 1 ("0.98");
 *   perch.dev/compare-tolerance: a decimal 0 <= t < 1 ("0.25");
 *   perch.dev/compare-scores: "marginal/pass", decimals 0..100,
 *       marginal <= pass ("75/95"). */
int judge_config_apply(struct judge_config *c, const char *key, const char *value, char *err,
    size_t errsz);

#endif
