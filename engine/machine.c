/*
 * machine.c — the rollout state machine of one canary (see machine.h).
 *
 * The tick follows Flagger's advanceCanary order (reference §2.3): suspend,
 * initialisation, new-revision detection, primary readiness, confirm-rollout
 * gate, restart on a newer revision, canary readiness, skip-analysis,
 * rollback hooks, promotion traffic shift, finalising, threshold, first step
 * (pre-rollout hooks only) or analysis (rollout hooks, then metrics), then
 * the strategy's advance (canary weights, blue/green or A/B iterations) and
 * the promotion gate.
 *
 * perch's differences (DESIGN.md §5) are marked "perch:" below: rollback in
 * the tick that reaches the threshold, inconclusive checks (no data, low
 * request volume) following the no-data policy, the failure reason kept in
 * the status, failed checks kept after a rollback, a consistent weight in
 * WaitingPromotion, manual gates and manual commands, routes reset when a
 * run starts, and a progress deadline on readiness waits kept by the engine
 * as well as by the backend.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/machine.h"
#include "engine/routers.h"
#include "util/fmt.h"
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
	o->init_status = 0;
	o->init_err[0] = '\0';
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
static bool
kubernetes_provider(const struct canary_cfg *c)
{
	return router_can(c->provider, RT_BLUEGREEN);
}

enum strategy
machine_strategy(const struct canary_cfg *c)
{
	return kubernetes_provider(c) ? STRATEGY_BLUEGREEN : c->strategy;
}

int
machine_iterations(const struct canary_cfg *c)
{
	return kubernetes_provider(c) && c->iterations < 1 ? 10 : c->iterations;
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

void
machine_status_init(struct canary_status *st, int64_t now_ms)
{
	memset(st, 0, sizeof *st);
	st->phase = PHASE_INITIALIZING;
	st->phase_since_ms = now_ms;
	st->last_transition_ms = now_ms;
	st->next_tick_ms = now_ms;
}

/* ---- the tick's context and output helpers ----------------------------- */

struct tk {
	const struct tick_in *in;
	struct tick_out *o;
	const struct canary_cfg *c;
	const struct obs *ob;
	struct canary_status *st;
	int64_t now;
	unsigned confirm;
	char nn[160];		/* <name>.<ns> */
	char tn[160];		/* <target>.<ns> */
};

static void
tk_init(struct tk *k, const struct tick_in *in, struct tick_out *o)
{
	const struct canary_cfg *c = in->cfg;
	int interval = c->interval_s > 0 ? c->interval_s : 60;

	/* The output is large and a tick runs several times while it gathers
	 * observations: reset the header and the counts, not the arrays. */
	o->need = NEED_NONE;
	o->need_hook = HOOK_ROLLOUT;
	o->st = *in->st;
	o->n_acts = o->n_ev = o->n_checks = o->n_alerts = 0;
	o->analysed = o->held = o->refused = o->tick_now = false;
	o->gate = GATE_NONE;
	o->answer[0] = '\0';
	k->in = in;
	k->o = o;
	k->c = c;
	k->ob = in->obs;
	k->st = &o->st;
	k->now = in->now_ms;
	k->confirm = in->confirm | c->confirm;
	k->nn[0] = k->tn[0] = '\0';	/* formatted when an event needs them */
	o->st.next_tick_ms = in->now_ms + (int64_t)interval * 1000;
}

/* "<name>.<ns>" and "<target>.<ns>" for event texts. */
static const char *
nn_of(struct tk *k)
{
	if (k->nn[0] == '\0')
		snprintf(k->nn, sizeof k->nn, "%s.%s", k->c->name ? k->c->name : "",
		    k->c->ns ? k->c->ns : "");
	return k->nn;
}

static const char *
tn_of(struct tk *k)
{
	if (k->tn[0] == '\0')
		snprintf(k->tn, sizeof k->tn, "%s.%s", k->c->target ? k->c->target : "",
		    k->c->ns ? k->c->ns : "");
	return k->tn;
}

static void
add_event(struct tk *k, enum severity sev, const char *reason, const char *actor,
    const char *fmt, va_list ap)
{
	struct mach_event *e;

	if (k->o->n_ev >= MACH_MAX_EVENTS)
		return;
	e = &k->o->ev[k->o->n_ev++];
	e->sev = sev;
	snprintf(e->reason, sizeof e->reason, "%s", reason);
	snprintf(e->actor, sizeof e->actor, "%s", actor ? actor : "");
	vsnprintf(e->message, sizeof e->message, fmt, ap);
}

/* A revision for people (util/fmt.h fmt_revision): its image when this
 * tick read it or the status names it ("cart:v2"), else its id, short.
 * out must hold FMT_MAX + 96 bytes. */
#define REV_LABEL_MAX 128
static const char *
rev_label(const struct tk *k, const char *id, char *out)
{
	const char *name = "";

	if (k->ob != NULL && (k->ob->have & (1u << NEED_REVISION)) && k->ob->rev_status == 0 &&
	    strcmp(k->ob->rev.id, id) == 0)
		name = k->ob->rev.image;
	else if (strcmp(id, k->st->last_applied) == 0)
		name = k->st->applied_name;
	else if (strcmp(id, k->st->last_promoted) == 0)
		name = k->st->promoted_name;
	fmt_revision(out, REV_LABEL_MAX, name, id);
	return out;
}

static void ev(struct tk *k, enum severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
ev(struct tk *k, enum severity sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, sev, "Synced", NULL, fmt, ap);
	va_end(ap);
}

