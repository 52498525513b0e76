/* test_runner.c — the engine thread (engine/runner.c) with small scripted
 * providers kept in this file: a virtual clock, a cluster that records what
 * it is told, metrics that always answer, and an in-memory store.  Covers a
 * whole rollout, commands from another thread (also under TSan), resuming
 * after a crash at every point, watch mode, a corrupt state and a lock held
 * elsewhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/machine.h"
#include "engine/runner.h"
#include "tests/unit/helper_canary.h"
#include "util/status.h"
#include "util/xalloc.h"

/* ---- a virtual clock ----------------------------------------------------
 * wait() gives other threads a moment (1 ms of real time) to signal, then
 * jumps to the deadline: as fast as possible, yet commands get through. */

struct vclock {
	_Atomic int64_t now;
};

static int64_t
vc_now(void *ctx)
{
	return atomic_load(&((struct vclock *)ctx)->now);
}

static void
vc_wait(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline)
{
	struct vclock *vc = ctx;
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	rc = pthread_cond_timedwait(cond, mu, &ts);
	if (rc != 0 && deadline > atomic_load(&vc->now))
		atomic_store(&vc->now, deadline);
}

static const struct clock_ops vclock_ops = { .now_ms = vc_now, .wait = vc_wait };

/* ---- a scripted cluster -------------------------------------------------- */

struct fake {
	struct vclock *clock;
	bool v2;			/* the target is v2 once Initialized is saved */
	bool stay_v1;			/* ... unless this is set */
	atomic_bool v2_now;		/* the target is v2 from now on (any thread) */
	atomic_bool dead;		/* "crashed": every call is ignored */
	long crash_after;		/* mutating calls before the crash; <0 never */
	long mutations;
	char primary_rev[72];
	struct routes routes;
	bool scaled_up;
	int promote_calls, promotions;
	int weights[64];		/* every canary weight the routes changed to */
	int n_weights;
	double success;
	int emitted;			/* events recorded on the cluster */
	bool refuse_up, refuse_down;	/* scaling answers "forbidden" */
	bool unsupported;		/* initialize: no router for the provider */
	bool nodata;			/* every metric answers no data */
	int initializes;
	int finalized;			/* finalize calls, the last one's revert */
	bool finalize_revert;
	int finalize_fails;		/* the next N finalize calls fail */
	int ready_on_check;		/* >0: the canary is ready from this check on */
	int canary_checks;		/* ... its readiness checks since then */
	int checks_at_finalize;		/* canary_checks when finalize succeeded */
};

static bool
fake_mutate(struct fake *f)
{
	if (atomic_load(&f->dead))
		return false;
	if (f->crash_after >= 0 && f->mutations >= f->crash_after) {
		atomic_store(&f->dead, true);
		return false;
	}
	f->mutations++;
	return true;
}

static const char *
fake_rev(struct fake *f)
{
	return f->v2 || atomic_load(&f->v2_now) ? "v2" : "v1";
}

static int
fk_initialize(void *ctx, const struct canary_cfg *c, char *err)
{
	struct fake *f = ctx;

	(void)c;
	f->initializes++;
	if (f->unsupported) {
		snprintf(err, ERRMSG_MAX, "provider \"contour\" is not supported on a cluster");
		return ST_UNSUPPORTED;
	}
	return ST_OK;
}

static int
fk_revision(void *ctx, const struct canary_cfg *c, struct revision *out, char *err)
{
	struct fake *f = ctx;

	(void)c; (void)err;
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", fake_rev(f));
	snprintf(out->image, sizeof out->image, "checkout:%s", fake_rev(f));
	return ST_OK;
}

static int
fk_readiness(void *ctx, const struct canary_cfg *c, enum workload w, int64_t now,
    struct readiness *out)
{
	struct fake *f = ctx;

	(void)c; (void)now;
	out->ready = true;
	if (w == WL_CANARY && f->ready_on_check > 0 && ++f->canary_checks < f->ready_on_check) {
		out->ready = false;
		snprintf(out->msg, sizeof out->msg, "waiting for rollout to finish: 0 of 2 "
		    "updated replicas are available");
	}
	return ST_OK;
}

static int
fk_scale(void *ctx, const struct canary_cfg *c, bool up, char *err)
{
	struct fake *f = ctx;

	(void)c;
	if (up ? f->refuse_up : f->refuse_down) {
		snprintf(err, ERRMSG_MAX, "forbidden");
		return ST_IO;
	}
	if (!fake_mutate(f)) {
		snprintf(err, ERRMSG_MAX, "crashed");
		return ST_IO;
	}
	f->scaled_up = up;
	return ST_OK;
}

static int
fk_promote(void *ctx, const struct canary_cfg *c, char *err)
{
	struct fake *f = ctx;

	(void)c;
	if (!fake_mutate(f)) {
		snprintf(err, ERRMSG_MAX, "crashed");
		return ST_IO;
	}
	f->promote_calls++;
	/* Idempotent for the same revision (the providers.h contract). */
	if (strcmp(f->primary_rev, fake_rev(f)) != 0)
		f->promotions++;
	snprintf(f->primary_rev, sizeof f->primary_rev, "%s", fake_rev(f));
	return ST_OK;
}

static int
fk_set_routes(void *ctx, const struct canary_cfg *c, const struct routes *r, char *err)
{
	struct fake *f = ctx;

	(void)c;
	if (!fake_mutate(f)) {
		snprintf(err, ERRMSG_MAX, "crashed");
		return ST_IO;
	}
	if (r->canary != f->routes.canary && f->n_weights < 64)
		f->weights[f->n_weights++] = r->canary;
	f->routes = *r;
	return ST_OK;
}

static int
fk_get_routes(void *ctx, const struct canary_cfg *c, struct routes *out, char *err)
{
	(void)c; (void)err;
	*out = ((struct fake *)ctx)->routes;
	return ST_OK;
}

static int
fk_finalize(void *ctx, const struct canary_cfg *c, bool revert, char *err)
{
	struct fake *f = ctx;

	(void)c;
	f->finalized++;
	f->finalize_revert = revert;
	if (f->finalize_fails > 0) {
		f->finalize_fails--;
		snprintf(err, ERRMSG_MAX, "virtualservice checkout.shop: conflict");
		return ST_CONFLICT;
	}
	f->checks_at_finalize = f->canary_checks;
	return ST_OK;
}

static const struct cluster_ops fake_cluster = {
	.name = "fake", .initialize = fk_initialize, .revision = fk_revision,
	.readiness = fk_readiness, .scale = fk_scale, .promote = fk_promote,
	.set_routes = fk_set_routes, .get_routes = fk_get_routes, .finalize = fk_finalize,
};

static int
fk_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct fake *f = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		out[i].result = f->nodata && !q[i].volume ? CHECK_NODATA : CHECK_PASS;
		out[i].value = q[i].volume ? 1000 : q[i].metric->kind == METRIC_DURATION ? 200 : f->success;
	}
	return ST_OK;
}

static int
fk_check(void *ctx, const struct canary_cfg *c, char *err)
{
	struct fake *f = ctx;

	(void)c;
	if (f->success < 90) {		/* the failing rig also has a flaky probe */
		snprintf(err, ERRMSG_MAX, "vector(1) returned nothing");
		return ST_NODATA;
	}
	return ST_OK;
}

static const struct metrics_ops fake_metrics = { .name = "fake", .eval = fk_eval, .check = fk_check };

/* ---- an in-memory store ------------------------------------------------- */

struct mstore {
	struct fake *f;			/* shares the crash switch */
	bool has_status;
	struct canary_status st;
	int load_rc;			/* forced answer of load, or ST_OK */
	const char *holder;		/* someone else holds the lock ... */
	_Atomic bool holder_gone;	/* ... until it goes away */
	bool locked;
	bool steal_at_20;		/* the lease is lost once weight 20 is saved */
	atomic_bool stolen;		/* the lease is lost from now on */
	int saves, mutating_calls_when_observer;
	char journal[64][400];		/* event messages */
	int n_journal, n_checks;
	const char *fresh;		/* this canary has no saved status ... */
	int fresh_saves;		/* ... and its saves are counted apart */
	const char *held;		/* only this canary is held elsewhere */
	int acquire_rc;			/* forced failure of acquire, or ST_OK */
	int append_fails;		/* the next N appends fail ... */
	int append_rc;			/* ... with this (0: ST_IO) */
	int appends;			/* appends tried */
};

static int
ms_acquire(void *ctx, const char *canary, const char *actor, char *holder, size_t sz, char *err)
{
	struct mstore *s = ctx;

	(void)actor;
	if (s->acquire_rc != ST_OK) {
		snprintf(err, ERRMSG_MAX, "lease default/perch-x: https://127.0.0.1:1: connection "
		    "refused");
		return s->acquire_rc;
	}
	if (s->held != NULL && strcmp(canary, s->held) == 0) {
		snprintf(holder, sz, "ops@elsewhere");
		return ST_LOCKED;
	}
	if (s->holder != NULL && !atomic_load(&s->holder_gone)) {
		snprintf(holder, sz, "%s", s->holder);
		return ST_LOCKED;
	}
	s->locked = true;
	return ST_OK;
}

static int
ms_renew(void *ctx, const char *canary)
{
	struct mstore *s = ctx;

	(void)canary;
	if ((s->steal_at_20 && s->st.canary_weight >= 20) || atomic_load(&s->stolen))
		return ST_LOCKED;
	return ST_OK;
}

static int
ms_release(void *ctx, const char *canary)
{
	(void)canary;
	((struct mstore *)ctx)->locked = false;
	return ST_OK;
}

