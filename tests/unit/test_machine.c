/* test_machine.c — the rollout state machine (engine/machine.c) driven by a
 * scripted world and a virtual clock: one table row per transition of the
 * reference §2, per perch difference and per manual command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/machine.h"
#include "tests/unit/helper_canary.h"
#include "util/status.h"
#include "util/xalloc.h"

/* ---- a scripted world -------------------------------------------------- */

struct world {
	char rev[72];
	char primary_rev[72];
	char made_from[72];		/* the primary says it was made from this ("" unknown) */
	bool primary_ready, canary_ready, retriable;
	enum check_result vres;		/* for every metric */
	bool unavailable;		/* metric 0 gets no answer (a slow backend) */
	double value[4];
	double volume;
	bool hook_ok[8];
	int hook_calls[8];
	struct routes routes;
	bool scaled_up;
	int promotions;			/* effective: primary revision changed */
	int route_changes;
	int needs[NEED__COUNT];
	/* the last tick */
	struct tick_out out;
	char events[8192];		/* every event of the run, one per line */
};

static void
world_init(struct world *w)
{
	memset(w, 0, sizeof *w);
	strcpy(w->rev, "v1");
	strcpy(w->primary_rev, "v1");
	w->primary_ready = w->canary_ready = w->retriable = true;
	w->vres = CHECK_PASS;
	w->value[0] = 99.9;	/* success rate */
	w->value[1] = 200;	/* duration ms */
	w->volume = 1000;
	w->routes.primary = 100;
	for (int i = 0; i < 8; i++)
		w->hook_ok[i] = true;
}

static void
gather(struct world *w, const struct canary_cfg *c, struct obs *o, enum need n, enum hook_type ht)
{
	size_t i;

	w->needs[n]++;
	switch (n) {
	case NEED_INIT:
		o->init_status = ST_OK;
		strcpy(o->init_rev.id, w->made_from);
		break;
	case NEED_PROVIDERS:
		o->providers_status = ST_OK;
		break;
	case NEED_REVISION:
		strcpy(o->rev.id, w->rev);
		break;
	case NEED_PRIMARY:
	case NEED_CANARY:
		if (n == NEED_PRIMARY ? w->primary_ready : w->canary_ready) {
			o->primary.ready = n == NEED_PRIMARY ? true : o->primary.ready;
			o->canary.ready = n == NEED_CANARY ? true : o->canary.ready;
		} else {
			struct readiness *r = n == NEED_PRIMARY ? &o->primary : &o->canary;

			r->ready = false;
			r->retriable = w->retriable;
			strcpy(r->msg, "waiting for rollout to finish: 0 of 1 updated replicas are available");
		}
		break;
	case NEED_HOOKS:
		for (i = 0; i < c->n_hooks; i++) {
			if (c->hooks[i].type != ht)
				continue;
			w->hook_calls[i]++;
			o->hooks[i].called = true;
			o->hooks[i].r.ok = w->hook_ok[i];
			snprintf(o->hooks[i].r.msg, sizeof o->hooks[i].r.msg, "%s", w->hook_ok[i] ? "" : "403 no");
			if (!w->hook_ok[i] && ht != HOOK_ROLLBACK)
				break;
		}
		o->hooks_have |= 1u << ht;
		return;
	case NEED_METRICS:
		for (i = 0; i < c->n_metrics; i++) {
			o->values[i].result = w->vres;
			o->values[i].value = w->value[i];
			if (w->vres == CHECK_NODATA)
				strcpy(o->values[i].err, "no values found");
			if (i == 0 && w->unavailable) {
				o->values[i].result = CHECK_ERROR;
				o->values[i].unavailable = true;
				strcpy(o->values[i].err, "Prometheus query timed out after 5000 ms");
			}
			o->has_volume[i] = machine_wants_volume(c, &c->metrics[i]);
			o->volumes[i].result = CHECK_PASS;
			o->volumes[i].value = w->volume;
		}
		break;
	default:
		break;
	}
	o->have |= 1u << n;
}

static void
world_act(struct world *w, struct canary_status *st, const struct tick_out *out)
{
	size_t i;

	for (i = 0; i < out->n_acts; i++) {
		const struct action *a = &out->acts[i];

		switch (a->kind) {
		case ACT_SET_ROUTES:
			if (memcmp(&w->routes, &a->routes, sizeof w->routes) != 0)
				w->route_changes++;
			w->routes = a->routes;
			break;
		case ACT_SCALE_UP: w->scaled_up = true; break;
		case ACT_SCALE_DOWN: w->scaled_up = false; break;
		case ACT_PROMOTE:
			if (machine_promote_pending(st)) {
				if (strcmp(w->primary_rev, w->rev) != 0)
					w->promotions++;
				strcpy(w->primary_rev, w->rev);
				strcpy(st->last_promoted, st->last_applied);
			}
			break;
		case ACT_POST_HOOKS: break;
		}
	}
	for (i = 0; i < out->n_ev; i++) {
		size_t len = strlen(w->events);

		snprintf(w->events + len, sizeof w->events - len, "%s\n", out->ev[i].message);
	}
}

/* Runs one tick at `now` through the world; the status moves on. */
static void
tick(struct world *w, const struct canary_cfg *c, struct canary_status *st, int64_t now,
    unsigned confirm)
{
	struct obs o;
	struct tick_in in = { .cfg = c, .st = st, .obs = &o, .now_ms = now, .confirm = confirm,
		.entropy = (uint64_t)now };
	int guard = 0;

	obs_init(&o);
	obs_reset(&o, c->n_hooks, c->n_metrics);
	while (machine_tick(&in, &w->out) != NEED_NONE) {
		assert_true(++guard < 20);
		gather(w, c, &o, w->out.need, w->out.need_hook);
	}
	obs_fini(&o);
	*st = w->out.st;
	world_act(w, st, &w->out);
}

static void
command(struct world *w, const struct canary_cfg *c, struct canary_status *st, int64_t now,
    enum command_kind k, unsigned confirm)
{
	struct tick_in in = { .cfg = c, .st = st, .now_ms = now, .confirm = confirm,
		.entropy = (uint64_t)now };

	machine_command(&in, k, "alice@host", &w->out);
	*st = w->out.st;
	world_act(w, st, &w->out);
}

/* A command as the runner gives it: what its preconditions ask about
 * (readiness, the target's revision) observed first, and facts (when not
 * NULL) standing for what only the runner knows. */
static void
command_seen(struct world *w, const struct canary_cfg *c, struct canary_status *st, int64_t now,
    enum command_kind k, unsigned confirm, const struct cmd_facts *facts)
{
	struct obs o;
	struct tick_in in = { .cfg = c, .st = st, .obs = &o, .now_ms = now, .confirm = confirm,
		.entropy = (uint64_t)now, .facts = facts };

	obs_init(&o);
	obs_reset(&o, c->n_hooks, c->n_metrics);
	gather(w, c, &o, NEED_REVISION, HOOK_ROLLOUT);
	gather(w, c, &o, NEED_PRIMARY, HOOK_ROLLOUT);
	gather(w, c, &o, NEED_CANARY, HOOK_ROLLOUT);
	machine_command(&in, k, "alice@host", &w->out);
	obs_fini(&o);
	*st = w->out.st;
	world_act(w, st, &w->out);
}

static bool
has_event(const struct world *w, const char *text)
{
	size_t i;

	for (i = 0; i < w->out.n_ev; i++)
		if (strstr(w->out.ev[i].message, text) != NULL)
			return true;
	return false;
}

static int
count_in_run(const struct world *w, const char *text)
{
	int n = 0;
	const char *p = w->events;

	while ((p = strstr(p, text)) != NULL) {
		n++;
		p += strlen(text);
	}
	return n;
}

#define S(sec) ((int64_t)(sec) * 1000)

/* Initialises at t=0 (revision v1), publishes v2 at t=30. */
static void
start(struct world *w, const struct canary_cfg *c, struct canary_status *st, unsigned confirm)
{
	world_init(w);
	machine_status_init(st, 0);
	tick(w, c, st, 0, confirm);
	assert_int_equal(st->phase, PHASE_INITIALIZED);
	assert_string_equal(st->last_promoted, "v1");
	strcpy(w->rev, "v2");
}

/* ---- the canonical checkout canary ------------------------------------- */

struct step_row {
	int t;			/* seconds */
	enum phase phase;
	int weight;
	const char *event;	/* expected among the tick's events, or NULL */
};

static void
test_checkout_timeline(void **state)
{
	static const struct step_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,  "New revision detected! Scaling up checkout.shop" },
		{ 60,  PHASE_PROGRESSING, 10, "Starting canary analysis for checkout.shop" },
		{ 90,  PHASE_PROGRESSING, 20, "Advance checkout.shop canary weight 20" },
		{ 120, PHASE_PROGRESSING, 30, "Advance checkout.shop canary weight 30" },
		{ 150, PHASE_PROGRESSING, 40, "Advance checkout.shop canary weight 40" },
		{ 180, PHASE_PROGRESSING, 50, "Advance checkout.shop canary weight 50" },
		{ 210, PHASE_PROMOTING,   50, "Copying checkout.shop template spec to checkout-primary.shop" },
		{ 240, PHASE_FINALISING,  0,  "Routing all traffic to primary" },
		{ 270, PHASE_SUCCEEDED,   0,  "Promotion completed! Scaling down checkout.shop" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;
	size_t i;

	(void)state;
	start(&w, c, &st, 0);
	assert_true(has_event(&w, "all the metrics providers are available!"));
	assert_true(has_event(&w, "Initialization done! checkout.shop"));
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		tick(&w, c, &st, S(rows[i].t), 0);
		assert_int_equal(st.phase, rows[i].phase);
		assert_int_equal(st.canary_weight, rows[i].weight);
		assert_int_equal(w.routes.canary, rows[i].weight);
		assert_true(has_event(&w, rows[i].event));
		assert_int_equal(st.next_tick_ms, S(rows[i].t + 30));
	}
	assert_int_equal(w.promotions, 1);
	assert_false(w.scaled_up);
	assert_string_equal(st.last_promoted, "v2");
	assert_int_equal(st.failed_checks, 0);
	/* Nothing more happens without a new revision. */
	tick(&w, c, &st, S(300), 0);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_int_equal(w.out.n_ev, 0);
	canary_cfg_free(c);
}

