/* test_machine_alerts.c — the alerts of the state machine (reference §6.1,
 * engine/machine.c): which transitions send which message, with which
 * severity and whether with metadata, muteAlert on the gate hooks, the
 * severity routing of analysis.alerts entries and the metadata fields.
 * The machine is driven by a scripted world and a virtual clock: one row
 * per transition. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/machine.h"
#include "util/status.h"
#include "util/xalloc.h"

/* ---- a scripted world -------------------------------------------------- */

struct world {
	char rev[72];
	bool primary_ready, canary_ready, retriable;
	double success;			/* request-success-rate */
	bool hook_ok[4];
	char alerts[4096];		/* every alert of the run, one per line */
	struct tick_out out;
};

static struct canary_cfg *
base_cfg(void)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);

	c->ns = xstrdup("test");
	c->name = xstrdup("podinfo");
	c->target = xstrdup("podinfo");
	c->target_kind = xstrdup("Deployment");
	c->provider = xstrdup("linkerd");
	c->strategy = STRATEGY_CANARY;
	c->interval_s = 30;
	c->threshold = 2;
	c->max_weight = 20;
	c->step_weight = 10;
	c->progress_deadline_s = 60;
	c->nodata = NODATA_HOLD;
	c->n_metrics = 1;
	c->metrics = xcalloc(1, sizeof *c->metrics);
	c->metrics[0].name = xstrdup("request-success-rate");
	c->metrics[0].kind = METRIC_SUCCESS_RATE;
	c->metrics[0].has_min = true;
	c->metrics[0].min = 99;
	return c;
}

static void
add_hook(struct canary_cfg *c, enum hook_type t, bool mute)
{
	c->hooks = xreallocarray(c->hooks, c->n_hooks + 1, sizeof *c->hooks);
	memset(&c->hooks[c->n_hooks], 0, sizeof *c->hooks);
	c->hooks[c->n_hooks].name = xstrdup("gate");
	c->hooks[c->n_hooks].url = xstrdup("http://127.0.0.1:1/");
	c->hooks[c->n_hooks].type = t;
	c->hooks[c->n_hooks].mute_alert = mute;
	c->n_hooks++;
}

static void
gather(struct world *w, const struct canary_cfg *c, struct obs *o, enum need n, enum hook_type ht)
{
	size_t i;

	switch (n) {
	case NEED_INIT:
		o->init_status = ST_OK;
		break;
	case NEED_PROVIDERS:
		o->providers_status = ST_OK;
		break;
	case NEED_REVISION:
		strcpy(o->rev.id, w->rev);
		break;
	case NEED_PRIMARY:
	case NEED_CANARY: {
		struct readiness *r = n == NEED_PRIMARY ? &o->primary : &o->canary;

		r->ready = n == NEED_PRIMARY ? w->primary_ready : w->canary_ready;
		r->retriable = w->retriable;
		if (!r->ready)
			strcpy(r->msg, "deployment \"podinfo\" exceeded its progress deadline");
		break;
	}
	case NEED_HOOKS:
		for (i = 0; i < c->n_hooks; i++) {
			if (c->hooks[i].type != ht)
				continue;
			o->hooks[i].called = true;
			o->hooks[i].r.ok = w->hook_ok[i];
		}
		o->hooks_have |= 1u << ht;
		return;
	case NEED_METRICS:
		for (i = 0; i < c->n_metrics; i++) {
			o->values[i].result = CHECK_PASS;
			o->values[i].value = w->success;
		}
		break;
	default:
		break;
	}
	o->have |= 1u << n;
}

static void
record_alerts(struct world *w)
{
	static const char sev[] = { 'I', 'W', 'E' };
	size_t i, len;

	for (i = 0; i < w->out.n_alerts; i++) {
		len = strlen(w->alerts);
		snprintf(w->alerts + len, sizeof w->alerts - len, "%c%c %s\n",
		    sev[w->out.alerts[i].sev], w->out.alerts[i].metadata ? '*' : ' ',
		    w->out.alerts[i].message);
	}
}

