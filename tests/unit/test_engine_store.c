/* test_engine_store.c — the runner with the real state directory
 * (store/dir.c) and the simulator: a controller runs the checkout
 * canary; a second controller finds it locked and shows it read-only with
 * the holder; a watcher (observer mode, read-only store) draws it from the
 * files and names who controls it; a corrupted status file refuses control naming the file: the
 * whole start when it is the only canary, that canary alone otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/clock.h"
#include "store/dir.h"
#include "engine/runner.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "util/status.h"

struct env {
	char dir[64];
	struct perch_clock *clk;
	struct sim_world *w;
};

static void
env_init(struct env *e)
{
	struct sim_options o = { .seed = 3 };

	snprintf(e->dir, sizeof e->dir, "/tmp/perch-engine-store.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->clk = clock_new(CLOCK_KIND_INSTANT, SIM_EPOCH_MS, 0);
	clock_set_limit(e->clk, SIM_EPOCH_MS + 6LL * 3600 * 1000);
	o.clock = &perch_clock_ops;
	o.clock_ctx = e->clk;
	e->w = sim_world_new(&o);
}

static void
env_fini(struct env *e)
{
	char cmd[128];

	sim_world_free(e->w);
	clock_free(e->clk);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
}

static struct runner *
new_runner(struct env *e, struct store_dir *sd, bool observer, bool add, bool until_done)
{
	struct runner_config rc = {
		.cluster = &sim_cluster_ops, .cluster_ctx = e->w,
		.metrics = &sim_metrics_ops, .metrics_ctx = e->w,
		.store = &store_dir_ops, .store_ctx = sd,
		.clock = &perch_clock_ops, .clock_ctx = e->clk,
		.actor = observer ? "watcher@host" : "alice@host", .context = "DEMO",
		.observer = observer, .stop_when_done = until_done,
	};
	struct runner *r = runner_new(&rc);

	if (add) {
		struct canary_cfg *c = scenario_canary(SCN_HEALTHY, "shop", "checkout", 0);

		if (sim_world_count(e->w) == 0) {
			char err[128];

			assert_int_equal(sim_world_add(e->w, c, SCN_HEALTHY, err, sizeof err), ST_OK);
		}
		runner_add(r, c);
	}
	return r;
}

/* Polls snapshots until pred holds (a few seconds at most). */
static struct snapshot *
await(struct runner *r, bool (*pred)(const struct snapshot *))
{
	int i;

	for (i = 0; i < 5000; i++) {
		struct snapshot *s = runner_snapshot(r);
		struct timespec ts = { 0, 1000000L };

		if (s->n_canaries > 0 && pred(s))
			return s;
		snapshot_unref(s);
		nanosleep(&ts, NULL);
	}
	{
		struct snapshot *s = runner_snapshot(r);

		if (s->n_canaries > 0)
			fprintf(stderr, "last: %s %d events, reason %s, msg %s\n",
			    phase_name(s->canaries[0].phase), (int)s->canaries[0].n_events,
			    s->canaries[0].reason, s->status_msg);
		snapshot_unref(s);
	}
	fail_msg("condition never held");
	return NULL;
}

static bool
shows_success(const struct snapshot *s)
{
	return s->canaries[0].phase == PHASE_SUCCEEDED && s->canaries[0].n_events > 5;
}

static bool
shows_corrupt(const struct snapshot *s)
{
	return strstr(s->canaries[0].reason, "status.json") != NULL && !s->canaries[0].can_control;
}

static bool
refused(const struct snapshot *s)
{
	return strstr(s->status_msg, "read-only") != NULL;
}

static void
send_rollback(struct runner *r)
{
	struct command cmd = { .kind = CMD_ROLLBACK };

	snprintf(cmd.canary, sizeof cmd.canary, "shop/checkout");
	snprintf(cmd.actor, sizeof cmd.actor, "mallory@host");
	runner_command(r, &cmd);
}