/* A `set image` while the primary gets ready: the primary runs v1, the
 * target is v2 when initialization ends.  The saved revision is the
 * primary's, and v2 starts at the next tick. */
static void
test_init_saves_primary_revision(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;

	(void)state;
	world_init(&w);
	strcpy(w.made_from, "v1");
	w.primary_ready = false;
	machine_status_init(&st, 0);
	tick(&w, c, &st, 0, 0);
	assert_int_equal(st.phase, PHASE_INITIALIZING);
	strcpy(w.rev, "v2");		/* kubectl set image, meanwhile */
	w.primary_ready = true;
	tick(&w, c, &st, S(30), 0);
	assert_int_equal(st.phase, PHASE_INITIALIZED);
	assert_string_equal(st.last_applied, "v1");
	assert_string_equal(st.last_promoted, "v1");
	tick(&w, c, &st, S(60), 0);
	assert_int_equal(st.phase, PHASE_PROGRESSING);
	assert_string_equal(st.last_applied, "v2");
	assert_true(has_event(&w, "New revision detected! Scaling up checkout.shop"));
	/* A backend that cannot tell: the target's revision, as before. */
	world_init(&w);
	machine_status_init(&st, 0);
	strcpy(w.rev, "v3");
	tick(&w, c, &st, 0, 0);
	assert_int_equal(st.phase, PHASE_INITIALIZED);
	assert_string_equal(st.last_applied, "v3");
	canary_cfg_free(c);
}

/* Failing metrics roll back in the tick of the threshold-th failure. */
static void
test_threshold_rollback(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;
	int t;

	(void)state;
	start(&w, c, &st, 0);
	w.value[0] = 91.2;
	tick(&w, c, &st, S(30), 0);
	tick(&w, c, &st, S(60), 0);		/* first step: no metrics */
	assert_int_equal(st.canary_weight, 10);
	for (t = 90; t <= 180; t += 30) {
		tick(&w, c, &st, S(t), 0);
		assert_int_equal(st.phase, PHASE_PROGRESSING);
		assert_int_equal(st.failed_checks, (t - 60) / 30);
		assert_int_equal(st.canary_weight, 10);
		assert_true(has_event(&w, "Halt checkout.shop advancement success rate 91.2% < 99%"));
	}
	tick(&w, c, &st, S(210), 0);
	assert_int_equal(st.phase, PHASE_FAILED);
	assert_int_equal(st.failed_checks, 5);		/* perch: kept */
	assert_int_equal(st.canary_weight, 0);
	assert_int_equal(w.routes.primary, 100);
	assert_false(w.scaled_up);
	assert_true(has_event(&w, "Rolling back checkout.shop failed checks threshold reached 5"));
	assert_true(has_event(&w, "Canary failed! Scaling down checkout.shop"));
	assert_string_equal(st.reason, "request-success-rate 91.2% < 99%");
	assert_string_equal(st.failed_revision, "v2");
	assert_int_equal(w.promotions, 0);
	/* The same revision does not start again. */
	tick(&w, c, &st, S(240), 0);
	assert_int_equal(st.phase, PHASE_FAILED);
	canary_cfg_free(c);
}

/* perch: no traffic holds (never advances, never counts) and fails "no
 * traffic" at the progress deadline; never promoted. */
static void
test_no_traffic(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;
	int t;

	(void)state;
	start(&w, c, &st, 0);
	w.vres = CHECK_NODATA;
	tick(&w, c, &st, S(30), 0);
	tick(&w, c, &st, S(60), 0);
	assert_int_equal(st.canary_weight, 10);
	for (t = 90; t < 690; t += 30) {
		tick(&w, c, &st, S(t), 0);
		assert_int_equal(st.phase, PHASE_PROGRESSING);
		assert_int_equal(st.canary_weight, 10);
		assert_int_equal(st.failed_checks, 0);
		assert_true(w.out.held);
		assert_int_equal(st.hold_since_ms, S(90));
	}
	tick(&w, c, &st, S(690), 0);
	assert_int_equal(st.phase, PHASE_FAILED);
	assert_string_equal(st.reason, "no traffic");
	assert_int_equal(w.promotions, 0);
	assert_int_equal(w.routes.canary, 0);
	canary_cfg_free(c);
}

struct ladder_row {
	int max_weight, step_weight;
	int steps[8];
	size_t n_steps;
	int ladder[8];
	size_t n_ladder;
};

/* Weight math (reference §2.7), not clamped. */
static void
test_ladders(void **state)
{
	static const struct ladder_row rows[] = {
		{ 50, 10, {0}, 0, { 10, 20, 30, 40, 50 }, 5 },
		{ 50, 20, {0}, 0, { 20, 40, 60 }, 3 },
		{ 0, 25, {0}, 0, { 25, 50, 75, 100 }, 4 },
		{ 0, 0, { 1, 2, 10, 80 }, 4, { 1, 2, 10, 80 }, 4 },
		{ 0, 0, { 5, 50, 120 }, 3, { 5, 50, 100 }, 3 },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st;
		struct world w;
		int ladder[16], t = 60;

		c->max_weight = rows[i].max_weight;
		c->step_weight = rows[i].step_weight;
		if (rows[i].n_steps > 0) {
			c->step_weights = xcalloc(rows[i].n_steps, sizeof *c->step_weights);
			memcpy(c->step_weights, rows[i].steps, rows[i].n_steps * sizeof(int));
			c->n_step_weights = rows[i].n_steps;
		}
		assert_int_equal(machine_ladder(c, ladder, 16), rows[i].n_ladder);
		for (j = 0; j < rows[i].n_ladder; j++)
			assert_int_equal(ladder[j], rows[i].ladder[j]);
		/* The state machine walks the same ladder, then promotes. */
		start(&w, c, &st, 0);
		tick(&w, c, &st, S(30), 0);
		for (j = 0; j < rows[i].n_ladder; j++, t += 30) {
			tick(&w, c, &st, S(t), 0);
			assert_int_equal(st.canary_weight, rows[i].ladder[j]);
			assert_int_equal(w.routes.canary, rows[i].ladder[j]);
			assert_int_equal(w.routes.primary, 100 - rows[i].ladder[j]);
		}
		tick(&w, c, &st, S(t), 0);
		assert_int_equal(st.phase, PHASE_PROMOTING);
		canary_cfg_free(c);
	}
}

/* ---- manual commands ---------------------------------------------------- */

/* Drives the checkout canary into phase p (with the gates in confirm). */
static void
reach(struct world *w, const struct canary_cfg *c, struct canary_status *st, enum phase p,
    unsigned confirm)
{
	int t;

	start(w, c, st, confirm);
	if (p == PHASE_FAILED)
		w->value[0] = 80;
	for (t = 30; t < 1000; t += 30) {
		if (st->phase == p && (p != PHASE_PROGRESSING || st->canary_weight == 20))
			break;
		tick(w, c, st, S(t), confirm);
	}
	assert_int_equal(st->phase, p);
	w->value[0] = 99.9;
}

struct cmd_row {
	enum phase phase;
	unsigned confirm;
	enum command_kind cmd;
	bool refused;
	enum phase after;
	const char *text;	/* in the command's event */
};

