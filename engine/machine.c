/*
 * machine.c — one canary's numbers and status, outside a tick (see
 * machine.h): the observations' storage, the weight math (reference
 * §2.7) and the strategy in effect, whether the engine may drive a
 * configuration, the routes and scale a status implies, the marks of a
 * pending promotion, alerts' severities and fields.
 *
 * The state machine itself is in the machine_*.c files (machine_int.h
 * lists them and how they layer); they all build on this one.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/machine_int.h"
#include "engine/routers.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static const char *const need_names[] = {
#define X(id, text) text,
	NEED_LIST(X)
#undef X
};

const char *
need_name(enum need n)
{
	return (int)n >= 0 && n < NEED__COUNT ? need_names[n] : "?";
}

/* ---- observations ------------------------------------------------------ */

void
obs_init(struct obs *o)
{
	memset(o, 0, sizeof *o);
}

void
obs_reset(struct obs *o, size_t n_hooks, size_t n_metrics)
{
	if (n_hooks > o->cap_hooks) {
		o->hooks = xreallocarray(o->hooks, n_hooks, sizeof *o->hooks);
		o->cap_hooks = n_hooks;
	}
	if (n_metrics > o->cap_metrics) {
		o->values = xreallocarray(o->values, n_metrics, sizeof *o->values);
		o->volumes = xreallocarray(o->volumes, n_metrics, sizeof *o->volumes);
		o->has_volume = xreallocarray(o->has_volume, n_metrics, sizeof *o->has_volume);
		o->cap_metrics = n_metrics;
	}
	o->have = 0;
	o->hooks_have = 0;
	o->compare.done = false;
	o->init_status = 0;
	o->init_err[0] = '\0';
	memset(&o->init_rev, 0, sizeof o->init_rev);
	o->providers_status = 0;
	o->providers_err[0] = '\0';
	o->rev_status = 0;
	o->rev_err[0] = '\0';
	memset(&o->rev, 0, sizeof o->rev);
	memset(&o->primary, 0, sizeof o->primary);
	memset(&o->canary, 0, sizeof o->canary);
	if (n_hooks > 0)
		memset(o->hooks, 0, n_hooks * sizeof *o->hooks);
	if (n_metrics > 0) {
		memset(o->values, 0, n_metrics * sizeof *o->values);
		memset(o->volumes, 0, n_metrics * sizeof *o->volumes);
		memset(o->has_volume, 0, n_metrics * sizeof *o->has_volume);
	}
}

void
obs_copy(struct obs *dst, const struct obs *src, size_t n_hooks, size_t n_metrics)
{
	struct obs keep;

	obs_reset(dst, n_hooks, n_metrics);
	keep = *dst;
	*dst = *src;
	dst->hooks = keep.hooks;
	dst->values = keep.values;
	dst->volumes = keep.volumes;
	dst->has_volume = keep.has_volume;
	dst->cap_hooks = keep.cap_hooks;
	dst->cap_metrics = keep.cap_metrics;
	if (n_hooks > 0)
		memcpy(dst->hooks, src->hooks, n_hooks * sizeof *dst->hooks);
	if (n_metrics > 0) {
		memcpy(dst->values, src->values, n_metrics * sizeof *dst->values);
		memcpy(dst->volumes, src->volumes, n_metrics * sizeof *dst->volumes);
		memcpy(dst->has_volume, src->has_volume, n_metrics * sizeof *dst->has_volume);
	}
}

void
obs_fini(struct obs *o)
{
	free(o->hooks);
	free(o->values);
	free(o->volumes);
	free(o->has_volume);
	memset(o, 0, sizeof *o);
}

bool
machine_wants_volume(const struct canary_cfg *c, const struct metric_cfg *m)
{
	if (c->min_requests <= 0)
		return false;
	if (m->volume_query != NULL)
		return true;
	/* A backend that derives measurements itself (no rendered query)
	 * can measure the volume of the built-in metrics. */
	return m->query == NULL && m->kind != METRIC_CUSTOM;
}

/* ---- weight math (reference §2.7) ------------------------------------- */

/* Within 1..100: a configuration that skipped validation never drives a
 * weight out of range (machine_check_cfg refuses it as well). */
int
machine_max_weight(const struct canary_cfg *c)
{
	int w = c->max_weight > 0 ? c->max_weight : 100;

	if (c->n_step_weights > 0)
		w = c->step_weights[c->n_step_weights - 1];
	return w < 1 ? 1 : w > 100 ? 100 : w;
}

/* A provider without routes (kubernetes): blue/green only (engine/routers.h). */
bool
mk_kubernetes_provider(const struct canary_cfg *c)
{
	return router_can(c->provider, RT_BLUEGREEN);
}

enum strategy
machine_strategy(const struct canary_cfg *c)
{
	return mk_kubernetes_provider(c) ? STRATEGY_BLUEGREEN : c->strategy;
}

int
machine_iterations(const struct canary_cfg *c)
{
	return mk_kubernetes_provider(c) && c->iterations < 1 ? 10 : c->iterations;
}