static int
ms_load(void *ctx, const char *canary, struct canary_status *out, char *err)
{
	struct mstore *s = ctx;

	if (s->fresh != NULL && strcmp(canary, s->fresh) == 0)
		return ST_NOTFOUND;
	if (s->load_rc != ST_OK) {
		snprintf(err, ERRMSG_MAX, "state/shop/checkout/status.json:3:1: truncated");
		return s->load_rc;
	}
	if (!s->has_status)
		return ST_NOTFOUND;
	*out = s->st;
	return ST_OK;
}

static int
ms_save(void *ctx, const char *canary, const struct canary_status *st, char *err)
{
	struct mstore *s = ctx;

	if (s->f != NULL && !fake_mutate(s->f)) {
		snprintf(err, ERRMSG_MAX, "crashed");
		return ST_IO;
	}
	if (s->fresh != NULL && strcmp(canary, s->fresh) == 0) {
		s->fresh_saves++;
		return ST_OK;
	}
	s->st = *st;
	s->has_status = true;
	s->saves++;
	if (s->f != NULL && st->phase != PHASE_INITIALIZING && !s->f->stay_v1)
		s->f->v2 = true;	/* the new revision arrives after initialization */
	return ST_OK;
}

static int
ms_append(void *ctx, const struct journal_rec *rec, char *err)
{
	struct mstore *s = ctx;

	if (s->f != NULL && atomic_load(&s->f->dead))
		return ST_IO;
	s->appends++;
	if (s->append_fails > 0) {
		s->append_fails--;
		snprintf(err, ERRMSG_MAX, "cannot append to state/journal.jsonl: No space left on device");
		return s->append_rc ? s->append_rc : ST_IO;
	}
	if (rec->kind == REC_CHECK) {
		s->n_checks++;
		return ST_OK;
	}
	if (s->n_journal < 64)
		snprintf(s->journal[s->n_journal++], sizeof s->journal[0], "%s", rec->message);
	return ST_OK;
}

static size_t
ms_list(void *ctx, char ***out)
{
	struct mstore *s = ctx;

	if (!s->has_status)
		return 0;
	*out = xcalloc(1, sizeof **out);
	(*out)[0] = xstrdup("shop/checkout");
	return 1;
}

static size_t
ms_tail(void *ctx, const char *canary, struct journal_rec *out, size_t max)
{
	struct mstore *s = ctx;
	size_t i, n = (size_t)s->n_journal < max ? (size_t)s->n_journal : max;

	(void)canary;
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].kind = REC_EVENT;
		snprintf(out[i].message, sizeof out[i].message, "%s", s->journal[i]);
	}
	return n;
}

static const struct store_ops mem_store = {
	.name = "mem", .acquire = ms_acquire, .renew = ms_renew, .release = ms_release,
	.load = ms_load, .save = ms_save, .append = ms_append, .list = ms_list, .tail = ms_tail,
};

/* ---- fixtures ----------------------------------------------------------- */

struct rig {
	struct vclock clock;
	struct fake f;
	struct mstore s;
	struct runner_config rc;
	_Atomic int notifies, sinks;
};

static void
rig_notify(void *arg)
{
	atomic_fetch_add(&((struct rig *)arg)->notifies, 1);
}

static void
rig_sink(void *arg, const struct journal_rec *rec)
{
	(void)rec;
	atomic_fetch_add(&((struct rig *)arg)->sinks, 1);
}

static void
rig_init(struct rig *g)
{
	memset(g, 0, sizeof *g);
	atomic_init(&g->clock.now, 1000000);
	g->f.clock = &g->clock;
	g->s.f = &g->f;
	g->f.crash_after = -1;
	g->f.success = 99.9;
	strcpy(g->f.primary_rev, "v1");
	g->f.routes.primary = 100;
	g->rc = (struct runner_config){
		.cluster = &fake_cluster, .cluster_ctx = &g->f,
		.metrics = &fake_metrics, .metrics_ctx = &g->f,
		.store = &mem_store, .store_ctx = &g->s,
		.clock = &vclock_ops, .clock_ctx = &g->clock,
		.actor = "ci@runner", .context = "TEST", .stop_when_done = true,
		.notify = rig_notify, .notify_arg = g, .sink = rig_sink, .sink_arg = g,
	};
}

/* A runner on the rig with canary c (NULL: the checkout canary), started. */
static struct runner *
rig_start(struct rig *g, struct canary_cfg *c)
{
	struct runner *r = runner_new(&g->rc);
	char err[256];

	runner_add(r, c != NULL ? c : fixture_canary("checkout", 2));
	if (runner_start(r, err, sizeof err) != ST_OK)
		fail_msg("runner_start: %s", err);
	return r;
}

/* Runs c (NULL: the checkout canary) on the rig until the runner is done;
 * returns its outcome. */
static int
rig_run(struct rig *g, struct canary_cfg *c)
{
	struct runner *r = rig_start(g, c);
	int outcome;

	runner_wait(r);
	runner_stop(r);
	outcome = runner_outcome(r);
	runner_free(r);
	return outcome;
}

/* The store holds a canary progressing at weight 30 (saved 3 times), with
 * the event of that step in its journal. */
static void
rig_saved_at_30(struct rig *g)
{
	g->s.has_status = true;
	machine_status_init(&g->s.st, 0);
	g->s.st.phase = PHASE_PROGRESSING;
	g->s.st.canary_weight = 30;
	g->s.st.seq = 3;
	strcpy(g->s.journal[0], "Advance checkout.shop canary weight 30");
	g->s.n_journal = 1;
}

static int
journal_count(const struct mstore *s, const char *text)
{
	int i, n = 0;

	for (i = 0; i < s->n_journal; i++)
		if (strstr(s->journal[i], text) != NULL)
			n++;
	return n;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_runner_rollout(void **state)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;

	(void)state;
	rig_init(&g);
	r = rig_start(&g, NULL);
	runner_wait(r);
	snap = runner_snapshot(r);
	assert_int_equal(snap->n_canaries, 1);
	assert_int_equal(snap->canaries[0].phase, PHASE_SUCCEEDED);
	assert_true(snap->canaries[0].can_control);
	assert_string_equal(snap->canaries[0].rev_to, "checkout:v2");
	assert_string_equal(snap->canaries[0].rev_from, "checkout:v2");	/* promoted */
	assert_int_equal(snap->canaries[0].n_ladder, 5);
	assert_true(snap->canaries[0].n_events >= 9);
	assert_true(snap->canaries[0].metrics[0].n_points >= 5);
	snapshot_unref(snap);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_int_equal(g.f.promotions, 1);
	assert_int_equal(g.f.n_weights, 6);
	assert_int_equal(g.f.weights[0], 10);
	assert_int_equal(g.f.weights[4], 50);
	assert_int_equal(g.f.weights[5], 0);
	assert_int_equal(g.s.st.phase, PHASE_SUCCEEDED);
	assert_false(g.s.locked);
	assert_int_equal(journal_count(&g.s, "Advance shop/checkout"), 0);
	assert_int_equal(journal_count(&g.s, "Advance checkout.shop canary weight"), 5);
	assert_int_equal(journal_count(&g.s, "Promotion completed! Scaling down checkout.shop"), 1);
	assert_int_equal(journal_count(&g.s, "all the metrics providers are available!"), 1);
	assert_true(g.s.n_checks >= 10);
	assert_true(atomic_load(&g.sinks) >= g.s.n_journal + g.s.n_checks);
	assert_true(atomic_load(&g.notifies) >= 1);
}

/* A scaling the cluster refuses is a Warning with Flagger's text
 * (reference §7.2), and the rollout goes on. */
static void
test_runner_scale_refused(void **state)
{
	static const struct { bool up, down; const char *text; } rows[] = {
		{ false, true, "scaling down canary Deployment checkout.shop failed: forbidden" },
		{ true, false, "scaling up canary Deployment checkout.shop failed: forbidden" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct rig g;

		rig_init(&g);
		g.f.refuse_up = rows[i].up;
		g.f.refuse_down = rows[i].down;
		assert_int_equal(rig_run(&g, NULL), 0);
		if (journal_count(&g.s, rows[i].text) < 1)
			fail_msg("row %zu: no \"%s\" in the journal", i, rows[i].text);
	}
}

/* A failed rollout: exit outcome 1, failed checks and reason kept. */
static void
test_runner_failed(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g);
	g.f.success = 80;
	assert_int_equal(rig_run(&g, NULL), 1);
	assert_int_equal(g.s.st.phase, PHASE_FAILED);
	assert_int_equal(g.s.st.failed_checks, 5);
	assert_string_equal(g.s.st.reason, "request-success-rate 80.0% < 99%");
	assert_int_equal(journal_count(&g.s,
	    "Error checking metric providers: vector(1) returned nothing"), 1);
	assert_int_equal(g.f.promotions, 0);
	assert_int_equal(g.f.routes.canary, 0);
}

/* Held without data past the progress deadline: Failed, and no longer
 * HELD (a row read "Failed HELD"). */
static void
test_runner_failed_not_held(void **state)
{
	struct snapshot *snap;
	struct runner *r;
	struct rig g;

	(void)state;
	rig_init(&g);
	g.f.nodata = true;
	r = rig_start(&g, NULL);
	runner_wait(r);
	snap = runner_snapshot(r);
	assert_int_equal(snap->canaries[0].phase, PHASE_FAILED);
	assert_string_equal(snap->canaries[0].reason, "no traffic");
	assert_false(snap->canaries[0].held);
	assert_int_equal(snap->canaries[0].last_phase, PHASE_FAILED);
	snapshot_unref(snap);
	runner_stop(r);
	runner_free(r);
	assert_false(g.s.st.held);
}

/* A configuration validation refuses is refused by the engine too: shown
 * with the reason, never acted on, and a headless run ends with 1. */
