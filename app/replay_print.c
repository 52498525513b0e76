/*
 * replay_print.c — the text and JSON of `perch replay` (see replay_print.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/replay_print.h"
#include "metrics/backend.h"
#include "util/fmt.h"
#include "util/sanitize.h"
#include "util/systime.h"

static const char *const diff_names[] = {
#define X(id, text) text,
	REPLAY_DIFF_LIST(X)
#undef X
};

/* ---- comparing with the record -------------------------------------------- */

static enum replay_outcome
recorded_outcome(const struct recorded_rollout *rec)
{
	if (rec->end == PHASE_FAILED)
		return REPLAY_OUT_FAILED;
	return rec->end == PHASE_SUCCEEDED ? REPLAY_OUT_SUCCEEDED : REPLAY_OUT_UNDECIDED;
}

enum replay_diff
replay_diff(const struct replay_result *res, const struct recorded_rollout *rec)
{
	enum replay_outcome ro;

	if (rec == NULL || res->outcome == REPLAY_OUT_UNDECIDED)
		return RDIFF_UNKNOWN;
	ro = recorded_outcome(rec);
	if (ro == REPLAY_OUT_UNDECIDED)
		return RDIFF_UNKNOWN;
	if (ro != res->outcome)
		return RDIFF_OUTCOME;
	if (res->end_ms == rec->end_ms)
		return RDIFF_SAME;
	return res->end_ms < rec->end_ms ? RDIFF_EARLIER : RDIFF_LATER;
}

/* ---- pieces of text --------------------------------------------------------- */

static void
clock_text(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%H:%M:%S", &tm);
}

static void
value_text(const struct metric_cfg *m, double v, enum fmt_prec p, char *out, size_t n)
{
	fmt_quantity(out, n, fmt_unit_of(metric_kind_unit(m->kind)), p, v);
}

/* What the replayed spec changes against the recorded one ("threshold 2,
 * request-success-rate min 99.5%"); everything that decides when the
 * recorded spec is unknown. */
static void
spec_text(const struct canary_cfg *c, const struct canary_cfg *was, char *out, size_t n)
{
	char v[FMT_MAX], *p = out;
	size_t i, j, used = 0;

#define ADD(...) do { if (used < n) used += (size_t)snprintf(p + used, n - used, __VA_ARGS__); } while (0)
	out[0] = '\0';
	if (was == NULL || was->threshold != c->threshold)
		ADD("%sthreshold %d", used ? ", " : "", c->threshold);
	if (was == NULL || was->step_weight != c->step_weight)
		ADD("%sstepWeight %d", used ? ", " : "", c->step_weight);
	if (was == NULL || was->max_weight != c->max_weight)
		ADD("%smaxWeight %d", used ? ", " : "", c->max_weight);
	if (was != NULL && was->interval_s != c->interval_s)
		ADD("%sinterval %ds", used ? ", " : "", c->interval_s);
	if (was != NULL && was->min_requests != c->min_requests)
		ADD("%smin-requests %g", used ? ", " : "", c->min_requests);
	for (i = 0; i < c->n_metrics; i++) {
		const struct metric_cfg *m = &c->metrics[i], *o = NULL;

		for (j = 0; was != NULL && j < was->n_metrics; j++)
			if (strcmp(was->metrics[j].name, m->name) == 0)
				o = &was->metrics[j];
		if (m->has_min && (o == NULL || !o->has_min || o->min != m->min)) {
			value_text(m, m->min, FMT_EXACT, v, sizeof v);
			ADD("%s%s min %s", used ? ", " : "", m->name, v);
		}
		if (m->has_max && (o == NULL || !o->has_max || o->max != m->max)) {
			value_text(m, m->max, FMT_EXACT, v, sizeof v);
			ADD("%s%s max %s", used ? ", " : "", m->name, v);
		}
	}
#undef ADD
	if (out[0] == '\0')
		snprintf(out, n, "the recorded spec");
}

static void
checks_text(const struct canary_cfg *c, const struct replay_step *s, char *out, size_t n)
{
	char v[FMT_MAX];
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < s->n_checks && used < n; i++) {
		const struct metric_cfg *m = &c->metrics[s->checks[i].metric];

		if (s->checks[i].has_value)
			value_text(m, s->checks[i].value, FMT_MEASURED, v, sizeof v);
		else
			snprintf(v, sizeof v, "-");
		used += (size_t)snprintf(out + used, n - used, "%s%s %s %s", i ? ", " : "", m->name,
		    v, check_result_name(s->checks[i].result));
	}
}

static void
decision_text(const struct replay_step *s, char *out, size_t n)
{
	char w[FMT_MAX];

	fmt_weight(w, sizeof w, s->weight_after);
	if (s->decision == REPLAY_ADVANCE)
		snprintf(out, n, "advance to %s", w);
	else
		snprintf(out, n, "%s", replay_decision_name(s->decision));
}

/* "rolled back at 30% at 14:04:30", "promoted at 14:09:00", "still at 30%
 * at 14:04:30". */