static void
test_commands(void **state)
{
	static const struct cmd_row rows[] = {
		{ PHASE_INITIALIZED, 0, CMD_PROMOTE_STEP, true, PHASE_INITIALIZED, "no step to promote (it is Initialized)" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_PROMOTE_STEP, true, PHASE_WAITING, "has not started: approve it first" },
		{ PHASE_PROGRESSING, 0, CMD_PROMOTE_STEP, false, PHASE_PROGRESSING, "Promote one step requested by alice@host" },
		{ PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION, CMD_PROMOTE_STEP, true, PHASE_WAITING_PROMOTION, "approve or promote fully" },
		{ PHASE_PROMOTING, 0, CMD_PROMOTE_STEP, true, PHASE_PROMOTING, "no step to promote (it is Promoting)" },
		{ PHASE_SUCCEEDED, 0, CMD_PROMOTE_STEP, true, PHASE_SUCCEEDED, "no step to promote" },
		{ PHASE_FAILED, 0, CMD_PROMOTE_STEP, true, PHASE_FAILED, "no step to promote" },
		{ PHASE_INITIALIZED, 0, CMD_PROMOTE_FULL, true, PHASE_INITIALIZED, "nothing to promote" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_PROMOTE_FULL, true, PHASE_WAITING, "has not started" },
		{ PHASE_PROGRESSING, 0, CMD_PROMOTE_FULL, false, PHASE_PROMOTING, "Full promotion of revision v2 requested by alice@host" },
		{ PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION, CMD_PROMOTE_FULL, false, PHASE_PROMOTING, "Full promotion" },
		{ PHASE_PROMOTING, 0, CMD_PROMOTE_FULL, true, PHASE_PROMOTING, "nothing to promote" },
		{ PHASE_SUCCEEDED, 0, CMD_PROMOTE_FULL, true, PHASE_SUCCEEDED, "nothing to promote" },
		{ PHASE_FAILED, 0, CMD_PROMOTE_FULL, true, PHASE_FAILED, "nothing to promote" },
		{ PHASE_INITIALIZED, 0, CMD_PAUSE, true, PHASE_INITIALIZED, "only a progressing canary can be paused" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_PAUSE, true, PHASE_WAITING, "can be paused" },
		{ PHASE_PROGRESSING, 0, CMD_PAUSE, false, PHASE_PROGRESSING, "Paused by alice@host at canary weight 20" },
		{ PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION, CMD_PAUSE, false, PHASE_WAITING_PROMOTION, "Paused by alice@host" },
		{ PHASE_PROMOTING, 0, CMD_PAUSE, true, PHASE_PROMOTING, "can be paused" },
		{ PHASE_SUCCEEDED, 0, CMD_PAUSE, true, PHASE_SUCCEEDED, "can be paused" },
		{ PHASE_FAILED, 0, CMD_PAUSE, true, PHASE_FAILED, "can be paused" },
		{ PHASE_PROGRESSING, 0, CMD_RESUME, true, PHASE_PROGRESSING, "not paused" },
		{ PHASE_SUCCEEDED, 0, CMD_RESUME, true, PHASE_SUCCEEDED, "can be resumed" },
		{ PHASE_INITIALIZED, 0, CMD_ROLLBACK, true, PHASE_INITIALIZED, "nothing to roll back" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_ROLLBACK, false, PHASE_FAILED, "Rollback of revision v2 requested by alice@host" },
		{ PHASE_PROGRESSING, 0, CMD_ROLLBACK, false, PHASE_FAILED, "Rollback of revision v2 requested by alice@host" },
		{ PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION, CMD_ROLLBACK, false, PHASE_FAILED, "Rollback" },
		{ PHASE_PROMOTING, 0, CMD_ROLLBACK, true, PHASE_PROMOTING, "already being promoted" },
		{ PHASE_SUCCEEDED, 0, CMD_ROLLBACK, true, PHASE_SUCCEEDED, "nothing to roll back" },
		{ PHASE_FAILED, 0, CMD_ROLLBACK, true, PHASE_FAILED, "nothing to roll back" },
		{ PHASE_INITIALIZED, 0, CMD_RETRY, true, PHASE_INITIALIZED, "only a failed canary" },
		{ PHASE_PROGRESSING, 0, CMD_RETRY, true, PHASE_PROGRESSING, "only a failed canary" },
		{ PHASE_SUCCEEDED, 0, CMD_RETRY, true, PHASE_SUCCEEDED, "only a failed canary" },
		{ PHASE_FAILED, 0, CMD_RETRY, false, PHASE_PROGRESSING, "Retry of revision v2 requested by alice@host" },
		{ PHASE_INITIALIZED, 0, CMD_SKIP, true, PHASE_INITIALIZED, "no analysis to skip" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_SKIP, false, PHASE_WAITING, "Skip analysis of revision v2 requested by alice@host" },
		{ PHASE_PROGRESSING, 0, CMD_SKIP, false, PHASE_PROGRESSING, "Skip analysis" },
		{ PHASE_PROMOTING, 0, CMD_SKIP, true, PHASE_PROMOTING, "no analysis to skip" },
		{ PHASE_FAILED, 0, CMD_SKIP, true, PHASE_FAILED, "no analysis to skip" },
		{ PHASE_INITIALIZED, 0, CMD_APPROVE, true, PHASE_INITIALIZED, "nothing waits for approval" },
		{ PHASE_WAITING, CONFIRM_ROLLOUT, CMD_APPROVE, false, PHASE_WAITING, "Revision v2 approved for rollout by alice@host" },
		{ PHASE_PROGRESSING, 0, CMD_APPROVE, true, PHASE_PROGRESSING, "nothing waits for approval" },
		{ PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION, CMD_APPROVE, false, PHASE_WAITING_PROMOTION, "Revision v2 approved for promotion by alice@host" },
		{ PHASE_PROMOTING, 0, CMD_APPROVE, true, PHASE_PROMOTING, "nothing waits" },
		{ PHASE_SUCCEEDED, 0, CMD_APPROVE, true, PHASE_SUCCEEDED, "nothing waits" },
		{ PHASE_FAILED, 0, CMD_APPROVE, true, PHASE_FAILED, "nothing waits" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct cmd_row *row = &rows[i];
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st, before;
		struct world w;

		reach(&w, c, &st, row->phase, row->confirm);
		before = st;
		command(&w, c, &st, S(1000), row->cmd, row->confirm);
		if (!has_event(&w, row->text) || w.out.refused != row->refused || st.phase != row->after)
			fail_msg("row %zu (%s in %s): refused %d phase %s events %s", i,
			    command_name(row->cmd), phase_name(row->phase), w.out.refused,
			    phase_name(st.phase), w.out.n_ev ? w.out.ev[0].message : "-");
		assert_string_equal(w.out.ev[0].actor, "alice@host");
		if (row->refused) {
			/* Refused whole: nothing changed, nothing to do. */
			assert_memory_equal(&st, &before, sizeof st);
			assert_int_equal(w.out.n_acts, 0);
			assert_int_equal(w.out.n_ev, 1);
			assert_non_null(strstr(w.out.answer, "refused"));
		}
		canary_cfg_free(c);
	}
}

/* Command effects through later ticks. */
static void
test_command_effects(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;

	(void)state;
	/* pause holds the weight while analysis runs, and still rolls back. */
	reach(&w, c, &st, PHASE_PROGRESSING, 0);
	command(&w, c, &st, S(100), CMD_PAUSE, 0);
	tick(&w, c, &st, S(120), 0);
	tick(&w, c, &st, S(150), 0);
	assert_int_equal(st.canary_weight, 20);
	assert_true(w.out.analysed);
	w.value[0] = 50;
	for (int t = 180; st.phase == PHASE_PROGRESSING; t += 30)
		tick(&w, c, &st, S(t), 0);
	assert_int_equal(st.phase, PHASE_FAILED);
	assert_int_equal(st.failed_checks, 5);
	/* retry restarts the failed revision without a new one. */
	command(&w, c, &st, S(400), CMD_RETRY, 0);
	assert_int_equal(st.phase, PHASE_PROGRESSING);
	assert_string_equal(st.last_applied, "v2");
	assert_int_equal(st.failed_checks, 0);
	assert_true(w.scaled_up);
	/* promote step moves one step now, and at max weight promotes. */
	command(&w, c, &st, S(401), CMD_PROMOTE_STEP, 0);
	assert_int_equal(st.canary_weight, 10);
	assert_int_equal(w.routes.canary, 10);
	assert_int_equal(st.next_tick_ms, S(431));
	st.canary_weight = 50;
	command(&w, c, &st, S(402), CMD_PROMOTE_STEP, 0);
	assert_int_equal(st.phase, PHASE_PROMOTING);
	assert_int_equal(w.promotions, 1);
	canary_cfg_free(c);

	/* paused in WaitingPromotion: an approval does not promote until resumed. */
	c = fixture_canary("checkout", 2);
	reach(&w, c, &st, PHASE_WAITING_PROMOTION, CONFIRM_PROMOTION);
	command(&w, c, &st, S(300), CMD_PAUSE, CONFIRM_PROMOTION);
	command(&w, c, &st, S(301), CMD_APPROVE, CONFIRM_PROMOTION);
	assert_false(w.out.refused);
	tick(&w, c, &st, S(301), CONFIRM_PROMOTION);
	assert_int_equal(st.phase, PHASE_WAITING_PROMOTION);
	assert_true(w.out.analysed);
	command(&w, c, &st, S(310), CMD_RESUME, CONFIRM_PROMOTION);
	tick(&w, c, &st, S(331), CONFIRM_PROMOTION);
	assert_int_equal(st.phase, PHASE_PROMOTING);
	canary_cfg_free(c);

	/* skip analysis in Waiting opens the rollout gate and promotes. */
	c = fixture_canary("checkout", 2);
	reach(&w, c, &st, PHASE_WAITING, CONFIRM_ROLLOUT);
	command(&w, c, &st, S(40), CMD_SKIP, CONFIRM_ROLLOUT);
	tick(&w, c, &st, S(40), CONFIRM_ROLLOUT);
	assert_int_equal(st.phase, PHASE_PROGRESSING);
	tick(&w, c, &st, S(70), CONFIRM_ROLLOUT);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_int_equal(w.promotions, 1);
	canary_cfg_free(c);

	/* a gate held by a webhook is not the engineer's to approve. */
	c = fixture_canary("checkout", 2);
	fixture_add_hook(c, "gate", HOOK_CONFIRM_ROLLOUT);
	world_init(&w);
	w.hook_ok[0] = false;
	machine_status_init(&st, 0);
	tick(&w, c, &st, 0, 0);
	strcpy(w.rev, "v2");
	tick(&w, c, &st, S(30), 0);
	assert_int_equal(st.phase, PHASE_WAITING);
	command(&w, c, &st, S(31), CMD_APPROVE, 0);
	assert_true(w.out.refused);
	assert_true(has_event(&w, "no manual gate is waiting (a webhook holds it)"));
	canary_cfg_free(c);

	/* skip analysis: promoted at the next (immediate) tick. */
	c = fixture_canary("checkout", 2);
	reach(&w, c, &st, PHASE_PROGRESSING, 0);
	command(&w, c, &st, S(100), CMD_SKIP, 0);
	assert_true(w.out.tick_now);
	assert_int_equal(st.next_tick_ms, S(100));
	tick(&w, c, &st, S(100), 0);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_true(has_event(&w, "Promotion completed! Canary analysis was skipped for checkout.shop"));
	assert_int_equal(w.promotions, 1);
	assert_int_equal(count_in_run(&w, "Copying checkout.shop template spec"), 1);
	canary_cfg_free(c);
}


/* Preconditions (COMMAND_LIST, engine/command.h) beyond the phase: a step
 * never moves weight to pods that are not ready, never passes a gate, and a
 * canary controlled elsewhere is never changed.  Each row: the world, the
 * command, refused or not, and words of the answer. */
struct pre_row {
	const char *what;
	unsigned confirm;
	int weight;			/* canary weight set before the command */
	bool canary_ready, primary_ready;
	void (*facts)(struct cmd_facts *f);	/* what the runner knows, or NULL */
	enum command_kind cmd;
	bool refused;
	const char *text;		/* in the answer */
};

static void f_traffic(struct cmd_facts *f) { f->traffic_gate = true; }
static void f_held(struct cmd_facts *f) { f->control = false; strcpy(f->holder, "bob@ci pid 7"); }
static void f_watch(struct cmd_facts *f) { f->control = false; f->watch = true; }

static void
test_command_preconditions(void **state)
{
	static const struct pre_row rows[] = {
		{ "not ready", 0, 20, false, true, NULL, CMD_PROMOTE_STEP, true,
		    "promote-step refused: canary deployment checkout.shop not ready: waiting for "
		    "rollout to finish: 0 of 1" },
		{ "not ready", 0, 20, false, true, NULL, CMD_PROMOTE_FULL, true,
		    "canary deployment checkout.shop not ready" },
		{ "not ready", 0, 20, false, true, NULL, CMD_SKIP, false, "skipping analysis" },
		{ "not ready", 0, 20, false, true, NULL, CMD_PAUSE, false, "paused" },
		{ "not ready", 0, 20, false, true, NULL, CMD_ROLLBACK, false, "rolled back" },
		{ "primary not ready", 0, 20, true, false, NULL, CMD_PROMOTE_STEP, true,
		    "checkout-primary.shop not ready" },
		{ "ready", 0, 20, true, true, NULL, CMD_PROMOTE_STEP, false, "canary weight 30" },
		{ "at max, gate", CONFIRM_PROMOTION, 50, true, true, NULL, CMD_PROMOTE_STEP, true,
		    "the next step is the promotion, which waits for approval" },
		{ "at max, no gate", 0, 50, true, true, NULL, CMD_PROMOTE_STEP, false, "promoting" },
		{ "below max, gate", CONFIRM_PROMOTION, 40, true, true, NULL, CMD_PROMOTE_STEP, false,
		    "canary weight 50" },
		{ "webhook holds the weight", 0, 20, true, true, f_traffic, CMD_PROMOTE_STEP, true,
		    "confirm-traffic-increase webhook holds the weight" },
		{ "webhook holds the weight", 0, 20, true, true, f_traffic, CMD_PROMOTE_FULL, false,
		    "promoting" },
		{ "held elsewhere", 0, 20, true, true, f_held, CMD_PAUSE, true,
		    "read-only: controlled by bob@ci pid 7" },
		{ "held elsewhere", 0, 20, true, true, f_held, CMD_ROLLBACK, true, "controlled by" },
		{ "watch", 0, 20, true, true, f_watch, CMD_PROMOTE_STEP, true,
		    "read-only: perch watch cannot change rollouts" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct pre_row *row = &rows[i];
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st, before;
		struct cmd_facts f;
		struct world w;

		reach(&w, c, &st, PHASE_PROGRESSING, row->confirm);
		st.canary_weight = row->weight;
		w.canary_ready = row->canary_ready;
		w.primary_ready = row->primary_ready;
		before = st;
		if (row->facts != NULL) {
			struct readiness ok = { .ready = true };

			machine_facts(c, &st, row->confirm, &ok, &ok, NULL, &f);
			row->facts(&f);
		}
		command_seen(&w, c, &st, S(1000), row->cmd, row->confirm, row->facts ? &f : NULL);
		if (w.out.refused != row->refused || strstr(w.out.answer, row->text) == NULL)
			fail_msg("row %zu (%s, %s): refused %d answer '%s'", i, row->what,
			    command_name(row->cmd), w.out.refused, w.out.answer);
		if (row->refused) {
			assert_memory_equal(&st, &before, sizeof st);
			assert_int_equal(w.out.n_acts, 0);
		}
		canary_cfg_free(c);
	}
}

/* The last failure and the words of a command that bypasses the analysis
 * read a value as the screens do (util/fmt.h), never Go's "666.029381ms". */
static void
test_last_failure_format(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;

	(void)state;
	reach(&w, c, &st, PHASE_PROGRESSING, 0);
	w.value[1] = 666.029381;
	tick(&w, c, &st, S(200), 0);
	assert_string_equal(st.last_failure, "request-duration 666ms > 500ms");
	assert_true(has_event(&w, "Halt checkout.shop advancement request duration 666ms > 500ms"));
	command(&w, c, &st, S(210), CMD_PROMOTE_FULL, 0);
	assert_true(has_event(&w, "(1 of 5 checks failed, last: request-duration 666ms > 500ms)"));
	canary_cfg_free(c);
}

/* A skipped or forced promotion is recorded with who and how the canary
 * stood, stays in the status after the promotion (its words in an event),
 * and is forgotten when a run starts again or nothing was promoted. */
static void
test_override(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	char text[300];
	struct world w;

	(void)state;
	reach(&w, c, &st, PHASE_PROGRESSING, 0);
	w.value[1] = 681;	/* p99 over its 500 ms bound */
	tick(&w, c, &st, S(200), 0);
	tick(&w, c, &st, S(230), 0);
	tick(&w, c, &st, S(260), 0);
	assert_int_equal(st.failed_checks, 3);
	assert_string_equal(st.last_failure, "request-duration 681ms > 500ms");
	assert_int_equal(st.last_failure_ms, S(260));
	command(&w, c, &st, S(270), CMD_SKIP, 0);
	assert_true(has_event(&w, "Skip analysis of revision v2 requested by alice@host (3 of 5 "
	    "checks failed, last: request-duration 681ms > 500ms)"));
	assert_int_equal(st.override, OVR_SKIPPED);
	assert_string_equal(override_text(&st, text, sizeof text), "analysis skipped by "
	    "alice@host, 3 of 5 checks failed: promoted once its pods are ready");
	tick(&w, c, &st, S(270), 0);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_true(has_event(&w, "Promoted with analysis skipped by alice@host, 3 of 5 checks failed"));
	assert_string_equal(override_text(&st, text, sizeof text), "promoted with analysis skipped "
	    "by alice@host, 3 of 5 checks failed");
	/* still there at the next idle tick; gone when a new revision starts */
	tick(&w, c, &st, S(300), 0);
	assert_int_equal(st.override, OVR_SKIPPED);
	strcpy(w.rev, "v3");
	w.value[1] = 200;
	tick(&w, c, &st, S(330), 0);
	assert_int_equal(st.phase, PHASE_PROGRESSING);
	assert_int_equal(st.override, OVR_NONE);
	assert_string_equal(st.last_failure, "");

	/* forced: recorded at the command, its words when it is done */
	command(&w, c, &st, S(340), CMD_PROMOTE_FULL, 0);
	assert_true(has_event(&w, "skipping the remaining steps and analysis (no check had failed)"));
	assert_int_equal(st.override, OVR_FORCED);
	assert_string_equal(st.override_by, "alice@host");
	for (int t = 370; st.phase != PHASE_SUCCEEDED && t < 600; t += 30)
		tick(&w, c, &st, S(t), 0);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_true(has_event(&w, "Promotion forced by alice@host, no check had failed"));

	/* a skip followed by a rollback promoted nothing: no record */
	strcpy(w.rev, "v4");
	tick(&w, c, &st, S(700), 0);
	assert_int_equal(st.phase, PHASE_PROGRESSING);
	w.canary_ready = false;
	command(&w, c, &st, S(701), CMD_SKIP, 0);
	assert_int_equal(st.override, OVR_SKIPPED);
	command(&w, c, &st, S(702), CMD_ROLLBACK, 0);
	assert_int_equal(st.phase, PHASE_FAILED);
	assert_int_equal(st.override, OVR_NONE);
	canary_cfg_free(c);
}


/* ---- webhooks (reference §5.1) ------------------------------------------ */

struct hook_row {
	enum hook_type type;
	int fail_until;		/* the hook answers "no" before this second */
	int t;			/* tick at which to look */
	enum phase phase;
	int weight;
	int failed_checks;
	const char *event;
};

static void
test_hooks(void **state)
{
	static const struct hook_row rows[] = {
		{ HOOK_PRE_ROLLOUT, 1000, 60, PHASE_PROGRESSING, 0, 1,
		  "Halt checkout.shop advancement pre-rollout check h failed 403 no" },
		{ HOOK_PRE_ROLLOUT, 0, 60, PHASE_PROGRESSING, 10, 0, "Pre-rollout check h passed" },
		{ HOOK_CONFIRM_ROLLOUT, 1000, 30, PHASE_WAITING, 0, 0,
		  "Halt checkout.shop advancement waiting for approval h" },
		{ HOOK_CONFIRM_ROLLOUT, 60, 60, PHASE_PROGRESSING, 0, 0, "Confirm-rollout check h passed" },
		{ HOOK_ROLLOUT, 1000, 90, PHASE_PROGRESSING, 10, 1,
		  "Halt checkout.shop advancement external check h failed 403 no" },
		{ HOOK_ROLLBACK, 1000, 90, PHASE_PROGRESSING, 20, 0, "Rollback hook h not signaling a rollback" },
		{ HOOK_ROLLBACK, 0, 60, PHASE_FAILED, 0, 0, "Rolling back checkout.shop manual webhook invoked" },
		{ HOOK_CONFIRM_TRAFFIC_INCREASE, 1000, 90, PHASE_PROGRESSING, 0, 0,
		  "Halt checkout.shop advancement waiting for traffic increase approval h" },
		{ HOOK_CONFIRM_TRAFFIC_INCREASE, 0, 90, PHASE_PROGRESSING, 20, 0,
		  "Confirm-traffic-increase check h passed" },
		{ HOOK_CONFIRM_PROMOTION, 1000, 210, PHASE_WAITING_PROMOTION, 50, 0,
		  "Halt checkout.shop advancement waiting for promotion approval h" },
		{ HOOK_CONFIRM_PROMOTION, 240, 240, PHASE_PROMOTING, 50, 0, "Confirm-promotion check h passed" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st;
		struct world w;
		int t;

		fixture_add_hook(c, "h", rows[i].type);
		start(&w, c, &st, 0);
		for (t = 30; t <= rows[i].t; t += 30) {
			w.hook_ok[0] = t >= rows[i].fail_until;
			tick(&w, c, &st, S(t), 0);
		}
		if (st.phase != rows[i].phase || st.canary_weight != rows[i].weight ||
		    st.failed_checks != rows[i].failed_checks || !has_event(&w, rows[i].event))
			fail_msg("row %zu (%s): %s weight %d failed %d, events: %s", i,
			    hook_type_name(rows[i].type), phase_name(st.phase), st.canary_weight,
			    st.failed_checks, w.out.n_ev ? w.out.ev[0].message : "-");
		canary_cfg_free(c);
	}
}


/* ---- blue/green, A/B, mirroring (reference §2.7) ------------------------ */

struct walk_row {
	int t;
	enum phase phase;
	int weight;
	int iterations;
	bool mirrored;
	const char *event;
};

static void
walk(const struct canary_cfg *c, const struct walk_row *rows, size_t n)
{
	struct canary_status st;
	struct world w;
	size_t i;

	start(&w, c, &st, 0);
	for (i = 0; i < n; i++) {
		tick(&w, c, &st, S(rows[i].t), 0);
		if (st.phase != rows[i].phase || st.canary_weight != rows[i].weight ||
		    st.iterations != rows[i].iterations || w.routes.mirrored != rows[i].mirrored ||
		    w.routes.canary != rows[i].weight || !has_event(&w, rows[i].event))
			fail_msg("t=%d: %s weight %d iterations %d mirrored %d, first event: %s",
			    rows[i].t, phase_name(st.phase), st.canary_weight, st.iterations,
			    w.routes.mirrored, w.out.n_ev ? w.out.ev[0].message : "-");
	}
	assert_int_equal(w.promotions, 1);
}

static void
test_bluegreen(void **state)
{
	static const struct walk_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,   0, false, "New revision detected! Scaling up checkout.shop" },
		{ 60,  PHASE_PROGRESSING, 0,   1, false, "Advance checkout.shop canary iteration 1/3" },
		{ 90,  PHASE_PROGRESSING, 0,   2, false, "Advance checkout.shop canary iteration 2/3" },
		{ 120, PHASE_PROGRESSING, 0,   3, false, "Advance checkout.shop canary iteration 3/3" },
		{ 150, PHASE_PROGRESSING, 100, 4, false, "Routing all traffic to canary" },
		{ 180, PHASE_PROMOTING,   100, 4, false, "Copying checkout.shop template spec" },
		{ 210, PHASE_FINALISING,  0,   4, false, "Routing all traffic to primary" },
		{ 240, PHASE_SUCCEEDED,   0,   0, false, "Promotion completed! Scaling down checkout.shop" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->strategy = STRATEGY_BLUEGREEN;
	c->iterations = 3;
	walk(c, rows, sizeof rows / sizeof rows[0]);
	canary_cfg_free(c);
}

static void
test_bluegreen_mirror(void **state)
{
	static const struct walk_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,   0, false, "New revision detected!" },
		{ 60,  PHASE_PROGRESSING, 0,   1, true,  "Advance checkout.shop canary iteration 1/2" },
		{ 90,  PHASE_PROGRESSING, 0,   2, true,  "Advance checkout.shop canary iteration 2/2" },
		{ 120, PHASE_PROGRESSING, 100, 3, false, "Stop traffic mirroring and route all traffic to canary" },
		{ 150, PHASE_PROMOTING,   100, 3, false, "Copying" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->strategy = STRATEGY_BLUEGREEN;
	c->iterations = 2;
	c->mirror = true;
	walk(c, rows, sizeof rows / sizeof rows[0]);
	canary_cfg_free(c);
}

static void
test_ab(void **state)
{
	static const struct walk_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,   0, false, "New revision detected!" },
		{ 60,  PHASE_PROGRESSING, 100, 1, false, "Advance checkout.shop canary iteration 1/2" },
		{ 90,  PHASE_PROGRESSING, 100, 2, false, "Advance checkout.shop canary iteration 2/2" },
		{ 120, PHASE_PROMOTING,   100, 2, false, "Copying" },
		{ 150, PHASE_FINALISING,  0,   2, false, "Routing all traffic to primary" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->strategy = STRATEGY_ABTESTING;
	c->iterations = 2;
	walk(c, rows, sizeof rows / sizeof rows[0]);
	canary_cfg_free(c);
}

/* Canary mirroring: the first step mirrors at weight 0, then weights. */
static void
test_canary_mirror(void **state)
{
	static const struct walk_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,  0, false, "New revision detected!" },
		{ 60,  PHASE_PROGRESSING, 0,  0, true,  "Advance checkout.shop canary weight 0" },
		{ 90,  PHASE_PROGRESSING, 25, 0, false, "Advance checkout.shop canary weight 25" },
		{ 120, PHASE_PROGRESSING, 50, 0, false, "Advance checkout.shop canary weight 50" },
		{ 150, PHASE_PROMOTING,   50, 0, false, "Copying" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->mirror = true;
	c->step_weight = 25;
	walk(c, rows, sizeof rows / sizeof rows[0]);
	canary_cfg_free(c);
}

/* The kubernetes provider: blue/green with 10 iterations, no traffic
 * switch (reference §1.1, §2.7, §2.9). */
static void
test_kubernetes_provider(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;
	char text[96];
	int i;

	(void)state;
	free(c->provider);
	c->provider = xstrdup("kubernetes");
	assert_int_equal(machine_strategy(c), STRATEGY_BLUEGREEN);
	assert_int_equal(machine_iterations(c), 10);
	assert_int_equal(machine_ladder(c, (int[8]){0}, 8), 0);
	start(&w, c, &st, 0);
	tick(&w, c, &st, S(30), 0);
	for (i = 1; i <= 10; i++) {
		tick(&w, c, &st, S(30 + 30 * i), 0);
		snprintf(text, sizeof text, "Advance checkout.shop canary iteration %d/10", i);
		assert_true(has_event(&w, text));
		assert_true(has_event(&w, "Progressive traffic is not supported when using the kubernetes provider"));
		assert_true(has_event(&w, "Setting canaryAnalysis.iterations: 10"));
	}
	tick(&w, c, &st, S(360), 0);
	assert_int_equal(st.iterations, 11);
	assert_false(has_event(&w, "Routing all traffic to canary"));
	tick(&w, c, &st, S(390), 0);
	assert_int_equal(st.phase, PHASE_PROMOTING);
	tick(&w, c, &st, S(420), 0);
	assert_int_equal(st.phase, PHASE_FINALISING);
	tick(&w, c, &st, S(450), 0);
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	assert_int_equal(w.route_changes, 0);	/* traffic never moved */
	assert_int_equal(w.promotions, 1);
	canary_cfg_free(c);
}

/* Progressive promotion with stepWeightPromotion (reference §2.9). */
static void
test_step_weight_promotion(void **state)
{
	static const struct walk_row rows[] = {
		{ 30,  PHASE_PROGRESSING, 0,  0, false, "New revision detected!" },
		{ 60,  PHASE_PROGRESSING, 25, 0, false, "Advance checkout.shop canary weight 25" },
		{ 90,  PHASE_PROGRESSING, 50, 0, false, "Advance checkout.shop canary weight 50" },
		{ 120, PHASE_PROMOTING,   50, 0, false, "Copying" },
		{ 150, PHASE_PROMOTING,   30, 0, false, "Advance checkout.shop primary weight 70" },
		{ 180, PHASE_PROMOTING,   10, 0, false, "Advance checkout.shop primary weight 90" },
		{ 210, PHASE_FINALISING,  0,  0, false, "Advance checkout.shop primary weight 100" },
		{ 240, PHASE_SUCCEEDED,   0,  0, false, "Promotion completed!" },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->step_weight = 25;
	c->step_weight_promotion = 20;
	walk(c, rows, sizeof rows / sizeof rows[0]);
	canary_cfg_free(c);
}


/* ---- transitions and perch's differences --------------------------------- */

static void p_v3(struct canary_cfg *c, struct world *w) { (void)c; strcpy(w->rev, "v3"); }
static void p_skip(struct canary_cfg *c, struct world *w) { (void)w; c->skip_analysis = true; }
static void p_suspend(struct canary_cfg *c, struct world *w) { (void)w; c->suspend = true; }
static void p_primary_dead(struct canary_cfg *c, struct world *w)
{
	(void)c;
	w->primary_ready = false;
	w->retriable = false;
}
static void p_primary_slow(struct canary_cfg *c, struct world *w) { (void)c; w->primary_ready = false; }
static void p_canary_slow(struct canary_cfg *c, struct world *w)
{
	c->progress_deadline_s = 60;
	w->canary_ready = false;
}
static void p_nodata_fail(struct canary_cfg *c, struct world *w) { c->nodata = NODATA_FAIL; w->vres = CHECK_NODATA; }
static void p_nodata_pass(struct canary_cfg *c, struct world *w) { c->nodata = NODATA_PASS; w->vres = CHECK_NODATA; }
static void p_low_volume(struct canary_cfg *c, struct world *w) { c->min_requests = 100; w->volume = 5; }
static void p_query_error(struct canary_cfg *c, struct world *w) { (void)c; w->vres = CHECK_ERROR; }
static void p_nan(struct canary_cfg *c, struct world *w) { (void)c; w->value[0] = 0.0 / 0.0; }
static void p_slow_backend(struct canary_cfg *c, struct world *w) { (void)c; w->unavailable = true; }
static void p_slow_backend_fail(struct canary_cfg *c, struct world *w)
{
	c->nodata = NODATA_FAIL;
	w->unavailable = true;
}
static void p_slow_and_bad(struct canary_cfg *c, struct world *w)
{
	(void)c;
	w->unavailable = true;
	w->value[1] = 1515;
}
static void p_slow_for_long(struct canary_cfg *c, struct world *w)
{
	c->progress_deadline_s = 60;
	w->unavailable = true;
}
static void p_slow_p99(struct canary_cfg *c, struct world *w) { (void)c; w->value[1] = 1515; }
static void p_bad(struct canary_cfg *c, struct world *w) { (void)c; w->value[0] = 50; }
static void p_threshold1(struct canary_cfg *c, struct world *w) { c->threshold = 1; w->value[0] = 50; }

struct trans_row {
	const char *name;
	void (*prep)(struct canary_cfg *, struct world *);	/* before start */
	int change_at;						/* then, from this second */
	void (*change)(struct canary_cfg *, struct world *);
	unsigned confirm;
	int until;						/* last tick (seconds) */
	enum phase phase;
	int weight, failed_checks;
	const char *event;					/* in the last tick */
	const char *reason;					/* substring of status.reason */
};

static const struct trans_row trans_rows[] = {
	{ "new revision restarts the analysis", NULL, 120, p_v3, 0, 120, PHASE_PROGRESSING, 0, 0,
	  "New revision detected! Restarting analysis for checkout.shop", "" },
	{ "a failed canary starts a newer revision", p_bad, 240, p_v3, 0, 240, PHASE_PROGRESSING, 0, 0,
	  "New revision detected! Scaling up checkout.shop", "" },
	{ "skipAnalysis promotes without analysis", p_skip, 0, NULL, 0, 60, PHASE_SUCCEEDED, 0, 0,
	  "Promotion completed! Canary analysis was skipped for checkout.shop", "" },
	{ "suspend does nothing", NULL, 60, p_suspend, 0, 90, PHASE_PROGRESSING, 0, 0,
	  "skipping canary run as object is suspended", "" },
	{ "primary not ready at initialization waits", p_primary_slow, 0, NULL, 0, 0, PHASE_INITIALIZING, 0, 0,
	  "checkout-primary.shop not ready: waiting for rollout to finish", "not ready" },
	{ "promotion failure keeps traffic on the canary", NULL, 240, p_primary_dead, 0, 240, PHASE_FAILED, 100, 0,
	  "Promotion of checkout.shop failed, primary not ready: waiting for rollout", "promotion failed" },
	{ "primary slow past the deadline during promotion", NULL, 240, p_primary_slow, 0, 840, PHASE_FAILED, 100, 0,
	  "Promotion of checkout.shop failed", "promotion failed" },
	{ "primary slow within the deadline waits", NULL, 240, p_primary_slow, 0, 810, PHASE_PROMOTING, 50, 0,
	  "checkout-primary.shop not ready", "not ready" },
	{ "canary not ready past the progress deadline rolls back", p_canary_slow, 0, NULL, 0, 120, PHASE_FAILED, 0, 0,
	  "Rolling back checkout.shop progress deadline exceeded canary deployment checkout.shop not ready",
	  "canary deployment checkout.shop not ready" },
	{ "canary not ready within the deadline waits", p_canary_slow, 0, NULL, 0, 90, PHASE_PROGRESSING, 0, 0,
	  "canary deployment checkout.shop not ready: waiting for rollout to finish", "not ready" },
	{ "no data counts under the fail policy", p_nodata_fail, 0, NULL, 0, 90, PHASE_PROGRESSING, 10, 1,
	  "Halt advancement no values found for linkerd metric request-success-rate probably checkout.shop "
	  "is not receiving traffic: no values found", "request-success-rate no data" },
	{ "no data passes under the pass policy", p_nodata_pass, 0, NULL, 0, 90, PHASE_PROGRESSING, 20, 0,
	  "Advance checkout.shop canary weight 20", "" },
	{ "low request volume is inconclusive", p_low_volume, 0, NULL, 0, 90, PHASE_PROGRESSING, 10, 0,
	  "request-success-rate inconclusive: request volume 5 below minimum 100", "held" },
	{ "a NaN value is no data (held)", p_nan, 0, NULL, 0, 90, PHASE_PROGRESSING, 10, 0,
	  "request-success-rate inconclusive: no data", "held" },
	{ "a query error is a failed check", p_query_error, 0, NULL, 0, 90, PHASE_PROGRESSING, 10, 1,
	  "Prometheus query failed for request-success-rate", "query failed" },
	{ "a backend that does not answer holds, not counted", p_slow_backend, 0, NULL, 0, 120,
	  PHASE_PROGRESSING, 10, 0, "Halt checkout.shop advancement request-success-rate not evaluated: "
	  "Prometheus query timed out after 5000 ms (metrics backend degraded; not counted as a failed "
	  "check)", "held: request-success-rate not evaluated" },
	{ "... whatever the no-data policy", p_slow_backend_fail, 0, NULL, 0, 120, PHASE_PROGRESSING, 10, 0,
	  "not evaluated", "held" },
	{ "... while a metric that answers still fails", p_slow_and_bad, 0, NULL, 0, 90,
	  PHASE_PROGRESSING, 10, 1, "request duration 1.51s > 500ms", "request-duration 1.51s > 500ms" },
	{ "... and past the progress deadline rolls back", p_slow_for_long, 0, NULL, 0, 150,
	  PHASE_FAILED, 0, 0, "Rolling back checkout.shop metrics unavailable: request-success-rate",
	  "metrics unavailable" },
	{ "request duration above the bound", p_slow_p99, 0, NULL, 0, 90, PHASE_PROGRESSING, 10, 1,
	  "Halt checkout.shop advancement request duration 1.51s > 500ms", "request-duration 1.51s > 500ms" },
	{ "threshold 1: the first failure rolls back", p_threshold1, 0, NULL, 0, 90, PHASE_FAILED, 0, 1,
	  "Rolling back checkout.shop failed checks threshold reached 1", "request-success-rate 50.0% < 99%" },
	{ "confirm rollout gate waits", NULL, 0, NULL, CONFIRM_ROLLOUT, 30, PHASE_WAITING, 0, 0,
	  "Halt checkout.shop advancement waiting for rollout approval of revision v2", "waiting" },
	{ "confirm promotion gate waits at max weight", NULL, 0, NULL, CONFIRM_PROMOTION, 210,
	  PHASE_WAITING_PROMOTION, 50, 0, "waiting for promotion approval of revision v2", "waiting" },
	{ "analysis goes on in WaitingPromotion and rolls back", NULL, 240, p_bad, CONFIRM_PROMOTION, 360,
	  PHASE_FAILED, 0, 5, "Rolling back checkout.shop failed checks threshold reached 5", "request-success-rate" },
};

static void
test_transitions(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof trans_rows / sizeof trans_rows[0]; i++) {
		const struct trans_row *row = &trans_rows[i];
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st;
		struct world w;
		int t;

		world_init(&w);
		if (row->prep)
			row->prep(c, &w);
		machine_status_init(&st, 0);
		tick(&w, c, &st, 0, row->confirm);
		if (row->until > 0)
			strcpy(w.rev, "v2");
		for (t = 30; t <= row->until; t += 30) {
			if (row->change && t == row->change_at)
				row->change(c, &w);
			tick(&w, c, &st, S(t), row->confirm);
		}
		if (st.phase != row->phase || st.canary_weight != row->weight ||
		    st.failed_checks != row->failed_checks || !has_event(&w, row->event) ||
		    strstr(st.reason, row->reason) == NULL)
			fail_msg("%s: %s weight %d failed %d reason \"%s\", first event: %s", row->name,
			    phase_name(st.phase), st.canary_weight, st.failed_checks, st.reason,
			    w.out.n_ev ? w.out.ev[0].message : "-");
		canary_cfg_free(c);
	}
}

/* perch fixes Flagger #1819: in WaitingPromotion the status keeps the real
 * weight and iteration (Flagger writes weight 0 and iterations - 1 while the
 * routes stay weighted), so what a restart re-applies is what is routed. */
struct waitprom_row {
	enum strategy strategy;
	int iterations;
	bool mirror;
	int weight, iteration;	/* expected while waiting */
};

static void
test_waiting_promotion_status(void **state)
{
	static const struct waitprom_row rows[] = {
		{ STRATEGY_CANARY, 0, false, 50, 0 },
		{ STRATEGY_BLUEGREEN, 3, false, 0, 3 },
		{ STRATEGY_BLUEGREEN, 2, true, 0, 2 },
		{ STRATEGY_ABTESTING, 2, false, 100, 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st;
		struct routes want;
		struct world w;
		int t, waiting = 0;

		c->strategy = rows[i].strategy;
		c->iterations = rows[i].iterations;
		c->mirror = rows[i].mirror;
		start(&w, c, &st, CONFIRM_PROMOTION);
		for (t = 30; t <= 600 && waiting < 3; t += 30) {
			tick(&w, c, &st, S(t), CONFIRM_PROMOTION);
			if (st.phase != PHASE_WAITING_PROMOTION)
				continue;
			waiting++;
			want = machine_routes(&st);
			if (st.canary_weight != rows[i].weight || st.iterations != rows[i].iteration ||
			    want.primary != w.routes.primary || want.canary != w.routes.canary ||
			    want.mirrored != w.routes.mirrored || !w.out.analysed)
				fail_msg("row %zu t=%d: analysed %d, weight %d iteration %d, routes %d/%d%s, "
				    "status implies %d/%d%s", i, t, w.out.analysed, st.canary_weight, st.iterations,
				    w.routes.primary, w.routes.canary, w.routes.mirrored ? " mirrored" : "",
				    want.primary, want.canary, want.mirrored ? " mirrored" : "");
		}
		assert_int_equal(waiting, 3);
		canary_cfg_free(c);
	}
}

/* Retry restarts the failed revision while the target still runs it; a
 * target that moved on (reverted, or a newer revision) is refused. */
static void
test_retry_target(void **state)
{
	static const struct { const char *target; bool refused; const char *text; } rows[] = {
		{ "v2", false, "Retry of revision v2 requested by alice@host" },
		{ "v1", true, "the target runs revision v1 now, not the failed v2" },
		{ "", false, "Retry of revision v2" },		/* unknown: as asked */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st, before;
		struct world w;
		struct obs o;
		struct tick_in in;

		reach(&w, c, &st, PHASE_FAILED, 0);
		before = st;
		obs_init(&o);
		obs_reset(&o, c->n_hooks, c->n_metrics);
		o.have = 1u << NEED_REVISION;
		strcpy(o.rev.id, rows[i].target);
		in = (struct tick_in){ .cfg = c, .st = &st, .obs = &o, .now_ms = S(1000) };
		machine_command(&in, CMD_RETRY, "alice@host", &w.out);
		obs_fini(&o);
		if (w.out.refused != rows[i].refused || !has_event(&w, rows[i].text))
			fail_msg("row %zu: refused %d, event %s", i, w.out.refused,
			    w.out.n_ev ? w.out.ev[0].message : "-");
		if (rows[i].refused)
			assert_memory_equal(&w.out.st, &before, sizeof before);
		else
			assert_int_equal(w.out.st.phase, PHASE_PROGRESSING);
		canary_cfg_free(c);
	}
}

/* ---- review rows: commands and what the tick does after them ------------ */

static void p_pre_hook(struct canary_cfg *c, struct world *w) { (void)w; fixture_add_hook(c, "smoke", HOOK_PRE_ROLLOUT); }
static void p_canary_unready(struct canary_cfg *c, struct world *w) { (void)c; w->canary_ready = false; }
static void p_canary_slow_fixed(struct canary_cfg *c, struct world *w) { (void)c; w->canary_ready = true; }
static void p_v3_ready(struct canary_cfg *c, struct world *w)
{
	(void)c;
	strcpy(w->rev, "v3");
	w->canary_ready = true;
}

struct review_row {
	const char *name;
	void (*prep)(struct canary_cfg *, struct world *);	/* before start */
	int cmd_at;						/* after this tick (v2 from 30 s) */
	enum command_kind cmd;
	bool refused;
	const char *text;					/* in the command's events */
	void (*change)(struct canary_cfg *, struct world *);	/* after the command */
	int until;						/* ticks every 30 s */
	enum phase phase;
	int weight;
	int promotions;
	unsigned confirm;
	bool skip_after;					/* st.skip_requested at the end */
};

static const struct review_row review_rows[] = {
	/* Pre-rollout hooks run before any traffic reaches the canary
	 * (reference §2.3 step 26, §5.1): a manual step must not skip them. */
	{ "promote step at the first step waits for the pre-rollout hooks", p_pre_hook, 30,
	  CMD_PROMOTE_STEP, true, "the pre-rollout checks have not run", NULL, 60,
	  PHASE_PROGRESSING, 10, 0, 0, false },
	{ "promote step at the first step without pre-rollout hooks moves", NULL, 30,
	  CMD_PROMOTE_STEP, false, "Promote one step requested by alice@host", NULL, 30,
	  PHASE_PROGRESSING, 10, 0, 0, false },
	/* A skip names a revision: a newer one is analysed. */
	{ "skip analysis does not carry over to a newer revision", p_canary_unready, 60,
	  CMD_SKIP, false, "Skip analysis of revision v2", p_v3_ready, 150,
	  PHASE_PROGRESSING, 20, 0, 0, false },
	{ "skip analysis of the waiting revision promotes it", p_canary_unready, 60,
	  CMD_SKIP, false, "Skip analysis of revision v2", p_canary_slow_fixed, 90,
	  PHASE_SUCCEEDED, 0, 1, 0, false },
	{ "skip analysis in Waiting does not carry over to a newer waiting revision", NULL, 30,
	  CMD_SKIP, false, "Skip analysis of revision v2", p_v3, 60,
	  PHASE_WAITING, 0, 0, CONFIRM_ROLLOUT, false },
	{ "skip analysis in Waiting is kept for that revision", NULL, 30,
	  CMD_SKIP, false, "Skip analysis of revision v2", NULL, 60,
	  PHASE_PROGRESSING, 0, 0, CONFIRM_ROLLOUT, true },
};

static void
test_review(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof review_rows / sizeof review_rows[0]; i++) {
		const struct review_row *row = &review_rows[i];
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct canary_status st, before;
		struct world w;
		int t;

		world_init(&w);
		if (row->prep)
			row->prep(c, &w);
		machine_status_init(&st, 0);
		tick(&w, c, &st, 0, row->confirm);
		strcpy(w.rev, "v2");
		for (t = 30; t <= row->cmd_at; t += 30)
			tick(&w, c, &st, S(t), row->confirm);
		before = st;
		command(&w, c, &st, S(row->cmd_at), row->cmd, row->confirm);
		if (w.out.refused != row->refused || !has_event(&w, row->text))
			fail_msg("%s: refused %d, first event: %s", row->name, w.out.refused,
			    w.out.n_ev ? w.out.ev[0].message : "-");
		if (row->refused)
			assert_memory_equal(&st, &before, sizeof st);
		if (row->change)
			row->change(c, &w);
		for (t = row->cmd_at + 30; t <= row->until; t += 30)
			tick(&w, c, &st, S(t), row->confirm);
		if (st.phase != row->phase || st.canary_weight != row->weight ||
		    w.promotions != row->promotions || st.skip_requested != row->skip_after)
			fail_msg("%s: %s weight %d promotions %d, first event: %s", row->name,
			    phase_name(st.phase), st.canary_weight, w.promotions,
			    w.out.n_ev ? w.out.ev[0].message : "-");
		canary_cfg_free(c);
	}
}

/* ---- session affinity cookies (reference §4.3, §4.4) ----------------------- */

static void
affinity_on(struct canary_cfg *c, bool primary)
{
	c->provider = (free(c->provider), xstrdup("istio"));
	c->affinity = xcalloc(1, sizeof *c->affinity);
	c->affinity->cookie_name = xstrdup("session");
	c->affinity->primary_cookie_name = primary ? xstrdup("pinned") : NULL;
	c->affinity->max_age = 86400;
}

static void
expect_cookie(const char *got, const char *name, uint64_t seed)
{
	char want[AFFINITY_COOKIE_MAX], v[AFFINITY_VALUE_LEN + 1];

	machine_cookie_value(seed, v);
	snprintf(want, sizeof want, "%s=%s", name, v);
	assert_string_equal(got, want);
}

struct cookie_row {
	int t;			/* seconds */
	int weight;
	int cookie_at;		/* tick (seconds) whose entropy made the canary cookie; 0 = none */
	int previous_at;	/* the same for the previous cookie */
	bool primary;		/* a primary cookie is set */
};

/* A cookie is made when a run first sends traffic to the canary (the
 * tick's entropy), kept while the weight moves, handed to previous when the
 * weight is back to 0; the next run makes a new one.  The routes carry the
 * status's cookies, also when re-applied from the status (machine_routes). */
static void
test_affinity_cookies(void **state)
{
	static const struct cookie_row rows[] = {
		{ 30,  0,  0,  0,  false },	/* scaling up: no traffic yet */
		{ 60,  10, 60, 0,  true },
		{ 90,  20, 60, 0,  true },
		{ 120, 30, 60, 0,  true },
		{ 150, 40, 60, 0,  true },
		{ 180, 50, 60, 0,  true },
		{ 210, 50, 60, 0,  true },	/* promoting */
		{ 240, 0,  0,  60, false },	/* finalising: back to the primary */
		{ 270, 0,  0,  60, false },
		{ 300, 0,  0,  60, false },	/* v3 detected */
		{ 330, 10, 330, 60, true },	/* a new run, a new cookie */
		{ 360, 20, 330, 60, true },
	};
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct routes r;
	struct world w;
	size_t i;

	(void)state;
	affinity_on(c, true);
	start(&w, c, &st, 0);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].t == 300)
			strcpy(w.rev, "v3");
		tick(&w, c, &st, S(rows[i].t), 0);
		assert_int_equal(st.canary_weight, rows[i].weight);
		if (rows[i].cookie_at)
			expect_cookie(st.affinity_cookie, "session", (uint64_t)S(rows[i].cookie_at));
		else
			assert_string_equal(st.affinity_cookie, "");
		if (rows[i].previous_at)
			expect_cookie(st.previous_affinity_cookie, "session",
			    (uint64_t)S(rows[i].previous_at));
		else
			assert_string_equal(st.previous_affinity_cookie, "");
		assert_int_equal(st.primary_affinity_cookie[0] != '\0', rows[i].primary);
		if (rows[i].primary)
			assert_memory_equal(st.primary_affinity_cookie, "pinned=", 7);
		assert_string_equal(w.routes.cookie, st.affinity_cookie);
		assert_string_equal(w.routes.primary_cookie, st.primary_affinity_cookie);
		assert_string_equal(w.routes.previous_cookie, st.previous_affinity_cookie);
		r = machine_routes(&st);
		assert_memory_equal(&r, &w.routes, sizeof r);
	}
	/* A rollback ends the run too. */
	command(&w, c, &st, S(370), CMD_ROLLBACK, 0);
	assert_int_equal(st.canary_weight, 0);
	assert_string_equal(st.affinity_cookie, "");
	expect_cookie(st.previous_affinity_cookie, "session", (uint64_t)S(330));
	assert_string_equal(w.routes.previous_cookie, st.previous_affinity_cookie);
	canary_cfg_free(c);
}