static void cmd_ev(struct tk *k, const char *actor, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
cmd_ev(struct tk *k, const char *actor, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_event(k, SEV_NORMAL, "Command", actor, fmt, ap);
	va_end(ap);
}

/* An alert (reference §6.1) with or without the metadata fields. */
static void alert(struct tk *k, enum alert_severity sev, bool metadata, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
alert(struct tk *k, enum alert_severity sev, bool metadata, const char *fmt, ...)
{
	struct mach_alert *a;
	va_list ap;

	if (k->o->n_alerts >= MACH_MAX_ALERTS)
		return;
	a = &k->o->alerts[k->o->n_alerts++];
	a->sev = sev;
	a->metadata = metadata;
	va_start(ap, fmt);
	vsnprintf(a->message, sizeof a->message, fmt, ap);
	va_end(ap);
}

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

static void set_reason(struct tk *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
set_reason(struct tk *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(k->st->reason, sizeof k->st->reason, fmt, ap);
	va_end(ap);
}

static void
act(struct tk *k, enum action_kind kind, enum phase hook_phase)
{
	struct action *a;

	if (k->o->n_acts >= MACH_MAX_ACTIONS)
		return;
	a = &k->o->acts[k->o->n_acts++];
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->hook_phase = hook_phase;
}

static void
new_cookie(char *dst, const char *name, uint64_t seed)
{
	char value[AFFINITY_VALUE_LEN + 1];

	machine_cookie_value(seed, value);
	memset(dst, 0, AFFINITY_COOKIE_MAX);
	snprintf(dst, AFFINITY_COOKIE_MAX, "%s=%s", name, value);
}

/* Session affinity cookies follow the routes (reference §4.3): a run that
 * sends traffic to the canary gets a canary cookie (and a primary one with
 * primaryCookieName) the first time, kept until the canary weight is back
 * to 0; then the canary cookie becomes the previous one (expired by the
 * router) and the primary cookie is dropped. */
static void
affinity_rotate(struct tk *k, int canary)
{
	const struct affinity_cfg *a = k->c->affinity;
	struct canary_status *st = k->st;

	if (a == NULL || a->cookie_name == NULL)
		return;
	if (canary > 0) {
		if (st->affinity_cookie[0] == '\0')
			new_cookie(st->affinity_cookie, a->cookie_name, k->in->entropy);
		if (a->primary_cookie_name != NULL && st->primary_affinity_cookie[0] == '\0')
			new_cookie(st->primary_affinity_cookie, a->primary_cookie_name,
			    k->in->entropy ^ 0x5DEECE66DULL);
		return;
	}
	if (st->affinity_cookie[0] != '\0')
		memcpy(st->previous_affinity_cookie, st->affinity_cookie,
		    sizeof st->previous_affinity_cookie);
	memset(st->affinity_cookie, 0, sizeof st->affinity_cookie);
	memset(st->primary_affinity_cookie, 0, sizeof st->primary_affinity_cookie);
}

static void
act_routes(struct tk *k, int primary, int canary, bool mirrored)
{
	act(k, ACT_SET_ROUTES, PHASE_PROGRESSING);
	if (k->o->n_acts > 0 && k->o->acts[k->o->n_acts - 1].kind == ACT_SET_ROUTES) {
		struct routes *r = &k->o->acts[k->o->n_acts - 1].routes;

		affinity_rotate(k, canary);
		*r = machine_routes(k->st);
		r->primary = primary;
		r->canary = canary;
		r->mirrored = mirrored;
	}
}

static void
set_phase(struct tk *k, enum phase p)
{
	if (k->st->phase != p)
		k->st->phase_since_ms = k->now;
	k->st->phase = p;
}

static void
copy_id(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src);
}

/* Stops the tick to ask for an observation. */
static bool
ask(struct tk *k, enum need n)
{
	k->o->need = n;
	return true;
}

static bool
have(const struct tk *k, enum need n)
{
	return (k->ob->have & (1u << n)) != 0;
}

/* ---- hooks ------------------------------------------------------------- */

static bool
has_hooks(const struct canary_cfg *c, enum hook_type t)
{
	size_t i;

	for (i = 0; i < c->n_hooks; i++)
		if (c->hooks[i].type == t)
			return true;
	return false;
}

/* Asks for the hooks of type t when needed.  Returns true when the tick
 * must stop to gather them. */
static bool
need_hooks(struct tk *k, enum hook_type t)
{
	if (!has_hooks(k->c, t) || (k->ob->hooks_have & (1u << t)))
		return false;
	k->o->need_hook = t;
	return ask(k, NEED_HOOKS);
}

/* The first hook of type t that failed (or was never answered), or -1. */
static int
failed_hook(const struct tk *k, enum hook_type t)
{
	size_t i;

	for (i = 0; i < k->c->n_hooks; i++) {
		if (k->c->hooks[i].type != t)
			continue;
		if (!k->ob->hooks[i].called || !k->ob->hooks[i].r.ok)
			return (int)i;
	}
	return -1;
}

static void
passed_hooks(struct tk *k, enum hook_type t, const char *what)
{
	size_t i;

	for (i = 0; i < k->c->n_hooks; i++)
		if (k->c->hooks[i].type == t && k->ob->hooks[i].called && k->ob->hooks[i].r.ok)
			ev(k, SEV_NORMAL, "%s check %s passed", what, k->c->hooks[i].name);
}

static const char *
hook_msg(const struct tk *k, int i)
{
	const struct hook_obs *h = &k->ob->hooks[i];

	if (!h->called)
		return "not called";
	return h->r.msg[0] ? h->r.msg : "failed";
}

void
machine_post_hook_events(const struct canary_cfg *c, const struct hook_obs *h,
    struct tick_out *out)
{
	struct tick_in in = { .cfg = c, .st = &out->st };
	struct tk k = { .in = &in, .o = out, .c = c, .st = &out->st };
	size_t i;

	for (i = 0; i < c->n_hooks; i++) {
		if (c->hooks[i].type != HOOK_POST_ROLLOUT || !h[i].called)
			continue;
		if (h[i].r.ok)
			ev(&k, SEV_NORMAL, "Post-rollout check %s passed", c->hooks[i].name);
		else
			ev(&k, SEV_WARNING, "Post-rollout hook %s failed %s", c->hooks[i].name,
			    h[i].r.msg[0] ? h[i].r.msg : "failed");
	}
}

/* ---- transitions ------------------------------------------------------- */

static void
clear_run(struct canary_status *st)
{
	st->canary_weight = 0;
	st->iterations = 0;
	st->mirrored = false;
	st->paused = false;
	st->hold_since_ms = 0;
	st->wait_since_ms = 0;
}

/* reference §2.10 rollback(); perch: failed checks and the reason stay. */
static void
rollback(struct tk *k, const char *why)
{
	struct canary_status *st = k->st;
	char reason[sizeof st->reason];

	snprintf(reason, sizeof reason, "%s", why);	/* why may be st->reason */
	if (st->failed_checks >= k->c->threshold) {
		ev(k, SEV_WARNING, "Rolling back %s failed checks threshold reached %d", nn_of(k),
		    st->failed_checks);
		alert(k, ALERT_ERROR, false, "Failed checks threshold reached %d", st->failed_checks);
	}
	act_routes(k, 100, 0, false);
	ev(k, SEV_WARNING, "Canary failed! Scaling down %s", nn_of(k));
	act(k, ACT_SCALE_DOWN, PHASE_FAILED);
	set_phase(k, PHASE_FAILED);
	clear_run(st);
	st->skip_requested = false;
	st->override = OVR_NONE;	/* nothing was promoted */
	copy_id(st->failed_revision, sizeof st->failed_revision, st->last_applied);
	set_reason(k, "%s", reason);
	act(k, ACT_POST_HOOKS, PHASE_FAILED);
}

/* reference §2.9 handleFailedPromotion: users stay on the canary. */
static void
failed_promotion(struct tk *k, const char *msg)
{
	struct canary_status *st = k->st;

	ev(k, SEV_WARNING, "Promotion of %s failed, primary not ready: %s", tn_of(k), msg);
	alert(k, ALERT_ERROR, false, "Promotion failed, primary not ready: %s", msg);
	act_routes(k, 0, 100, false);
	set_phase(k, PHASE_FAILED);
	clear_run(st);
	st->canary_weight = 100;
	st->skip_requested = false;
	copy_id(st->failed_revision, sizeof st->failed_revision, st->last_applied);
	set_reason(k, "promotion failed, primary not ready: %s", msg);
	act(k, ACT_POST_HOOKS, PHASE_FAILED);
}

/* A run starts: its last failure and any override of an earlier run are
 * forgotten (a skip given for the revision that starts now stays). */
static void
new_run_marks(struct canary_status *st)
{
	st->last_failure[0] = '\0';
	st->last_failure_ms = 0;
	if (!st->skip_requested)
		st->override = OVR_NONE;
}

/* A new run of revision `rev` (reference §2.3 step 17). */
static void
start_run(struct tk *k, const char *rev)
{
	struct canary_status *st = k->st;

	ev(k, SEV_NORMAL, "New revision detected! Scaling up %s", tn_of(k));
	alert(k, ALERT_INFO, true, "New revision detected, progressing canary analysis.");
	/* perch: routes are reset (a failed promotion left them on the canary). */
	act_routes(k, 100, 0, false);
	act(k, ACT_SCALE_UP, PHASE_PROGRESSING);
	set_phase(k, PHASE_PROGRESSING);
	clear_run(st);
	st->failed_checks = 0;
	st->approved &= ~(unsigned)CONFIRM_PROMOTION;
	/* A skip named the revision it was given for (the waiting one). */
	if (strcmp(rev, st->last_applied) != 0)
		st->skip_requested = false;
	new_run_marks(st);
	copy_id(st->last_applied, sizeof st->last_applied, rev);
	st->reason[0] = '\0';
}

static void
promote_now(struct tk *k)
{
	ev(k, SEV_NORMAL, "Copying %s template spec to %s-primary.%s", tn_of(k), k->c->target,
	    k->c->ns);
	act(k, ACT_PROMOTE, PHASE_PROMOTING);
	set_phase(k, PHASE_PROMOTING);
	k->st->reason[0] = '\0';
}

/* perch: the failed check counts, and the threshold-th one rolls back in
 * the same tick. */
static bool
fail_check(struct tk *k, const char *why)
{
	char reason[sizeof k->st->reason];

	snprintf(reason, sizeof reason, "%s", why);	/* why may be st->reason */
	k->st->failed_checks++;
	set_reason(k, "%s", reason);
	snprintf(k->st->last_failure, sizeof k->st->last_failure, "%s", k->st->reason);
	k->st->last_failure_ms = k->now;
	if (k->st->failed_checks >= k->c->threshold)
		rollback(k, reason);
	return true;
}

/* Flagger's words for a workload that is not ready (reference §2.6). */
static void
not_ready_words(const struct canary_cfg *c, bool primary, const struct readiness *r, char *out,
    size_t outsz)
{
	const char *why = r->msg[0] ? r->msg : "not ready";

	if (primary)
		snprintf(out, outsz, "%s-primary.%s not ready: %s", c->target ? c->target : "",
		    c->ns ? c->ns : "", why);
	else
		snprintf(out, outsz, "canary deployment %s.%s not ready: %s", c->target ? c->target : "",
		    c->ns ? c->ns : "", why);
}

/* A readiness wait; returns true (the tick stops). */
static bool
not_ready(struct tk *k, bool primary, const struct readiness *r)
{
	char msg[ERRMSG_MAX + 200];
	int64_t deadline = (int64_t)(k->c->progress_deadline_s > 0 ? k->c->progress_deadline_s : 600) * 1000;
	const char *why = r->msg[0] ? r->msg : "not ready";

	not_ready_words(k->c, primary, r, msg, sizeof msg);
	ev(k, SEV_WARNING, "%s", msg);
	if (k->st->wait_since_ms == 0)
		k->st->wait_since_ms = k->now;
	set_reason(k, "%s", msg);
	if (r->retriable && k->now - k->st->wait_since_ms < deadline)
		return true;
	if (primary && (k->st->phase == PHASE_PROMOTING || k->st->phase == PHASE_FINALISING)) {
		failed_promotion(k, why);
		return true;
	}
	ev(k, SEV_WARNING, "Rolling back %s progress deadline exceeded %s", nn_of(k), msg);
	/* perch: Flagger's alert for this is unreachable (reference §2.3
	 * step 24); perch sends it. */
	alert(k, ALERT_ERROR, false, "Progress deadline exceeded %s", msg);
	rollback(k, msg);
	return true;
}

/* ---- analysis (reference §3.3; perch: inconclusive checks) -------------- */

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
		ev(k, SEV_WARNING, "Halt %s advancement request duration %s", nn_of(k), cmp);
	else if (m->kind == METRIC_SUCCESS_RATE)
		ev(k, SEV_WARNING, "Halt %s advancement success rate %s", nn_of(k), cmp);
	else
		ev(k, SEV_WARNING, "Halt %s advancement %s %s", nn_of(k), m->name, cmp);
	set_reason(k, "%s %s", m->name, cmp);
}

/* Flagger's texts for "no values found" (policy fail) and query errors. */
static void
metric_nodata_failed(struct tk *k, size_t i, const char *why, bool error)
{
	const struct metric_cfg *m = &k->c->metrics[i];
	const char *err = k->ob->values[i].err;

	if (error) {
		ev(k, SEV_ERROR, "%s query failed for %s: %s",
		    m->template_ref ? "Metric" : "Prometheus", m->name, why);
		set_reason(k, "%s query failed: %s", m->name, why);
		return;
	}
	if (m->template_ref != NULL)
		ev(k, SEV_WARNING, "Halt advancement no values found for custom metric: %s: %s",
		    m->name, err);
	else if (m->kind == METRIC_CUSTOM)
		ev(k, SEV_WARNING, "Halt advancement no values found for metric: %s", m->name);
	else if (m->kind == METRIC_DURATION)
		ev(k, SEV_WARNING, "Halt advancement no values found for %s metric %s probably %s is "
		    "not receiving traffic", k->c->provider ? k->c->provider : "", m->name, tn_of(k));
	else
		ev(k, SEV_WARNING, "Halt advancement no values found for %s metric %s probably %s is "
		    "not receiving traffic: %s", k->c->provider ? k->c->provider : "", m->name, tn_of(k), err);
	set_reason(k, "%s %s", m->name, why);
}

static void
record_checks(struct tk *k)
{
	size_t i;

	for (i = 0; i < k->c->n_metrics && k->o->n_checks < MACH_MAX_CHECKS; i++) {
		struct mach_check *ch = &k->o->checks[k->o->n_checks++];
		char why[ERRMSG_MAX + 64];
		bool below;

		ch->metric = i;
		ch->has_value = k->ob->values[i].result == CHECK_PASS &&
		    k->ob->values[i].value == k->ob->values[i].value;	/* not NaN */
		ch->value = k->ob->values[i].value;
		switch (judge(k, i, why, sizeof why, &below)) {
		case V_PASS: ch->result = CHECK_PASS; break;
		case V_FAIL: ch->result = CHECK_FAIL; break;
		case V_ERROR: ch->result = CHECK_ERROR; break;
		case V_UNAVAILABLE: ch->result = CHECK_ERROR; break;
		case V_INCONCLUSIVE: ch->result = CHECK_NODATA; break;
		}
	}
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
		ev(k, SEV_WARNING, "Rolling back %s %s: %s %s for %llds, past the progress deadline",
		    nn_of(k), what, k->c->metrics[i].name, why,
		    (long long)((k->now - k->st->hold_since_ms) / 1000));
		alert(k, ALERT_ERROR, false, "Progress deadline exceeded %s: %s %s", what,
		    k->c->metrics[i].name, why);
		rollback(k, what);
		return true;
	}
	if (unavailable) {
		ev(k, SEV_WARNING, "Halt %s advancement %s not evaluated: %s (metrics backend degraded; "
		    "not counted as a failed check)", nn_of(k), k->c->metrics[i].name, why);
		set_reason(k, "held: %s not evaluated: %s", k->c->metrics[i].name, why);
		return true;
	}
	ev(k, SEV_WARNING, "Halt %s advancement %s inconclusive: %s (no-data policy hold)", nn_of(k),
	    k->c->metrics[i].name, why);
	set_reason(k, "held: %s %s", k->c->metrics[i].name, why);
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
				return fail_check(k, k->st->reason);
			case V_ERROR:
				metric_nodata_failed(k, i, why, true);
				return fail_check(k, k->st->reason);
			case V_UNAVAILABLE:	/* the others are still judged */
				if (gone < 0) {
					gone = (int)i;
					snprintf(gone_why, sizeof gone_why, "%s", why);
				}
				break;
			case V_INCONCLUSIVE:
				if (k->c->nodata == NODATA_FAIL) {
					metric_nodata_failed(k, i, why, false);
					return fail_check(k, k->st->reason);
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
	k->st->hold_since_ms = 0;
	return false;
}

/* reference §2.3 step 26, the later steps: rollout hooks, then metrics. */
static bool
analyse(struct tk *k)
{
	int bad;

	if (need_hooks(k, HOOK_ROLLOUT))
		return true;
	bad = failed_hook(k, HOOK_ROLLOUT);
	if (bad >= 0) {
		char reason[ERRMSG_MAX + 128];

		ev(k, SEV_WARNING, "Halt %s advancement external check %s failed %s", nn_of(k),
		    k->c->hooks[bad].name, hook_msg(k, bad));
		snprintf(reason, sizeof reason, "webhook %s: %s", k->c->hooks[bad].name, hook_msg(k, bad));
		return fail_check(k, reason);
	}
	if (k->c->n_metrics == 0)
		return false;
	if (!have(k, NEED_METRICS))
		return ask(k, NEED_METRICS);
	k->o->analysed = true;
	record_checks(k);
	return judge_metrics(k);
}

/* The first step: pre-rollout hooks only, no metrics. */
static bool
first_step(struct tk *k)
{
	int bad;

	ev(k, SEV_NORMAL, "Starting canary analysis for %s", tn_of(k));
	if (need_hooks(k, HOOK_PRE_ROLLOUT))
		return true;
	bad = failed_hook(k, HOOK_PRE_ROLLOUT);
	if (bad >= 0) {
		char reason[ERRMSG_MAX + 128];

		ev(k, SEV_WARNING, "Halt %s advancement pre-rollout check %s failed %s", nn_of(k),
		    k->c->hooks[bad].name, hook_msg(k, bad));
		snprintf(reason, sizeof reason, "pre-rollout webhook %s: %s", k->c->hooks[bad].name,
		    hook_msg(k, bad));
		return fail_check(k, reason);
	}
	passed_hooks(k, HOOK_PRE_ROLLOUT, "Pre-rollout");
	return false;
}

/* ---- advancing --------------------------------------------------------- */

/* The confirm-promotion gate (perch's manual gate, then the hooks).
 * Returns true when the tick stops (waiting, or gathering hooks). */
static bool
promotion_gate(struct tk *k)
{
	char label[REV_LABEL_MAX];
	int bad;

	if ((k->confirm & CONFIRM_PROMOTION) && !(k->st->approved & CONFIRM_PROMOTION)) {
		k->o->gate = GATE_PROMOTION;
		if (k->st->phase != PHASE_WAITING_PROMOTION) {
			set_phase(k, PHASE_WAITING_PROMOTION);
			ev(k, SEV_WARNING, "Halt %s advancement waiting for promotion approval of revision %s",
			    nn_of(k), rev_label(k, k->st->last_applied, label));
			alert(k, ALERT_WARN, false, "Canary promotion is waiting for approval.");
		}
		set_reason(k, "waiting for promotion approval");
		return true;
	}
	if (need_hooks(k, HOOK_CONFIRM_PROMOTION))
		return true;
	bad = failed_hook(k, HOOK_CONFIRM_PROMOTION);
	if (bad >= 0) {
		k->o->gate = GATE_PROMOTION;
		if (k->st->phase != PHASE_WAITING_PROMOTION) {
			set_phase(k, PHASE_WAITING_PROMOTION);
			ev(k, SEV_WARNING, "Halt %s advancement waiting for promotion approval %s", nn_of(k),
			    k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)
				alert(k, ALERT_WARN, false, "Canary promotion is waiting for approval.");
		}
		set_reason(k, "waiting for promotion approval %s", k->c->hooks[bad].name);
		return true;
	}
	passed_hooks(k, HOOK_CONFIRM_PROMOTION, "Confirm-promotion");
	return false;
}

/* runCanary (reference §2.7) for the weight below the maximum. */
static void
run_canary(struct tk *k, int step)
{
	struct canary_status *st = k->st;
	int w = st->canary_weight, p = 100 - w;

	if (k->c->mirror && w == 0) {
		if (!st->mirrored) {
			st->mirrored = true;
		} else {
			st->mirrored = false;
			p = 100 - step;
			w = step;
		}
	} else {
		w = w + step > 100 ? 100 : w + step < 0 ? 0 : w + step;
		p = 100 - w;
	}
	act_routes(k, p, w, st->mirrored);
	st->canary_weight = w;
	st->reason[0] = '\0';
	ev(k, SEV_NORMAL, "Advance %s canary weight %d", nn_of(k), w);
}

static bool
advance_canary(struct tk *k, bool manual)
{
	int step = machine_next_step(k->c, k->st->canary_weight);
	int bad;

	if (!manual && step > 0 && !k->st->mirrored && k->st->phase == PHASE_PROGRESSING) {
		if (need_hooks(k, HOOK_CONFIRM_TRAFFIC_INCREASE))
			return true;
		bad = failed_hook(k, HOOK_CONFIRM_TRAFFIC_INCREASE);
		if (bad >= 0) {
			k->o->gate = GATE_TRAFFIC;
			ev(k, SEV_WARNING, "Halt %s advancement waiting for traffic increase approval %s",
			    nn_of(k), k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)	/* every tick, as Flagger */
				alert(k, ALERT_WARN, false, "Canary traffic increase is waiting for approval.");
			set_reason(k, "waiting for traffic increase approval %s", k->c->hooks[bad].name);
			return true;
		}
		passed_hooks(k, HOOK_CONFIRM_TRAFFIC_INCREASE, "Confirm-traffic-increase");
	}
	if (k->st->canary_weight < machine_max_weight(k->c)) {
		if (step > 0)
			run_canary(k, step);
		else	/* refused by machine_check_cfg; never promoted by it */
			ev(k, SEV_WARNING, "Halt %s advancement: stepWeight %d is no step", nn_of(k),
			    step);
		return true;
	}
	if (!manual && promotion_gate(k))
		return true;
	promote_now(k);
	return true;
}

static void
advance_iteration(struct tk *k)
{
	k->st->iterations++;
	k->st->reason[0] = '\0';
	ev(k, SEV_NORMAL, "Advance %s canary iteration %d/%d", nn_of(k), k->st->iterations,
	    machine_iterations(k->c));
}

/* runBlueGreen (reference §2.7). */
static bool
advance_bluegreen(struct tk *k, bool manual)
{
	struct canary_status *st = k->st;
	int n = machine_iterations(k->c);
	bool k8s = kubernetes_provider(k->c);

	if (st->iterations < n) {
		if (k->c->mirror && !st->mirrored && !k8s) {
			st->mirrored = true;
			act_routes(k, 100, 0, true);
		}
		advance_iteration(k);
		return true;
	}
	if (st->iterations == n) {
		if (!manual && promotion_gate(k))
			return true;
		if (k8s) {
			/* The apex service always selects the primary: no switch. */
			st->iterations++;
			return true;
		}
		if (st->mirrored)
			ev(k, SEV_NORMAL, "Stop traffic mirroring and route all traffic to canary");
		else
			ev(k, SEV_NORMAL, "Routing all traffic to canary");
		act_routes(k, 0, 100, false);
		st->mirrored = false;
		st->canary_weight = 100;
		st->iterations++;
		return true;
	}
	promote_now(k);
	return true;
}

/* runAB (reference §2.7): the router applies the match rules. */
static bool
advance_ab(struct tk *k, bool manual)
{
	if (k->st->iterations < machine_iterations(k->c)) {
		act_routes(k, 0, 100, false);
		k->st->canary_weight = 100;
		advance_iteration(k);
		return true;
	}
	if (!manual && promotion_gate(k))
		return true;
	promote_now(k);
	return true;
}

static bool
advance(struct tk *k, bool manual)
{
	/* reference §1.1: the kubernetes provider only does blue/green. */
	if (kubernetes_provider(k->c) && !manual) {
		if (k->c->strategy == STRATEGY_ABTESTING)
			ev(k, SEV_WARNING, "A/B testing is not supported when using the kubernetes provider");
		if (k->c->iterations < 1) {
			ev(k, SEV_WARNING, "Progressive traffic is not supported when using the kubernetes provider");
			ev(k, SEV_WARNING, "Setting canaryAnalysis.iterations: 10");
		}
	}
	switch (machine_strategy(k->c)) {
	case STRATEGY_BLUEGREEN:
		return advance_bluegreen(k, manual);
	case STRATEGY_ABTESTING:
		return advance_ab(k, manual);
	default:
		return advance_canary(k, manual);
	}
}

/* ---- the tick (reference §2.3) ----------------------------------------- */

static void
revision_error(struct tk *k)
{
	char kind[32];
	size_t i;

	snprintf(kind, sizeof kind, "%s", k->c->target_kind ? k->c->target_kind : "Deployment");
	for (i = 0; kind[i]; i++)
		if (kind[i] >= 'A' && kind[i] <= 'Z')
			kind[i] = (char)(kind[i] - 'A' + 'a');
	ev(k, SEV_WARNING, "%s %s get query error: %s", kind, tn_of(k),
	    k->ob->rev_err[0] ? k->ob->rev_err : "unknown revision");
}

static bool
tick_initializing(struct tk *k)
{
	struct canary_status *st = k->st;

	if (!have(k, NEED_INIT))
		return ask(k, NEED_INIT);
	if (k->ob->init_status != 0) {
		ev(k, SEV_WARNING, "%s", k->ob->init_err[0] ? k->ob->init_err : "initialization failed");
		set_reason(k, "%s", k->ob->init_err);
		return true;
	}
	if (!k->c->skip_analysis && k->c->n_metrics > 0) {
		/* Step 6: not fatal, reported. */
		if (!have(k, NEED_PROVIDERS))
			return ask(k, NEED_PROVIDERS);
		if (k->ob->providers_status == 0)
			ev(k, SEV_NORMAL, "all the metrics providers are available!");
		else if (k->ob->providers_status != ST_UNSUPPORTED)
			ev(k, SEV_WARNING, "Error checking metric providers: %s", k->ob->providers_err);
	}
	if (!k->c->skip_analysis) {
		if (!have(k, NEED_PRIMARY))
			return ask(k, NEED_PRIMARY);
		if (!k->ob->primary.ready)
			return not_ready(k, true, &k->ob->primary);
	}
	if (!have(k, NEED_REVISION))
		return ask(k, NEED_REVISION);
	if (k->ob->rev_status != 0) {
		revision_error(k);
		return true;
	}
	set_phase(k, PHASE_INITIALIZED);
	copy_id(st->last_applied, sizeof st->last_applied, k->ob->rev.id);
	copy_id(st->last_promoted, sizeof st->last_promoted, k->ob->rev.id);
	st->wait_since_ms = 0;
	st->reason[0] = '\0';
	ev(k, SEV_NORMAL, "Initialization done! %s", nn_of(k));
	alert(k, ALERT_INFO, true, "New %s detected, initialization completed.",
	    k->c->target_kind ? k->c->target_kind : "Deployment");
	return true;
}

/* Idle phases: true when there is no new revision (or it cannot be read). */
static bool
idle_unchanged(struct tk *k)
{
	const char *id;

	if (!have(k, NEED_REVISION))
		return ask(k, NEED_REVISION);
	if (k->ob->rev_status != 0) {
		revision_error(k);
		return true;
	}
	id = k->ob->rev.id;
	return id[0] == '\0' || strcmp(id, k->st->last_applied) == 0 ||
	    strcmp(id, k->st->last_promoted) == 0;
}

/* Step 17: a new revision passes the confirm-rollout gates and starts. */
static bool
gate_rollout(struct tk *k)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;
	const char *rev;
	int bad;

	if (!have(k, NEED_REVISION))
		return ask(k, NEED_REVISION);
	rev = k->ob->rev_status == 0 && k->ob->rev.id[0] ? k->ob->rev.id : st->last_applied;
	if (st->phase != PHASE_WAITING || strcmp(rev, st->last_applied) != 0) {
		st->approved = 0;	/* a new revision: approvals start over */
		st->skip_requested = false;	/* and a skip given for another */
		st->override = OVR_NONE;
	}
	if ((k->confirm & CONFIRM_ROLLOUT) && !(st->approved & CONFIRM_ROLLOUT)) {
		k->o->gate = GATE_ROLLOUT;
		if (st->phase != PHASE_WAITING || strcmp(rev, st->last_applied) != 0) {
			ev(k, SEV_WARNING, "Halt %s advancement waiting for rollout approval of revision %s",
			    nn_of(k), rev_label(k, rev, label));
			alert(k, ALERT_WARN, false, "Canary is waiting for approval.");
		}
		set_phase(k, PHASE_WAITING);
		copy_id(st->last_applied, sizeof st->last_applied, rev);
		set_reason(k, "waiting for rollout approval");
		return true;
	}
	if (need_hooks(k, HOOK_CONFIRM_ROLLOUT))
		return true;
	bad = failed_hook(k, HOOK_CONFIRM_ROLLOUT);
	if (bad >= 0) {
		k->o->gate = GATE_ROLLOUT;
		if (st->phase != PHASE_WAITING) {
			ev(k, SEV_WARNING, "Halt %s advancement waiting for approval %s", nn_of(k),
			    k->c->hooks[bad].name);
			if (!k->c->hooks[bad].mute_alert)
				alert(k, ALERT_WARN, false, "Canary is waiting for approval.");
		}
		set_phase(k, PHASE_WAITING);
		copy_id(st->last_applied, sizeof st->last_applied, rev);
		set_reason(k, "waiting for approval %s", k->c->hooks[bad].name);
		return true;
	}
	passed_hooks(k, HOOK_CONFIRM_ROLLOUT, "Confirm-rollout");
	start_run(k, rev);
	return true;
}

