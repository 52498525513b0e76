/* test_sim.c — the simulated world through its cluster_ops and
 * metrics_ops: traffic split, metrics per scenario, determinism, readiness
 * delays, revisions, routes, the load tester; and the generator and scenario list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "tests/unit/helper_clock.h"
#include "util/status.h"

struct fixture {
	struct mclock clock;
	struct sim_world *w;
	struct canary_cfg *cfg[SCN__COUNT];
};

static struct fixture *
fixture_new(uint64_t seed, bool new_revisions)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct sim_options o = { .seed = seed, .clock = &mclock_ops, .clock_ctx = &f->clock,
	    .new_revisions = new_revisions };
	char err[128];
	int s;

	f->clock.now = SIM_EPOCH_MS;
	f->w = sim_world_new(&o);
	for (s = 0; s < SCN__COUNT; s++) {
		f->cfg[s] = scenario_canary(s, "shop", scenario_app(s), 0);
		assert_int_equal(sim_world_add(f->w, f->cfg[s], s, err, sizeof err), ST_OK);
	}
	return f;
}

static void
fixture_free(struct fixture *f)
{
	int s;

	for (s = 0; s < SCN__COUNT; s++)
		canary_cfg_free(f->cfg[s]);
	sim_world_free(f->w);
	free(f);
}

static char *
key_of(const struct canary_cfg *c, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", c->ns, c->name);
	return buf;
}

/* What the engine does up to the start of a rollout: initialize, read the
 * revision, wait for the new one, scale the canary up. */
static void
start_rollout(struct fixture *f, enum scenario s)
{
	struct revision r1, r2;
	char err[ERRMSG_MAX];

	assert_int_equal(sim_cluster_ops.initialize(f->w, f->cfg[s], err), ST_OK);
	assert_int_equal(sim_cluster_ops.revision(f->w, f->cfg[s], &r1, err), ST_OK);
	f->clock.now += 30000;
	assert_int_equal(sim_cluster_ops.revision(f->w, f->cfg[s], &r2, err), ST_OK);
	assert_string_not_equal(r1.id, r2.id);
	assert_int_equal(sim_cluster_ops.scale(f->w, f->cfg[s], true, err), ST_OK);
}

static void
set_weight(struct fixture *f, enum scenario s, int w)
{
	struct routes r = { .primary = 100 - w, .canary = w };
	char err[ERRMSG_MAX];

	assert_int_equal(sim_cluster_ops.set_routes(f->w, f->cfg[s], &r, err), ST_OK);
}

static struct metric_value
query(struct fixture *f, enum scenario s, enum metric_kind kind, bool volume)
{
	struct canary_cfg *c = f->cfg[s];
	struct metric_query q = { .canary = c, .metric = &c->metrics[kind == METRIC_DURATION],
	    .volume = volume, .at_ms = f->clock.now };
	struct metric_value v;

	assert_int_equal(sim_metrics_ops.eval(f->w, &q, 1, &v), ST_OK);
	return v;
}

static void
test_rng(void **state)
{
	static const double lambdas[] = { 0.5, 3, 12, 29, 31, 200, 5000 };
	struct rng a = rng_keyed(1, 2, 3, 4), b = rng_keyed(1, 2, 3, 4), c = rng_keyed(1, 2, 3, 5);
	size_t i;
	int k;

	(void)state;
	for (k = 0; k < 100; k++) {
		double u = rng_uniform(&a);

		assert_true(u > 0.0 && u < 1.0);
		assert_true(u == rng_uniform(&b));
	}
	assert_true(rng_next(&a) != rng_next(&c));
	for (i = 0; i < sizeof lambdas / sizeof lambdas[0]; i++) {
		struct rng r = rng_keyed(7, i, 0, 0);
		double sum = 0;

		for (k = 0; k < 4000; k++)
			sum += (double)rng_poisson(&r, lambdas[i]);
		assert_true(fabs(sum / 4000 - lambdas[i]) < 0.05 * lambdas[i] + 0.05);
	}
	for (k = 0; k < 1000; k++) {
		struct rng r = rng_keyed(9, (uint64_t)k, 0, 0);

		assert_true(rng_binomial(&r, 50, 0.999) <= 50);
		assert_int_equal(rng_binomial(&r, 10, 1.0), 10);
		assert_int_equal(rng_binomial(&r, 10, 0.0), 0);
	}
}

