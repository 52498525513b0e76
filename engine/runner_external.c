/*
 * runner_external.c — the metric graphs of a canary another controller
 * drives (cfg->driven_by, see runner_int.h).  perch evaluates the canary's
 * own metrics each analysis interval while it progresses, through the
 * metrics ops and judged as a tick judges them (machine_judge_checks),
 * and only shows them: nothing is saved, journaled or written.  When a
 * new run starts (the phase's start changes), its graphs begin with the
 * controller's own history: Flagger's gauge
 * flagger_canary_metric_analysis{name,namespace,metric} (reference §6 of
 * flagger-routers-providers.md), read with range queries over the run,
 * its value and timestamp() at the same steps: a step of half the
 * analysis interval, so that each of the controller's checks is seen, over
 * as much of the run as the graph holds, in as many range queries as that
 * takes (each at most EXT_CHUNK_STEPS steps).  Runner thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend_types.h"
#include "engine/runner_int.h"
#include "util/status.h"
#include "util/xalloc.h"

#define EXT_SERIES "flagger_canary_metric_analysis"
#define EXT_QUERY_MAX 640
/* The steps of one history query: a range query answers at most
 * METRIC_SAMPLES_MAX samples (the chunk's, and one before it). */
#define EXT_CHUNK_STEPS (METRIC_SAMPLES_MAX - 8)

/* A label value inside double quotes (PromQL string escapes). */
static void
label_value(char *out, size_t outsz, const char *v)
{
	size_t n = 0;

	for (; v != NULL && *v != '\0' && n + 3 < outsz; v++) {
		if (*v == '"' || *v == '\\')
			out[n++] = '\\';
		out[n++] = *v == '\n' ? ' ' : *v;
	}
	out[n] = '\0';
}

/* The series of metric m of c; with stamp, its samples' timestamps. */
static void
series_query(char *out, size_t outsz, const struct canary_cfg *c, const struct metric_cfg *m,
    bool stamp)
{
	char name[160], ns[160], metric[160];

	label_value(name, sizeof name, c->target != NULL ? c->target : c->name);
	label_value(ns, sizeof ns, c->ns);
	label_value(metric, sizeof metric, m->name);
	snprintf(out, outsz, "%s%s{name=\"%s\",namespace=\"%s\",metric=\"%s\"}%s", stamp ?
	    "timestamp(" : "", EXT_SERIES, name, ns, metric, stamp ? ")" : "");
}

/* One past check of metric i: its value (Flagger records durations in
 * seconds, perch shows the built-in request duration in milliseconds)
 * judged against the metric's bounds; all: n_metrics checks of scratch. */
static void
history_point(struct runner *r, struct rcan *c, size_t i, double v, int64_t t,
    struct mach_check *all)
{
	const struct metric_cfg *m = &c->cfg->metrics[i];
	size_t k;

	for (k = 0; k < c->cfg->n_metrics; k++) {
		memset(&r->tick.obs.values[k], 0, sizeof r->tick.obs.values[k]);
		r->tick.obs.values[k].result = CHECK_NODATA;
		r->tick.obs.has_volume[k] = false;
	}
	if (m->kind == METRIC_DURATION && m->template_ref == NULL)
		v *= 1000;
	r->tick.obs.values[i].result = CHECK_PASS;
	r->tick.obs.values[i].value = v;
	if (machine_judge_checks(c->cfg, &r->tick.obs, all, c->cfg->n_metrics) <= i)
		return;
	pthread_mutex_lock(&r->mu);
	rn_hist_point(c, i, t, &all[i]);
	pthread_mutex_unlock(&r->mu);
}

/* The points of metric i from the value and timestamp samples (same
 * steps): a sample seen at several steps (*last: the previous one's time,
 * across the queries) is one check. */
static void
history_metric(struct runner *r, struct rcan *c, size_t i, const struct metric_samples *val,
    const struct metric_samples *at, int64_t since, int64_t *last)
{
	struct mach_check *all;
	int64_t t;
	size_t j;

	if (val->result != CHECK_PASS || at->result != CHECK_PASS || val->n != at->n)
		return;
	all = xcalloc(c->cfg->n_metrics, sizeof *all);
	for (j = 0; j < val->n; j++) {
		t = (int64_t)(at->v[j] * 1000.0);
		if (t <= *last || t < since)
			continue;
		*last = t;
		history_point(r, c, i, val->v[j], t, all);
	}
	free(all);
}

/* One history query of every metric, its steps ending at end; adds the
 * points after last[i] (updated). */
static void
history_chunk(struct runner *r, struct rcan *c, struct metric_query *q, int64_t range,
    int64_t step, int64_t since, int64_t *last)
{
	size_t n = c->cfg->n_metrics, i;
	struct metric_samples *s = xcalloc(2 * n, sizeof *s);

	if (r->cfg.metrics->samples(r->cfg.metrics_ctx, q, 2 * n, range, step, s) == ST_OK)
		for (i = 0; i < n; i++)
			history_metric(r, c, i, &s[2 * i], &s[2 * i + 1], since, &last[i]);
	free(s);
}