static void
test_store_control_watch(void **state)
{
	struct env e;
	struct store_dir *a, *b, *ro;
	struct runner *ra, *rb, *rw;
	struct snapshot *s;
	char err[256];

	(void)state;
	env_init(&e);
	a = store_dir_open(e.dir, false, err, sizeof err);
	assert_non_null(a);
	ra = new_runner(&e, a, false, true, true);
	assert_int_equal(runner_start(ra, err, sizeof err), ST_OK);
	runner_wait(ra);	/* done, but still holding the lock */

	/* A second controller: the canary is read-only, the holder named. */
	b = store_dir_open(e.dir, false, err, sizeof err);
	assert_non_null(b);
	rb = new_runner(&e, b, false, true, false);
	assert_int_equal(runner_start(rb, err, sizeof err), ST_OK);
	s = await(rb, shows_success);
	assert_false(s->canaries[0].can_control);
	assert_true(s->read_only);
	assert_non_null(strstr(s->holder, "alice@host"));
	snapshot_unref(s);
	send_rollback(rb);
	s = await(rb, refused);
	assert_non_null(strstr(s->status_msg, "controlled by"));
	snapshot_unref(s);
	runner_stop(rb);
	runner_free(rb);

	/* A watcher draws it from the files: spec, status and journal. */
	ro = store_dir_open(e.dir, true, err, sizeof err);
	assert_non_null(ro);
	rw = new_runner(&e, ro, true, false, false);
	assert_int_equal(runner_start(rw, err, sizeof err), ST_OK);
	s = await(rw, shows_success);
	assert_true(s->read_only);
	assert_non_null(strstr(s->holder, "alice@host pid "));	/* who controls */
	assert_string_equal(s->canaries[0].name, "checkout");
	assert_int_equal(s->canaries[0].n_ladder, 5);
	assert_int_equal(s->canaries[0].threshold, 5);
	/* Check results from the journal become the graphs' points. */
	assert_int_equal(s->canaries[0].n_metrics, 2);
	assert_true(s->canaries[0].metrics[0].n_points >= 5);
	assert_int_equal(s->canaries[0].metrics[0].points[0].result, CHECK_PASS);
	assert_true(s->canaries[0].metrics[0].points[0].value > 90);
	assert_non_null(strstr(s->canaries[0].events[s->canaries[0].n_events - 1].message,
	    "Promotion completed! Scaling down checkout.shop"));
	snapshot_unref(s);
	send_rollback(rw);
	s = await(rw, refused);
	assert_string_equal(s->status_msg, "read-only: perch watch cannot change rollouts");
	snapshot_unref(s);
	runner_stop(rw);
	runner_free(rw);

	runner_stop(ra);
	assert_int_equal(runner_outcome(ra), 0);
	runner_free(ra);
	store_dir_close(ro);
	store_dir_close(b);
	store_dir_close(a);
	env_fini(&e);
}

static bool
shows_two(const struct snapshot *s)
{
	return s->n_canaries == 2;
}

/* A watcher lists the canaries in the controller's order (zeta before
 * alpha, as it was given them), not in the directory's, with the same
 * revision names as the controller. */
static void
test_store_watch_order(void **state)
{
	static const char *const names[] = { "zeta", "alpha" };
	struct env e;
	struct store_dir *a, *ro;
	struct runner *ra, *rw;
	struct snapshot *s, *w;
	char err[256];
	size_t i;

	(void)state;
	env_init(&e);
	a = store_dir_open(e.dir, false, err, sizeof err);
	assert_non_null(a);
	ra = new_runner(&e, a, false, false, true);
	for (i = 0; i < 2; i++) {
		struct canary_cfg *c = scenario_canary(SCN_HEALTHY, "shop", names[i], 0);

		assert_int_equal(sim_world_add(e.w, c, SCN_HEALTHY, err, sizeof err), ST_OK);
		runner_add(ra, c);
	}
	assert_int_equal(runner_start(ra, err, sizeof err), ST_OK);
	runner_wait(ra);
	s = runner_snapshot(ra);
	ro = store_dir_open(e.dir, true, err, sizeof err);
	assert_non_null(ro);
	rw = new_runner(&e, ro, true, false, false);
	assert_int_equal(runner_start(rw, err, sizeof err), ST_OK);
	w = await(rw, shows_two);
	for (i = 0; i < 2; i++) {
		assert_string_equal(s->canaries[i].name, names[i]);
		assert_string_equal(w->canaries[i].name, names[i]);
		assert_string_equal(w->canaries[i].rev_from, s->canaries[i].rev_from);
		assert_string_equal(w->canaries[i].rev_to, s->canaries[i].rev_to);
		assert_null(strchr(w->canaries[i].rev_to, '?'));
	}
	assert_string_equal(w->ns, s->ns);
	snapshot_unref(w);
	snapshot_unref(s);
	runner_stop(rw);
	runner_free(rw);
	runner_stop(ra);
	runner_free(ra);
	store_dir_close(ro);
	store_dir_close(a);
	env_fini(&e);
}