static void
test_day_curve(void **state)
{
	static const struct {
		enum scenario s;
		int hour_utc;
		double want_fraction;	/* of peak */
	} rows[] = {
		{ SCN_HEALTHY, 16, 1.0 },
		{ SCN_HEALTHY, 4, 0.25 },
		{ SCN_HEALTHY, 10, 0.625 },
		/* UTC+12: 14:00 UTC is 02:00 there: nobody. */
		{ SCN_NO_TRAFFIC, 14, 0.0 },
		{ SCN_NO_TRAFFIC, 18, 0.0 },
		{ SCN_NO_TRAFFIC, 3, 1.0 },	/* 15:30 local is the peak; 15:00 close */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct scenario_params *p = scenario_params(rows[i].s);
		int64_t t = SIM_EPOCH_MS - 14 * 3600000LL + rows[i].hour_utc * 3600000LL;
		double got = sim_rps(p, t) / p->peak_rps;

		if (rows[i].want_fraction == 1.0)
			assert_true(got > 0.99);
		else
			assert_true(fabs(got - rows[i].want_fraction) < 0.001);
	}
}

static void
test_traffic_split(void **state)
{
	static const int weights[] = { 0, 10, 30, 50, 100 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof weights / sizeof weights[0]; i++) {
		struct fixture *f = fixture_new(42, false);
		struct sim_traffic can, pri;
		char key[128];
		double share;

		start_rollout(f, SCN_HEALTHY);
		set_weight(f, SCN_HEALTHY, weights[i]);
		key_of(f->cfg[SCN_HEALTHY], key, sizeof key);
		assert_int_equal(sim_world_traffic(f->w, key, WL_CANARY, f->clock.now,
		    f->clock.now + 600000, &can), ST_OK);
		assert_int_equal(sim_world_traffic(f->w, key, WL_PRIMARY, f->clock.now,
		    f->clock.now + 600000, &pri), ST_OK);
		/* About 60 rps at 14:00 for 10 minutes. */
		assert_true(can.requests + pri.requests > 30000);
		share = 100.0 * (double)can.requests / (double)(can.requests + pri.requests);
		assert_true(fabs(share - weights[i]) < 1.0);
		fixture_free(f);
	}
}