static void
test_runner_refused_config(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct snapshot *snap;
	struct runner *r;
	struct rig g;

	(void)state;
	rig_init(&g);
	c->step_weight = -1;
	r = rig_start(&g, c);
	runner_wait(r);
	snap = runner_snapshot(r);
	assert_int_equal(snap->n_canaries, 1);
	assert_true(snap->canaries[0].refused);
	assert_false(snap->canaries[0].can_control);
	assert_non_null(strstr(snap->canaries[0].reason, "cannot drive shop/checkout: stepWeight -1"));
	/* its keys are judged on that too: none applies, and each says why */
	{
		char why[400];

		assert_true(snap->canaries[0].facts.refused);
		assert_false(command_allowed(CMD_ROLLBACK, &snap->canaries[0].facts, why, sizeof why,
		    NULL));
		assert_non_null(strstr(why, "cannot drive shop/checkout: stepWeight -1"));
	}
	snapshot_unref(snap);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 1);
	runner_free(r);
	assert_int_equal(g.f.mutations, 0);
	assert_int_equal(g.f.initializes, 0);
	assert_int_equal(g.s.saves, 0);
}

/* A provider the cluster cannot drive: one Error event with the reason,
 * then nothing more (not a warning at every tick), and outcome 1. */
static void
test_runner_unsupported_provider(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g);
	g.f.unsupported = true;
	assert_int_equal(rig_run(&g, NULL), 1);
	assert_int_equal(g.f.initializes, 1);
	assert_int_equal(journal_count(&g.s, "cannot drive shop/checkout: provider \"contour\" "
	    "is not supported on a cluster"), 1);
	assert_int_equal(g.s.n_journal, 1);
	assert_int_equal(g.f.n_weights, 0);	/* no route, no scale: nothing driven */
	assert_false(g.f.scaled_up);
	assert_int_equal(g.f.promote_calls, 0);
}

/* Commands come from another thread, as from the UI. */
struct commander {
	struct runner *r;
	int paused_weight;
	bool saw_refusal;
	bool weight_held;
	char rev_from[64], rev_to[64];
};

static void
send(struct runner *r, enum command_kind k)
{
	struct command cmd = { .kind = k };

	snprintf(cmd.canary, sizeof cmd.canary, "shop/checkout");
	snprintf(cmd.actor, sizeof cmd.actor, "tester@host");
	runner_command(r, &cmd);
}

static void
pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls snapshots until pred holds (at most ~10 s of real time). */
static struct snapshot *
await(struct runner *r, bool (*pred)(const struct snapshot *, void *), void *arg)
{
	int i;

	for (i = 0; i < 10000; i++) {
		struct snapshot *s = runner_snapshot(r);

		if (s->n_canaries > 0 && pred(s, arg))
			return s;
		snapshot_unref(s);
		pause_ms(1);
	}
	fail_msg("condition never held");
	return NULL;
}

static bool
is_paused(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->canaries[0].paused;
}

static bool
later_than(const struct snapshot *s, void *arg)
{
	return s->now_ms >= *(int64_t *)arg;
}

static bool
waits_promotion(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->canaries[0].phase == PHASE_WAITING_PROMOTION && s->canaries[0].gate == GATE_PROMOTION;
}

static bool
status_has(const struct snapshot *s, void *arg)
{
	return strstr(s->status_msg, (const char *)arg) != NULL;
}

static void *
commander_main(void *arg)
{
	struct commander *cm = arg;
	struct snapshot *s;
	int64_t until;

	/* The gate holds the canary at max weight, so nothing races. */
	s = await(cm->r, waits_promotion, NULL);
	snprintf(cm->rev_from, sizeof cm->rev_from, "%s", s->canaries[0].rev_from);
	snprintf(cm->rev_to, sizeof cm->rev_to, "%s", s->canaries[0].rev_to);
	snapshot_unref(s);
	send(cm->r, CMD_PAUSE);
	s = await(cm->r, is_paused, NULL);
	cm->paused_weight = s->canaries[0].weight;
	until = s->now_ms + 5 * 30000;
	snapshot_unref(s);
	s = await(cm->r, later_than, &until);
	cm->weight_held = s->canaries[0].weight == cm->paused_weight && s->canaries[0].paused;
	snapshot_unref(s);
	send(cm->r, CMD_RESUME);
	send(cm->r, CMD_RETRY);
	s = await(cm->r, status_has, "retry refused");
	cm->saw_refusal = true;
	snapshot_unref(s);
	send(cm->r, CMD_APPROVE);
	return NULL;
}

static void
test_runner_commands_from_thread(void **state)
{
	struct rig g;
	struct runner *r;
	struct commander cm = { 0 };
	pthread_t th;

	(void)state;
	rig_init(&g);
	g.rc.confirm = CONFIRM_PROMOTION;
	r = rig_start(&g, NULL);
	cm.r = r;
	assert_int_equal(pthread_create(&th, NULL, commander_main, &cm), 0);
	runner_wait(r);
	pthread_join(th, NULL);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_int_equal(cm.paused_weight, 50);
	assert_string_equal(cm.rev_from, "checkout:v1");
	assert_string_equal(cm.rev_to, "checkout:v2");
	assert_true(cm.weight_held);
	assert_true(cm.saw_refusal);
	assert_int_equal(journal_count(&g.s, "Paused by tester@host at canary weight 50"), 1);
	assert_int_equal(journal_count(&g.s, "Resumed by tester@host"), 1);
	assert_int_equal(journal_count(&g.s, "Refused retry from tester@host"), 1);
	assert_int_equal(journal_count(&g.s, "Revision checkout:v2 approved for promotion by tester@host"), 1);
	assert_int_equal(g.s.st.phase, PHASE_SUCCEEDED);
	assert_int_equal(g.f.promotions, 1);
}


/* ---- crash and resume --------------------------------------------------- */

static bool
dead_or_done(const struct snapshot *s, void *arg)
{
	struct fake *f = arg;

	return atomic_load(&f->dead) || phase_is_terminal(s->canaries[0].phase);
}

/* What a run must end with, whatever the crash point. */
struct crash_case {
	double success;			/* the canary's success rate */
	enum phase phase;
	int failed_checks;
	int weights[8];			/* the route changes, in order */
	int n_weights;
	int promotions;
	int outcome;
};

static const struct crash_case healthy_case = {
	99.9, PHASE_SUCCEEDED, 0, { 10, 20, 30, 40, 50, 0 }, 6, 1, 0,
};
static const struct crash_case failing_case = {
	80, PHASE_FAILED, 5, { 10, 0 }, 2, 0, 1,
};

static void
check_crash_end(const struct rig *g, const struct crash_case *cc, long k)
{
	int i;

	if (g->s.st.phase != cc->phase || g->s.st.failed_checks != cc->failed_checks ||
	    g->f.n_weights != cc->n_weights || g->f.promotions != cc->promotions)
		fail_msg("crash after %ld calls: %s, %d failed checks, %d weight changes, %d promotions",
		    k, phase_name(g->s.st.phase), g->s.st.failed_checks, g->f.n_weights, g->f.promotions);
	for (i = 0; i < cc->n_weights; i++)
		assert_int_equal(g->f.weights[i], cc->weights[i]);
	assert_true(g->f.promote_calls <= 2 * cc->promotions);
	for (i = 0; i < cc->n_weights; i++) {
		char text[64];

		snprintf(text, sizeof text, "Advance checkout.shop canary weight %d", cc->weights[i]);
		assert_true(journal_count(&g->s, text) <= 1);
	}
	assert_true(journal_count(&g->s, "Copying checkout.shop template spec") <= 1);
	/* A failed check is counted once, even when its tick ran twice. */
	assert_true(journal_count(&g->s, "Halt checkout.shop advancement success rate") <= 5);
	assert_true(journal_count(&g->s, "Canary failed! Scaling down") <= 1);
}

/* Runs the checkout rollout with the process "killed" after k mutating
 * calls (saves, routes, scale, promote), then restarts from what the store
 * kept.  Returns the number of mutating calls of the first run. */
static long
crash_and_resume(const struct crash_case *cc, long k, bool *completed)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;

	rig_init(&g);
	g.f.success = cc->success;
	g.f.crash_after = k;
	r = rig_start(&g, NULL);
	snap = await(r, dead_or_done, &g.f);
	snapshot_unref(snap);
	runner_free(r);		/* the dead process: nothing it does reaches the world */
	*completed = !atomic_load(&g.f.dead);
	if (*completed) {
		check_crash_end(&g, cc, k);
		return g.f.mutations;
	}

	/* Restart: same world, same store, same clock. */
	atomic_store(&g.f.dead, false);
	g.f.crash_after = -1;
	assert_int_equal(rig_run(&g, NULL), cc->outcome);
	check_crash_end(&g, cc, k);
	return k;
}

static void
test_runner_crash_resume(void **state)
{
	const struct crash_case *cases[] = { &healthy_case, &failing_case };
	bool completed = false;
	long k, total;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		total = crash_and_resume(cases[i], -1, &completed);
		assert_true(completed);
		assert_true(total > 8);
		for (k = 0; k < total; k++) {
			crash_and_resume(cases[i], k, &completed);
			assert_false(completed);
		}
	}
}

/* A resumed canary continues from its saved phase, weight and failed
 * checks: the routes are re-applied, the next step is the next one. */