static bool
rollback_hooks(struct tk *k)
{
	size_t i;

	if (need_hooks(k, HOOK_ROLLBACK))
		return true;
	for (i = 0; i < k->c->n_hooks; i++) {
		const struct hook_cfg *h = &k->c->hooks[i];
		char reason[ERRMSG_MAX + 128];

		if (h->type != HOOK_ROLLBACK || !k->ob->hooks[i].called)
			continue;
		if (!k->ob->hooks[i].r.ok) {
			ev(k, SEV_NORMAL, "Rollback hook %s not signaling a rollback", h->name);
			continue;
		}
		ev(k, SEV_WARNING, "Rollback check %s passed", h->name);
		ev(k, SEV_WARNING, "Rolling back %s manual webhook invoked", nn_of(k));
		alert(k, ALERT_WARN, false, "Rolling back manual webhook invoked");
		snprintf(reason, sizeof reason, "rollback webhook %s: %s", h->name,
		    k->ob->hooks[i].r.msg[0] ? k->ob->hooks[i].r.msg : "rollback requested");
		rollback(k, reason);
		return true;
	}
	return false;
}

/* runPromotionTrafficShift (reference §2.9). */
static bool
promotion_shift(struct tk *k)
{
	struct canary_status *st = k->st;
	int spw = k->c->step_weight_promotion, w = st->canary_weight;

	if (kubernetes_provider(k->c)) {	/* nothing to shift */
		st->canary_weight = 0;
		set_phase(k, PHASE_FINALISING);
		return true;
	}
	if (spw <= 0) {
		ev(k, SEV_NORMAL, "Routing all traffic to primary");
		act_routes(k, 100, 0, false);
		st->canary_weight = 0;
		set_phase(k, PHASE_FINALISING);
		return true;
	}
	if (w > 0) {
		int p = 100 - w + spw > 100 ? 100 : 100 - w + spw;

		w = w - spw < 0 ? 0 : w - spw;
		act_routes(k, p, w, false);
		ev(k, SEV_NORMAL, "Advance %s primary weight %d", nn_of(k), p);
		st->canary_weight = w;
		if (p < 100)
			return true;
		st->canary_weight = 0;
	}
	set_phase(k, PHASE_FINALISING);
	return true;
}