/* After a minute at the given weight, what the metrics say. */
static void
test_metrics_by_scenario(void **state)
{
	static const struct {
		enum scenario s;
		int weight;
		enum check_result sr_result, dur_result;
		bool sr_ok, dur_ok;	/* within the canonical bounds (>= 99, <= 500) */
	} rows[] = {
		{ SCN_HEALTHY, 10, CHECK_PASS, CHECK_PASS, true, true },
		{ SCN_HEALTHY, 50, CHECK_PASS, CHECK_PASS, true, true },
		{ SCN_ERROR_SPIKE, 20, CHECK_PASS, CHECK_PASS, true, true },
		{ SCN_ERROR_SPIKE, 30, CHECK_PASS, CHECK_PASS, false, true },
		{ SCN_LATENCY_REGRESSION, 10, CHECK_PASS, CHECK_PASS, true, false },
		{ SCN_NO_TRAFFIC, 10, CHECK_NODATA, CHECK_NODATA, false, false },
		{ SCN_SLOW_START, 10, CHECK_PASS, CHECK_PASS, true, true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct fixture *f = fixture_new(7, false);
		struct metric_value sr, dur, vol;

		start_rollout(f, rows[i].s);
		set_weight(f, rows[i].s, rows[i].weight);
		f->clock.now += 60000;
		sr = query(f, rows[i].s, METRIC_SUCCESS_RATE, false);
		dur = query(f, rows[i].s, METRIC_DURATION, false);
		vol = query(f, rows[i].s, METRIC_SUCCESS_RATE, true);
		assert_int_equal(sr.result, rows[i].sr_result);
		assert_int_equal(dur.result, rows[i].dur_result);
		assert_int_equal(vol.result, CHECK_PASS);
		if (rows[i].sr_result == CHECK_NODATA) {
			assert_true(vol.value == 0.0);
			assert_non_null(strstr(sr.err, "no requests"));
			fixture_free(f);
			continue;
		}
		assert_true(vol.value > 10.0);
		assert_int_equal(sr.value >= 99.0, rows[i].sr_ok);
		assert_int_equal(dur.value <= 500.0, rows[i].dur_ok);
		assert_true(sr.value <= 100.0 && dur.value > 0.0);
		fixture_free(f);
	}
}

/* The window counts only requests in it: right after the weight goes up,
 * the old weight's requests dominate. */
static void
test_metric_window(void **state)
{
	struct fixture *f = fixture_new(3, false);
	struct metric_value before, after;

	(void)state;
	start_rollout(f, SCN_HEALTHY);
	set_weight(f, SCN_HEALTHY, 10);
	f->clock.now += 120000;
	before = query(f, SCN_HEALTHY, METRIC_SUCCESS_RATE, true);
	set_weight(f, SCN_HEALTHY, 50);
	f->clock.now += 60000;
	after = query(f, SCN_HEALTHY, METRIC_SUCCESS_RATE, true);
	assert_true(after.value > 3.5 * before.value);
	fixture_free(f);
}

static void
run_queries(struct fixture *f, bool reverse, double out[4])
{
	static const enum scenario order[] = { SCN_HEALTHY, SCN_FLAPPING };
	int i, k;

	for (k = 0; k < 2; k++) {
		i = reverse ? 1 - k : k;
		out[2 * i] = query(f, order[i], METRIC_SUCCESS_RATE, false).value;
		out[2 * i + 1] = query(f, order[i], METRIC_DURATION, false).value;
	}
}

static void
test_determinism(void **state)
{
	struct fixture *a = fixture_new(11, false), *b = fixture_new(11, false);
	struct fixture *c = fixture_new(12, false);
	struct fixture *all[] = { a, b, c };
	double va[4], vb[4], vc[4];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		start_rollout(all[i], SCN_HEALTHY);
		start_rollout(all[i], SCN_FLAPPING);
		set_weight(all[i], SCN_HEALTHY, 20);
		set_weight(all[i], SCN_FLAPPING, 20);
		all[i]->clock.now += 90000;
	}
	run_queries(a, false, va);
	run_queries(b, true, vb);
	run_queries(c, false, vc);
	assert_memory_equal(va, vb, sizeof va);
	assert_memory_not_equal(va, vc, sizeof va);
	/* Asking again changes nothing. */
	run_queries(a, true, vb);
	assert_memory_equal(va, vb, sizeof va);
	fixture_free(a);
	fixture_free(b);
	fixture_free(c);
}

/* Flapping: some one-minute windows are bad, most are not. */
static void
test_flapping(void **state)
{
	struct fixture *f = fixture_new(5, false);
	int bad = 0, k;

	(void)state;
	start_rollout(f, SCN_FLAPPING);
	set_weight(f, SCN_FLAPPING, 10);
	for (k = 0; k < 40; k++) {
		f->clock.now += 60000;
		bad += query(f, SCN_FLAPPING, METRIC_SUCCESS_RATE, false).value < 99.0;
	}
	assert_true(bad >= 5 && bad <= 35);
	fixture_free(f);
}

