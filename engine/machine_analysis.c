/*
 * machine_analysis.c — the analysis of a step (reference §3.3; see
 * machine_int.h): the first step runs the pre-rollout webhooks, the later
 * ones the rollout webhooks and then the metrics, judged in Flagger's
 * order.  perch: a check without data or below the minimum request volume
 * is inconclusive and follows the no-data policy; a metrics backend that
 * does not answer holds the analysis and never counts as a failed check.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/machine_int.h"
#include "util/fmt.h"

/* V_UNAVAILABLE: the backend gave no answer (down, slow, 5xx): neither a
 * pass nor a failure of the metric (perch: a degraded backend holds the
 * analysis, it never counts toward a rollback). */
enum verdict { V_PASS, V_FAIL, V_ERROR, V_INCONCLUSIVE, V_UNAVAILABLE };

/* A bound as judged: whole milliseconds for a duration (when it has a
 * whole part that fits: a bound of 1e308 stays what it is). */
static double
bound_of(const struct metric_cfg *m, double b)
{
	if (m->kind != METRIC_DURATION || !isfinite(b) || fabs(b) >= 9e15)
		return b;
	return (double)(long long)b;
}

static enum verdict
judge(const struct tk *k, size_t i, char *why, size_t whysz, bool *below)
{
	const struct metric_cfg *m = &k->c->metrics[i];
	const struct metric_value *v = &k->ob->values[i];

	*below = false;
	if (v->result == CHECK_ERROR) {
		snprintf(why, whysz, "%s", v->err[0] ? v->err : "query failed");
		return v->unavailable ? V_UNAVAILABLE : V_ERROR;
	}
	if (v->result != CHECK_PASS || v->value != v->value) {	/* NaN is no data (§3.3) */
		snprintf(why, whysz, "no data%s%s", v->err[0] ? ": " : "", v->err);
		return V_INCONCLUSIVE;
	}
	if (k->ob->has_volume[i]) {
		const struct metric_value *vol = &k->ob->volumes[i];

		if (vol->result != CHECK_PASS) {
			snprintf(why, whysz, "no request volume%s%s", vol->err[0] ? ": " : "", vol->err);
			return vol->result == CHECK_ERROR && vol->unavailable ? V_UNAVAILABLE :
			    V_INCONCLUSIVE;
		}
		if (vol->value < k->c->min_requests) {
			char vs[FMT_MAX], ms[FMT_MAX];

			fmt_number(vs, sizeof vs, vol->value);
			fmt_quantity(ms, sizeof ms, FMT_PLAIN, FMT_EXACT, k->c->min_requests);
			snprintf(why, whysz, "request volume %s below minimum %s", vs, ms);
			return V_INCONCLUSIVE;
		}
	}
	if (m->has_min && v->value < bound_of(m, m->min)) {
		*below = true;
		return V_FAIL;
	}
	if (m->has_max && v->value > bound_of(m, m->max))
		return V_FAIL;
	return V_PASS;
}

/* Flagger's "Halt ..." text and perch's reason for a value out of bounds.
 * The value and the bound read as on the screens (util/fmt.h: "730ms >
 * 500ms", where Flagger prints Go's "729.675824ms"); the check result in
 * the journal keeps the full value. */
static void
metric_failed(struct tk *k, size_t i, bool below)
{
	const struct metric_cfg *m = &k->c->metrics[i];
	double v = k->ob->values[i].value, b = below ? m->min : m->max;
	char cmp[2 * FMT_MAX + 8];

	fmt_compare(cmp, sizeof cmp, fmt_unit_of(metric_kind_unit(m->kind)), v, below ? "<" : ">",
	    bound_of(m, b));
	if (m->kind == METRIC_DURATION)
		mk_ev(k, SEV_WARNING, "Halt %s advancement request duration %s", mk_nn(k), cmp);
	else if (m->kind == METRIC_SUCCESS_RATE)
		mk_ev(k, SEV_WARNING, "Halt %s advancement success rate %s", mk_nn(k), cmp);
	else
		mk_ev(k, SEV_WARNING, "Halt %s advancement %s %s", mk_nn(k), m->name, cmp);
	mk_set_reason(k, "%s %s", m->name, cmp);
}