static int
min_int(int a, int b)
{
	return a < b ? a : b;
}

int
machine_next_step(const struct canary_cfg *c, int w)
{
	int max_step;
	size_t i;

	if (c->step_weight > 0 || c->n_step_weights == 0)
		return c->step_weight;
	max_step = 100 - w;
	if (max_step == 0)
		return 1;
	if (w == 0)
		return min_int(max_step, c->step_weights[0]);
	for (i = 0; i + 1 < c->n_step_weights; i++)
		if (w == c->step_weights[i])
			return min_int(max_step, c->step_weights[i + 1] - w);
	return max_step;
}

size_t
machine_ladder(const struct canary_cfg *c, int *out, size_t cap)
{
	int w = 0, max = machine_max_weight(c);
	size_t n = 0;

	if (machine_strategy(c) != STRATEGY_CANARY)
		return 0;
	while (w < max && n < cap) {
		int step = machine_next_step(c, w);

		if (step <= 0)
			break;
		w = w + step > 100 ? 100 : w + step;
		out[n++] = w;
	}
	return n;
}

/* ---- what the engine may drive ---------------------------------------- */

static int
cfg_refused(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
cfg_refused(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
	return ST_INVALID;
}

static int
check_weights(const struct canary_cfg *c, char *why, size_t n)
{
	size_t i;

	if (c->max_weight < 0 || c->max_weight > 100)
		return cfg_refused(why, n, "maxWeight %d is not a weight between 1 and 100",
		    c->max_weight);
	if (c->step_weight_promotion < 0 || c->step_weight_promotion > 100)
		return cfg_refused(why, n, "stepWeightPromotion %d is not a weight between 1 and "
		    "100", c->step_weight_promotion);
	if (c->mirror_weight < 0 || c->mirror_weight > 100)
		return cfg_refused(why, n, "mirrorWeight %d is not a weight between 0 and 100",
		    c->mirror_weight);
	for (i = 0; i < c->n_step_weights; i++)
		if (c->step_weights[i] < 1 || c->step_weights[i] > 100 ||
		    (i > 0 && c->step_weights[i] <= c->step_weights[i - 1]))
			return cfg_refused(why, n, "stepWeights[%zu] %d: the weights must ascend "
			    "between 1 and 100", i, c->step_weights[i]);
	if (machine_strategy(c) == STRATEGY_CANARY && c->n_step_weights == 0 &&
	    (c->step_weight < 1 || c->step_weight > 100))
		return cfg_refused(why, n, "stepWeight %d is not a weight between 1 and 100",
		    c->step_weight);
	return ST_OK;
}

int
machine_check_cfg(const struct canary_cfg *c, char *why, size_t n)
{
	size_t i;
	int rc;

	if ((rc = check_weights(c, why, n)) != ST_OK)
		return rc;
	if (c->threshold < 1)
		return cfg_refused(why, n, "threshold %d: at least 1 failed check", c->threshold);
	if (c->interval_s < 1)
		return cfg_refused(why, n, "interval %ds: at least 1s", c->interval_s);
	if (c->iterations < 0 || (machine_strategy(c) != STRATEGY_CANARY &&
	    machine_iterations(c) < 1))
		return cfg_refused(why, n, "iterations %d: at least 1", c->iterations);
	if (c->primary_ready_threshold < 0 || c->primary_ready_threshold > 100 ||
	    c->canary_ready_threshold < 0 || c->canary_ready_threshold > 100)
		return cfg_refused(why, n, "a ready threshold is not a percentage");
	if (!isfinite(c->min_requests) || c->min_requests < 0)
		return cfg_refused(why, n, "perch.dev/min-requests is not a number of requests");
	for (i = 0; i < c->n_metrics; i++)
		if ((c->metrics[i].has_min && !isfinite(c->metrics[i].min)) ||
		    (c->metrics[i].has_max && !isfinite(c->metrics[i].max)))
			return cfg_refused(why, n, "metric %s: its thresholdRange is not finite",
			    c->metrics[i].name ? c->metrics[i].name : "?");
	return ST_OK;
}

/* ---- routes and status ------------------------------------------------ */

struct routes
machine_routes(const struct canary_status *st)
{
	struct routes r;

	memset(&r, 0, sizeof r);
	r.canary = st->canary_weight < 0 ? 0 : st->canary_weight > 100 ? 100 : st->canary_weight;
	r.primary = 100 - r.canary;
	r.mirrored = st->mirrored;
	memcpy(r.cookie, st->affinity_cookie, sizeof r.cookie);
	memcpy(r.primary_cookie, st->primary_affinity_cookie, sizeof r.primary_cookie);
	memcpy(r.previous_cookie, st->previous_affinity_cookie, sizeof r.previous_cookie);
	return r;
}

/* splitmix64: spreads a seed over the letters. */
static uint64_t
mix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

void
machine_cookie_value(uint64_t seed, char out[AFFINITY_VALUE_LEN + 1])
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	size_t i;

	for (i = 0; i < AFFINITY_VALUE_LEN; i++)
		out[i] = letters[mix64(&seed) % (sizeof letters - 1)];
	out[AFFINITY_VALUE_LEN] = '\0';
}