static void
end_text(enum replay_outcome o, int weight, int64_t t, char *out, size_t n)
{
	char w[FMT_MAX], c[16];

	fmt_weight(w, sizeof w, weight);
	clock_text(t, c, sizeof c);
	if (o == REPLAY_OUT_FAILED)
		snprintf(out, n, "rolled back at %s at %s", w, c);
	else if (o == REPLAY_OUT_SUCCEEDED)
		snprintf(out, n, "promoted at %s", c);
	else
		snprintf(out, n, "still at %s at %s", w, c);
}

/* ---- text ------------------------------------------------------------------ */

static void
print_header(const struct replay_show *s)
{
	char from[40], to[16], end[96], why[256], *src = sanitize_dup(s->source, 600);
	char *id = sanitize_dup(s->canary, 300), *m;
	size_t i;

	if (s->rec != NULL) {
		clock_format_rfc3339(s->rec->start_ms, from, sizeof from);
		clock_text(s->rec->end_ms, to, sizeof to);
		end_text(recorded_outcome(s->rec), s->rec->end_weight, s->rec->end_ms, end,
		    sizeof end);
		printf("%s: rollout %zu of %zu in %s, %s to %s, %zu analyses: %s\n", id, s->rollout,
		    s->rollouts, src, from, to, s->rec->n, end);
	} else {
		printf("%s: %zu analyses of metrics from %s\n", id, s->n, src);
	}
	for (i = 0; i < s->n_left; i++) {
		m = sanitize_dup(s->left[i].metric, sizeof s->left[i].metric);
		metric_backend_not_past(s->left[i].provider, why, sizeof why);
		printf("not replayable: %s: metric %s is left out\n", why, m);
		free(m);
	}
	free(src);
	free(id);
}

static void
print_steps(const struct replay_show *s)
{
	const struct replay_result *r = s->res;
	char t[16], w[FMT_MAX], failed[32], dec[64], checks[1024], *clean;
	size_t i;

	printf("%-8s  %6s  %6s  %-16s  %s\n", "TIME", "WEIGHT", "FAILED", "DECISION", "CHECKS");
	for (i = 0; i < r->n_steps; i++) {
		const struct replay_step *st = &r->steps[i];

		clock_text(st->time_ms, t, sizeof t);
		fmt_weight(w, sizeof w, st->weight);
		snprintf(failed, sizeof failed, "%d/%d", st->failed_checks, s->cfg->threshold);
		decision_text(st, dec, sizeof dec);
		checks_text(s->cfg, st, checks, sizeof checks);
		clean = sanitize_dup(checks, sizeof checks);
		printf("%-8s  %6s  %6s  %-16s  %s\n", t, w, failed, dec, clean);
		free(clean);
	}
}