static void
test_runner_resume_state(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g);
	g.f.v2 = true;
	g.f.scaled_up = true;
	g.f.routes = (struct routes){ .primary = 80, .canary = 20 };
	g.s.has_status = true;
	machine_status_init(&g.s.st, 0);
	g.s.st.phase = PHASE_PROGRESSING;
	g.s.st.canary_weight = 30;	/* saved, the routes were not set yet */
	g.s.st.failed_checks = 2;
	strcpy(g.s.st.last_applied, "v2");
	strcpy(g.s.st.last_promoted, "v1");
	g.s.st.next_tick_ms = atomic_load(&g.clock.now) + 10000;
	g.s.st.seq = 7;
	rig_run(&g, NULL);
	assert_int_equal(g.f.weights[0], 30);	/* re-applied, not advanced */
	assert_int_equal(g.f.weights[1], 40);
	assert_int_equal(g.f.weights[2], 50);
	assert_int_equal(g.f.weights[3], 0);
	assert_int_equal(g.f.n_weights, 4);
	assert_int_equal(g.s.st.phase, PHASE_SUCCEEDED);
	assert_true(g.s.st.seq > 7);
	assert_int_equal(journal_count(&g.s, "Advance checkout.shop canary weight"), 2);
}

/* ---- watch mode, corrupt state, control held elsewhere ------------------- */

static void
test_runner_observer(void **state)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;
	char err[256];
	int saves;

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;	/* any mutating call would be recorded as a crash */
	rig_saved_at_30(&g);
	saves = g.s.saves;
	g.rc.observer = true;
	g.rc.stop_when_done = false;
	r = runner_new(&g.rc);
	/* before the engine's first round, the header already has the time */
	snap = runner_snapshot(r);
	assert_int_equal(snap->now_ms, atomic_load(&g.clock.now));
	snapshot_unref(snap);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	snap = await(r, status_has, "");
	snapshot_unref(snap);
	send(r, CMD_ROLLBACK);
	snap = await(r, status_has, "read-only");
	assert_int_equal(snap->n_canaries, 1);
	assert_true(snap->read_only);
	assert_string_equal(snap->canaries[0].name, "checkout");
	assert_false(snap->canaries[0].can_control);
	snapshot_unref(snap);
	runner_stop(r);
	runner_free(r);
	assert_false(atomic_load(&g.f.dead));	/* no mutating call at all */
	assert_int_equal(g.s.saves, saves);
	assert_false(g.s.locked);
}

/* Flagger's view of a canary it drives: Progressing at 30%. */
static int
fk_external(void *ctx, const struct canary_cfg *c, struct canary_status *st,
    struct journal_rec *ev, size_t max, size_t *n_ev)
{
	(void)ctx; (void)c; (void)ev; (void)max;
	st->phase = PHASE_PROGRESSING;
	st->canary_weight = 30;
	*n_ev = 0;
	return ST_OK;
}

static bool
driven_at_30(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->n_canaries == 1 && s->canaries[0].driven_by[0] != '\0' &&
	    s->canaries[0].phase == PHASE_PROGRESSING && s->canaries[0].weight == 30;
}

/* Watch mode shows a canary Flagger drives from what Flagger publishes
 * (cluster_ops.external), read-only, writing nothing. */
static void
test_runner_observer_driven(void **state)
{
	struct cluster_ops cl = fake_cluster;
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct snapshot *snap;
	struct rig g;
	struct runner *r;
	char err[256];

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;	/* any mutating call would be recorded as a crash */
	cl.external = fk_external;
	g.rc.cluster = &cl;
	g.rc.observer = true;
	g.rc.stop_when_done = false;
	c->driven_by = strdup("Flagger (flagger-system/flagger)");
	r = runner_new(&g.rc);
	runner_add(r, c);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	snap = await(r, driven_at_30, NULL);
	assert_false(snap->canaries[0].can_control);
	snapshot_unref(snap);
	runner_stop(r);
	runner_free(r);
	assert_false(atomic_load(&g.f.dead));
	assert_int_equal(g.s.saves, 0);
}

static bool
observed_waiting(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->n_canaries == 1 && s->canaries[0].phase == PHASE_WAITING_PROMOTION;
}

/* The same canary looks the same to its controller and to a watcher: both
 * fill the snapshot from the status (what it waits for, the names of its
 * revisions, the reason), not from the controller's memory. */
static void
test_runner_watcher_sees_the_same(void **state)
{
	struct snapshot *mine, *seen;
	const struct snap_canary *a, *b;
	struct runner *r;
	struct rig g;
	char err[256];

	(void)state;
	rig_init(&g);
	g.rc.confirm = CONFIRM_PROMOTION;
	g.rc.stop_when_done = false;
	r = rig_start(&g, NULL);
	mine = await(r, waits_promotion, NULL);
	runner_stop(r);
	runner_free(r);
	g.rc.observer = true;
	g.rc.notify = NULL;
	r = runner_new(&g.rc);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	seen = await(r, observed_waiting, NULL);
	a = &mine->canaries[0];
	b = &seen->canaries[0];
	assert_int_equal(b->gate, GATE_PROMOTION);
	assert_int_equal(b->gate, a->gate);
	assert_int_equal(b->held, a->held);
	assert_int_equal(b->weight, a->weight);
	assert_string_equal(a->rev_from, "checkout:v1");
	assert_string_equal(a->rev_to, "checkout:v2");
	assert_string_equal(b->rev_from, a->rev_from);
	assert_string_equal(b->rev_to, a->rev_to);
	assert_string_equal(b->reason, a->reason);
	assert_true(b->run_since_ms > 0);
	assert_int_equal(b->run_since_ms, a->run_since_ms);
	assert_string_equal(seen->ns, "shop");	/* the namespace they all share */
	snapshot_unref(mine);
	snapshot_unref(seen);
	runner_stop(r);
	runner_free(r);
}

/* A controller's heartbeat as a watcher reads it (any thread). */
struct fake_beat {
	pthread_mutex_t mu;
	bool known, stopped, slow;
	int64_t age_ms;
};

static int
fb_read(void *ctx, const char *canary, struct heartbeat *out)
{
	struct fake_beat *b = ctx;
	int st = ST_NOTFOUND;

	(void)canary;
	pthread_mutex_lock(&b->mu);
	if (b->known) {
		memset(out, 0, sizeof *out);
		snprintf(out->controller, sizeof out->controller, "alice@host pid 7");
		snprintf(out->context, sizeof out->context, "prod-eu");
		out->every_ms = 1000;
		out->age_ms = b->age_ms;
		out->stopped = b->stopped;
		out->api_ok = true;
		out->metrics_ok = b->slow;
		out->metrics_degraded = b->slow;
		st = ST_OK;
	}
	pthread_mutex_unlock(&b->mu);
	return st;
}

static const struct heartbeat_ops fake_beat_ops = { .last = fb_read };

static void
fb_set(struct fake_beat *b, bool known, int64_t age, bool stopped)
{
	pthread_mutex_lock(&b->mu);
	b->known = known;
	b->age_ms = age;
	b->stopped = stopped;
	pthread_mutex_unlock(&b->mu);
}

static bool
ctl_is(const struct snapshot *s, void *arg)
{
	return s->ctl == *(const enum ctl_state *)arg;
}

static bool
metrics_slow(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->ctl == CTL_LIVE && s->metrics_degraded;
}

static bool
silent_12s(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->ctl == CTL_LOST && s->ctl_silent_ms / 1000 == 12;
}

/* A watcher knows whether the controller lives: from its heartbeat, lost
 * past three missed beats (with how long it has been silent), stopped,
 * alive again; the header shows the controller's context and, while it
 * lives, its backends' health (never "ok" for one that is gone). */
static void
test_runner_controller_liveness(void **state)
{
	struct fake_beat b = { .mu = PTHREAD_MUTEX_INITIALIZER };
	enum ctl_state want;
	struct snapshot *snap;
	struct runner *r;
	struct rig g;
	char err[256];

	(void)state;
	rig_init(&g);
	rig_saved_at_30(&g);
	g.rc.observer = true;
	g.rc.stop_when_done = false;
	g.rc.heartbeat = &fake_beat_ops;
	g.rc.heartbeat_ctx = &b;
	r = runner_new(&g.rc);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	want = CTL_UNKNOWN;
	snapshot_unref(await(r, ctl_is, &want));
	fb_set(&b, true, 300, false);
	want = CTL_LIVE;
	snap = await(r, ctl_is, &want);
	assert_string_equal(snap->context, "prod-eu");
	assert_true(snap->api_ok);
	assert_false(snap->metrics_ok);
	snapshot_unref(snap);
	fb_set(&b, true, 12400, false);
	snap = await(r, silent_12s, NULL);
	snapshot_unref(snap);
	fb_set(&b, true, 200, true);
	want = CTL_STOPPED;
	snapshot_unref(await(r, ctl_is, &want));
	fb_set(&b, true, 100, false);
	want = CTL_LIVE;
	snapshot_unref(await(r, ctl_is, &want));
	/* its metrics answer in part: the header says "degraded", as the
	 * controller's own does */
	pthread_mutex_lock(&b.mu);
	b.slow = true;
	pthread_mutex_unlock(&b.mu);
	snap = await(r, metrics_slow, NULL);
	assert_true(snap->metrics_ok);
	snapshot_unref(snap);
	runner_stop(r);
	runner_free(r);
}

static bool
shows_weight_30(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->canaries[0].weight == 30 && s->canaries[0].n_events == 1;
}

static void
test_runner_locked_elsewhere(void **state)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;
	g.s.holder = "bob@laptop";
	rig_saved_at_30(&g);
	/* a session affinity cookie (and a control character, never shown) */
	strcpy(g.s.st.affinity_cookie, "canary-session=QxZtRbNwKe\x1b");
	g.rc.stop_when_done = false;
	r = rig_start(&g, NULL);
	snap = await(r, shows_weight_30, NULL);
	assert_false(snap->canaries[0].can_control);
	assert_true(snap->read_only);
	assert_string_equal(snap->holder, "bob@laptop");
	assert_non_null(strstr(snap->canaries[0].sticky, "canary-session=QxZtRbNwKe"));
	assert_null(strchr(snap->canaries[0].sticky, '\x1b'));
	snapshot_unref(snap);
	send(r, CMD_PAUSE);
	snap = await(r, status_has, "controlled by bob@laptop");
	snapshot_unref(snap);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_free(r);
	assert_false(atomic_load(&g.f.dead));
}

