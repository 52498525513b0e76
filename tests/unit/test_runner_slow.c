/* test_runner_slow.c — a slow backend of one canary must not stall the
 * others beyond one call's own timeout (issue 4); and the takes of the
 * canaries of a replica that died run at once, not one after the other
 * (issue 14: a slow store, test_takes_run_at_once).  A manual clock
 * (helper_clock.h) that the providers move on: every webhook call of the
 * "slow" canary takes its whole timeout; the other canaries answer at once.  The test measures how late
 * the quick canaries' ticks run (their readiness calls against their
 * deadlines) and checks that the slow one still finishes, its post-rollout
 * hooks stopping at the first that answers "no". */
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

#include "engine/runner.h"
#include "tests/unit/helper_canary.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

#define N_QUICK    3
#define HOOK_MS    5000		/* the slow canary's webhook timeout */
#define INTERVAL_S 30		/* fixture_canary's interval */
#define N_TAKE     8		/* canaries of the replica that dies */
#define TAKE_MS    200		/* real time of each take of one */

/* ---- the world ----------------------------------------------------------- */

struct quick {
	int64_t ticks[64];		/* clock at each canary readiness call */
	size_t n;
};

struct world {
	struct mclock clock;
	int revisions[N_QUICK + 1 + N_TAKE];	/* revision calls per canary */
	struct quick quick[N_QUICK];
	atomic_int hook_calls;
	atomic_int post_calls[3];		/* notify-a, notify-b (answers "no"), notify-c */
};

static int
canary_index(const struct canary_cfg *c)
{
	if (strncmp(c->name, "take-", 5) == 0)
		return N_QUICK + 1 + atoi(c->name + strlen("take-"));
	return strcmp(c->name, "slow") == 0 ? N_QUICK : atoi(c->name + strlen("quick-"));
}

static int
w_initialize(void *ctx, const struct canary_cfg *c, char *err)
{
	(void)ctx; (void)c; (void)err;
	return ST_OK;
}

/* v1 at initialization, v2 from then on: one rollout each. */
static int
w_revision(void *ctx, const struct canary_cfg *c, struct revision *out, char *err)
{
	struct world *w = ctx;

	(void)err;
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", w->revisions[canary_index(c)]++ ? "v2" : "v1");
	return ST_OK;
}

static int
w_readiness(void *ctx, const struct canary_cfg *c, enum workload wl, int64_t now,
    struct readiness *out)
{
	struct world *w = ctx;
	int i = canary_index(c);

	(void)now;
	out->ready = true;
	if (wl == WL_CANARY && i < N_QUICK && w->quick[i].n < 64)
		w->quick[i].ticks[w->quick[i].n++] = atomic_load(&w->clock.now);
	return ST_OK;
}

static int
w_scale(void *ctx, const struct canary_cfg *c, bool up, char *err)
{
	(void)ctx; (void)c; (void)up; (void)err;
	return ST_OK;
}

static int
w_promote(void *ctx, const struct canary_cfg *c, char *err)
{
	(void)ctx; (void)c; (void)err;
	return ST_OK;
}

static int
w_set_routes(void *ctx, const struct canary_cfg *c, const struct routes *r, char *err)
{
	(void)ctx; (void)c; (void)r; (void)err;
	return ST_OK;
}

static int
w_get_routes(void *ctx, const struct canary_cfg *c, struct routes *out, char *err)
{
	(void)ctx; (void)c; (void)err;
	out->primary = 100;
	out->canary = 0;
	out->mirrored = false;
	return ST_OK;
}

static const struct cluster_ops world_cluster = {
	.name = "world", .initialize = w_initialize, .revision = w_revision,
	.readiness = w_readiness, .scale = w_scale, .promote = w_promote,
	.set_routes = w_set_routes, .get_routes = w_get_routes,
};

static int
w_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		out[i].result = CHECK_PASS;
		out[i].value = q[i].metric->kind == METRIC_DURATION ? 200 : 99.9;
	}
	return ST_OK;
}

static const struct metrics_ops world_metrics = { .name = "world", .eval = w_eval };

/* Every call of a tick's hooks takes its whole timeout of the clock and
 * then answers: rollback hooks "no" (no rollback wanted), the others "yes".
 * Event and post-rollout hooks are called on the runner's notifier thread,
 * where they hold up no tick: they answer without moving the clock (their
 * real slowness is test_runner_notify's subject).  Called from both
 * threads, hence the atomics. */