/* "1m30s", "9m", "45s", "2h05m": exact to the second (fmt_span is coarse). */
static void
span_text(int64_t a, int64_t b, char *out, size_t n)
{
	int64_t s = (a > b ? a - b : b - a) / 1000;

	if (s >= 3600)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60 && s % 60 != 0)
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s >= 60)
		snprintf(out, n, "%lldm", (long long)(s / 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

static void
print_summary(const struct replay_show *s)
{
	const struct replay_result *r = s->res;
	char spec[512], mine[96], theirs[96], span[FMT_MAX], *reason;
	enum replay_diff d = replay_diff(r, s->rec);

	spec_text(s->cfg, s->was, spec, sizeof spec);
	end_text(r->outcome, r->weight, r->end_ms, mine, sizeof mine);
	if (r->outcome == REPLAY_OUT_UNDECIDED)
		printf("with %s this rollout would not have been decided when the record ends: %s "
		    "after %zu analyses", spec, mine, r->used);
	else
		printf("with %s this rollout would have been %s", spec, mine);
	if (s->rec != NULL) {
		end_text(recorded_outcome(s->rec), s->rec->end_weight, s->rec->end_ms, theirs,
		    sizeof theirs);
		span_text(r->end_ms, s->rec->end_ms, span, sizeof span);
		if (d == RDIFF_SAME)
			printf(", the same as recorded");
		else if (d == RDIFF_EARLIER || d == RDIFF_LATER)
			printf(", %s %s (it was %s)", span, d == RDIFF_EARLIER ? "earlier" : "later",
			    theirs);
		else if (d == RDIFF_OUTCOME && r->end_ms == s->rec->end_ms)
			printf(", instead of %s", theirs);
		else if (d == RDIFF_OUTCOME)
			printf(", %s %s, instead of %s", span, r->end_ms < s->rec->end_ms ?
			    "earlier" : "later", theirs);
		else
			printf(" (it was %s)", theirs);
	}
	printf("\n");
	if (r->outcome == REPLAY_OUT_FAILED && r->reason[0] != '\0') {
		reason = sanitize_dup(r->reason, sizeof r->reason);
		printf("reason: %s\n", reason);
		free(reason);
	}
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *
num(bool has, double v)
{
	return has && isfinite(v) ? json_real(v) : json_null();
}

static json_t *
clean(const char *s)
{
	char *c = sanitize_dup(s, 1024);
	json_t *j = json_string(c);

	free(c);
	return j;
}

static void
emit(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text != NULL)
		printf("%s\n", text);
	free(text);
	json_decref(o);
}

static json_t *
step_checks(const struct canary_cfg *c, const struct replay_step *st)
{
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; i < st->n_checks; i++) {
		const struct metric_cfg *m = &c->metrics[st->checks[i].metric];

		o = json_object();
		json_object_set_new(o, "metric", clean(m->name));
		json_object_set_new(o, "value", num(st->checks[i].has_value, st->checks[i].value));
		json_object_set_new(o, "min", num(m->has_min, m->min));
		json_object_set_new(o, "max", num(m->has_max, m->max));
		json_object_set_new(o, "result", json_string(check_result_name(st->checks[i].result)));
		json_object_set_new(o, "volume", num(st->checks[i].has_volume, st->checks[i].volume));
		json_array_append_new(a, o);
	}
	return a;
}

static void
json_steps(const struct replay_show *s)
{
	char t[40];
	size_t i;

	for (i = 0; i < s->res->n_steps; i++) {
		const struct replay_step *st = &s->res->steps[i];
		json_t *o = json_object();

		clock_format_rfc3339(st->time_ms, t, sizeof t);
		json_object_set_new(o, "time", json_string(t));
		json_object_set_new(o, "canary", clean(s->canary));
		json_object_set_new(o, "kind", json_string("replay"));
		json_object_set_new(o, "analysis", json_integer((json_int_t)st->analysis + 1));
		clock_format_rfc3339(s->a[st->analysis].time_ms, t, sizeof t);
		json_object_set_new(o, "recordedTime", json_string(t));
		json_object_set_new(o, "weight", json_integer(st->weight));
		json_object_set_new(o, "checks", step_checks(s->cfg, st));
		json_object_set_new(o, "failedChecks", json_integer(st->failed_checks));
		json_object_set_new(o, "threshold", json_integer(s->cfg->threshold));
		json_object_set_new(o, "decision", json_string(replay_decision_id(st->decision)));
		json_object_set_new(o, "weightAfter", json_integer(st->weight_after));
		json_object_set_new(o, "phase", json_string(phase_name(st->phase)));
		emit(o);
	}
}

static json_t *
json_recorded(const struct recorded_rollout *rec)
{
	json_t *o;
	char t[40];

	if (rec == NULL)
		return json_null();
	o = json_object();
	json_object_set_new(o, "outcome", json_string(replay_outcome_name(recorded_outcome(rec))));
	clock_format_rfc3339(rec->start_ms, t, sizeof t);
	json_object_set_new(o, "start", json_string(t));
	clock_format_rfc3339(rec->end_ms, t, sizeof t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "weight", json_integer(rec->end_weight));
	json_object_set_new(o, "failedChecks", json_integer(rec->failed_checks));
	json_object_set_new(o, "analyses", json_integer((json_int_t)rec->n));
	json_object_set_new(o, "reason", rec->reason[0] ? clean(rec->reason) : json_null());
	return o;
}

/* The metrics left out: [{"metric","provider","reason"}]. */
static json_t *
json_left(const struct replay_show *s)
{
	json_t *a = json_array();
	char why[256], reason[300];
	size_t i;

	for (i = 0; i < s->n_left; i++) {
		metric_backend_not_past(s->left[i].provider, why, sizeof why);
		snprintf(reason, sizeof reason, "not replayable: %s", why);
		json_array_append_new(a, json_pack("{s:o, s:s, s:s}", "metric",
		    clean(s->left[i].metric), "provider", s->left[i].provider, "reason", reason));
	}
	return a;
}

static void
json_summary(const struct replay_show *s)
{
	const struct replay_result *r = s->res;
	enum replay_diff d = replay_diff(r, s->rec);
	json_t *o = json_object();
	char t[40];

	clock_format_rfc3339(r->end_ms, t, sizeof t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "canary", clean(s->canary));
	json_object_set_new(o, "kind", json_string("replay-summary"));
	json_object_set_new(o, "outcome", json_string(replay_outcome_name(r->outcome)));
	json_object_set_new(o, "weight", json_integer(r->weight));
	json_object_set_new(o, "analyses", json_integer((json_int_t)r->used));
	json_object_set_new(o, "threshold", json_integer(s->cfg->threshold));
	json_object_set_new(o, "reason", r->outcome == REPLAY_OUT_FAILED && r->reason[0] ?
	    clean(r->reason) : json_null());
	json_object_set_new(o, "source", clean(s->source));
	json_object_set_new(o, "rollout", s->rec != NULL ? json_integer((json_int_t)s->rollout) :
	    json_null());
	json_object_set_new(o, "recorded", json_recorded(s->rec));
	json_object_set_new(o, "notReplayable", json_left(s));
	json_object_set_new(o, "difference", json_string(diff_names[d]));
	json_object_set_new(o, "differenceSeconds", d == RDIFF_UNKNOWN ? json_null() :
	    json_integer((json_int_t)((r->end_ms - s->rec->end_ms) / 1000)));
	emit(o);
}

void
replay_print(const struct replay_show *s)
{
	if (s->json) {
		json_steps(s);
		json_summary(s);
		return;
	}
	print_header(s);
	print_steps(s);
	print_summary(s);
}