static void
succeed(struct tk *k)
{
	act(k, ACT_SCALE_DOWN, PHASE_SUCCEEDED);
	set_phase(k, PHASE_SUCCEEDED);
	clear_run(k->st);
	k->st->skip_requested = false;
	k->st->approved = 0;
	k->st->reason[0] = '\0';
	act(k, ACT_POST_HOOKS, PHASE_SUCCEEDED);
}

/* perch: a promotion that skipped the analysis says so, with who and how
 * the canary stood, as it ends (the status keeps it: override_text). */
static void
override_event(struct tk *k)
{
	char text[MACH_MSG_MAX];

	if (k->st->override == OVR_NONE)
		return;
	override_text(k->st, text, sizeof text);
	if (text[0] >= 'a' && text[0] <= 'z')
		text[0] = (char)(text[0] - 'a' + 'A');
	ev(k, k->st->override_failed > 0 ? SEV_WARNING : SEV_NORMAL, "%s", text);
}

static void
skip_promote(struct tk *k)
{
	act_routes(k, 100, 0, false);
	ev(k, SEV_NORMAL, "Copying %s template spec to %s-primary.%s", tn_of(k), k->c->target, k->c->ns);
	act(k, ACT_PROMOTE, PHASE_SUCCEEDED);
	succeed(k);
	ev(k, SEV_NORMAL, "Promotion completed! Canary analysis was skipped for %s", tn_of(k));
	override_event(k);
	alert(k, ALERT_INFO, false, "Canary analysis was skipped, promotion finished.");
}