static void
tick(struct world *w, const struct canary_cfg *c, struct canary_status *st, int64_t now,
    unsigned confirm)
{
	struct obs o;
	struct tick_in in = { .cfg = c, .st = st, .obs = &o, .now_ms = now, .confirm = confirm };
	int guard = 0;

	obs_init(&o);
	obs_reset(&o, c->n_hooks, c->n_metrics);
	while (machine_tick(&in, &w->out) != NEED_NONE) {
		assert_true(++guard < 20);
		gather(w, c, &o, w->out.need, w->out.need_hook);
	}
	obs_fini(&o);
	*st = w->out.st;
	if (machine_promote_pending(st))
		strcpy(st->last_promoted, st->last_applied);
	record_alerts(w);
}

static void
command(struct world *w, const struct canary_cfg *c, struct canary_status *st, int64_t now,
    enum command_kind k, unsigned confirm)
{
	struct tick_in in = { .cfg = c, .st = st, .now_ms = now, .confirm = confirm };

	machine_command(&in, k, "alice@host", &w->out);
	*st = w->out.st;
	record_alerts(w);
}

/* ---- the table ----------------------------------------------------------- */

#define INIT  "I* New Deployment detected, initialization completed.\n"
#define START "I* New revision detected, progressing canary analysis.\n"
#define DONE  "I  Canary analysis completed successfully, promotion finished.\n"

struct row {
	const char *name;
	void (*setup)(struct canary_cfg *c, struct world *w);
	/* before tick i (i >= 1; tick 0 initialises, v2 appears before tick 1) */
	void (*before)(struct world *w, struct canary_status *st, const struct canary_cfg *c, int i);
	int ticks;
	unsigned confirm;
	const char *alerts;	/* every alert of the run, in order */
};

static void no_setup(struct canary_cfg *c, struct world *w) { (void)c; (void)w; }

static void
bad_metrics(struct canary_cfg *c, struct world *w)
{
	(void)c;
	w->success = 90;
}

static void
gate(struct canary_cfg *c, struct world *w, enum hook_type t, bool mute)
{
	add_hook(c, t, mute);
	w->hook_ok[0] = false;
}

static void rollout_gate(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_ROLLOUT, false); }
static void rollout_gate_muted(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_ROLLOUT, true); }
static void traffic_gate(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_TRAFFIC_INCREASE, false); }
static void traffic_gate_muted(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_TRAFFIC_INCREASE, true); }
static void promotion_gate(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_PROMOTION, false); }
static void promotion_gate_muted(struct canary_cfg *c, struct world *w) { gate(c, w, HOOK_CONFIRM_PROMOTION, true); }

static void
rollback_hook(struct canary_cfg *c, struct world *w)
{
	add_hook(c, HOOK_ROLLBACK, true);	/* muteAlert does not apply to it */
	w->hook_ok[0] = false;
}

static void
skip_analysis(struct canary_cfg *c, struct world *w)
{
	(void)w;
	c->skip_analysis = true;
}

static void
daemonset(struct canary_cfg *c, struct world *w)
{
	(void)w;
	free(c->target_kind);
	c->target_kind = xstrdup("DaemonSet");
}

static void
open_rollback_at_3(struct world *w, struct canary_status *st, const struct canary_cfg *c, int i)
{
	(void)st; (void)c;
	w->hook_ok[0] = i >= 3;
}

/* The primary never becomes ready again once promotion has begun. */
static void
primary_dies_when_promoting(struct world *w, struct canary_status *st, const struct canary_cfg *c,
    int i)
{
	(void)c; (void)i;
	if (st->phase == PHASE_PROMOTING) {
		w->primary_ready = false;
		w->retriable = false;
	}
}

static void
canary_never_ready(struct world *w, struct canary_status *st, const struct canary_cfg *c, int i)
{
	(void)st; (void)c;
	w->canary_ready = i < 2;
	w->retriable = i < 4;
}