/* A controller rolls the checkout canary out to the end on a store of
 * e->dir, then exits (its locks released). */
static void
rollout_once(struct env *e)
{
	char err[256];
	struct store_dir *sd = store_dir_open(e->dir, false, err, sizeof err);
	struct runner *r;

	assert_non_null(sd);
	r = new_runner(e, sd, false, true, true);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	runner_wait(r);
	runner_stop(r);
	runner_free(r);
	store_dir_close(sd);
}

static long
status_size(const struct env *e, const char *name)
{
	char path[160];
	struct stat sb;

	snprintf(path, sizeof path, "%s/shop/%s/status.json", e->dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return (long)sb.st_size;
}

/* Truncates the saved status of "shop/<name>" to half its size. */
static void
truncate_status(const struct env *e, const char *name)
{
	char path[160];

	snprintf(path, sizeof path, "%s/shop/%s/status.json", e->dir, name);
	assert_int_equal(truncate(path, status_size(e, name) / 2), 0);
}

static void
test_store_corrupt(void **state)
{
	struct env e;
	struct store_dir *a;
	struct runner *r;
	struct snapshot *s;
	char err[256];

	(void)state;
	env_init(&e);
	rollout_once(&e);
	truncate_status(&e, "checkout");

	a = store_dir_open(e.dir, false, err, sizeof err);
	r = new_runner(&e, a, false, true, true);
	assert_int_equal(runner_start(r, err, sizeof err), ST_CORRUPT);
	assert_non_null(strstr(err, "status.json"));
	assert_non_null(strstr(err, "refusing to control it"));
	runner_free(r);
	store_dir_close(a);

	/* A watcher shows the canary with the reason. */
	a = store_dir_open(e.dir, true, err, sizeof err);
	r = new_runner(&e, a, true, false, false);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	s = await(r, shows_corrupt);
	snapshot_unref(s);
	runner_stop(r);
	runner_free(r);
	store_dir_close(a);
	env_fini(&e);
}

static bool
cart_succeeded(const struct snapshot *s)
{
	return s->n_canaries == 2 && s->canaries[1].phase == PHASE_SUCCEEDED &&
	    s->canaries[1].n_events > 5;
}

/* Two canaries, one with a corrupt status: that one is refused (reason in
 * its snapshot, commands refused, file untouched), the other rolls out. */
static void
test_store_corrupt_one_of_two(void **state)
{
	struct env e;
	struct store_dir *a;
	struct runner *r;
	struct snapshot *s;
	struct canary_cfg *cart;
	struct command cmd = { .kind = CMD_PAUSE };
	char err[256];
	long size;

	(void)state;
	env_init(&e);
	rollout_once(&e);
	truncate_status(&e, "checkout");
	size = status_size(&e, "checkout");

	a = store_dir_open(e.dir, false, err, sizeof err);
	r = new_runner(&e, a, false, true, true);
	cart = scenario_canary(SCN_HEALTHY, "shop", "cart", 0);
	assert_int_equal(sim_world_add(e.w, cart, SCN_HEALTHY, err, sizeof err), ST_OK);
	runner_add(r, cart);
	assert_int_equal(runner_start(r, err, sizeof err), ST_OK);
	s = await(r, shows_corrupt);
	assert_non_null(strstr(s->canaries[0].reason, "refusing to control it"));
	assert_true(s->canaries[1].can_control);
	snapshot_unref(s);
	snprintf(cmd.canary, sizeof cmd.canary, "shop/checkout");
	snprintf(cmd.actor, sizeof cmd.actor, "alice@host");
	runner_command(r, &cmd);
	s = await(r, refused);
	assert_non_null(strstr(s->status_msg, "corrupted state"));
	snapshot_unref(s);
	s = await(r, cart_succeeded);
	snapshot_unref(s);
	runner_wait(r);		/* done: the corrupt one does not keep it running */
	runner_stop(r);
	assert_int_equal(runner_outcome(r), 3);
	runner_free(r);
	store_dir_close(a);
	assert_int_equal(status_size(&e, "checkout"), size);	/* never overwritten */
	env_fini(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_control_watch),
		cmocka_unit_test(test_store_watch_order),
		cmocka_unit_test(test_store_corrupt),
		cmocka_unit_test(test_store_corrupt_one_of_two),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
