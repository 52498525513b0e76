/*
 * compare.c — the comparison judge of an analysis (see compare.h).
 */
#include "engine/compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/fmt.h"
#include "util/sanitize.h"
#include "util/status.h"

size_t
compare_count(const struct canary_cfg *c)
{
	return c->judge.n_metrics < COMPARE_MAX ? c->judge.n_metrics : COMPARE_MAX;
}

int64_t
compare_range_ms(const struct canary_cfg *c)
{
	return (int64_t)(c->interval_s > 0 ? c->interval_s : 60) * 1000;
}

int64_t
compare_step_ms(const struct canary_cfg *c)
{
	int64_t step = compare_range_ms(c) / COMPARE_STEPS;

	return step < 1000 ? 1000 : step;
}

static int
metric_index(const struct canary_cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_metrics; i++)
		if (strcmp(c->metrics[i].name, name) == 0)
			return (int)i;
	return -1;
}

size_t
compare_queries(const struct canary_cfg *c, int64_t at_ms, struct metric_query *q)
{
	size_t i, n = compare_count(c);
	const struct metric_cfg *m;
	int k;

	for (i = 0; i < n; i++) {
		k = metric_index(c, c->judge.metrics[i].metric);
		m = k >= 0 ? &c->metrics[k] : NULL;
		q[2 * i] = (struct metric_query){ .canary = c, .metric = m,
			.query = m != NULL ? m->query : NULL, .at_ms = at_ms };
		q[2 * i + 1] = (struct metric_query){ .canary = c, .metric = m,
			.query = m != NULL ? m->primary_query : NULL, .at_ms = at_ms, .primary = true };
	}
	return n;
}

/* The latest COMPARE_KEEP values of s, for the graph. */
static void
keep(const struct metric_samples *s, double *dst, size_t *n)
{
	size_t from;

	*n = 0;
	if (s->result != CHECK_PASS)
		return;
	from = s->n > COMPARE_KEEP ? s->n - COMPARE_KEEP : 0;
	*n = s->n - from;
	memcpy(dst, s->v + from, *n * sizeof *dst);
}

/* A side without samples: its reason, "canary: ..." / "primary: ...". */
static bool
side_missing(const struct metric_samples *s, const char *side, struct compare_metric *cm)
{
	char raw[ERRMSG_MAX + 16];

	if (s->result == CHECK_PASS && s->n > 0)
		return false;
	cm->unavailable |= s->result == CHECK_ERROR && s->unavailable;
	if (cm->reason[0] == '\0') {
		snprintf(raw, sizeof raw, "%s: %s", side, s->err[0] ? s->err : "no values found");
		sanitize(cm->reason, sizeof cm->reason, raw, strlen(raw));
	}
	return true;
}

static void
judge_one(const struct canary_cfg *c, size_t i, const struct metric_samples *cs,
    const struct metric_samples *ps, struct compare_metric *cm)
{
	const struct judge_compare *jc = &c->judge.metrics[i];
	struct judge_params p;
	struct judge_metric r;
	char err[256];
	bool missing;

	cm->metric = metric_index(c, jc->metric);
	sanitize(cm->name, sizeof cm->name, jc->metric, strlen(jc->metric));
	cm->classification = JUDGE_NODATA;
	cm->canary_median = cm->primary_median = cm->effect = NAN;
	keep(cs, cm->canary, &cm->n_canary);
	keep(ps, cm->primary, &cm->n_primary);
	missing = side_missing(cs, "canary", cm);
	missing = side_missing(ps, "primary", cm) || missing;
	if (missing)
		return;
	judge_params_init(&p);
	p.direction = jc->direction;
	p.confidence = c->judge.confidence;
	p.tolerance = c->judge.tolerance;
	if (judge_classify(&p, jc->metric, cs->v, cs->n, ps->v, ps->n, &r, err, sizeof err) != ST_OK) {
		sanitize(cm->reason, sizeof cm->reason, err, strlen(err));
		return;
	}
	cm->classification = r.classification;
	cm->canary_median = r.canary_median;
	cm->primary_median = r.primary_median;
	cm->effect = r.ratio;
}

void
compare_judge(const struct canary_cfg *c, const struct metric_samples *s, const char *why_none,
    struct compare_result *out)
{
	struct judge_scored sc[COMPARE_MAX];
	const char *groups[COMPARE_MAX];
	struct judge_score score;
	size_t i, nodata = 0;

	memset(out, 0, sizeof *out);
	out->done = true;
	out->n = compare_count(c);
	for (i = 0; i < out->n; i++) {
		struct compare_metric *cm = &out->m[i];

		if (s != NULL) {
			judge_one(c, i, &s[2 * i], &s[2 * i + 1], cm);
		} else {
			struct metric_samples none = { .result = CHECK_NODATA };

			snprintf(none.err, sizeof none.err, "%s", why_none ? why_none : "no samples");
			judge_one(c, i, &none, &none, cm);
		}
		out->unavailable |= cm->unavailable;
		nodata += cm->classification == JUDGE_NODATA;
		groups[i] = c->judge.metrics[i].metric;
		sc[i] = (struct judge_scored){ .classification = cm->classification,
			.groups = &groups[i], .n_groups = 1 };
	}
	judge_score(sc, out->n, NULL, 0, &c->judge.scores, &score);
	out->score = score.score;
	out->verdict = score.verdict;
	out->nodata = out->n > 0 && 2 * nodata >= out->n;
	sanitize(out->reason, sizeof out->reason, score.reason, strlen(score.reason));
}

static void
num_words(char *out, size_t outsz, double v)
{
	if (isnan(v))
		snprintf(out, outsz, "-");
	else
		fmt_number(out, outsz, v);
}

void
compare_words(const struct compare_metric *m, char *out, size_t outsz)
{
	char cn[FMT_MAX], pn[FMT_MAX];

	num_words(cn, sizeof cn, m->canary_median);
	num_words(pn, sizeof pn, m->primary_median);
	if (m->classification == JUDGE_NODATA && m->reason[0] != '\0')
		snprintf(out, outsz, "%s %s (%s)", m->name, judge_class_name(m->classification),
		    m->reason);
	else if (isnan(m->effect))
		snprintf(out, outsz, "%s %s (canary %s vs primary %s)", m->name,
		    judge_class_name(m->classification), cn, pn);
	else
		snprintf(out, outsz, "%s %s (canary %s vs primary %s, x%.2f)", m->name,
		    judge_class_name(m->classification), cn, pn, m->effect);
}