/* Without sessionAffinity no cookie is ever made. */
static void
test_affinity_off(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;
	int t;

	(void)state;
	start(&w, c, &st, 0);
	for (t = 30; t <= 270; t += 30) {
		tick(&w, c, &st, S(t), 0);
		assert_string_equal(st.affinity_cookie, "");
		assert_string_equal(st.previous_affinity_cookie, "");
		assert_string_equal(w.routes.cookie, "");
	}
	assert_int_equal(st.phase, PHASE_SUCCEEDED);
	canary_cfg_free(c);
}

/* On deletion (reference §2.2 step 2): reverted only with revertOnDeletion
 * and the finalizer; the finalizer alone (revertOnDeletion turned off) is
 * released without a revert; another controller's canary is let go. */
static void
test_on_deletion(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	assert_int_equal(machine_on_deletion(c, false), DEL_LET_GO);
	assert_int_equal(machine_on_deletion(c, true), DEL_RELEASE);
	c->revert_on_deletion = true;
	assert_int_equal(machine_on_deletion(c, true), DEL_REVERT);
	assert_int_equal(machine_on_deletion(c, false), DEL_LET_GO);
	c->driven_by = xstrdup("Flagger (flagger-system/flagger)");
	assert_int_equal(machine_on_deletion(c, true), DEL_LET_GO);
	canary_cfg_free(c);
}