static void
test_readiness(void **state)
{
	static const struct {
		enum scenario s;
		enum workload wl;
		bool promote;		/* check the primary after promotion */
		int after_s;
		bool ready, retriable;
		const char *msg;
	} rows[] = {
		{ SCN_HEALTHY, WL_CANARY, false, 1, false, true, "0 of 3 (readyThreshold 100%)" },
		{ SCN_HEALTHY, WL_CANARY, false, 6, true, true, "" },
		{ SCN_SLOW_START, WL_CANARY, false, 30, false, true,
		    "waiting for rollout to finish: 0 of 3 (readyThreshold 100%) updated replicas are available" },
		{ SCN_SLOW_START, WL_CANARY, false, 100, false, true, "2 of 3" },
		{ SCN_SLOW_START, WL_CANARY, false, 150, true, true, "" },
		{ SCN_HEALTHY, WL_PRIMARY, true, 3, false, true, "1 of 3" },
		{ SCN_HEALTHY, WL_PRIMARY, true, 9, true, true, "" },
		{ SCN_PROMOTION_FAILURE, WL_PRIMARY, true, 60, false, true, "0 of 3" },
		{ SCN_PROMOTION_FAILURE, WL_PRIMARY, true, 121, false, false,
		    "deployment \"shipping-primary\" exceeded its progress deadline" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct fixture *f = fixture_new(1, false);
		struct readiness r;
		char err[ERRMSG_MAX];

		start_rollout(f, rows[i].s);
		if (rows[i].promote)
			assert_int_equal(sim_cluster_ops.promote(f->w, f->cfg[rows[i].s], err), ST_OK);
		f->clock.now += rows[i].after_s * 1000;
		assert_int_equal(sim_cluster_ops.readiness(f->w, f->cfg[rows[i].s], rows[i].wl,
		    f->clock.now, &r), ST_OK);
		assert_int_equal(r.ready, rows[i].ready);
		assert_int_equal(r.retriable, rows[i].retriable);
		assert_non_null(strstr(r.msg, rows[i].msg));
		fixture_free(f);
	}
}

/* The first revision comes after initialization; later ones only with
 * new_revisions, a pause after the rollout ends (target scaled to zero). */
static void
test_revisions(void **state)
{
	static const bool modes[] = { false, true };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct fixture *f = fixture_new(1, modes[i]);
		struct canary_cfg *c = f->cfg[SCN_HEALTHY];
		struct revision r;
		struct sim_view v;
		char err[ERRMSG_MAX];

		/* Nothing happens until the engine first looks; then the new
		 * revision comes half an interval (15 s) after that look. */
		f->clock.now += 3600000;
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, "checkout:v1");
		f->clock.now += 14999;
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, "checkout:v1");
		f->clock.now += 1;
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, "checkout:v2");
		assert_int_equal(sim_cluster_ops.scale(f->w, c, true, err), ST_OK);
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, "checkout:v2");
		assert_int_equal(sim_cluster_ops.promote(f->w, c, err), ST_OK);
		assert_int_equal(sim_cluster_ops.scale(f->w, c, false, err), ST_OK);
		f->clock.now += 29000;
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, "checkout:v2");
		f->clock.now += 1000;
		assert_int_equal(sim_cluster_ops.revision(f->w, c, &r, err), ST_OK);
		assert_string_equal(r.image, modes[i] ? "checkout:v3" : "checkout:v2");
		assert_int_equal(sim_world_view(f->w, "shop/checkout", f->clock.now, &v), ST_OK);
		assert_int_equal(v.primary_rev, 2);
		assert_int_equal(v.canary_replicas, 0);
		fixture_free(f);
	}
}

/* A failed promotion (all traffic left on the canary) ends the rollout:
 * the next revision comes after the pause, with the primary repaired. */
static void
test_failed_promotion_next_revision(void **state)
{
	struct fixture *f = fixture_new(1, true);
	struct canary_cfg *c = f->cfg[SCN_PROMOTION_FAILURE];
	struct routes all_canary = { .primary = 0, .canary = 100 };
	struct readiness r;
	struct revision rev;
	char err[ERRMSG_MAX];

	(void)state;
	start_rollout(f, SCN_PROMOTION_FAILURE);
	assert_int_equal(sim_cluster_ops.promote(f->w, c, err), ST_OK);
	f->clock.now += 121000;
	assert_int_equal(sim_cluster_ops.readiness(f->w, c, WL_PRIMARY, f->clock.now, &r), ST_OK);
	assert_false(r.retriable);
	assert_int_equal(sim_cluster_ops.set_routes(f->w, c, &all_canary, err), ST_OK);
	f->clock.now += 30000;
	assert_int_equal(sim_cluster_ops.revision(f->w, c, &rev, err), ST_OK);
	assert_string_equal(rev.image, "shipping:v3");
	assert_int_equal(sim_cluster_ops.readiness(f->w, c, WL_PRIMARY, f->clock.now, &r), ST_OK);
	assert_true(r.ready);
	fixture_free(f);
}

