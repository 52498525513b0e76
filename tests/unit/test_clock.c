/* test_clock.c — real, scaled and instant clocks, the limit, and RFC 3339
 * formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"

#define START INT64_C(1772460000000)	/* 2026-03-02T14:00:00Z */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cond;
};

static void
waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static void
waiter_fini(struct waiter *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cond);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits to `deadline` on clock c; returns the real ms it took. */
static int64_t
timed(struct perch_clock *c, struct waiter *w, int64_t deadline)
{
	int64_t t0 = mono_ms();

	pthread_mutex_lock(&w->mu);
	perch_clock_ops.wait(c, &w->cond, &w->mu, deadline);
	pthread_mutex_unlock(&w->mu);
	return mono_ms() - t0;
}

static void
test_instant(void **state)
{
	struct perch_clock *c = clock_new(CLOCK_KIND_INSTANT, START, 0);
	struct waiter w;

	(void)state;
	waiter_init(&w);
	assert_int_equal(perch_clock_ops.now_ms(c), START);
	/* A day of virtual time in no real time. */
	assert_true(timed(c, &w, START + 86400000) < 50);
	assert_int_equal(perch_clock_ops.now_ms(c), START + 86400000);
	/* Deadlines in the past never move time back. */
	timed(c, &w, START);
	assert_int_equal(perch_clock_ops.now_ms(c), START + 86400000);
	/* Nothing scheduled: time stays, the wait is short and real. */
	assert_true(timed(c, &w, INT64_MAX) >= 90);
	assert_int_equal(perch_clock_ops.now_ms(c), START + 86400000);
	clock_free(c);
	waiter_fini(&w);
}

static void
test_limit(void **state)
{
	static const enum clock_kind kinds[] = { CLOCK_KIND_INSTANT, CLOCK_KIND_SCALED };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct perch_clock *c = clock_new(kinds[i], START, 1000);
		struct waiter w;

		waiter_init(&w);
		clock_set_limit(c, START + 60000);
		assert_false(clock_at_limit(c));
		timed(c, &w, START + 3600000);
		assert_true(clock_at_limit(c));
		assert_int_equal(perch_clock_ops.now_ms(c), START + 60000);
		clock_free(c);
		waiter_fini(&w);
	}
}

static void
test_scaled(void **state)
{
	struct perch_clock *c = clock_new(CLOCK_KIND_SCALED, START, 100);
	struct waiter w;
	int64_t took, now, deadline;

	(void)state;
	waiter_init(&w);
	/* 20 virtual seconds at 100x take about 200 ms.  A condition wait may
	 * end early (a spurious wake-up), so wait again as the runner does. */
	deadline = perch_clock_ops.now_ms(c) + 20000;
	took = 0;
	do
		took += timed(c, &w, deadline);
	while (perch_clock_ops.now_ms(c) < deadline && took < 3000);
	now = perch_clock_ops.now_ms(c);
	assert_true(took >= 150 && took < 1500);
	assert_true(now >= START + 20000 && now < START + 150000);
	clock_free(c);
	waiter_fini(&w);
}

static void *
signaller(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = { 0, 50 * 1000000 };

	nanosleep(&ts, NULL);
	pthread_mutex_lock(&w->mu);
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* A signal ends a real or scaled wait early (the runner's commands). */
static void
test_signalled(void **state)
{
	static const enum clock_kind kinds[] = { CLOCK_KIND_REAL, CLOCK_KIND_SCALED };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct perch_clock *c = clock_new(kinds[i], START, 2);
		struct waiter w;
		pthread_t t;
		int64_t took;

		waiter_init(&w);
		pthread_create(&t, NULL, signaller, &w);
		took = timed(c, &w, perch_clock_ops.now_ms(c) + 20000);
		pthread_join(t, NULL);
		assert_true(took < 5000);
		clock_free(c);
		waiter_fini(&w);
	}
}

static void
test_real(void **state)
{
	struct perch_clock *c = clock_new(CLOCK_KIND_REAL, 0, 0);
	struct waiter w;
	int64_t now = perch_clock_ops.now_ms(c), took;

	(void)state;
	waiter_init(&w);
	/* Real time, not the start given. */
	assert_true(now > START - 86400000LL * 365);
	assert_true(now - clock_realtime_ms() < 1000);
	took = timed(c, &w, now + 100);
	assert_true(took >= 80);
	assert_true(timed(c, &w, now - 1000) < 20);
	clock_free(c);
	waiter_fini(&w);
}

static void
test_rfc3339(void **state)
{
	static const struct {
		int64_t ms;
		const char *want, *want_ms;	/* clock_format_rfc3339, _ms */
	} rows[] = {
		{ START, "2026-03-02T14:00:00Z", "2026-03-02T14:00:00.000Z" },
		{ START + 30500, "2026-03-02T14:00:30.500Z", "2026-03-02T14:00:30.500Z" },
		{ 0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z" },
		{ -1, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z" },
		{ INT64_C(951782400000), "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z" },
	};
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		clock_format_rfc3339(rows[i].ms, buf, sizeof buf);
		assert_string_equal(buf, rows[i].want);
		clock_format_rfc3339_ms(rows[i].ms, buf, sizeof buf);
		assert_string_equal(buf, rows[i].want_ms);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instant),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_scaled),
		cmocka_unit_test(test_signalled),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