/* Control not obtained (the store answered an error, not a holder):
 * nothing is written for the canary, neither at the failed start nor
 * afterwards, and the error says what failed. */
static void
test_runner_acquire_error_writes_nothing(void **state)
{
	struct rig g;
	struct runner *r;
	char err[256];

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;
	rig_saved_at_30(&g);
	g.s.acquire_rc = ST_NETWORK;
	r = runner_new(&g.rc);
	runner_add(r, fixture_canary("checkout", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_NETWORK);
	assert_non_null(strstr(err, "shop/checkout: cannot take control: lease default/perch-x"));
	assert_non_null(strstr(err, "connection refused"));
	runner_stop(r);
	runner_free(r);
	assert_int_equal(g.s.saves, 0);
	assert_int_equal(g.s.appends, 0);
	assert_int_equal(g.s.st.canary_weight, 30);	/* the saved status is untouched */
	assert_int_equal(g.s.st.phase, PHASE_PROGRESSING);
	assert_false(g.s.locked);
}

/* A start that fails on a later canary gives back the ones already taken
 * without writing them (their status is as loaded). */
static int
second_refused_acquire(void *ctx, const char *canary, const char *actor, char *holder,
    size_t sz, char *err)
{
	if (strcmp(canary, "shop/cart") == 0) {
		snprintf(err, ERRMSG_MAX, "cannot lock state/shop/cart/lock: Permission denied");
		return ST_IO;
	}
	return ms_acquire(ctx, canary, actor, holder, sz, err);
}

static void
test_runner_failed_start_writes_nothing(void **state)
{
	struct store_ops ops = mem_store;
	struct rig g;
	struct runner *r;
	char err[256];

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;
	rig_saved_at_30(&g);
	ops.acquire = second_refused_acquire;
	g.rc.store = &ops;
	r = runner_new(&g.rc);
	runner_add(r, fixture_canary("checkout", 2));
	runner_add(r, fixture_canary("cart", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_IO);
	assert_non_null(strstr(err, "shop/cart: cannot take control: cannot lock "
	    "state/shop/cart/lock: Permission denied"));
	runner_free(r);
	assert_int_equal(g.s.saves, 0);
	assert_int_equal(g.s.appends, 0);
	assert_false(g.s.locked);		/* checkout was given back */
}

static bool
shows_journal_error(const struct snapshot *s, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < s->canaries[0].n_events; i++)
		if (strstr(s->canaries[0].events[i].message, "cannot write the journal of shop/checkout: "
		    "cannot append to state/journal.jsonl: No space left on device") != NULL)
			return true;
	return false;
}

/* Journal appends that fail are an Error event (once), the journal that
 * works again says how much it lost, and the exit status is 3 although
 * the canary succeeded. */
static void
test_runner_journal_failure_visible(void **state)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;
	size_t i, errors = 0, again = 0;

	(void)state;
	rig_init(&g);
	g.s.append_fails = 4;
	r = rig_start(&g, NULL);
	runner_wait(r);
	snap = await(r, shows_journal_error, NULL);
	assert_int_equal(snap->canaries[0].phase, PHASE_SUCCEEDED);
	for (i = 0; i < snap->canaries[0].n_events; i++) {
		errors += strstr(snap->canaries[0].events[i].message, "cannot write the journal") != NULL;
		again += strstr(snap->canaries[0].events[i].message, "is written again; 4 records could "
		    "not be saved") != NULL;
	}
	snapshot_unref(snap);
	assert_int_equal(errors, 1);
	assert_int_equal(again, 1);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_free(r);
	assert_int_equal(journal_count(&g.s, "is written again"), 1);

	/* A store that keeps what it could not write (ST_AGAIN): said so,
	 * nothing counted as lost, the exit status still 3. */
	rig_init(&g);
	g.s.append_fails = 3;
	g.s.append_rc = ST_AGAIN;
	r = rig_start(&g, NULL);
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_free(r);
	assert_int_equal(journal_count(&g.s, "its records are kept and written when it can"), 0);
	assert_int_equal(journal_count(&g.s, "the journal of shop/checkout is written again"), 1);
	assert_int_equal(journal_count(&g.s, "could not be saved"), 0);
}

static bool
controls_it(const struct snapshot *s, void *arg)
{
	(void)arg;
	return s->canaries[0].can_control && !s->read_only;
}

/* An interactive run left read-only by another controller takes the
 * canary once that controller is gone, from its saved status, and says
 * so; a headless one does not (it reports the holder and ends). */
static void
test_runner_retakes_when_holder_gone(void **state)
{
	struct runner_health h;
	struct rig g;
	struct runner *r;
	struct snapshot *snap;

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;
	g.s.holder = "bob@laptop pid 4242";
	rig_saved_at_30(&g);
	g.rc.stop_when_done = false;
	r = rig_start(&g, NULL);
	snap = await(r, shows_weight_30, NULL);
	assert_true(snap->read_only);
	snapshot_unref(snap);
	runner_health(r, &h);
	assert_false(h.controls);	/* no heartbeat over bob's */
	atomic_store(&g.s.holder_gone, true);
	snap = await(r, controls_it, NULL);
	assert_int_equal(snap->canaries[0].weight, 30);	/* resumed where it was */
	snapshot_unref(snap);
	snap = await(r, status_has, "bob@laptop pid 4242 is gone; taken under control");
	snapshot_unref(snap);
	runner_health(r, &h);
	assert_true(h.controls);	/* its heartbeat starts */
	assert_true(g.s.locked);
	runner_stop(r);
	runner_health(r, &h);
	assert_true(h.controls);	/* let go at the stop: the last beat says so */
	runner_free(r);
	assert_false(g.s.locked);

	rig_init(&g);			/* headless: reported, never taken */
	g.f.crash_after = 0;
	g.s.holder = "bob@laptop pid 4242";
	rig_saved_at_30(&g);
	atomic_store(&g.s.holder_gone, false);
	r = rig_start(&g, NULL);
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_health(r, &h);
	assert_false(h.controls);	/* never beats, not even a last beat */
	runner_free(r);
	assert_int_equal(g.s.saves, 0);
}

static void
test_runner_corrupt(void **state)
{
	struct rig g;
	struct runner *r;
	char err[256];

	(void)state;
	rig_init(&g);
	g.f.crash_after = 0;
	g.s.load_rc = ST_CORRUPT;
	r = runner_new(&g.rc);
	runner_add(r, fixture_canary("checkout", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_CORRUPT);
	assert_non_null(strstr(err, "shop/checkout"));
	assert_non_null(strstr(err, "status.json:3:1: truncated"));
	assert_non_null(strstr(err, "refusing to control it"));
	assert_false(g.s.locked);	/* released */
	runner_free(r);
	assert_false(atomic_load(&g.f.dead));
	assert_int_equal(g.s.saves, 0);	/* never overwritten */
}


/* A headless run of a canary with nothing new to roll out ends once a tick
 * after initialization finds no new revision: exit 0. */
static void
test_runner_nothing_to_roll_out(void **state)
{
	struct rig g;

	(void)state;
	rig_init(&g);
	g.f.stay_v1 = true;
	assert_int_equal(rig_run(&g, NULL), 0);
	assert_int_equal(g.s.st.phase, PHASE_INITIALIZED);
	assert_int_equal(journal_count(&g.s, "Initialization done! checkout.shop"), 1);
	assert_int_equal(g.f.promotions, 0);
}


/* ---- runner_wake ---------------------------------------------------------
 * A clock that never moves: only a wake can bring a tick forward. */

static void
frozen_wait(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline)
{
	struct timespec ts;

	(void)ctx; (void)deadline;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 2000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cond, mu, &ts);
}

static const struct clock_ops frozen_ops = { .now_ms = vc_now, .wait = frozen_wait };

static bool
in_phase(const struct snapshot *s, void *arg)
{
	return s->canaries[0].phase == *(const enum phase *)arg;
}

/* An idle canary woken ticks at once and finds the new revision; a
 * progressing one keeps its schedule (no analysis step runs early). */