/* A reverting canary's status (Flagger's SetStatusPhase(Terminating)):
 * weight and iterations 0, the reason kept as the status message.  Found
 * again in a saved status (the object created again after its revert),
 * the canary starts over with an initialization. */
static void
test_terminating(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct canary_status st;
	struct world w;

	(void)state;
	start(&w, c, &st, 0);
	tick(&w, c, &st, S(30), 0);
	tick(&w, c, &st, S(60), 0);
	assert_int_equal(st.canary_weight, 10);
	machine_terminating(&st, S(70), "Reverting on deletion: \x1b[2Jscaled up");
	assert_int_equal(st.phase, PHASE_TERMINATING);
	assert_string_equal(phase_name(st.phase), "Terminating");
	assert_int_equal(st.canary_weight, 0);
	assert_int_equal(st.iterations, 0);
	assert_int_equal(st.phase_since_ms, S(70));
	assert_null(strchr(st.reason, '\x1b'));
	machine_terminating(&st, S(80), "try 1");
	assert_int_equal(st.phase_since_ms, S(70));	/* the same phase */
	assert_string_equal(st.reason, "try 1");
	world_init(&w);
	tick(&w, c, &st, S(90), 0);
	assert_int_equal(st.phase, PHASE_INITIALIZED);
	assert_true(has_event(&w, "Initialization done! checkout.shop"));
	assert_string_equal(st.reason, "");
	canary_cfg_free(c);
}

