/*
 * compare.h — the comparison judge of a canary's analysis: the queries of
 * its compared metrics (perch.dev/compare, cfg->judge), aimed at the
 * canary and at the primary, and their samples judged (engine/judge.h:
 * Mann-Whitney U at the confidence, the effect-size tolerance, High / Low
 * / Pass / NoData) and scored (0..100; pass, marginal or fail at the
 * perch.dev/compare-scores thresholds).
 *
 * The window: the last analysis interval of the canary, one sample every
 * tenth of it (at least one second), so eleven samples of each side at
 * most.  `perch check` and the engine (engine/runner_gather.c) use the
 * same functions, so both judge alike.
 *
 * Pure: no I/O, no clock.  Any thread.  A struct compare_result is plain
 * data (copied by value into snapshots).
 */
#ifndef PERCH_ENGINE_COMPARE_H
#define PERCH_ENGINE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/judge.h"
#include "engine/providers.h"

#define COMPARE_MAX 8		/* compared metrics judged per canary */
#define COMPARE_KEEP JOURNAL_SAMPLES_MAX	/* samples of each side kept for the graph */
#define COMPARE_STEPS 10	/* steps in the window */

struct compare_metric {
	int metric;			/* index in cfg->metrics */
	char name[64];			/* sanitized */
	enum judge_class classification;
	double canary_median, primary_median;	/* NaN when a side has none */
	double effect;			/* mean(canary) / mean(primary), NaN unknown */
	bool unavailable;		/* a side's backend gave no answer */
	char reason[200];		/* why NoData / Error, sanitized; else "" */
	/* The latest samples of each side, oldest first, for the graph. */
	size_t n_canary, n_primary;
	double canary[COMPARE_KEEP], primary[COMPARE_KEEP];
};

struct compare_result {
	bool done;			/* the comparison ran */
	size_t n;
	struct compare_metric m[COMPARE_MAX];
	double score;			/* 0..100 */
	enum judge_verdict verdict;
	/* The score was forced to 0 because half the metrics had no data, or
	 * a side's backend did not answer: perch treats these as a check
	 * without data (the no-data policy), or a degraded backend. */
	bool nodata, unavailable;
	char reason[200];		/* the forced score's reason, or "" */
};

/* How many compared metrics of c are judged (at most COMPARE_MAX). */
size_t compare_count(const struct canary_cfg *c);

/* The window and the step of the samples (ms). */
int64_t compare_range_ms(const struct canary_cfg *c);
int64_t compare_step_ms(const struct canary_cfg *c);

/* Fills q[2i] (canary) and q[2i+1] (primary) for each compared metric at
 * at_ms; q holds 2 * compare_count(c) entries.  Returns that count. */
size_t compare_queries(const struct canary_cfg *c, int64_t at_ms, struct metric_query *q);

/* Judges the samples s (as compare_queries laid them out; s NULL: no
 * samples, every metric NoData with why_none as the reason) into out. */
void compare_judge(const struct canary_cfg *c, const struct metric_samples *s,
    const char *why_none, struct compare_result *out);

/* "request-duration High (canary 240 vs primary 120, x2.00)" for metric i
 * of r, into out. */
void compare_words(const struct compare_metric *m, char *out, size_t outsz);

#endif