static void
test_runner_wake(void **state)
{
	static const enum phase initialized = PHASE_INITIALIZED, progressing = PHASE_PROGRESSING;
	struct rig g;
	struct runner *r;
	struct snapshot *s;
	char err[256];
	int weight, i;

	(void)state;
	rig_init(&g);
	g.f.stay_v1 = true;
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = false;
	r = runner_new(&g.rc);
	runner_wake(r, "shop/checkout");	/* before the start: nothing */
	runner_add(r, fixture_canary("checkout", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	snapshot_unref(await(r, in_phase, (void *)&initialized));
	atomic_store(&g.f.v2_now, true);
	pause_ms(50);
	s = runner_snapshot(r);
	assert_int_equal(s->canaries[0].phase, PHASE_INITIALIZED);	/* not before its tick */
	snapshot_unref(s);
	runner_wake(r, "shop/nothing");
	runner_wake(r, "shop/checkout");
	s = await(r, in_phase, (void *)&progressing);
	weight = s->canaries[0].weight;
	snapshot_unref(s);
	for (i = 0; i < 5; i++) {
		runner_wake(r, "shop/checkout");
		pause_ms(10);
	}
	s = runner_snapshot(r);
	assert_int_equal(s->canaries[0].phase, PHASE_PROGRESSING);
	assert_int_equal(s->canaries[0].weight, weight);
	snapshot_unref(s);
	runner_stop(r);
	runner_free(r);
	assert_int_equal(journal_count(&g.s, "New revision detected! Scaling up checkout.shop"), 1);
	assert_int_equal(journal_count(&g.s, "Advance checkout.shop canary weight 20"), 0);
}

/* runner_post / runner_replace: a new configuration from the next tick
 * on, then the canary's object deleted: no longer controlled, not counted. */
static void
replace_task(struct runner *r, void *arg)
{
	struct canary_cfg *cfg = arg;

	if (r == NULL) {		/* never ran */
		canary_cfg_free(cfg);
		return;
	}
	assert_int_equal(runner_replace(r, "shop/checkout", cfg), ST_OK);
}

/* A change that hands the canary to another controller (Flagger) while
 * perch drives it is refused: never both. */
static void
driven_task(struct runner *r, void *arg)
{
	struct canary_cfg *cfg = arg;

	if (r == NULL) {
		canary_cfg_free(cfg);
		return;
	}
	assert_int_equal(runner_replace(r, "shop/checkout", cfg), ST_INVALID);
}

static bool
says_driven(const struct snapshot *s, void *arg)
{
	(void)arg;
	return strstr(s->status_msg, "is driven by Flagger") != NULL && s->canaries[0].can_control &&
	    s->canaries[0].driven_by[0] == '\0';
}

static void
delete_task(struct runner *r, void *arg)
{
	int *ran = arg;

	*ran = r == NULL ? -1 : 1;
	if (r != NULL) {
		assert_int_equal(runner_replace(r, "shop/nothing", NULL), ST_NOTFOUND);
		assert_int_equal(runner_replace(r, "shop/checkout", NULL), ST_OK);
	}
}

static bool
interval_is(const struct snapshot *s, void *arg)
{
	return s->canaries[0].interval_s == *(int *)arg && s->canaries[0].n_metrics == 1;
}

static bool
not_controlled(const struct snapshot *s, void *arg)
{
	(void)arg;
	return !s->canaries[0].can_control;
}

/* runner_delete: a Canary with revertOnDeletion, marked for deletion and
 * holding the finalizer, is finalised (reverted) through the cluster and
 * then let go; a second call finds nothing to do. */
static void
delete_revert_task(struct runner *r, void *arg)
{
	int *ran = arg;

	*ran = r == NULL ? -1 : 1;
	if (r != NULL) {
		assert_int_equal(runner_delete(r, "shop/checkout", true), ST_OK);
		assert_int_equal(runner_delete(r, "shop/checkout", true), ST_NOTFOUND);
	}
}

static void
test_runner_delete_reverts(void **state)
{
	static const enum phase initialized = PHASE_INITIALIZED;
	struct canary_cfg *cfg = fixture_canary("checkout", 2);
	struct rig g;
	struct runner *r;
	int ran = 0;

	(void)state;
	rig_init(&g);
	g.f.stay_v1 = true;
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = true;
	cfg->revert_on_deletion = true;
	r = rig_start(&g, cfg);
	snapshot_unref(await(r, in_phase, (void *)&initialized));
	runner_post(r, delete_revert_task, &ran);
	snapshot_unref(await(r, not_controlled, NULL));
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_int_equal(ran, 1);
	assert_int_equal(g.f.finalized, 1);
	assert_true(g.f.finalize_revert);
	assert_int_equal(journal_count(&g.s, "Terminating canary checkout.shop"), 1);
	assert_int_equal(journal_count(&g.s, "Terminated canary checkout.shop: the target and the "
	    "routes are given back"), 1);
	assert_false(g.s.locked);		/* its lease released */
}

/* The finalisation of a deleted canary waits for its target: the routes
 * are given back only once the target is ready (here at the third check,
 * 3 s then 6 s later), and a failed finalisation is tried again after a
 * backoff until it is done, the reason shown meanwhile; the engine is not
 * blocked in between (a second deletion is answered at once). */
struct fin_case {
	struct fake *f;
	int ready_on_check, fails;
};

static void
delete_wait_task(struct runner *r, void *arg)
{
	struct fin_case *fc = arg;

	if (r == NULL)
		return;
	fc->f->canary_checks = 0;
	fc->f->ready_on_check = fc->ready_on_check;
	fc->f->finalize_fails = fc->fails;
	assert_int_equal(runner_delete(r, "shop/checkout", true), ST_OK);
	assert_int_equal(runner_delete(r, "shop/checkout", true), ST_OK);	/* under way */
}

static bool
last_event_says(const struct snapshot *s, void *arg)
{
	const struct snap_canary *c = &s->canaries[0];

	return c->n_events > 0 && strstr(c->events[c->n_events - 1].message, arg) != NULL;
}

/* A rig whose checkout canary (revertOnDeletion) is Initialized, on a
 * clock that moves only when the test moves it, then deleted. */
static struct runner *
fin_start(struct rig *g, struct fin_case *fc)
{
	static const enum phase initialized = PHASE_INITIALIZED;
	struct canary_cfg *cfg = fixture_canary("checkout", 2);
	struct runner *r;

	rig_init(g);
	g->f.stay_v1 = true;
	g->rc.clock = &frozen_ops;
	g->rc.stop_when_done = true;
	cfg->revert_on_deletion = true;
	cfg->interval_s = 60;
	r = rig_start(g, cfg);
	snapshot_unref(await(r, in_phase, (void *)&initialized));
	fc->f = &g->f;
	runner_post(r, delete_wait_task, fc);
	return r;
}

/* The first try did not finish: shown terminating, with reason. */
static void
fin_first(struct runner *r, const char *reason)
{
	struct snapshot *s = await(r, last_event_says, "tried again in 3s (try 1)");

	assert_true(s->canaries[0].terminating);
	assert_non_null(strstr(s->canaries[0].reason, reason));
	assert_true(s->canaries[0].facts.deleted);	/* commands refused */
	snapshot_unref(s);
}

static void
fin_end(struct rig *g, struct runner *r)
{
	snapshot_unref(await(r, not_controlled, NULL));
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_false(g->s.locked);
}

static void
test_runner_delete_waits_ready(void **state)
{
	struct fin_case fc = { .ready_on_check = 3 };
	struct rig g;
	struct runner *r;

	(void)state;
	r = fin_start(&g, &fc);
	fin_first(r, "checkout.shop not ready: waiting for rollout to finish");
	atomic_fetch_add(&g.clock.now, 3000);
	snapshot_unref(await(r, last_event_says, "tried again in 6s (try 2)"));
	atomic_fetch_add(&g.clock.now, 6000);
	fin_end(&g, r);
	assert_int_equal(g.f.finalized, 1);
	assert_int_equal(g.f.checks_at_finalize, 3);	/* never before it was ready */
	assert_true(g.f.finalize_revert);
	assert_true(g.f.scaled_up);
	assert_int_equal(journal_count(&g.s, "checkout.shop not ready"), 2);
	assert_int_equal(journal_count(&g.s, "Terminated canary checkout.shop"), 1);
}

static void
test_runner_delete_retries(void **state)
{
	struct fin_case fc = { .fails = 1 };
	struct rig g;
	struct runner *r;

	(void)state;
	r = fin_start(&g, &fc);
	fin_first(r, "finalising failed: virtualservice checkout.shop: conflict");
	atomic_fetch_add(&g.clock.now, 3000);
	fin_end(&g, r);
	assert_int_equal(g.f.finalized, 2);
	assert_int_equal(journal_count(&g.s, "the finalizer stays, tried again"), 1);
	assert_int_equal(journal_count(&g.s, "Terminated canary checkout.shop"), 1);
}

/* The Canary object goes (its finalizer removed by hand) while the
 * finalisation is tried again: the tries end. */
static void
test_runner_delete_gone(void **state)
{
	struct fin_case fc = { .fails = 1000 };
	struct rig g;
	struct runner *r;
	int ran = 0;

	(void)state;
	r = fin_start(&g, &fc);
	fin_first(r, "finalising failed");
	runner_post(r, delete_task, &ran);
	fin_end(&g, r);
	atomic_fetch_add(&g.clock.now, 60000);
	assert_int_equal(ran, 1);
	assert_int_equal(g.f.finalized, 1);
	assert_int_equal(journal_count(&g.s, "Terminated canary checkout.shop"), 0);
}

/* Its lease taken by another controller while the tries go on: this
 * runner stops trying (the holder finalises it) and shows it read-only. */
static bool
taken_elsewhere(const struct snapshot *s, void *arg)
{
	(void)arg;
	return !s->canaries[0].can_control && !s->canaries[0].terminating;
}

static void
test_runner_delete_lease_lost(void **state)
{
	struct fin_case fc = { .fails = 1000 };
	struct rig g;
	struct runner *r;

	(void)state;
	r = fin_start(&g, &fc);
	fin_first(r, "finalising failed");
	atomic_store(&g.s.stolen, true);
	atomic_fetch_add(&g.clock.now, 3000);
	snapshot_unref(await(r, taken_elsewhere, NULL));
	atomic_fetch_add(&g.clock.now, 60000);
	runner_stop(r);
	runner_free(r);
	assert_int_equal(g.f.finalized, 1);
}

static void
test_runner_replace(void **state)
{
	static const enum phase initialized = PHASE_INITIALIZED;
	struct canary_cfg *cfg = fixture_canary("checkout", 1);	/* one metric fewer */
	struct canary_cfg *driven;
	struct rig g;
	struct runner *r;
	char err[256];
	int interval = 45, ran = 0, late = 0;

	(void)state;
	rig_init(&g);
	g.f.stay_v1 = true;
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = true;
	r = runner_new(&g.rc);
	runner_add(r, fixture_canary("checkout", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	snapshot_unref(await(r, in_phase, (void *)&initialized));
	cfg->interval_s = 45;
	runner_post(r, replace_task, cfg);
	snapshot_unref(await(r, interval_is, &interval));
	driven = fixture_canary("checkout", 2);
	driven->driven_by = strdup("Flagger (flagger-system/flagger)");
	runner_post(r, driven_task, driven);
	snapshot_unref(await(r, says_driven, NULL));
	runner_post(r, delete_task, &ran);
	snapshot_unref(await(r, not_controlled, NULL));
	runner_wait(r);			/* nothing left to control: done */
	runner_stop(r);
	runner_post(r, delete_task, &late);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_int_equal(ran, 1);
	assert_int_equal(late, -1);
	assert_false(g.s.locked);
}

/* A canary Flagger drives follows its changed spec (a webhook added with
 * kubectl apply) while perch runs: what is shown of it and its keys use
 * the new configuration; nothing is taken or saved for it. */
static bool
driven_every(const struct snapshot *s, void *arg)
{
	return s->canaries[0].driven_by[0] != '\0' && s->canaries[0].interval_s == *(int *)arg &&
	    s->canaries[0].n_metrics == 1 && !s->canaries[0].can_control;
}

static void
test_runner_replace_driven(void **state)
{
	struct canary_cfg *first = fixture_canary("checkout", 2), *cfg = fixture_canary("checkout", 1);
	struct rig g;
	struct runner *r;
	char err[256];
	int interval = 45, saves;

	(void)state;
	rig_init(&g);
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = false;
	first->driven_by = strdup("Flagger (flagger-system/flagger)");
	r = runner_new(&g.rc);
	runner_add(r, first);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	saves = g.s.saves;
	cfg->interval_s = 45;
	cfg->driven_by = strdup("Flagger (flagger-system/flagger)");
	runner_post(r, replace_task, cfg);
	snapshot_unref(await(r, driven_every, &interval));
	runner_stop(r);
	runner_free(r);
	assert_int_equal(g.s.saves, saves);
	assert_false(g.s.locked);
}

static bool
controlled_every(const struct snapshot *s, void *arg)
{
	return s->canaries[0].can_control && s->canaries[0].interval_s == *(int *)arg;
}

/* A canary let go because its object was deleted is taken back when the
 * object is created again: its lease again, its saved status, the new spec;
 * its event history kept. */
static void
test_runner_revive(void **state)
{
	static const enum phase initialized = PHASE_INITIALIZED;
	struct canary_cfg *cfg = fixture_canary("checkout", 2);
	struct snapshot *snap;
	struct rig g;
	struct runner *r;
	char err[256];
	int interval = 50, ran = 0;
	size_t events;

	(void)state;
	rig_init(&g);
	g.f.stay_v1 = true;
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = false;	/* nothing to control for a while */
	r = runner_new(&g.rc);
	runner_add(r, fixture_canary("checkout", 2));
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	snapshot_unref(await(r, in_phase, (void *)&initialized));
	runner_post(r, delete_task, &ran);
	snap = await(r, not_controlled, NULL);
	events = snap->canaries[0].n_events;
	snapshot_unref(snap);
	assert_false(g.s.locked);
	cfg->interval_s = 50;
	runner_post(r, replace_task, cfg);
	snap = await(r, controlled_every, &interval);
	assert_true(snap->canaries[0].n_events >= events);	/* kept, not restarted */
	assert_int_equal(snap->canaries[0].phase, PHASE_INITIALIZED);	/* its saved status */
	snapshot_unref(snap);
	assert_true(g.s.locked);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);
	runner_free(r);
	assert_int_equal(ran, 1);
	assert_false(g.s.locked);
}

/* runner_adopt: a canary created while the runner runs joins it (or,
 * with key, runner_replace of key). */
struct adoption {
	struct canary_cfg *cfg;
	int rc;
	atomic_int ran;			/* 1 on the engine, -1 never ran */
	const char *key;
};

static void
adopt_task(struct runner *r, void *arg)
{
	struct adoption *a = arg;

	if (r == NULL) {
		canary_cfg_free(a->cfg);
		atomic_store(&a->ran, -1);
		return;
	}
	a->rc = a->key != NULL ? runner_replace(r, a->key, a->cfg) : runner_adopt(r, a->cfg);
	atomic_store(&a->ran, 1);
}

static const struct snap_canary *
snap_find(const struct snapshot *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++)
		if (strcmp(s->canaries[i].name, name) == 0)
			return &s->canaries[i];
	return NULL;
}

/* The adopted canary is shown: controlled and initialized by a tick, or
 * read-only (held elsewhere). */
static bool
adopted(const struct snapshot *s, void *arg)
{
	const bool *control = arg;
	const struct snap_canary *c = snap_find(s, "cart");

	return c != NULL && c->can_control == *control &&
	    (!*control || c->phase == PHASE_INITIALIZED);
}

static void
test_runner_adopt(void **state)
{
	static const enum phase initialized = PHASE_INITIALIZED;
	static const struct {
		const char *name, *held;
		int rc;
		bool control;
		size_t n;		/* canaries in the snapshot */
		int outcome;
	} cases[] = {
		{ "cart", NULL, ST_OK, true, 2, 0 },
		{ "cart", "shop/cart", ST_OK, false, 2, 3 },	/* read-only: infra */
		{ "checkout", NULL, ST_CONFLICT, true, 1, 0 },	/* known already */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct adoption a = { .cfg = fixture_canary(cases[i].name, 1) }, late = { 0 };
		struct snapshot *s;
		struct rig g;
		struct runner *r;
		char err[256];

		rig_init(&g);
		g.f.stay_v1 = true;
		g.s.fresh = "shop/cart";
		g.s.held = cases[i].held;
		g.rc.clock = &frozen_ops;
		g.rc.stop_when_done = false;
		r = runner_new(&g.rc);
		runner_add(r, fixture_canary("checkout", 2));
		assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
		snapshot_unref(await(r, in_phase, (void *)&initialized));
		runner_post(r, adopt_task, &a);
		if (cases[i].rc == ST_OK) {
			s = await(r, adopted, (void *)&cases[i].control);
		} else {
			while (atomic_load(&a.ran) == 0)
				pause_ms(1);
			s = runner_snapshot(r);
		}
		assert_int_equal(atomic_load(&a.ran), 1);
		assert_int_equal(a.rc, cases[i].rc);
		assert_int_equal(s->n_canaries, cases[i].n);
		if (cases[i].held != NULL)
			assert_string_equal(s->holder, "ops@elsewhere");
		snapshot_unref(s);
		runner_wake(r, "shop/cart");	/* known to the wake index */
		assert_int_equal(runner_outcome(r), cases[i].outcome);
		runner_stop(r);
		late.cfg = fixture_canary("late", 1);
		runner_post(r, adopt_task, &late);	/* stopped: given back */
		assert_int_equal(atomic_load(&late.ran), -1);
		assert_int_equal(runner_outcome(r), cases[i].outcome);
		runner_free(r);
		if (cases[i].rc == ST_OK && cases[i].control)
			assert_true(g.s.fresh_saves > 0);	/* its status, saved */
		else
			assert_int_equal(g.s.fresh_saves, 0);
		assert_false(g.s.locked);
	}
}

/* perch watch: a change of a Canary handed to an observer (key NULL: new;
 * else runner_replace of key); its answer. */
static int
observe_change(struct runner *r, const char *key, struct canary_cfg *cfg)
{
	struct adoption a = { .cfg = cfg, .key = key };

	runner_post(r, adopt_task, &a);
	while (atomic_load(&a.ran) == 0)
		pause_ms(1);
	assert_int_equal(atomic_load(&a.ran), 1);
	return a.rc;
}

static struct canary_cfg *
flagger_canary(const char *name)
{
	struct canary_cfg *c = fixture_canary(name, 1);

	c->driven_by = xstrdup("Flagger (flagger-system/flagger)");
	return c;
}

/* Whether the snapshot shows name (driven by Flagger). */
static bool
shows_driven(struct runner *r, const char *name)
{
	struct snapshot *s = runner_snapshot(r);
	const struct snap_canary *c = snap_find(s, name);
	bool shown = c != NULL;

	if (c != NULL)
		assert_string_equal(c->driven_by, "Flagger (flagger-system/flagger)");
	snapshot_unref(s);
	return shown;
}

/* An observer (perch watch) takes a new canary that another controller
 * drives, never one of perch's own; deleted, it is no longer shown;
 * created again, it is shown again. */
static void
test_runner_observe_driven(void **state)
{
	struct rig g;
	struct runner *r;
	char err[256];

	(void)state;
	rig_init(&g);
	g.rc.observer = true;
	g.rc.clock = &frozen_ops;
	g.rc.stop_when_done = false;
	r = runner_new(&g.rc);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	assert_int_equal(observe_change(r, NULL, fixture_canary("cart", 1)), ST_REFUSED);
	assert_int_equal(observe_change(r, NULL, flagger_canary("podinfo")), ST_OK);
	assert_true(shows_driven(r, "podinfo"));
	assert_int_equal(observe_change(r, NULL, flagger_canary("podinfo")), ST_CONFLICT);
	assert_int_equal(observe_change(r, "shop/podinfo", NULL), ST_OK);
	assert_false(shows_driven(r, "podinfo"));
	assert_int_equal(observe_change(r, "shop/podinfo", flagger_canary("podinfo")), ST_OK);
	assert_true(shows_driven(r, "podinfo"));
	runner_stop(r);
	runner_free(r);
	assert_false(g.s.locked);
}

static bool
lost_control(const struct snapshot *s, void *arg)
{
	(void)arg;
	return !s->canaries[0].can_control;
}

/* Losing the lease (another controller took it) stops every action. */
static void
test_runner_lease_lost(void **state)
{
	struct rig g;
	struct runner *r;
	struct snapshot *snap;
	int64_t until;

	(void)state;
	rig_init(&g);
	g.s.steal_at_20 = true;
	g.rc.stop_when_done = false;
	r = rig_start(&g, NULL);
	snap = await(r, lost_control, NULL);
	until = snap->now_ms + 10 * 30000;
	snapshot_unref(snap);
	snap = await(r, later_than, &until);
	assert_true(snap->read_only);
	snapshot_unref(snap);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_free(r);
	assert_int_equal(g.f.n_weights, 2);	/* 10, 20, then nothing */
	assert_int_equal(g.f.routes.canary, 20);
	assert_int_equal(g.f.promotions, 0);
}


/* ---- webhooks and cluster events through the runner --------------------- */

struct hooklog {
	int calls[HOOK__COUNT];
	enum phase phase[HOOK__COUNT];		/* the last payload phase per type */
	int events;				/* event hook calls */
	int event_warnings;
	char last_event[384];
	bool rollback_says_yes;
};

static size_t
fh_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	struct hooklog *h = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		enum hook_type t = calls[i].hook->type;

		h->calls[t]++;
		h->phase[t] = calls[i].phase;
		memset(&out[i], 0, sizeof out[i]);
		out[i].ok = t != HOOK_ROLLBACK || h->rollback_says_yes;
		out[i].http_status = out[i].ok ? 200 : 404;
		if (t == HOOK_EVENT) {
			h->events++;
			if (calls[i].event_type == SEV_WARNING)
				h->event_warnings++;
			snprintf(h->last_event, sizeof h->last_event, "%s", calls[i].event_message);
			assert_true(calls[i].event_time_ms > 0);
		}
		if (!out[i].ok)
			return i + 1;
	}
	return n;
}