static const struct row rows[] = {
	{ "healthy", no_setup, NULL, 7, 0, INIT START DONE },
	{ "daemonset", daemonset, NULL, 1, 0,
	  "I* New DaemonSet detected, initialization completed.\n" START },
	{ "threshold", bad_metrics, NULL, 6, 0,
	  INIT START "E  Failed checks threshold reached 2\n" },
	{ "confirm-rollout, once", rollout_gate, NULL, 4, 0,
	  INIT "W  Canary is waiting for approval.\n" },
	{ "confirm-rollout muted", rollout_gate_muted, NULL, 4, 0, INIT },
	{ "traffic increase, every tick", traffic_gate, NULL, 4, 0,
	  INIT START "W  Canary traffic increase is waiting for approval.\n"
	  "W  Canary traffic increase is waiting for approval.\n"
	  "W  Canary traffic increase is waiting for approval.\n" },
	{ "traffic increase muted", traffic_gate_muted, NULL, 4, 0, INIT START },
	{ "confirm-promotion, once", promotion_gate, NULL, 7, 0,
	  INIT START "W  Canary promotion is waiting for approval.\n" },
	{ "confirm-promotion muted", promotion_gate_muted, NULL, 7, 0, INIT START },
	{ "rollback webhook", rollback_hook, open_rollback_at_3, 5, 0,
	  INIT START "W  Rolling back manual webhook invoked\n" },
	{ "failed promotion", no_setup, primary_dies_when_promoting, 7, 0,
	  INIT START "E  Promotion failed, primary not ready: deployment \"podinfo\" exceeded its "
	  "progress deadline\n" },
	{ "progress deadline", no_setup, canary_never_ready, 5, 0,
	  INIT START "E  Progress deadline exceeded canary deployment podinfo.test not ready: "
	  "deployment \"podinfo\" exceeded its progress deadline\n" },
	{ "skip analysis", skip_analysis, NULL, 2, 0,
	  INIT START "I  Canary analysis was skipped, promotion finished.\n" },
	{ "manual gates", no_setup, NULL, 3, CONFIRM_ROLLOUT,
	  INIT "W  Canary is waiting for approval.\n" },
};

static void
test_transitions(void **state)
{
	size_t r;
	int i;

	(void)state;
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		struct canary_cfg *c = base_cfg();
		struct canary_status st;
		struct world w;

		memset(&w, 0, sizeof w);
		strcpy(w.rev, "v1");
		w.primary_ready = w.canary_ready = w.retriable = true;
		w.success = 99.9;
		for (i = 0; i < 4; i++)
			w.hook_ok[i] = true;
		rows[r].setup(c, &w);
		machine_status_init(&st, 0);
		tick(&w, c, &st, 0, rows[r].confirm);
		strcpy(w.rev, "v2");
		for (i = 1; i <= rows[r].ticks; i++) {
			if (rows[r].before != NULL)
				rows[r].before(&w, &st, c, i);
			tick(&w, c, &st, (int64_t)i * 30000, rows[r].confirm);
		}
		if (strcmp(w.alerts, rows[r].alerts) != 0)
			fail_msg("%s: alerts\n%s\nexpected\n%s", rows[r].name, w.alerts, rows[r].alerts);
		canary_cfg_free(c);
	}
}

/* The manual promotion gate, the manual rollback, and a refused command
 * (which sends nothing). */
static void
test_commands(void **state)
{
	struct canary_cfg *c = base_cfg();
	struct canary_status st;
	struct world w;
	int i;

	(void)state;
	memset(&w, 0, sizeof w);
	strcpy(w.rev, "v1");
	w.primary_ready = w.canary_ready = w.retriable = true;
	w.success = 99.9;
	machine_status_init(&st, 0);
	tick(&w, c, &st, 0, CONFIRM_PROMOTION);
	strcpy(w.rev, "v2");
	for (i = 1; i <= 6; i++)
		tick(&w, c, &st, (int64_t)i * 30000, CONFIRM_PROMOTION);
	assert_int_equal(st.phase, PHASE_WAITING_PROMOTION);
	assert_string_equal(w.alerts, INIT START "W  Canary promotion is waiting for approval.\n");
	w.alerts[0] = '\0';
	command(&w, c, &st, 200000, CMD_PAUSE, CONFIRM_PROMOTION);
	command(&w, c, &st, 200000, CMD_PAUSE, CONFIRM_PROMOTION);	/* refused */
	assert_true(w.out.refused);
	assert_int_equal(w.out.n_alerts, 0);
	command(&w, c, &st, 201000, CMD_ROLLBACK, CONFIRM_PROMOTION);
	assert_int_equal(st.phase, PHASE_FAILED);
	assert_string_equal(w.alerts, "W  Rolling back manual command invoked by alice@host\n");
	canary_cfg_free(c);
}