/* The wait between tries of a finalisation: 3 s doubled each time, capped
 * at the analysis interval, and never given up. */
static void
test_finalize_backoff(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);

	(void)state;
	c->interval_s = 30;
	assert_int_equal(machine_finalize_backoff(c, 0), 3000);
	assert_int_equal(machine_finalize_backoff(c, 1), 6000);
	assert_int_equal(machine_finalize_backoff(c, 2), 12000);
	assert_int_equal(machine_finalize_backoff(c, 3), 24000);
	assert_int_equal(machine_finalize_backoff(c, 4), 30000);
	assert_int_equal(machine_finalize_backoff(c, 1000), 30000);
	c->interval_s = 2;
	assert_int_equal(machine_finalize_backoff(c, 0), 2000);
	canary_cfg_free(c);
}

/* Cookie values: 10 letters, the same for the same seed, spread over seeds. */
static void
test_cookie_values(void **state)
{
	char a[AFFINITY_VALUE_LEN + 1], b[AFFINITY_VALUE_LEN + 1];
	uint64_t seed;
	int same = 0;

	(void)state;
	for (seed = 0; seed < 1000; seed++) {
		machine_cookie_value(seed, a);
		assert_int_equal(strlen(a), AFFINITY_VALUE_LEN);
		assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
		    AFFINITY_VALUE_LEN);
		machine_cookie_value(seed, b);
		assert_string_equal(a, b);
		machine_cookie_value(seed + 1, b);
		same += strcmp(a, b) == 0;
	}
	assert_int_equal(same, 0);
}

