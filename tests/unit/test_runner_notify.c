/* test_runner_notify.c — notifications (cluster events, event webhooks,
 * alerts) go out on the runner's notifier thread: a receiver that hangs
 * never delays a command, they are sent in order, what is pending at stop
 * is still sent, and an alert that fails is still a Warning event.
 *
 * A scaled clock (1000 times real time: the 30 s interval is 30 ms) and
 * providers that answer at once, except the AlertProvider "slow", whose
 * first alert blocks until the test releases it (at most 10 s), and
 * "down", which always fails.  PERCH_TEST_TIMEOUT_SCALE=N (valgrind)
 * stretches the bound on a command's delay. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"
#include "engine/runner.h"
#include "tests/unit/helper_canary.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"
#include "util/xalloc.h"

#define MAX_LOG    512
#define COMMAND_MS 200		/* a command takes effect within this */
#define RELEASE_MS 300		/* the stop row: the hung alert's release */

/* ---- the world: what reached each receiver, in order ---------------------- */

struct world {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int revisions;
	bool blocking, release;		/* the first "slow" alert hangs */
	int slow_alerts, down_alerts;
	/* under mu */
	char *emitted[MAX_LOG];		/* cluster events */
	size_t n_emitted;
	char *hooked[MAX_LOG];		/* event webhook calls */
	size_t n_hooked;
	char *journal[MAX_LOG];		/* events as the runner published them */
	size_t n_journal;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
log_add(struct world *w, char **log, size_t *n, const char *msg)
{
	pthread_mutex_lock(&w->mu);
	if (*n < MAX_LOG)
		log[(*n)++] = xstrdup(msg);
	pthread_mutex_unlock(&w->mu);
}

static int
w_ok(void *ctx, const struct canary_cfg *c, char *err)
{
	(void)ctx; (void)c; (void)err;
	return ST_OK;
}

static int
w_revision(void *ctx, const struct canary_cfg *c, struct revision *out, char *err)
{
	struct world *w = ctx;

	(void)c; (void)err;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&w->mu);
	snprintf(out->id, sizeof out->id, "%s", w->revisions++ ? "v2" : "v1");
	pthread_mutex_unlock(&w->mu);
	return ST_OK;
}

static int
w_readiness(void *ctx, const struct canary_cfg *c, enum workload wl, int64_t now,
    struct readiness *out)
{
	(void)ctx; (void)c; (void)wl; (void)now;
	memset(out, 0, sizeof *out);
	out->ready = true;
	return ST_OK;
}

static int
w_scale(void *ctx, const struct canary_cfg *c, bool up, char *err)
{
	(void)ctx; (void)c; (void)up; (void)err;
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
	memset(out, 0, sizeof *out);
	out->primary = 100;
	return ST_OK;
}

static int
w_emit(void *ctx, const struct canary_cfg *c, enum severity sev, const char *message)
{
	struct world *w = ctx;

	(void)c; (void)sev;
	log_add(w, w->emitted, &w->n_emitted, message);
	return ST_OK;
}

static const struct cluster_ops world_cluster = {
	.name = "world", .initialize = w_ok, .revision = w_revision,
	.readiness = w_readiness, .scale = w_scale, .promote = w_ok,
	.set_routes = w_set_routes, .get_routes = w_get_routes, .emit_event = w_emit,
};

static int
w_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	size_t i;

	(void)ctx; (void)q;
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].result = CHECK_PASS;
		out[i].value = 99.9;
	}
	return ST_OK;
}

static const struct metrics_ops world_metrics = { .name = "world", .eval = w_eval };

static size_t
w_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	struct world *w = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].ok = true;
		out[i].http_status = 200;
		if (calls[i].hook->type == HOOK_EVENT)
			log_add(w, w->hooked, &w->n_hooked, calls[i].event_message);
	}
	return n;
}

static const struct webhook_ops world_webhook = { .name = "world", .call = w_call };

/* "slow": the first alert hangs until released; "down": always fails. */
static int
w_send(void *ctx, const struct alert_msg *m, char *err)
{
	struct world *w = ctx;

	pthread_mutex_lock(&w->mu);
	if (strcmp(m->alert->provider, "down") == 0) {
		w->down_alerts++;
		pthread_mutex_unlock(&w->mu);
		snprintf(err, ERRMSG_MAX, "chat: HTTP 503");
		return ST_HTTP;
	}
	if (w->slow_alerts++ == 0) {
		struct timespec ts;

		w->blocking = true;
		pthread_cond_broadcast(&w->cond);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		while (!w->release)
			if (pthread_cond_timedwait(&w->cond, &w->mu, &ts) != 0)
				break;
		w->blocking = false;
	}
	pthread_mutex_unlock(&w->mu);
	return ST_OK;
}

static const struct alert_ops world_alerts = { .name = "world", .send = w_send };

static void
w_sink(void *arg, const struct journal_rec *rec)
{
	struct world *w = arg;

	if (rec->kind == REC_EVENT)
		log_add(w, w->journal, &w->n_journal, rec->message);
}