/* reference §2.3 step 26: the first step (weight 0, iteration 0, not in
 * the mirrored phase) runs the pre-rollout hooks instead of the analysis. */
static bool
at_first_step_of(const struct canary_cfg *c, const struct canary_status *st)
{
	return st->canary_weight == 0 && st->iterations == 0 && !(c->mirror && st->mirrored);
}

static bool
at_first_step(const struct tk *k)
{
	return at_first_step_of(k->c, k->st);
}

static bool
tick_run(struct tk *k)
{
	struct canary_status *st = k->st;
	enum phase ph = st->phase;
	bool idle = ph == PHASE_INITIALIZED || ph == PHASE_SUCCEEDED || ph == PHASE_FAILED;
	bool running = ph == PHASE_PROGRESSING || ph == PHASE_WAITING_PROMOTION;
	bool skip = k->c->skip_analysis || st->skip_requested;

	if (machine_promote_pending(st)) {
		act(k, ACT_PROMOTE, ph);	/* decided, not confirmed done */
		return true;
	}
	if (idle && idle_unchanged(k))
		return true;
	if (!k->c->skip_analysis) {
		if (!have(k, NEED_PRIMARY))
			return ask(k, NEED_PRIMARY);
		if (!k->ob->primary.ready)
			return not_ready(k, true, &k->ob->primary);
	}
	if (idle || ph == PHASE_WAITING)
		return gate_rollout(k);
	if (running) {
		if (!have(k, NEED_REVISION))
			return ask(k, NEED_REVISION);
		if (k->ob->rev_status == 0 && k->ob->rev.id[0] &&
		    strcmp(k->ob->rev.id, st->last_applied) != 0) {
			ev(k, SEV_NORMAL, "New revision detected! Restarting analysis for %s", tn_of(k));
			act_routes(k, 100, 0, false);
			clear_run(st);
			st->failed_checks = 0;
			st->approved &= ~(unsigned)CONFIRM_PROMOTION;
			st->skip_requested = false;	/* it named the older revision */
			new_run_marks(st);
			set_phase(k, PHASE_PROGRESSING);
			copy_id(st->last_applied, sizeof st->last_applied, k->ob->rev.id);
			st->reason[0] = '\0';
			return true;
		}
	}
	if (!have(k, NEED_CANARY))
		return ask(k, NEED_CANARY);
	if (!k->ob->canary.ready)
		return not_ready(k, false, &k->ob->canary);
	st->wait_since_ms = 0;
	if (skip) {
		skip_promote(k);
		return true;
	}
	if (running && rollback_hooks(k))
		return true;
	if (ph == PHASE_PROMOTING)
		return promotion_shift(k);
	if (ph == PHASE_FINALISING) {
		succeed(k);
		ev(k, SEV_NORMAL, "Promotion completed! Scaling down %s", tn_of(k));
		override_event(k);
		alert(k, ALERT_INFO, false, "Canary analysis completed successfully, promotion finished.");
		return true;
	}
	if (st->failed_checks >= k->c->threshold) {
		rollback(k, st->reason[0] ? st->reason : "failed checks threshold reached");
		return true;
	}
	if (at_first_step(k) ? first_step(k) : analyse(k))
		return true;
	if (st->paused)
		return true;
	return advance(k, false);
}