static size_t
w_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	struct world *w = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		enum hook_type t = calls[i].hook->type;

		if (t != HOOK_EVENT && t != HOOK_POST_ROLLOUT)
			atomic_fetch_add(&w->clock.now, calls[i].hook->timeout_ms);
		atomic_fetch_add(&w->hook_calls, 1);
		memset(&out[i], 0, sizeof out[i]);
		out[i].ok = calls[i].hook->type != HOOK_ROLLBACK &&
		    strcmp(calls[i].hook->name, "notify-b") != 0;
		out[i].http_status = out[i].ok ? 200 : 404;
		if (calls[i].hook->type == HOOK_POST_ROLLOUT)
			atomic_fetch_add(&w->post_calls[calls[i].hook->name[strlen("notify-")] - 'a'], 1);
		if (!out[i].ok && calls[i].hook->type != HOOK_ROLLBACK)
			return i + 1;	/* the first failure stops the rest */
	}
	return n;
}

static const struct webhook_ops world_webhook = { .name = "world", .call = w_call };

/* ---- canaries ------------------------------------------------------------ */

static void
add_hook(struct canary_cfg *c, const char *name, enum hook_type t)
{
	fixture_add_hook(c, name, t)->timeout_ms = HOOK_MS;
}

/* The slow canary: every hook type that a progressing tick calls, and an
 * event hook called for each of its events. */
static struct canary_cfg *
slow_canary(void)
{
	struct canary_cfg *c = fixture_canary("slow", 1);

	add_hook(c, "rollback-gate", HOOK_ROLLBACK);
	add_hook(c, "load-test", HOOK_ROLLOUT);
	add_hook(c, "traffic-gate", HOOK_CONFIRM_TRAFFIC_INCREASE);
	add_hook(c, "events", HOOK_EVENT);
	add_hook(c, "more-events", HOOK_EVENT);
	add_hook(c, "notify-a", HOOK_POST_ROLLOUT);
	add_hook(c, "notify-b", HOOK_POST_ROLLOUT);
	add_hook(c, "notify-c", HOOK_POST_ROLLOUT);
	return c;
}

/* ---- the measurement ----------------------------------------------------- */

static void
test_slow_canary_does_not_stall_others(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	struct runner_config rc = {
		.cluster = &world_cluster, .cluster_ctx = w,
		.metrics = &world_metrics, .metrics_ctx = w,
		.webhook = &world_webhook, .webhook_ctx = w,
		.clock = &mclock_ops, .clock_ctx = &w->clock,
		.actor = "ci@runner", .context = "TEST", .stop_when_done = true,
	};
	struct runner *r;
	char err[256], name[32];
	int64_t worst = 0;
	size_t i, k;

	(void)state;
	atomic_init(&w->clock.now, 1000000);
	r = runner_new(&rc);
	runner_add(r, slow_canary());	/* first: due first, ahead of the others */
	for (i = 0; i < N_QUICK; i++) {
		snprintf(name, sizeof name, "quick-%zu", i);
		runner_add(r, fixture_canary(name, 1));
	}
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	runner_wait(r);
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 0);		/* the slow one finished too */
	for (i = 0; i < N_QUICK; i++) {
		assert_true(w->quick[i].n >= 5);
		for (k = 1; k < w->quick[i].n; k++) {
			int64_t late = w->quick[i].ticks[k] - w->quick[i].ticks[k - 1] -
			    INTERVAL_S * 1000;

			if (late > worst)
				worst = late;
		}
	}
	print_message("slow backends: %d webhook calls of %d ms; quick canaries at most %lld ms late\n",
	    atomic_load(&w->hook_calls), HOOK_MS, (long long)worst);
	/* One call of the slow canary at most, never the sum of its calls. */
	assert_true(worst <= HOOK_MS);
	assert_true(atomic_load(&w->hook_calls) > 10);
	/* Post-rollout hooks, one call each, still stop at the first "no". */
	assert_int_equal(atomic_load(&w->post_calls[0]), 1);
	assert_int_equal(atomic_load(&w->post_calls[1]), 1);
	assert_int_equal(atomic_load(&w->post_calls[2]), 0);
	runner_free(r);
	free(w);
}

/* ---- a replica that dies: its canaries taken at once --------------------
 *
 * The store: another replica holds every canary's lease until it dies;
 * from then on each take (acquire) takes TAKE_MS of real time, as a Lease
 * write to a loaded API server does.  It counts the takes at once and when
 * the first began and the last ended.  Any thread (the take workers). */