static void
test_routing(void **state)
{
	/* [entry][message]: info receives all, warn warn and error, error error. */
	static const bool want[ALERT__COUNT][ALERT__COUNT] = {
		[ALERT_INFO]  = { [ALERT_INFO] = true, [ALERT_WARN] = true, [ALERT_ERROR] = true },
		[ALERT_WARN]  = { [ALERT_INFO] = false, [ALERT_WARN] = true, [ALERT_ERROR] = true },
		[ALERT_ERROR] = { [ALERT_INFO] = false, [ALERT_WARN] = false, [ALERT_ERROR] = true },
	};
	int e, m;

	(void)state;
	for (e = 0; e < ALERT__COUNT; e++)
		for (m = 0; m < ALERT__COUNT; m++)
			if (machine_alert_wanted((enum alert_severity)e, (enum alert_severity)m) != want[e][m])
				fail_msg("entry %s, message %s", alert_severity_name((enum alert_severity)e),
				    alert_severity_name((enum alert_severity)m));
	/* An empty severity in a file is the documented default, info. */
	assert_int_equal(alert_severity_from_name(""), ALERT_INFO);
	assert_int_equal(alert_severity_from_name("warn"), ALERT_WARN);
	assert_int_equal(alert_severity_from_name("fatal"), -1);
}

static void
test_fields(void **state)
{
	static const int ladder[] = { 1, 2, 10, 80 };
	static const struct {
		const char *name;
		int step, max, iterations;
		bool ladder;
		enum strategy strategy;
		const char *routing;	/* NULL: no field */
	} rows[] = {
		{ "step", 10, 50, 0, false, STRATEGY_CANARY, "Weight step: 10 max: 50" },
		{ "step, no max", 5, 0, 0, false, STRATEGY_CANARY, "Weight step: 5 max: 100" },
		{ "ladder", 0, 0, 0, true, STRATEGY_CANARY, "Weight steps: 1,2,10,80 max: 80" },
		{ "a/b", 0, 0, 10, false, STRATEGY_ABTESTING, "A/B Testing" },
		{ "blue/green", 0, 0, 10, false, STRATEGY_BLUEGREEN, "Blue/Green" },
		{ "none", 0, 0, 0, false, STRATEGY_CANARY, NULL },
	};
	struct alert_field f[MACH_ALERT_FIELDS];
	struct mach_alert_buf b;
	size_t r, n;

	(void)state;
	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		struct canary_cfg *c = base_cfg();

		c->threshold = 5;
		c->progress_deadline_s = 600;
		c->step_weight = rows[r].step;
		c->max_weight = rows[r].max;
		c->iterations = rows[r].iterations;
		c->strategy = rows[r].strategy;
		if (rows[r].ladder) {
			c->step_weights = xcalloc(4, sizeof *c->step_weights);
			memcpy(c->step_weights, ladder, sizeof ladder);
			c->n_step_weights = 4;
		}
		n = machine_alert_fields(c, f, &b);
		assert_int_equal(n, rows[r].routing ? 4 : 3);
		assert_string_equal(f[0].name, "Target");
		assert_string_equal(f[0].value, "Deployment/podinfo.test");
		assert_string_equal(f[1].name, "Failed checks threshold");
		assert_string_equal(f[1].value, "5");
		assert_string_equal(f[2].name, "Progress deadline");
		assert_string_equal(f[2].value, "600s");
		if (rows[r].routing != NULL) {
			assert_string_equal(f[3].name, "Traffic routing");
			if (strcmp(f[3].value, rows[r].routing) != 0)
				fail_msg("%s: %s", rows[r].name, f[3].value);
		}
		canary_cfg_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