enum need
machine_tick(const struct tick_in *in, struct tick_out *out)
{
	struct tk k;

	tk_init(&k, in, out);
	if (in->cfg->suspend) {
		ev(&k, SEV_NORMAL, "skipping canary run as object is suspended");
		return NEED_NONE;
	}
	if (in->st->phase == PHASE_INITIALIZING)
		tick_initializing(&k);
	else
		tick_run(&k);
	return out->need;
}

/* ---- manual commands (DESIGN.md §5) ------------------------------------ */

static void refuse(struct tk *k, enum command_kind cmd, const char *actor, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
refuse(struct tk *k, enum command_kind cmd, const char *actor, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	/* Refused whole: the status, actions and events of any partial work
	 * are dropped. */
	k->o->st = *k->in->st;
	k->o->n_acts = 0;
	k->o->n_ev = 0;
	k->o->n_alerts = 0;
	k->o->refused = true;
	k->o->tick_now = false;
	snprintf(k->o->answer, sizeof k->o->answer, "%s %s refused: %s", k->c->name,
	    command_name(cmd), why);
	if (k->o->n_ev < MACH_MAX_EVENTS) {
		struct mach_event *e = &k->o->ev[k->o->n_ev++];

		e->sev = SEV_WARNING;
		snprintf(e->reason, sizeof e->reason, "Refused");
		snprintf(e->actor, sizeof e->actor, "%s", actor);
		snprintf(e->message, sizeof e->message, "Refused %s from %.95s: %.250s",
		    command_name(cmd), actor, why);
	}
}

/* " (3 of 5 checks failed, last: request-duration 681ms > 500ms)" of a
 * command that bypasses the analysis, for its event. */
static void
health_words(const struct tk *k, char *out, size_t outsz)
{
	const struct canary_status *st = k->st;

	if (st->failed_checks == 0)
		snprintf(out, outsz, " (no check had failed)");
	else if (st->last_failure[0] != '\0')
		snprintf(out, outsz, " (%d of %d checks failed, last: %s)", st->failed_checks,
		    k->c->threshold, st->last_failure);
	else
		snprintf(out, outsz, " (%d of %d checks failed)", st->failed_checks, k->c->threshold);
}

/* Records who bypassed the analysis and how the canary stood then. */
static void
set_override(struct tk *k, enum override_kind o, const char *actor)
{
	struct canary_status *st = k->st;

	st->override = o;
	snprintf(st->override_by, sizeof st->override_by, "%s", actor);
	st->override_ms = k->now;
	st->override_failed = st->failed_checks;
	st->override_threshold = k->c->threshold;
}

static void
cmd_promote_step(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;

	cmd_ev(k, actor, "Promote one step requested by %s", actor);
	advance(k, true);
	if (st->phase == PHASE_PROMOTING)
		snprintf(k->o->answer, sizeof k->o->answer, "%s promoting revision %s", k->c->name,
		    rev_label(k, st->last_applied, label));
	else if (machine_strategy(k->c) == STRATEGY_CANARY)
		snprintf(k->o->answer, sizeof k->o->answer, "%s promoted one step: canary weight %d",
		    k->c->name, st->canary_weight);
	else
		snprintf(k->o->answer, sizeof k->o->answer, "%s promoted one step: iteration %d/%d",
		    k->c->name, st->iterations, machine_iterations(k->c));
}

static void
cmd_promote_full(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX], health[sizeof k->st->last_failure + 64];

	health_words(k, health, sizeof health);
	cmd_ev(k, actor, "Full promotion of revision %s requested by %s: skipping the remaining "
	    "steps and analysis%s", rev_label(k, k->st->last_applied, label), actor, health);
	k->st->paused = false;
	set_override(k, OVR_FORCED, actor);
	promote_now(k);
	snprintf(k->o->answer, sizeof k->o->answer, "%s promoting revision %s", k->c->name,
	    rev_label(k, k->st->last_applied, label));
}