/* The run's past checks from Prometheus, over [since, now]: the part the
 * graph holds, oldest first, in queries of at most EXT_CHUNK_STEPS steps
 * of half an interval each. */
static void
history(struct runner *r, struct rcan *c, int64_t since, int64_t now)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t n = cfg->n_metrics, i;
	struct metric_query *q;
	char (*text)[EXT_QUERY_MAX];
	int64_t *last, step = rn_interval_ms(cfg) / 2, from, end;

	/* Flagger's history is on the default Prometheus: none without it. */
	if (r->cfg.metrics->samples == NULL || n == 0 || now <= since || r->cfg.metrics_off != NULL)
		return;
	if (step < 1000)
		step = 1000;
	from = now - (int64_t)c->hist.max_pts * 2 * step;
	from = from > since ? from : since;
	q = xcalloc(2 * n, sizeof *q);
	text = xcalloc(2 * n, sizeof *text);
	last = xcalloc(n, sizeof *last);
	for (i = 0; i < 2 * n; i++)
		series_query(text[i], sizeof text[i], cfg, &cfg->metrics[i / 2], i % 2 == 1);
	for (i = 0; i < n; i++)
		last[i] = -1;
	for (; from < now; from = end) {
		end = now - from > EXT_CHUNK_STEPS * step ? from + EXT_CHUNK_STEPS * step : now;
		for (i = 0; i < 2 * n; i++)
			q[i] = (struct metric_query){ .canary = cfg, .query = text[i], .at_ms = end };
		history_chunk(r, c, q, end - from + step, step, since, last);
	}
	free(last);
	free(text);
	free(q);
}

bool
rn_metric_off(const struct runner *r, const struct metric_cfg *m)
{
	return r->cfg.metrics_off != NULL && m->server == NULL && m->block == NULL &&
	    metric_type_find(m->provider) == MT_DEFAULT;
}

bool
rn_metrics_off(const struct runner *r, const struct canary_cfg *cfg)
{
	size_t i;

	if (cfg->driven_by == NULL)
		return false;
	for (i = 0; i < cfg->n_metrics; i++)
		if (rn_metric_off(r, &cfg->metrics[i]))
			return true;
	return false;
}

/* Whether rn_metric_off leaves out every metric of cfg. */
static bool
all_off(const struct runner *r, const struct canary_cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_metrics; i++)
		if (!rn_metric_off(r, &cfg->metrics[i]))
			return false;
	return true;
}

/* This interval's check of each metric, as a tick of perch's own canary
 * gathers and judges it (but those rn_metric_off leaves out). */
static void
evaluate(struct runner *r, struct rcan *c, int64_t now)
{
	struct mach_check *ch;
	size_t n, i;

	rn_gather(r, c, NEED_METRICS, HOOK_ROLLOUT, now);
	ch = xcalloc(c->cfg->n_metrics, sizeof *ch);
	n = machine_judge_checks(c->cfg, &r->tick.obs, ch, c->cfg->n_metrics);
	pthread_mutex_lock(&r->mu);
	for (i = 0; i < n; i++)
		if (!rn_metric_off(r, &c->cfg->metrics[i]))
			rn_hist_point(c, i, now, &ch[i]);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	free(ch);
}

/* The phases of a run whose checks are shown: its analysis, and the
 * waiting and promotion after it. */
static bool
in_run(enum phase ph)
{
	return ph == PHASE_PROGRESSING || ph == PHASE_WAITING_PROMOTION || ph == PHASE_PROMOTING ||
	    ph == PHASE_FINALISING;
}

void
rn_external_metrics(struct runner *r, struct rcan *c, int64_t now)
{
	const struct canary_cfg *cfg = c->cfg;
	bool progressing = c->st.phase == PHASE_PROGRESSING;
	int64_t since;
	size_t i;

	if (r->cfg.metrics == NULL || cfg->n_metrics == 0 || !in_run(c->st.phase) ||
	    all_off(r, cfg))
		return;
	since = c->st.phase_since_ms > 0 ? c->st.phase_since_ms : now;
	rn_grow_scratch(r, cfg);
	obs_reset(&r->tick.obs, cfg->n_hooks, cfg->n_metrics);
	/* A new run (or the first seen, opened after its analysis): its own
	 * graphs, from the controller's history. */
	if (since != c->run.ext_since && (progressing || c->run.ext_since == 0)) {
		c->run.ext_since = since;
		c->run.ext_next = now;
		pthread_mutex_lock(&r->mu);
		for (i = 0; i < cfg->n_metrics; i++)
			c->hist.pts[i].n = c->hist.pts[i].head = 0;
		pthread_mutex_unlock(&r->mu);
		history(r, c, since, now);
	}
	if (!progressing || now < c->run.ext_next)
		return;
	c->run.ext_next = now + rn_interval_ms(cfg);
	obs_reset(&r->tick.obs, cfg->n_hooks, cfg->n_metrics);
	evaluate(r, c, now);
}