static void
world_init(struct world *w)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static void
world_fini(struct world *w)
{
	size_t i;

	for (i = 0; i < w->n_emitted; i++)
		free(w->emitted[i]);
	for (i = 0; i < w->n_hooked; i++)
		free(w->hooked[i]);
	for (i = 0; i < w->n_journal; i++)
		free(w->journal[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
}

/* ---- helpers ---------------------------------------------------------------- */

static void
add_alert(struct canary_cfg *c, const char *name, const char *provider)
{
	c->alerts = xreallocarray(c->alerts, c->n_alerts + 1, sizeof *c->alerts);
	memset(&c->alerts[c->n_alerts], 0, sizeof *c->alerts);
	c->alerts[c->n_alerts].name = xstrdup(name);
	c->alerts[c->n_alerts].severity = ALERT_INFO;
	c->alerts[c->n_alerts].provider = xstrdup(provider);
	c->n_alerts++;
}

static struct canary_cfg *
notify_canary(void)
{
	struct canary_cfg *c = fixture_canary("checkout", 0);

	fixture_add_hook(c, "events", HOOK_EVENT);
	add_alert(c, "chat", "slow");
	add_alert(c, "pager", "down");
	return c;
}

static struct runner *
start(struct world *w, struct perch_clock *clk, unsigned confirm)
{
	struct runner_config rc = {
		.cluster = &world_cluster, .cluster_ctx = w,
		.metrics = &world_metrics, .metrics_ctx = w,
		.webhook = &world_webhook, .webhook_ctx = w,
		.clock = &perch_clock_ops, .clock_ctx = clk,
		.alert = &world_alerts, .alert_ctx = w,
		.sink = w_sink, .sink_arg = w,
		.actor = "ci@runner", .context = "TEST", .stop_when_done = true,
		.confirm = confirm,
	};
	struct runner *r;
	char err[256];

	r = runner_new(&rc);
	runner_add(r, notify_canary());
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	return r;
}

static void
await_blocking(struct world *w)
{
	pthread_mutex_lock(&w->mu);
	while (!w->blocking)
		pthread_cond_wait(&w->cond, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void
release(struct world *w)
{
	pthread_mutex_lock(&w->mu);
	w->release = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

/* Releases the hung alert after RELEASE_MS (a thread of the stop row). */
static void *
releaser_main(void *arg)
{
	struct timespec ts = { 0, RELEASE_MS * 1000000L };

	nanosleep(&ts, NULL);
	release(arg);
	return NULL;
}

static int64_t
command_bound_ms(void)
{
	return COMMAND_MS * test_timeout_scale();
}

static void
send(struct runner *r, enum command_kind k)
{
	struct command cmd = { .kind = k };

	snprintf(cmd.canary, sizeof cmd.canary, "shop/checkout");
	snprintf(cmd.actor, sizeof cmd.actor, "tester@host");
	runner_command(r, &cmd);
}

/* Polls snapshots (1 ms apart, at most 10 s) until the canary's phase is
 * `phase` (or, with phase < 0, until it is paused); the time it took. */
static int64_t
await_canary(struct runner *r, int phase)
{
	int64_t t0 = mono_ms();
	struct timespec ms = { 0, 1000000L };
	int i;

	for (i = 0; i < 10000; i++) {
		struct snapshot *s = runner_snapshot(r);
		bool ok = s->n_canaries > 0 && (phase < 0 ? s->canaries[0].paused :
		    (int)s->canaries[0].phase == phase);

		snapshot_unref(s);
		if (ok)
			return mono_ms() - t0;
		nanosleep(&ms, NULL);
	}
	fail_msg("the canary never got there");
	return -1;
}

static size_t
count_prefix(char *const *log, size_t n, const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += strncmp(log[i], prefix, strlen(prefix)) == 0;
	return k;
}

/* Every published event reached the cluster and the event hook, in the
 * order it was published; each failed alert is one Warning event. */
static void
check_delivery(struct world *w)
{
	size_t i;

	assert_true(w->n_journal > 3);
	assert_int_equal(w->n_emitted, w->n_journal);
	assert_int_equal(w->n_hooked, w->n_journal);
	for (i = 0; i < w->n_journal; i++) {
		assert_string_equal(w->emitted[i], w->journal[i]);
		assert_string_equal(w->hooked[i], w->journal[i]);
	}
	assert_true(w->down_alerts >= 1);
	assert_int_equal(count_prefix(w->journal, w->n_journal,
	    "Alert pager to AlertProvider shop/down not sent: chat: HTTP 503"),
	    (size_t)w->down_alerts);
}

/* ---- the tests -------------------------------------------------------------- */

/* While an alert hangs, the rollout goes on and a pause takes effect at
 * once; after the release, everything is delivered in order. */
static void
test_notify_hung_alert_does_not_delay_commands(void **state)
{
	struct perch_clock *clk = clock_new(CLOCK_KIND_SCALED, 1000000, 1000.0);
	struct world w;
	struct runner *r;
	int64_t took;

	(void)state;
	world_init(&w);
	r = start(&w, clk, CONFIRM_PROMOTION);
	await_blocking(&w);
	/* The ticks go on without the alert: the canary reaches the gate. */
	await_canary(r, PHASE_WAITING_PROMOTION);
	send(r, CMD_PAUSE);
	took = await_canary(r, -1);
	print_message("pause took effect after %lld ms while an alert hung\n", (long long)took);
	assert_true(took < command_bound_ms());
	pthread_mutex_lock(&w.mu);
	assert_true(w.blocking);	/* still hung: the pause did not wait for it */
	pthread_mutex_unlock(&w.mu);
	release(&w);
	send(r, CMD_RESUME);
	send(r, CMD_APPROVE);
	runner_wait(r);			/* stop_when_done: waits for the queue too */
	assert_int_equal(runner_outcome(r), 0);
	check_delivery(&w);		/* before runner_stop: runner_wait drained */
	runner_stop(r);
	runner_free(r);
	assert_true(w.slow_alerts >= 2);
	assert_true(count_prefix(w.journal, w.n_journal, "Paused by tester@host") == 1);
	clock_free(clk);
	world_fini(&w);
}

/* Stopped while an alert hangs: what is queued behind it is still sent
 * before runner_stop returns. */
static void
test_notify_drained_at_stop(void **state)
{
	struct perch_clock *clk = clock_new(CLOCK_KIND_SCALED, 1000000, 1000.0);
	struct world w;
	struct runner *r;
	int64_t t0, took;
	pthread_t th;

	(void)state;
	world_init(&w);
	r = start(&w, clk, CONFIRM_PROMOTION);
	await_blocking(&w);
	await_canary(r, PHASE_WAITING_PROMOTION);
	send(r, CMD_PAUSE);
	await_canary(r, -1);
	pthread_mutex_lock(&w.mu);
	assert_true(w.blocking);
	assert_true(w.n_emitted < w.n_journal);	/* queued behind the hung alert */
	pthread_mutex_unlock(&w.mu);
	t0 = mono_ms();
	assert_int_equal(pthread_create(&th, NULL, releaser_main, &w), 0);
	runner_stop(r);
	took = mono_ms() - t0;
	pthread_join(th, NULL);
	print_message("runner_stop waited %lld ms for the pending notifications\n", (long long)took);
	assert_true(took >= RELEASE_MS - 10);	/* it waited for the hung alert */
	check_delivery(&w);
	assert_int_equal(count_prefix(w.journal, w.n_journal, "Paused by tester@host"), 1);
	runner_free(r);
	clock_free(clk);
	world_fini(&w);
}

/* A runner_post task: the canary gets a new configuration while the
 * notifier is sending an alert of the old one. */
struct replacing {
	struct canary_cfg *cfg;
	bool done;
	size_t journal_at;		/* events published before the replacement */
	struct world *w;
};

static void
replace_task(struct runner *r, void *arg)
{
	struct replacing *rp = arg;

	if (r == NULL) {
		canary_cfg_free(rp->cfg);
		return;
	}
	pthread_mutex_lock(&rp->w->mu);
	rp->journal_at = rp->w->n_journal;
	pthread_mutex_unlock(&rp->w->mu);
	assert_int_equal(runner_replace(r, "shop/checkout", rp->cfg), ST_OK);
	pthread_mutex_lock(&rp->w->mu);
	rp->done = true;
	pthread_cond_broadcast(&rp->w->cond);
	pthread_mutex_unlock(&rp->w->mu);
}

/* Replaced while one of its alerts hangs: the old configuration lives on
 * until that call returns (ASan and valgrind watch), what was queued for it
 * is dropped, and what comes after goes out as usual. */
static void
test_notify_replaced_while_sending(void **state)
{
	struct perch_clock *clk = clock_new(CLOCK_KIND_SCALED, 1000000, 1000.0);
	struct replacing rp = { .cfg = notify_canary() };
	struct world w;
	struct runner *r;
	size_t i;

	(void)state;
	world_init(&w);
	rp.w = &w;
	r = start(&w, clk, CONFIRM_PROMOTION);
	await_blocking(&w);
	await_canary(r, PHASE_WAITING_PROMOTION);
	runner_post(r, replace_task, &rp);
	pthread_mutex_lock(&w.mu);
	while (!rp.done)
		pthread_cond_wait(&w.cond, &w.mu);
	assert_true(w.blocking);		/* the replacement did not wait */
	pthread_mutex_unlock(&w.mu);
	send(r, CMD_PAUSE);
	await_canary(r, -1);
	release(&w);
	runner_stop(r);
	runner_free(r);
	/* Those queued behind the hung alert for the old configuration were
	 * dropped; the pause, after the replacement, was delivered. */
	assert_true(rp.journal_at > 0);
	assert_true(w.n_emitted < w.n_journal);
	assert_int_equal(w.n_hooked, w.n_emitted);
	for (i = 0; i < w.n_emitted; i++)
		assert_string_equal(w.emitted[i], w.hooked[i]);
	assert_true(count_prefix(w.emitted, w.n_emitted, "Paused by tester@host") == 1);
	clock_free(clk);
	world_fini(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_hung_alert_does_not_delay_commands),
		cmocka_unit_test(test_notify_drained_at_stop),
		cmocka_unit_test(test_notify_replaced_while_sending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