/* Flagger's texts for "no values found" (policy fail) and query errors. */
static void
metric_nodata_failed(struct tk *k, size_t i, const char *why, bool error)
{
	const struct metric_cfg *m = &k->c->metrics[i];
	const char *err = k->ob->values[i].err;

	if (error) {
		mk_ev(k, SEV_ERROR, "%s query failed for %s: %s",
		    m->template_ref ? "Metric" : "Prometheus", m->name, why);
		mk_set_reason(k, "%s query failed: %s", m->name, why);
		return;
	}
	if (m->template_ref != NULL)
		mk_ev(k, SEV_WARNING, "Halt advancement no values found for custom metric: %s: %s",
		    m->name, err);
	else if (m->kind == METRIC_CUSTOM)
		mk_ev(k, SEV_WARNING, "Halt advancement no values found for metric: %s", m->name);
	else if (m->kind == METRIC_DURATION)
		mk_ev(k, SEV_WARNING, "Halt advancement no values found for %s metric %s probably %s is "
		    "not receiving traffic", k->c->provider ? k->c->provider : "", m->name, mk_tn(k));
	else
		mk_ev(k, SEV_WARNING, "Halt advancement no values found for %s metric %s probably %s is "
		    "not receiving traffic: %s", k->c->provider ? k->c->provider : "", m->name, mk_tn(k), err);
	mk_set_reason(k, "%s %s", m->name, why);
}

/* Metric i's check as judged from the tick's observations. */
static void
judge_check(const struct tk *k, size_t i, struct mach_check *ch)
{
	char why[ERRMSG_MAX + 64];
	bool below;

	ch->metric = i;
	ch->has_value = k->ob->values[i].result == CHECK_PASS &&
	    k->ob->values[i].value == k->ob->values[i].value;	/* not NaN */
	ch->value = k->ob->values[i].value;
	ch->has_volume = k->ob->has_volume[i] && k->ob->volumes[i].result == CHECK_PASS;
	ch->volume = ch->has_volume ? k->ob->volumes[i].value : 0;
	switch (judge(k, i, why, sizeof why, &below)) {
	case V_PASS: ch->result = CHECK_PASS; break;
	case V_FAIL: ch->result = CHECK_FAIL; break;
	case V_ERROR: ch->result = CHECK_ERROR; break;
	case V_UNAVAILABLE: ch->result = CHECK_ERROR; break;
	case V_INCONCLUSIVE: ch->result = CHECK_NODATA; break;
	}
}

static void
record_checks(struct tk *k)
{
	size_t i;

	for (i = 0; i < k->c->n_metrics && k->o->n_checks < MACH_MAX_CHECKS; i++)
		judge_check(k, i, &k->o->checks[k->o->n_checks++]);
}

size_t
machine_judge_checks(const struct canary_cfg *c, const struct obs *ob, struct mach_check *out,
    size_t max)
{
	struct tk k;
	size_t i;

	memset(&k, 0, sizeof k);
	k.c = c;
	k.ob = ob;
	for (i = 0; i < c->n_metrics && i < max; i++)
		judge_check(&k, i, &out[i]);
	return i;
}

/* perch: an inconclusive analysis under the hold policy, or one whose
 * metrics backend did not answer (unavailable, whatever the policy): no
 * step, no failed check; past the progress deadline, a rollback. */