static void
test_routes_and_errors(void **state)
{
	struct fixture *f = fixture_new(1, false);
	struct canary_cfg *c = f->cfg[SCN_HEALTHY];
	struct canary_cfg *stranger = scenario_canary(SCN_HEALTHY, "other", "ghost", 0);
	struct routes r = { .primary = 70, .canary = 30 }, got;
	struct metric_query q = { .canary = c, .metric = &c->metrics[0], .at_ms = f->clock.now };
	struct metric_value v;
	char err[ERRMSG_MAX];

	(void)state;
	assert_int_equal(sim_cluster_ops.initialize(f->w, c, err), ST_OK);
	assert_int_equal(sim_cluster_ops.get_routes(f->w, c, &got, err), ST_OK);
	assert_int_equal(got.primary, 100);
	assert_int_equal(sim_cluster_ops.set_routes(f->w, c, &r, err), ST_OK);
	assert_int_equal(sim_cluster_ops.get_routes(f->w, c, &got, err), ST_OK);
	assert_int_equal(got.canary, 30);
	r.canary = 40;
	assert_int_equal(sim_cluster_ops.set_routes(f->w, c, &r, err), ST_INVALID);
	assert_non_null(strstr(err, "70/40"));
	assert_int_equal(sim_cluster_ops.get_routes(f->w, stranger, &got, err), ST_NOTFOUND);
	assert_non_null(strstr(err, "other/ghost"));
	assert_int_equal(sim_world_add(f->w, c, SCN_HEALTHY, err, sizeof err), ST_CONFLICT);
	/* A custom metric is an error; an unknown canary too. */
	free(c->metrics[0].name);
	c->metrics[0].name = strdup("error-budget");
	c->metrics[0].kind = METRIC_CUSTOM;
	assert_int_equal(sim_metrics_ops.eval(f->w, &q, 1, &v), ST_OK);
	assert_int_equal(v.result, CHECK_ERROR);
	assert_non_null(strstr(v.err, "error-budget"));
	q.canary = stranger;
	assert_int_equal(sim_metrics_ops.eval(f->w, &q, 1, &v), ST_OK);
	assert_int_equal(v.result, CHECK_ERROR);
	canary_cfg_free(stranger);
	fixture_free(f);
}

/* The simulated load tester: a rollout webhook's hey command sends the
 * canary its load for its duration at weight 0; a bad command is a 400;
 * a command aimed at another Service sends the canary nothing. */
static struct hook_result
load_hook(struct fixture *f, enum scenario s, enum hook_type type, const char *cmd)
{
	struct kv md = { "cmd", (char *)cmd };
	struct hook_cfg h = { .name = "load-test", .url = "http://flagger-loadtester.test/",
	    .type = type, .metadata = &md, .n_metadata = 1 };
	struct hook_call call = { .canary = f->cfg[s], .hook = &h };
	struct hook_result r;

	assert_int_equal(sim_webhook_ops.call(f->w, &call, 1, &r), 1);
	return r;
}

static uint64_t
canary_requests(struct fixture *f, enum scenario s, int64_t from, int64_t to)
{
	struct sim_traffic t;
	char key[128];

	key_of(f->cfg[s], key, sizeof key);
	assert_int_equal(sim_world_traffic(f->w, key, WL_CANARY, from, to, &t), ST_OK);
	return t.requests;
}

static void
test_load_tester(void **state)
{
	struct fixture *f = fixture_new(3, false);
	struct hook_result r;
	int64_t t0;

	(void)state;
	start_rollout(f, SCN_HEALTHY);
	t0 = f->clock.now;
	assert_int_equal(canary_requests(f, SCN_HEALTHY, t0, t0 + 60000), 0);
	r = load_hook(f, SCN_HEALTHY, HOOK_ROLLOUT, "hey -z 1m -q 10 -c 2 http://checkout-canary.shop:8080/");
	assert_true(r.ok);
	assert_int_equal(r.http_status, 202);
	/* 20 a second for a minute, none after it. */
	assert_in_range(canary_requests(f, SCN_HEALTHY, t0, t0 + 60000), 1100, 1300);
	assert_int_equal(canary_requests(f, SCN_HEALTHY, t0 + 60000, t0 + 120000), 0);
	/* At the primary: the canary gets nothing. */
	f->clock.now += 120000;
	r = load_hook(f, SCN_HEALTHY, HOOK_ROLLOUT, "hey -z 30s -q 5 -c 1 http://checkout-primary.shop/");
	assert_true(r.ok);
	assert_int_equal(canary_requests(f, SCN_HEALTHY, f->clock.now, f->clock.now + 30000), 0);
	/* What the load tester refuses. */
	r = load_hook(f, SCN_HEALTHY, HOOK_ROLLOUT, "curl http://checkout-canary.shop/");
	assert_false(r.ok);
	assert_int_equal(r.http_status, 400);
	r = load_hook(f, SCN_HEALTHY, HOOK_ROLLOUT, "hey -q 10 http://checkout-canary.shop/");
	assert_false(r.ok);
	assert_non_null(strstr(r.msg, "-z"));
	r = load_hook(f, SCN_HEALTHY, HOOK_ROLLOUT, "hey -z 1x -q 10 http://checkout-canary.shop/");
	assert_false(r.ok);
	r = load_hook(f, SCN_HEALTHY, HOOK_CONFIRM_ROLLOUT, "hey -z 1m -q 1 http://checkout-canary.shop/");
	assert_false(r.ok);
	assert_int_equal(canary_requests(f, SCN_HEALTHY, f->clock.now, f->clock.now + 60000), 0);
	fixture_free(f);
}