static void
cmd_pause(struct tk *k, enum command_kind cmd, const char *actor)
{
	struct canary_status *st = k->st;

	st->paused = cmd == CMD_PAUSE;
	if (st->paused) {
		cmd_ev(k, actor, "Paused by %s at canary weight %d", actor, st->canary_weight);
		set_reason(k, "paused by %s", actor);
	} else {
		cmd_ev(k, actor, "Resumed by %s at canary weight %d", actor, st->canary_weight);
		st->reason[0] = '\0';
	}
	snprintf(k->o->answer, sizeof k->o->answer, "%s %s at canary weight %d", k->c->name,
	    st->paused ? "paused" : "resumed", st->canary_weight);
}

static void
cmd_rollback(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX];
	char reason[160];

	cmd_ev(k, actor, "Rollback of revision %s requested by %s",
	    rev_label(k, k->st->last_applied, label), actor);
	snprintf(reason, sizeof reason, "rolled back by %s", actor);
	/* perch: a manual rollback is announced like a rollback webhook's. */
	alert(k, ALERT_WARN, false, "Rolling back manual command invoked by %s", actor);
	rollback(k, reason);
	snprintf(k->o->answer, sizeof k->o->answer, "%s rolled back", k->c->name);
}

static void
cmd_retry(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX];
	char rev[sizeof k->st->failed_revision];

	copy_id(rev, sizeof rev, k->st->failed_revision);
	rev_label(k, rev, label);
	cmd_ev(k, actor, "Retry of revision %s requested by %s", label, actor);
	start_run(k, rev);
	snprintf(k->o->answer, sizeof k->o->answer, "%s retrying revision %s", k->c->name, label);
}