static bool
hold(struct tk *k, size_t i, const char *why, bool unavailable)
{
	int64_t deadline = (int64_t)(k->c->progress_deadline_s > 0 ? k->c->progress_deadline_s : 600) * 1000;
	const char *what = unavailable ? "metrics unavailable" : "no traffic";

	k->o->held = true;
	if (k->st->hold_since_ms == 0)
		k->st->hold_since_ms = k->now;
	if (k->now - k->st->hold_since_ms >= deadline) {
		mk_ev(k, SEV_WARNING, "Rolling back %s %s: %s %s for %llds, past the progress deadline",
		    mk_nn(k), what, k->c->metrics[i].name, why,
		    (long long)((k->now - k->st->hold_since_ms) / 1000));
		mk_alert(k, ALERT_ERROR, false, "Progress deadline exceeded %s: %s %s", what,
		    k->c->metrics[i].name, why);
		mk_rollback(k, what);
		return true;
	}
	if (unavailable) {
		mk_ev(k, SEV_WARNING, "Halt %s advancement %s not evaluated: %s (metrics backend degraded; "
		    "not counted as a failed check)", mk_nn(k), k->c->metrics[i].name, why);
		mk_set_reason(k, "held: %s not evaluated: %s", k->c->metrics[i].name, why);
		return true;
	}
	mk_ev(k, SEV_WARNING, "Halt %s advancement %s inconclusive: %s (no-data policy hold)", mk_nn(k),
	    k->c->metrics[i].name, why);
	mk_set_reason(k, "held: %s %s", k->c->metrics[i].name, why);
	return true;
}

/* Judges the metrics in Flagger's order (built-ins and inline queries,
 * then templates).  Returns true when the tick stops (failed or held). */
static bool
judge_metrics(struct tk *k)
{
	int pass, held = -1, gone = -1;
	char why[ERRMSG_MAX + 64], held_why[ERRMSG_MAX + 64] = "", gone_why[ERRMSG_MAX + 64] = "";
	size_t i;
	bool below;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < k->c->n_metrics; i++) {
			if ((k->c->metrics[i].template_ref != NULL) != (pass == 1))
				continue;
			switch (judge(k, i, why, sizeof why, &below)) {
			case V_PASS:
				break;
			case V_FAIL:
				metric_failed(k, i, below);
				return mk_fail_check(k, k->st->reason);
			case V_ERROR:
				metric_nodata_failed(k, i, why, true);
				return mk_fail_check(k, k->st->reason);
			case V_UNAVAILABLE:	/* the others are still judged */
				if (gone < 0) {
					gone = (int)i;
					snprintf(gone_why, sizeof gone_why, "%s", why);
				}
				break;
			case V_INCONCLUSIVE:
				if (k->c->nodata == NODATA_FAIL) {
					metric_nodata_failed(k, i, why, false);
					return mk_fail_check(k, k->st->reason);
				}
				if (k->c->nodata == NODATA_HOLD && held < 0) {
					held = (int)i;
					snprintf(held_why, sizeof held_why, "%s", why);
				}
				break;
			}
		}
	}
	if (gone >= 0)
		return hold(k, (size_t)gone, gone_why, true);
	if (held >= 0)
		return hold(k, (size_t)held, held_why, false);
	return false;
}

/* perch: the comparison with the primary (perch.dev/compare), after the
 * metrics passed their bounds.  A fail score is a failed check naming the
 * metrics that were not Pass; a marginal score is inconclusive: the step
 * holds (no failed check, no advance) until a score passes or fails, a
 * person promotes, skips or rolls back, or the progress deadline rolls it
 * back.  A score forced to 0 by missing samples follows the no-data
 * policy; samples a backend did not answer hold as a degraded backend. */
static void
compare_words_all(const struct compare_result *r, char *out, size_t outsz)
{
	char w[512];
	size_t i, len;

	snprintf(out, outsz, "compare score %g (%s)", r->score, judge_verdict_name(r->verdict));
	for (i = 0; i < r->n; i++) {
		if (r->m[i].classification == JUDGE_PASS)
			continue;
		compare_words(&r->m[i], w, sizeof w);
		len = strlen(out);
		snprintf(out + len, outsz - len, "%s%s", len > 0 ? ": " : "", w);
		break;	/* the first is enough for a reason line */
	}
}