/* Many canaries: the table grows and every one is found. */
static void
test_many_canaries(void **state)
{
	struct mclock mc = { SIM_EPOCH_MS };
	struct sim_options o = { .seed = 1, .clock = &mclock_ops, .clock_ctx = &mc };
	struct sim_world *w = sim_world_new(&o);
	struct sim_stats st;
	struct routes r;
	char name[32], err[ERRMSG_MAX];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		struct canary_cfg *c;

		snprintf(name, sizeof name, "app-%d", i);
		c = scenario_canary(i % SCN__COUNT, "bench", name, 0);
		assert_int_equal(sim_world_add(w, c, i % SCN__COUNT, err, sizeof err), ST_OK);
		assert_int_equal(sim_cluster_ops.initialize(w, c, err), ST_OK);
		assert_int_equal(sim_cluster_ops.get_routes(w, c, &r, err), ST_OK);
		/* Each canary its own weight: a lookup that confused two
		 * (configurations freed and allocated at the same address)
		 * would show. */
		r = (struct routes){ .primary = 100 - i % 101, .canary = i % 101 };
		assert_int_equal(sim_cluster_ops.set_routes(w, c, &r, err), ST_OK);
		canary_cfg_free(c);
	}
	for (i = 0; i < 3000; i += 7) {
		struct sim_view v;

		snprintf(name, sizeof name, "bench/app-%d", i);
		assert_int_equal(sim_world_view(w, name, mc.now, &v), ST_OK);
		assert_int_equal(v.routes.canary, i % 101);
	}
	assert_int_equal(sim_world_count(w), 3000);
	sim_world_stats(w, &st);
	assert_int_equal(st.ticks, 3000);
	sim_world_free(w);
}

static void
test_scenario_list(void **state)
{
	static const struct {
		const char *in;
		int n;
		const char *err;
	} rows[] = {
		{ "healthy", 1, NULL },
		{ "healthy,error-spike,no-traffic", 3, NULL },
		{ "promotion-failure,slow-start,flapping,latency-regression", 4, NULL },
		{ "bogus", -1, "unknown scenario 'bogus' (known: healthy, error-spike" },
		{ "healthy,", -1, "empty" },
		{ "", -1, "empty" },
		{ "healthy,,flapping", -1, "empty" },
	};
	enum scenario out[8];
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err[0] = '\0';
		assert_int_equal(scenario_parse_list(rows[i].in, out, 8, err, sizeof err), rows[i].n);
		if (rows[i].err != NULL)
			assert_non_null(strstr(err, rows[i].err));
	}
	assert_int_equal(scenario_parse_list("healthy,healthy", out, 1, err, sizeof err), -1);
	assert_int_equal(scenario_from_name("slow-start"), SCN_SLOW_START);
	assert_string_equal(scenario_app(SCN_HEALTHY), "checkout");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_day_curve),
		cmocka_unit_test(test_traffic_split),
		cmocka_unit_test(test_metrics_by_scenario),
		cmocka_unit_test(test_metric_window),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_flapping),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_revisions),
		cmocka_unit_test(test_failed_promotion_next_revision),
		cmocka_unit_test(test_routes_and_errors),
		cmocka_unit_test(test_load_tester),
		cmocka_unit_test(test_many_canaries),
		cmocka_unit_test(test_scenario_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