/* What validation refuses, the engine refuses too; and its weight math
 * never leaves 0..100 even for a configuration that skipped both. */
static void
test_config_clamps(void **state)
{
	static const struct { const char *field; int value; } bad[] = {
		{ "stepWeight", -1 }, { "stepWeight", 0 }, { "stepWeight", 150 },
		{ "maxWeight", 1000 }, { "maxWeight", -5 }, { "stepWeightPromotion", -20 },
		{ "iterations", -3 }, { "threshold", 0 }, { "mirrorWeight", 101 },
	};
	struct canary_cfg *c;
	struct canary_status st;
	struct world w;
	char why[256];
	size_t i;
	int t;

	(void)state;
	c = fixture_canary("checkout", 2);
	assert_int_equal(machine_check_cfg(c, why, sizeof why), ST_OK);
	canary_cfg_free(c);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = fixture_canary("checkout", 2);
		if (strcmp(bad[i].field, "stepWeight") == 0)
			c->step_weight = bad[i].value;
		else if (strcmp(bad[i].field, "maxWeight") == 0)
			c->max_weight = bad[i].value;
		else if (strcmp(bad[i].field, "stepWeightPromotion") == 0)
			c->step_weight_promotion = bad[i].value;
		else if (strcmp(bad[i].field, "iterations") == 0)
			c->iterations = bad[i].value;
		else if (strcmp(bad[i].field, "threshold") == 0)
			c->threshold = bad[i].value;
		else
			c->mirror_weight = bad[i].value;
		why[0] = '\0';
		if (machine_check_cfg(c, why, sizeof why) != ST_INVALID || strstr(why, bad[i].field) == NULL)
			fail_msg("%s %d: not refused (%s)", bad[i].field, bad[i].value, why);
		canary_cfg_free(c);
	}
	c = fixture_canary("checkout", 2);
	c->metrics[0].min = 0.0 / 0.0;
	assert_int_equal(machine_check_cfg(c, why, sizeof why), ST_INVALID);
	assert_non_null(strstr(why, "request-success-rate"));
	canary_cfg_free(c);

	/* maxWeight 1000: 100 is the top; it promotes there, once. */
	c = fixture_canary("checkout", 2);
	c->max_weight = 1000;
	assert_int_equal(machine_max_weight(c), 100);
	start(&w, c, &st, 0);
	for (t = 30; t <= 30 * 14 && st.phase != PHASE_PROMOTING; t += 30)
		tick(&w, c, &st, S(t), 0);
	assert_int_equal(st.phase, PHASE_PROMOTING);
	assert_int_equal(count_in_run(&w, "Advance checkout.shop canary weight 100"), 1);
	canary_cfg_free(c);

	/* stepWeight -1 (refused above, driven here regardless): the weight
	 * never goes below zero and nothing is promoted. */
	c = fixture_canary("checkout", 2);
	c->step_weight = -1;
	start(&w, c, &st, 0);
	for (t = 30; t <= 30 * 10; t += 30) {
		tick(&w, c, &st, S(t), 0);
		assert_true(st.canary_weight >= 0 && st.canary_weight <= 100);
		assert_true(w.routes.canary >= 0 && w.routes.primary <= 100);
		assert_int_equal(st.phase, PHASE_PROGRESSING);
	}
	assert_int_equal(w.promotions, 0);
	assert_int_equal(count_in_run(&w, "Advance"), 0);
	canary_cfg_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkout_timeline),
		cmocka_unit_test(test_init_saves_primary_revision),
		cmocka_unit_test(test_threshold_rollback),
		cmocka_unit_test(test_no_traffic),
		cmocka_unit_test(test_ladders),
		cmocka_unit_test(test_config_clamps),
		cmocka_unit_test(test_bluegreen),
		cmocka_unit_test(test_bluegreen_mirror),
		cmocka_unit_test(test_ab),
		cmocka_unit_test(test_canary_mirror),
		cmocka_unit_test(test_step_weight_promotion),
		cmocka_unit_test(test_kubernetes_provider),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_command_effects),
		cmocka_unit_test(test_command_preconditions),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_last_failure_format),
		cmocka_unit_test(test_review),
		cmocka_unit_test(test_waiting_promotion_status),
		cmocka_unit_test(test_retry_target),
		cmocka_unit_test(test_affinity_cookies),
		cmocka_unit_test(test_affinity_off),
		cmocka_unit_test(test_cookie_values),
		cmocka_unit_test(test_on_deletion),
		cmocka_unit_test(test_finalize_backoff),
		cmocka_unit_test(test_terminating),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