static bool
judge_compare(struct tk *k)
{
	const struct compare_result *r = &k->ob->compare;
	char why[768];
	size_t i;

	if (!r->done)
		return false;
	for (i = 0; i < r->n && r->unavailable; i++)
		if (r->m[i].unavailable)
			return hold(k, (size_t)(r->m[i].metric >= 0 ? r->m[i].metric : 0), r->m[i].reason,
			    true);
	compare_words_all(r, why, sizeof why);
	if (r->nodata && r->verdict == JUDGE_VERDICT_FAIL) {
		if (k->c->nodata == NODATA_PASS)
			return false;
		if (k->c->nodata == NODATA_HOLD) {
			for (i = 0; i < r->n && r->m[i].classification != JUDGE_NODATA; i++)
				;
			return hold(k, (size_t)(i < r->n && r->m[i].metric >= 0 ? r->m[i].metric : 0),
			    r->reason[0] ? r->reason : "no samples", false);
		}
	}
	if (r->verdict == JUDGE_VERDICT_FAIL) {
		mk_ev(k, SEV_WARNING, "Halt %s advancement compared with the primary: %s", mk_nn(k), why);
		mk_set_reason(k, "%s", why);
		return mk_fail_check(k, k->st->reason);
	}
	if (r->verdict == JUDGE_VERDICT_MARGINAL) {
		int64_t deadline = (int64_t)(k->c->progress_deadline_s > 0 ?
		    k->c->progress_deadline_s : 600) * 1000;

		k->o->held = true;
		if (k->st->hold_since_ms == 0)
			k->st->hold_since_ms = k->now;
		if (k->now - k->st->hold_since_ms >= deadline) {
			mk_ev(k, SEV_WARNING, "Rolling back %s compared with the primary: %s for %llds, past "
			    "the progress deadline", mk_nn(k), why,
			    (long long)((k->now - k->st->hold_since_ms) / 1000));
			mk_alert(k, ALERT_ERROR, false, "Progress deadline exceeded: %s", why);
			mk_rollback(k, "comparison marginal");
			return true;
		}
		mk_ev(k, SEV_WARNING, "Halt %s advancement compared with the primary: %s (inconclusive: "
		    "not counted as a failed check; promote, skip or roll back)", mk_nn(k), why);
		mk_set_reason(k, "held: %s", why);
		return true;
	}
	return false;
}

/* reference §2.3 step 26, the later steps: rollout hooks, then metrics. */
bool
mk_analyse(struct tk *k)
{
	int bad;

	if (mk_need_hooks(k, HOOK_ROLLOUT))
		return true;
	bad = mk_failed_hook(k, HOOK_ROLLOUT);
	if (bad >= 0) {
		char reason[ERRMSG_MAX + 128];

		mk_ev(k, SEV_WARNING, "Halt %s advancement external check %s failed %s", mk_nn(k),
		    k->c->hooks[bad].name, mk_hook_msg(k, bad));
		snprintf(reason, sizeof reason, "webhook %s: %s", k->c->hooks[bad].name, mk_hook_msg(k, bad));
		return mk_fail_check(k, reason);
	}
	if (k->c->n_metrics == 0)
		return false;
	if (!mk_have(k, NEED_METRICS))
		return mk_ask(k, NEED_METRICS);
	k->o->analysed = true;
	record_checks(k);
	k->o->compare = k->ob->compare;
	if (judge_metrics(k) || judge_compare(k))
		return true;
	k->st->hold_since_ms = 0;
	return false;
}

/* The first step: pre-rollout hooks only, no metrics. */
bool
mk_first_step(struct tk *k)
{
	int bad;

	mk_ev(k, SEV_NORMAL, "Starting canary analysis for %s", mk_tn(k));
	if (mk_need_hooks(k, HOOK_PRE_ROLLOUT))
		return true;
	bad = mk_failed_hook(k, HOOK_PRE_ROLLOUT);
	if (bad >= 0) {
		char reason[ERRMSG_MAX + 128];

		mk_ev(k, SEV_WARNING, "Halt %s advancement pre-rollout check %s failed %s", mk_nn(k),
		    k->c->hooks[bad].name, mk_hook_msg(k, bad));
		snprintf(reason, sizeof reason, "pre-rollout webhook %s: %s", k->c->hooks[bad].name,
		    mk_hook_msg(k, bad));
		return mk_fail_check(k, reason);
	}
	mk_passed_hooks(k, HOOK_PRE_ROLLOUT, "Pre-rollout");
	return false;
}