static const struct webhook_ops fake_webhook = { .name = "fake", .call = fh_call };

static int
fk_emit(void *ctx, const struct canary_cfg *c, enum severity sev, const char *message)
{
	(void)c; (void)sev;
	assert_true(message[0] != '\0');
	((struct fake *)ctx)->emitted++;
	return ST_OK;
}

static void
test_runner_webhooks(void **state)
{
	struct cluster_ops cl = fake_cluster;
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct hooklog h = { 0 };
	struct rig g;

	(void)state;
	rig_init(&g);
	cl.emit_event = fk_emit;
	g.rc.cluster = &cl;
	g.rc.webhook = &fake_webhook;
	g.rc.webhook_ctx = &h;
	fixture_add_hook(c, "gate", HOOK_CONFIRM_ROLLOUT);
	fixture_add_hook(c, "load", HOOK_PRE_ROLLOUT);
	fixture_add_hook(c, "smoke", HOOK_ROLLOUT);
	fixture_add_hook(c, "abort", HOOK_ROLLBACK);
	fixture_add_hook(c, "done", HOOK_POST_ROLLOUT);
	fixture_add_hook(c, "slack", HOOK_EVENT);
	assert_int_equal(rig_run(&g, c), 0);
	assert_int_equal(h.calls[HOOK_CONFIRM_ROLLOUT], 1);
	assert_int_equal(h.phase[HOOK_CONFIRM_ROLLOUT], PHASE_INITIALIZED);
	assert_int_equal(h.calls[HOOK_PRE_ROLLOUT], 1);		/* first step only */
	assert_int_equal(h.phase[HOOK_PRE_ROLLOUT], PHASE_PROGRESSING);
	assert_int_equal(h.calls[HOOK_ROLLOUT], 5);		/* 20, 30, 40, 50, promote */
	assert_int_equal(h.calls[HOOK_ROLLBACK], 6);		/* every analysing tick */
	assert_int_equal(h.phase[HOOK_ROLLBACK], PHASE_PROGRESSING);
	assert_int_equal(h.calls[HOOK_POST_ROLLOUT], 1);
	assert_int_equal(h.phase[HOOK_POST_ROLLOUT], PHASE_SUCCEEDED);
	/* Every journalled event went to the event hook. */
	assert_int_equal(h.events, g.s.n_journal);
	assert_int_equal(g.f.emitted, g.s.n_journal);
	assert_string_equal(h.last_event, g.s.journal[g.s.n_journal - 1]);
	assert_int_equal(journal_count(&g.s, "Post-rollout check done passed"), 1);
	assert_int_equal(journal_count(&g.s, "Rollback hook abort not signaling a rollback"), 6);
}

