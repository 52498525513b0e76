/*
 * lint.c — warnings about Canaries that Flagger accepts but that make a
 * canary lie (DESIGN.md §5): steps too big to be a canary, queries that do
 * not isolate the canary, no minimum-traffic guard, metric windows too
 * short for the scrape interval, threshold 1 over a long ladder, an A/B
 * match that is silently ignored, deprecated fields.  Each has a stable id
 * (SPEC_LINT_LIST in spec.h), shown as "[id]" and documented in
 * perch-canary(5); `perch.dev/lint-ignore: id,id` silences them per canary.
 * Runs after defaults, with every file loaded (templates are resolved).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/backend_types.h"
#include "spec/schema.h"
#include "util/status.h"

struct lint_ctx {
	const struct spec_set *set;
	const struct spec_canary *c;	/* NULL when linting a template alone */
	struct diag_list *dl;
	const struct spec_meta *meta;	/* the object the findings are about */
	char *const *ignore;		/* its perch.dev/lint-ignore */
	size_t n_ignore;
};

static void
lint(struct lint_ctx *lc, enum spec_lint id, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
lint(struct lint_ctx *lc, enum spec_lint id, const char *path, const char *fmt, ...)
{
	const char *name = spec_lint_name(id);
	struct spec_pos pos = spec_field_pos(lc->meta, path);
	char msg[1024];
	va_list ap;
	size_t i;

	for (i = 0; i < lc->n_ignore; i++)
		if (strcmp(lc->ignore[i], name) == 0)
			return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report(lc->dl, DIAG_WARNING, &pos, path, name, "%s", msg);
}

static const char *
apath(const struct spec_canary *c, char *buf, size_t sz, const char *rest)
{
	snprintf(buf, sz, "spec.%s.%s", c->analysis.deprecated_name ? "canaryAnalysis" :
	    "analysis", rest);
	return buf;
}

/* Does a template action ({{ ... }}) of `q` use the identifier `word`? */
static bool
action_uses(const char *q, const char *word)
{
	const char *open = q, *close, *p;
	size_t len = strlen(word);

	while ((open = strstr(open, "{{")) != NULL && (close = strstr(open, "}}")) != NULL) {
		for (p = open + 2; p + len <= close; p++)
			if (strncmp(p, word, len) == 0 &&
			    !isalnum((unsigned char)p[-1]) && p[-1] != '_' && p[-1] != '.' &&
			    !isalnum((unsigned char)p[len]) && p[len] != '_')
				return true;
		open = close + 2;
	}
	return false;
}

/* A query isolates the canary when it names the canary workload: through
 * {{ target }}, a canary service/route/label ("canary" anywhere), or the
 * target's name written out (c NULL: a template alone). */
static bool
query_isolates(const char *q, const struct spec_canary *c)
{
	const char *p;

	if (action_uses(q, "target"))
		return true;
	for (p = q; *p != '\0'; p++)
		if (strncasecmp(p, "canary", 6) == 0)
			return true;
	return c != NULL && c->target_ref.name != NULL && c->target_ref.name[0] != '\0' &&
	    strstr(q, c->target_ref.name) != NULL;
}

/* Flagger renders templates with missingkey=error: a {{ variables.X }}
 * the metric does not set fails every check. */
static void
check_variables(struct lint_ctx *lc, const struct spec_metric *m,
    const struct spec_metric_template *t, size_t i)
{
	const char *open = t->query, *close, *p;
	char name[64], path[128], item[64];
	size_t len, k;

	while ((open = strstr(open, "{{")) != NULL && (close = strstr(open, "}}")) != NULL) {
		for (p = strstr(open, "variables."); p != NULL && p < close;
		    p = strstr(p + 1, "variables.")) {
			p += strlen("variables.");
			len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-");
			if (len == 0 || len >= sizeof name)
				continue;
			memcpy(name, p, len);
			name[len] = '\0';
			for (k = 0; k < m->n_template_variables; k++)
				if (strcmp(m->template_variables[k].key, name) == 0)
					break;
			if (k < m->n_template_variables)
				continue;
			snprintf(item, sizeof item, "metrics[%zu].templateVariables", i);
			apath(lc->c, path, sizeof path, item);
			report(lc->dl, DIAG_ERROR, &m->pos, path, NULL, "%s: MetricTemplate "
			    "%s/%s uses {{ variables.%s }}, which metric '%s' does not set "
			    "(Flagger fails the check)", path_display(path), t->meta.ns,
			    t->meta.name, name, m->name != NULL ? m->name : "?");
		}
		open = close + 2;
	}
}

static void
lint_steps(struct lint_ctx *lc)
{
	const struct spec_canary *c = lc->c;
	const struct spec_analysis *a = &c->analysis;
	char p[96], item[48];
	size_t i;
	int prev = 0;

	if (c->strategy != STRATEGY_CANARY)
		return;
	if (a->step_weight >= 50)
		lint(lc, SPEC_LINT_BIG_STEP, apath(c, p, sizeof p, "stepWeight"),
		    "a step of %d%% sends %s of the traffic to the new version at once: that "
		    "is not a canary (use 5-20, or a stepWeights ladder)", a->step_weight,
		    a->step_weight >= 100 ? "all" : "half or more");
	for (i = 0; i < a->n_step_weights; i++) {
		if (a->step_weights[i] - prev >= 50) {
			snprintf(item, sizeof item, "stepWeights[%zu]", i);
			lint(lc, SPEC_LINT_BIG_STEP, apath(c, p, sizeof p, item),
			    "a step from %d%% to %d%% moves half or more of the traffic at "
			    "once: that is not a canary", prev, a->step_weights[i]);
			break;
		}
		prev = a->step_weights[i];
	}
	if (a->step_weight > 0 && a->max_weight > 0 && a->max_weight < a->step_weight)
		lint(lc, SPEC_LINT_MAX_BELOW_STEP, apath(c, p, sizeof p, "maxWeight"),
		    "maxWeight %d is below stepWeight %d: the first step already goes past "
		    "it, to %d%%, and the canary is promoted after one analysis",
		    a->max_weight, a->step_weight, a->step_weight);
}

/* Steps of analysis before promotion. */
static int
ladder_length(const struct spec_canary *c)
{
	const struct spec_analysis *a = &c->analysis;

	if (c->strategy != STRATEGY_CANARY)
		return a->iterations;
	if (a->n_step_weights > 0)
		return (int)a->n_step_weights;
	if (a->step_weight > 0)
		return (c->max_weight + a->step_weight - 1) / a->step_weight;
	return 0;
}

static void
lint_metric(struct lint_ctx *lc, size_t i)
{
	const struct spec_canary *c = lc->c;
	const struct spec_metric *m = &c->analysis.metrics[i];
	const struct spec_metric_template *t = spec_find_template(lc->set, c, m);
	const char *q = t != NULL ? t->query : m->query;
	int window = 4 * c->scrape_interval_s;
	char p[128], item[64];
	long long ms;

	if (m->template_ref.set && t == NULL && m->template_ref.name != NULL) {
		snprintf(item, sizeof item, "metrics[%zu].templateRef", i);
		apath(c, p, sizeof p, item);
		report(lc->dl, DIAG_WARNING, &m->template_ref.pos, p, NULL,
		    "%s: MetricTemplate %s/%s is not in the files given: its query is not "
		    "checked", path_display(p), m->template_ref.ns != NULL ?
		    m->template_ref.ns : c->meta.ns, m->template_ref.name);
	}
	if (t != NULL && t->query != NULL)
		check_variables(lc, m, t, i);
	if (q != NULL && !query_isolates(q, c)) {
		snprintf(item, sizeof item, "metrics[%zu].%s", i,
		    t != NULL ? "templateRef" : "query");
		lint(lc, SPEC_LINT_NO_ISOLATION, apath(c, p, sizeof p, item),
		    "the query of metric '%s'%s%s%s never names the canary (no {{ target }}, "
		    "canary service or canary label): it measures primary and canary "
		    "together, so a bad canary hides behind the primary",
		    m->name != NULL ? m->name : "?", t != NULL ? " (MetricTemplate " : "",
		    t != NULL ? t->meta.name : "", t != NULL ? ")" : "");
	}
	snprintf(item, sizeof item, "metrics[%zu].interval", i);
	apath(c, p, sizeof p, item);
	if (t != NULL && m->interval == NULL && t->query != NULL &&
	    action_uses(t->query, "interval"))
		report(lc->dl, DIAG_WARNING, &m->pos, p, NULL, "%s is not set: Flagger "
		    "renders {{ interval }} of MetricTemplate %s as an empty string",
		    path_display(p), t->meta.name);
	if (m->interval != NULL && spec_parse_duration_ms(m->interval, &ms) == ST_OK &&
	    ms < 1000LL * window)
		lint(lc, SPEC_LINT_SHORT_WINDOW, p, "a metric window of %s is shorter "
		    "than four scrape intervals (4 x %ds = %ds): rate() over it has too few "
		    "samples and the check flaps", m->interval, c->scrape_interval_s, window);
	if (m->has_threshold) {
		snprintf(item, sizeof item, "metrics[%zu].threshold", i);
		lint(lc, SPEC_LINT_DEPRECATED, apath(c, p, sizeof p, item),
		    "metric threshold is deprecated: use thresholdRange.min or .max");
	}
	if (m->query != NULL && !m->template_ref.set) {
		snprintf(item, sizeof item, "metrics[%zu].query", i);
		lint(lc, SPEC_LINT_DEPRECATED, apath(c, p, sizeof p, item),
		    "an inline metric query is deprecated: use a MetricTemplate");
	}
}

/* An alert's provider among the files given (namespace: the canary's). */
static void
lint_alerts(struct lint_ctx *lc)
{
	const struct spec_canary *c = lc->c;
	const struct spec_alert *al;
	const struct spec_alert_provider *p;
	const char *ns;
	char path[128], item[64];
	size_t i, j;

	for (i = 0; i < c->analysis.n_alerts; i++) {
		al = &c->analysis.alerts[i];
		ns = al->provider_ref.ns != NULL ? al->provider_ref.ns : c->meta.ns;
		for (j = 0; j < spec_set_n_alert_providers(lc->set); j++) {
			p = spec_set_alert_provider(lc->set, j);
			if (p->meta.name != NULL && strcmp(p->meta.name, al->provider_ref.name) == 0 &&
			    strcmp(p->meta.ns, ns) == 0)
				break;
		}
		if (j < spec_set_n_alert_providers(lc->set))
			continue;
		snprintf(item, sizeof item, "alerts[%zu].providerRef", i);
		apath(c, path, sizeof path, item);
		report(lc->dl, DIAG_WARNING, &al->provider_ref.pos, path, NULL,
		    "%s: AlertProvider %s/%s is not in the files given", path_display(path),
		    ns, al->provider_ref.name);
	}
}

static bool
has_volume_query(const struct spec_set *set, const struct spec_canary *c)
{
	const struct spec_metric_template *t;
	size_t i;

	for (i = 0; i < c->analysis.n_metrics; i++) {
		t = spec_find_template(set, c, &c->analysis.metrics[i]);
		if (t != NULL && t->volume_query != NULL)
			return true;
	}
	return false;
}

void
lint_canary(const struct spec_set *set, const struct spec_canary *c, struct diag_list *dl)
{
	struct lint_ctx lc = { set, c, dl, &c->meta, c->lint_ignore, c->n_lint_ignore };
	const struct spec_analysis *a = &c->analysis;
	char p[96];
	size_t i;
	int steps;

	if (!a->set || !c->meta.valid)
		return;		/* lints are for canaries without errors */
	if (a->deprecated_name)
		lint(&lc, SPEC_LINT_DEPRECATED, "spec.canaryAnalysis",
		    "canaryAnalysis is deprecated: rename it to analysis");
	lint_steps(&lc);
	for (i = 0; i < a->n_metrics; i++)
		lint_metric(&lc, i);
	lint_alerts(&lc);
	if (a->n_metrics > 0 && c->min_requests <= 0 && !has_volume_query(set, c))
		lint(&lc, SPEC_LINT_NO_GUARD, apath(c, p, sizeof p, "metrics"),
		    "no minimum-traffic guard: with little traffic a success rate of a "
		    "handful of requests looks perfect; set the annotation "
		    "perch.dev/min-requests");
	steps = ladder_length(c);
	if (a->threshold <= 1 && steps >= 5)
		lint(&lc, SPEC_LINT_THRESHOLD_ONE, apath(c, p, sizeof p, "threshold"),
		    "threshold 1 with %d analysis steps: one bad sample anywhere rolls the "
		    "release back (use 2-5)", steps);
	if (a->n_match > 0 && a->iterations <= 0)
		lint(&lc, SPEC_LINT_MATCH_NO_ITER, apath(c, p, sizeof p, "match"),
		    "analysis.match is ignored without analysis.iterations: Flagger runs a "
		    "progressive canary for everyone (A/B testing needs iterations)");
}

/* ---- a MetricTemplate on its own ------------------------------------------ */

/* Whether a Canary of the set uses t (it is then linted through it, with
 * the canary's target, interval and scrape interval). */
static bool
template_used(const struct spec_set *set, const struct spec_metric_template *t)
{
	const struct spec_metric_template *u;
	const struct spec_canary *c;
	size_t i, j;

	for (i = 0; i < spec_set_n_canaries(set); i++) {
		c = spec_set_canary(set, i);
		for (j = 0; j < c->analysis.n_metrics; j++) {
			u = spec_find_template(set, c, &c->analysis.metrics[j]);
			if (u == t || (u != NULL && u->meta.name != NULL && t->meta.name != NULL &&
			    strcmp(u->meta.name, t->meta.name) == 0 &&
			    strcmp(u->meta.ns, t->meta.ns) == 0))
				return true;	/* also a redefinition of it */
		}
	}
	return false;
}

/* The first literal PromQL range ("[30s]", "[1m:10s]") of q shorter than
 * `below` ms: its text into buf, or false.  Templated ranges ({{ interval
 * }}) are the canary's business. */
static bool
short_range(const char *q, long long below, char *buf, size_t sz)
{
	const char *p = q, *end;
	long long ms;
	size_t len;

	while ((p = strchr(p, '[')) != NULL) {
		p++;
		end = strchr(p, ']');
		if (end == NULL)
			return false;
		len = strcspn(p, ":]");
		if (len > 0 && len < sz) {
			snprintf(buf, sz, "%.*s", (int)len, p);
			if (strstr(buf, "{{") == NULL &&
			    spec_parse_duration_ms(buf, &ms) == ST_OK && ms < below)
				return true;
		}
		p = end + 1;
	}
	return false;
}

/* A template validated without a Canary that uses it gets the lints that
 * apply to it alone: its query never names the canary (no {{ target }},
 * nothing "canary"), a literal PromQL window shorter than four default
 * scrape intervals. */
void
lint_template(const struct spec_set *set, const struct spec_metric_template *t,
    struct diag_list *dl)
{
	struct lint_ctx lc = { set, NULL, dl, &t->meta, t->lint_ignore, t->n_lint_ignore };
	const long long window = 4LL * SPEC_SCRAPE_INTERVAL_DEFAULT_S;
	char range[32];

	if (!t->meta.valid || t->query == NULL || template_used(set, t))
		return;
	if (!query_isolates(t->query, NULL))
		lint(&lc, SPEC_LINT_NO_ISOLATION, "spec.query", "the query of MetricTemplate "
		    "%s/%s never names the canary (no {{ target }}, canary service or canary "
		    "label): a Canary that uses it measures primary and canary together, so a "
		    "bad canary hides behind the primary", t->meta.ns,
		    t->meta.name != NULL ? t->meta.name : "?");
	if (metric_type_find(t->provider_type) == MT_PROMETHEUS &&
	    short_range(t->query, 1000 * window, range, sizeof range))
		lint(&lc, SPEC_LINT_SHORT_WINDOW, "spec.query", "a window of %s in the query of "
		    "MetricTemplate %s/%s is shorter than four scrape intervals (4 x %ds = %llds, "
		    "the default): rate() over it has too few samples and the check flaps; use "
		    "{{ interval }}", range, t->meta.ns, t->meta.name != NULL ? t->meta.name :
		    "?", SPEC_SCRAPE_INTERVAL_DEFAULT_S, window);
}

/* ---- the lints' names (SPEC_LINT_LIST) ---------------------------------- */

static const char *const lint_names[] = {
#define X(id, name, summary) name,
	SPEC_LINT_LIST(X)
#undef X
};
static const char *const lint_summaries[] = {
#define X(id, name, summary) summary,
	SPEC_LINT_LIST(X)
#undef X
};

const char *
spec_lint_name(enum spec_lint l)
{
	return (unsigned)l < SPEC_LINT__COUNT ? lint_names[l] : "?";
}

const char *
spec_lint_summary(enum spec_lint l)
{
	return (unsigned)l < SPEC_LINT__COUNT ? lint_summaries[l] : "?";
}