static void
cmd_skip(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX], health[sizeof k->st->last_failure + 64];

	health_words(k, health, sizeof health);
	k->st->skip_requested = true;
	k->st->approved |= CONFIRM_ROLLOUT;
	k->st->paused = false;
	k->o->tick_now = true;
	set_override(k, OVR_SKIPPED, actor);
	cmd_ev(k, actor, "Skip analysis of revision %s requested by %s%s",
	    rev_label(k, k->st->last_applied, label), actor, health);
	snprintf(k->o->answer, sizeof k->o->answer, "%s skipping analysis: promoted once its pods "
	    "are ready", k->c->name);
}

static void
cmd_approve(struct tk *k, const char *actor)
{
	char label[REV_LABEL_MAX];
	struct canary_status *st = k->st;
	unsigned gate = st->phase == PHASE_WAITING ? CONFIRM_ROLLOUT : CONFIRM_PROMOTION;

	st->approved |= gate;
	k->o->tick_now = true;
	rev_label(k, st->last_applied, label);
	cmd_ev(k, actor, "Revision %s approved for %s by %s", label,
	    gate == CONFIRM_ROLLOUT ? "rollout" : "promotion", actor);
	snprintf(k->o->answer, sizeof k->o->answer, "%s revision %s approved for %s", k->c->name,
	    label, gate == CONFIRM_ROLLOUT ? "rollout" : "promotion");
}

/* ---- the facts a command is judged on (engine/command.h) --------------- */

/* Whether the next step of a progressing canary is its promotion. */
static bool
promotion_next(const struct canary_cfg *c, const struct canary_status *st)
{
	switch (machine_strategy(c)) {
	case STRATEGY_BLUEGREEN:
	case STRATEGY_ABTESTING:
		return st->iterations >= machine_iterations(c);
	default:
		return st->canary_weight >= machine_max_weight(c);
	}
}

static void
facts_ready(const struct canary_cfg *c, bool primary, const struct readiness *r,
    enum ready_state *state, char *why, size_t whysz)
{
	*state = r == NULL ? READY_UNKNOWN : r->ready ? READY_YES : READY_NO;
	why[0] = '\0';
	if (r != NULL && !r->ready)
		not_ready_words(c, primary, r, why, whysz);
}

void
machine_facts(const struct canary_cfg *c, const struct canary_status *st, unsigned confirm,
    const struct readiness *primary, const struct readiness *canary, const char *target_rev,
    struct cmd_facts *f)
{
	unsigned conf = confirm | c->confirm;

	memset(f, 0, sizeof *f);
	f->phase = st->phase;
	f->control = true;
	f->paused = st->paused;
	f->skip_requested = st->skip_requested;
	if (st->phase == PHASE_WAITING && (conf & CONFIRM_ROLLOUT) &&
	    !(st->approved & CONFIRM_ROLLOUT))
		f->manual_gate = CONFIRM_ROLLOUT;
	else if (st->phase == PHASE_WAITING_PROMOTION && (conf & CONFIRM_PROMOTION) &&
	    !(st->approved & CONFIRM_PROMOTION))
		f->manual_gate = CONFIRM_PROMOTION;
	f->pre_rollout_pending = st->phase == PHASE_PROGRESSING && at_first_step_of(c, st) &&
	    has_hooks(c, HOOK_PRE_ROLLOUT);
	f->promotion_next = st->phase == PHASE_PROGRESSING && promotion_next(c, st);
	f->promotion_gated = ((conf & CONFIRM_PROMOTION) && !(st->approved & CONFIRM_PROMOTION)) ||
	    has_hooks(c, HOOK_CONFIRM_PROMOTION);
	copy_id(f->failed_rev, sizeof f->failed_rev, st->failed_revision);
	if (target_rev != NULL)
		copy_id(f->target_rev, sizeof f->target_rev, target_rev);
	facts_ready(c, true, c->skip_analysis ? NULL : primary, &f->primary, f->primary_why,
	    sizeof f->primary_why);
	facts_ready(c, false, canary, &f->canary, f->canary_why, sizeof f->canary_why);
}

/* machine_facts of a command's input: its obs readiness and revision. */
static void
input_facts(const struct tk *k, struct cmd_facts *f)
{
	const struct obs *o = k->ob;
	bool rev = o != NULL && have(k, NEED_REVISION) && o->rev_status == 0;

	machine_facts(k->c, k->in->st, k->in->confirm,
	    o != NULL && have(k, NEED_PRIMARY) ? &o->primary : NULL,
	    o != NULL && have(k, NEED_CANARY) ? &o->canary : NULL,
	    rev ? o->rev.id : NULL, f);
}

void
machine_command(const struct tick_in *in, enum command_kind cmd, const char *actor,
    struct tick_out *out)
{
	struct tk k;
	struct cmd_facts own;
	const struct cmd_facts *f = in->facts;
	int64_t next = in->st->next_tick_ms;
	char why[400];

	tk_init(&k, in, out);
	out->st.next_tick_ms = next;
	if (actor == NULL || actor[0] == '\0')
		actor = "unknown";
	if (f == NULL) {
		input_facts(&k, &own);
		f = &own;
	}
	if (!command_allowed(cmd, f, why, sizeof why, NULL)) {
		refuse(&k, cmd, actor, "%s", why);
		return;
	}
	switch (cmd) {
	case CMD_PROMOTE_STEP: cmd_promote_step(&k, actor); break;
	case CMD_PROMOTE_FULL: cmd_promote_full(&k, actor); break;
	case CMD_PAUSE:
	case CMD_RESUME: cmd_pause(&k, cmd, actor); break;
	case CMD_ROLLBACK: cmd_rollback(&k, actor); break;
	case CMD_RETRY: cmd_retry(&k, actor); break;
	case CMD_SKIP: cmd_skip(&k, actor); break;
	case CMD_APPROVE: cmd_approve(&k, actor); break;
	default: refuse(&k, cmd, actor, "unknown command"); break;
	}
	if (out->refused)
		return;
	/* A step or a new run starts a new bake time; a gate opened or a skip
	 * acts at once. */
	if (out->tick_now)
		out->st.next_tick_ms = in->now_ms;
	else if (cmd == CMD_PROMOTE_STEP || cmd == CMD_PROMOTE_FULL || cmd == CMD_RETRY ||
	    cmd == CMD_ROLLBACK)
		out->st.next_tick_ms = in->now_ms + (int64_t)(in->cfg->interval_s > 0 ? in->cfg->interval_s : 60) * 1000;
}