/* ---- alerts (reference §6) ----------------------------------------------- */

struct alertlog {
	int to[4];			/* alerts received per provider index */
	int with_fields;
	char last[4][384];
};

static const char *const alert_providers[] = { "p-info", "p-warn", "p-error", "down" };

static int
fa_send(void *ctx, const struct alert_msg *m, char *err)
{
	struct alertlog *l = ctx;
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(m->alert->provider, alert_providers[i]) == 0)
			break;
	assert_true(i < 4);
	if (i == 3) {
		snprintf(err, ERRMSG_MAX, "slack: HTTP 503");
		return ST_HTTP;
	}
	l->to[i]++;
	if (m->n_fields == 4 && strcmp(m->fields[0].value, "Deployment/checkout.shop") == 0)
		l->with_fields++;
	snprintf(l->last[i], sizeof l->last[i], "%s %s", alert_severity_name(m->severity), m->message);
	return ST_OK;
}

static const struct alert_ops fake_alerts = { .name = "fake", .send = fa_send };

static void
add_alert(struct canary_cfg *c, const char *name, enum alert_severity sev, const char *provider)
{
	c->alerts = xreallocarray(c->alerts, c->n_alerts + 1, sizeof *c->alerts);
	memset(&c->alerts[c->n_alerts], 0, sizeof *c->alerts);
	c->alerts[c->n_alerts].name = xstrdup(name);
	c->alerts[c->n_alerts].severity = sev;
	c->alerts[c->n_alerts].provider = xstrdup(provider);
	c->n_alerts++;
}

/* Each entry gets the severities it asks for; a provider that fails is a
 * Warning event per alert, and the rollout goes on to its end. */
static void
test_runner_alerts(void **state)
{
	static const struct {
		double success;
		int outcome;
		int to[3];
		const char *last[3];
		int with_fields;
	} rows[] = {
		{ 99.9, 0, { 3, 0, 0 },
		  { "info Canary analysis completed successfully, promotion finished.", "", "" }, 2 },
		{ 80, 1, { 3, 1, 1 },
		  { "error Failed checks threshold reached 5", "error Failed checks threshold reached 5",
		    "error Failed checks threshold reached 5" }, 2 },
	};
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct canary_cfg *c = fixture_canary("checkout", 2);
		struct alertlog l;
		struct rig g;

		memset(&l, 0, sizeof l);
		rig_init(&g);
		g.f.success = rows[i].success;
		g.rc.alert = &fake_alerts;
		g.rc.alert_ctx = &l;
		add_alert(c, "all", ALERT_INFO, "p-info");
		add_alert(c, "warnings", ALERT_WARN, "p-warn");
		add_alert(c, "errors", ALERT_ERROR, "p-error");
		add_alert(c, "broken", ALERT_INFO, "down");
		assert_int_equal(rig_run(&g, c), rows[i].outcome);
		for (k = 0; k < 3; k++) {
			assert_int_equal(l.to[k], rows[i].to[k]);
			assert_string_equal(l.last[k], rows[i].last[k]);
		}
		assert_int_equal(l.with_fields, rows[i].with_fields);
		assert_int_equal(journal_count(&g.s,
		    "Alert broken to AlertProvider shop/down not sent: slack: HTTP 503"), 3);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runner_rollout),
		cmocka_unit_test(test_runner_failed),
		cmocka_unit_test(test_runner_failed_not_held),
		cmocka_unit_test(test_runner_refused_config),
		cmocka_unit_test(test_runner_unsupported_provider),
		cmocka_unit_test(test_runner_commands_from_thread),
		cmocka_unit_test(test_runner_crash_resume),
		cmocka_unit_test(test_runner_resume_state),
		cmocka_unit_test(test_runner_observer),
		cmocka_unit_test(test_runner_observer_driven),
		cmocka_unit_test(test_runner_watcher_sees_the_same),
		cmocka_unit_test(test_runner_controller_liveness),
		cmocka_unit_test(test_runner_locked_elsewhere),
		cmocka_unit_test(test_runner_corrupt),
		cmocka_unit_test(test_runner_acquire_error_writes_nothing),
		cmocka_unit_test(test_runner_failed_start_writes_nothing),
		cmocka_unit_test(test_runner_journal_failure_visible),
		cmocka_unit_test(test_runner_retakes_when_holder_gone),
		cmocka_unit_test(test_runner_scale_refused),
		cmocka_unit_test(test_runner_nothing_to_roll_out),
		cmocka_unit_test(test_runner_lease_lost),
		cmocka_unit_test(test_runner_webhooks),
		cmocka_unit_test(test_runner_alerts),
		cmocka_unit_test(test_runner_wake),
		cmocka_unit_test(test_runner_replace),
		cmocka_unit_test(test_runner_delete_reverts),
		cmocka_unit_test(test_runner_delete_waits_ready),
		cmocka_unit_test(test_runner_delete_retries),
		cmocka_unit_test(test_runner_delete_gone),
		cmocka_unit_test(test_runner_delete_lease_lost),
		cmocka_unit_test(test_runner_replace_driven),
		cmocka_unit_test(test_runner_adopt),
		cmocka_unit_test(test_runner_observe_driven),
		cmocka_unit_test(test_runner_revive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