bool
machine_scaled_up(const struct canary_status *st)
{
	switch (st->phase) {
	case PHASE_PROGRESSING:
	case PHASE_WAITING_PROMOTION:
	case PHASE_PROMOTING:
	case PHASE_FINALISING:
		return true;
	case PHASE_FAILED:
		return st->canary_weight > 0;
	default:
		return false;
	}
}

bool
machine_promote_pending(const struct canary_status *st)
{
	switch (st->phase) {
	case PHASE_PROMOTING:
	case PHASE_FINALISING:
	case PHASE_SUCCEEDED:
		return strcmp(st->last_promoted, st->last_applied) != 0;
	default:
		return false;
	}
}

enum deletion
machine_on_deletion(const struct canary_cfg *c, bool finalizer)
{
	if (!finalizer || c->driven_by != NULL)
		return DEL_LET_GO;
	return c->revert_on_deletion ? DEL_REVERT : DEL_RELEASE;
}

int64_t
machine_finalize_backoff(const struct canary_cfg *c, int tries)
{
	int64_t cap = (int64_t)(c->interval_s > 0 ? c->interval_s : 60) * 1000;
	int64_t ms = FINALIZE_BACKOFF_MS;

	while (tries-- > 0 && ms < cap)
		ms *= 2;
	return ms < cap ? ms : cap;
}

void
machine_terminating(struct canary_status *st, int64_t now_ms, const char *why)
{
	if (st->phase != PHASE_TERMINATING)
		st->phase_since_ms = now_ms;
	st->phase = PHASE_TERMINATING;
	st->canary_weight = 0;
	st->iterations = 0;
	st->gate = GATE_NONE;
	st->held = false;
	sanitize(st->reason, sizeof st->reason, why, strlen(why));
	st->last_transition_ms = now_ms;
	st->seq++;
}

void
machine_status_init(struct canary_status *st, int64_t now_ms)
{
	memset(st, 0, sizeof *st);
	st->phase = PHASE_INITIALIZING;
	st->phase_since_ms = now_ms;
	st->last_transition_ms = now_ms;
	st->next_tick_ms = now_ms;
}

/* ---- alerts ----------------------------------------------------------- */

bool
machine_alert_wanted(enum alert_severity entry, enum alert_severity sev)
{
	switch (entry) {
	case ALERT_INFO: return true;
	case ALERT_WARN: return sev == ALERT_WARN || sev == ALERT_ERROR;
	case ALERT_ERROR: return sev == ALERT_ERROR;
	default: return false;
	}
}

size_t
machine_alert_fields(const struct canary_cfg *c, struct alert_field *out,
    struct mach_alert_buf *buf)
{
	size_t n = 0, i, len;

	snprintf(buf->target, sizeof buf->target, "%s/%s.%s",
	    c->target_kind ? c->target_kind : "Deployment", c->target ? c->target : "",
	    c->ns ? c->ns : "");
	snprintf(buf->threshold, sizeof buf->threshold, "%d", c->threshold);
	snprintf(buf->deadline, sizeof buf->deadline, "%ds",
	    c->progress_deadline_s > 0 ? c->progress_deadline_s : 600);
	out[n++] = (struct alert_field){ "Target", buf->target };
	out[n++] = (struct alert_field){ "Failed checks threshold", buf->threshold };
	out[n++] = (struct alert_field){ "Progress deadline", buf->deadline };
	/* Flagger's order: stepWeight, stepWeights, A/B match, iterations. */
	if (c->step_weight > 0) {
		snprintf(buf->routing, sizeof buf->routing, "Weight step: %d max: %d", c->step_weight,
		    machine_max_weight(c));
	} else if (c->n_step_weights > 0) {
		len = (size_t)snprintf(buf->routing, sizeof buf->routing, "Weight steps: ");
		for (i = 0; i < c->n_step_weights && len < sizeof buf->routing; i++)
			len += (size_t)snprintf(buf->routing + len, sizeof buf->routing - len, "%s%d",
			    i > 0 ? "," : "", c->step_weights[i]);
		if (len < sizeof buf->routing)
			snprintf(buf->routing + len, sizeof buf->routing - len, " max: %d",
			    machine_max_weight(c));
	} else if (c->strategy == STRATEGY_ABTESTING) {
		snprintf(buf->routing, sizeof buf->routing, "A/B Testing");
	} else if (c->iterations > 0) {
		snprintf(buf->routing, sizeof buf->routing, "Blue/Green");
	} else {
		return n;
	}
	out[n++] = (struct alert_field){ "Traffic routing", buf->routing };
	return n;
}

/* reference §2.3 step 26: the first step (weight 0, iteration 0, not in
 * the mirrored phase) runs the pre-rollout hooks instead of the analysis. */
bool
mk_at_first_step_of(const struct canary_cfg *c, const struct canary_status *st)
{
	return st->canary_weight == 0 && st->iterations == 0 && !(c->mirror && st->mirrored);
}