struct dead_replica {
	atomic_bool dead;
	atomic_int in_flight, most_at_once, taken;
	_Atomic int64_t first_ms, last_ms;
};

static int
dr_acquire(void *ctx, const char *canary, const char *actor, char *holder, size_t sz, char *err)
{
	struct dead_replica *d = ctx;
	struct timespec ts = { 0, TAKE_MS * 1000000L };
	int64_t zero = 0, t0 = clock_monotonic_ms();
	int now, most;

	(void)canary; (void)actor; (void)err;
	if (!atomic_load(&d->dead)) {
		snprintf(holder, sz, "ctl-a pid 1");
		return ST_LOCKED;
	}
	atomic_compare_exchange_strong(&d->first_ms, &zero, t0);
	now = atomic_fetch_add(&d->in_flight, 1) + 1;
	most = atomic_load(&d->most_at_once);
	while (now > most && !atomic_compare_exchange_weak(&d->most_at_once, &most, now))
		;
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&d->in_flight, 1);
	atomic_store(&d->last_ms, clock_monotonic_ms());
	atomic_fetch_add(&d->taken, 1);
	return ST_OK;
}

static int
dr_key(void *ctx, const char *canary)
{
	(void)ctx; (void)canary;
	return ST_OK;
}

static int
dr_load(void *ctx, const char *canary, struct canary_status *out, char *err)
{
	(void)ctx; (void)canary; (void)out; (void)err;
	return ST_NOTFOUND;
}

static int
dr_save(void *ctx, const char *canary, const struct canary_status *st, char *err)
{
	(void)ctx; (void)canary; (void)st; (void)err;
	return ST_OK;
}

static int
dr_append(void *ctx, const struct journal_rec *rec, char *err)
{
	(void)ctx; (void)rec; (void)err;
	return ST_OK;
}

static const struct store_ops dead_replica_store = {
	.name = "dead-replica", .acquire = dr_acquire, .renew = dr_key, .release = dr_key,
	.load = dr_load, .save = dr_save, .append = dr_append,
};

static bool
controls_all(struct runner *r)
{
	struct snapshot *s = runner_snapshot(r);
	size_t i, n = 0;

	for (i = 0; i < s->n_canaries; i++)
		n += s->canaries[i].can_control;
	snapshot_unref(s);
	return n == N_TAKE;
}

/* N_TAKE canaries held by a replica that dies: the survivor (an
 * interactive run, which takes a canary once its holder is gone) takes
 * them all in less than half the time of N_TAKE takes in a row. */
static void
test_takes_run_at_once(void **state)
{
	struct world *w = xcalloc(1, sizeof *w);
	struct dead_replica *d = xcalloc(1, sizeof *d);
	struct runner_config rc = {
		.cluster = &world_cluster, .cluster_ctx = w,
		.metrics = &world_metrics, .metrics_ctx = w,
		.webhook = &world_webhook, .webhook_ctx = w,
		.store = &dead_replica_store, .store_ctx = d,
		.clock = &mclock_ops, .clock_ctx = &w->clock,
		.actor = "ctl-b", .context = "TEST",
	};
	struct timespec ms = { 0, 1000000L };
	struct runner *r;
	char err[256], name[32];
	int64_t took;
	int i;

	(void)state;
	atomic_init(&w->clock.now, 1000000);
	r = runner_new(&rc);
	for (i = 0; i < N_TAKE; i++) {
		snprintf(name, sizeof name, "take-%d", i);
		runner_add(r, fixture_canary(name, 1));
	}
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	assert_false(controls_all(r));		/* all held by ctl-a */
	atomic_store(&d->dead, true);
	for (i = 0; i < 20000 * test_timeout_scale() && !controls_all(r); i++)
		nanosleep(&ms, NULL);
	assert_true(controls_all(r));
	runner_stop(r);
	runner_free(r);
	took = atomic_load(&d->last_ms) - atomic_load(&d->first_ms);
	print_message("%d takes of %d ms each: %lld ms from the first to the last, %d at once\n",
	    atomic_load(&d->taken), TAKE_MS, (long long)took, atomic_load(&d->most_at_once));
	assert_int_equal(atomic_load(&d->taken), N_TAKE);
	assert_true(took < N_TAKE * TAKE_MS / 2);
	assert_true(atomic_load(&d->most_at_once) > 1);
	free(d);
	free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_canary_does_not_stall_others),
		cmocka_unit_test(test_takes_run_at_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
