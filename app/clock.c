/*
 * clock.c — real, scaled and instant clocks (see clock.h).
 *
 * Scaled time is computed from CLOCK_MONOTONIC so that a change of the
 * wall clock never makes virtual time jump; waits still convert to
 * CLOCK_REALTIME deadlines because that is what pthread_cond_timedwait
 * takes with a default condition variable.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "app/clock.h"
#include "util/xalloc.h"

#define LIMIT_WAIT_MS 100

struct perch_clock {
	enum clock_kind kind;
	double speed;
	int64_t start_virtual;		/* scaled: virtual time at start_mono */
	int64_t start_mono;
	_Atomic int64_t now;		/* instant: virtual time */
	_Atomic int64_t limit;
};

struct perch_clock *
clock_new(enum clock_kind kind, int64_t start_ms, double speed)
{
	struct perch_clock *c = xcalloc(1, sizeof *c);

	c->kind = kind;
	c->speed = speed > 0 ? speed : 1.0;
	c->start_virtual = start_ms;
	c->start_mono = clock_monotonic_ms();
	atomic_init(&c->now, start_ms);
	atomic_init(&c->limit, INT64_MAX);
	return c;
}

void
clock_free(struct perch_clock *c)
{
	free(c);
}

void
clock_set_limit(struct perch_clock *c, int64_t limit_ms)
{
	atomic_store(&c->limit, limit_ms);
}

static int64_t
raw_now(struct perch_clock *c)
{
	switch (c->kind) {
	case CLOCK_KIND_REAL:
		return clock_realtime_ms();
	case CLOCK_KIND_SCALED:
		return c->start_virtual + (int64_t)((double)(clock_monotonic_ms() - c->start_mono) * c->speed);
	case CLOCK_KIND_INSTANT:
	default:
		return atomic_load(&c->now);
	}
}

static int64_t
op_now(void *ctx)
{
	struct perch_clock *c = ctx;
	int64_t t = raw_now(c), limit = atomic_load(&c->limit);

	return t < limit ? t : limit;
}

int
clock_at_limit(struct perch_clock *c)
{
	int64_t limit = atomic_load(&c->limit);

	return limit != INT64_MAX && raw_now(c) >= limit;
}

/* Blocks on cond for at most real_ms of real time (or until signalled). */
static void
timed_wait(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t real_ms)
{
	struct timespec ts;
	int64_t abs_ms;

	if (real_ms <= 0)
		return;
	abs_ms = clock_realtime_ms() + real_ms;
	ts.tv_sec = (time_t)(abs_ms / 1000);
	ts.tv_nsec = (long)(abs_ms % 1000) * 1000000;
	while (pthread_cond_timedwait(cond, mutex, &ts) == EINTR)
		;
}

static void
op_wait(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
	struct perch_clock *c = ctx;
	int64_t limit = atomic_load(&c->limit), now = op_now(c);
	int64_t target = deadline_ms < limit ? deadline_ms : limit;
	bool frozen = deadline_ms >= limit || deadline_ms == INT64_MAX;

	if (c->kind == CLOCK_KIND_INSTANT) {
		if (target != INT64_MAX && target > now)
			atomic_store(&c->now, target);
		if (frozen)
			timed_wait(cond, mutex, LIMIT_WAIT_MS);
		return;
	}
	if (target <= now && !frozen)
		return;
	if (target > now && target != INT64_MAX) {
		/* Virtual ms to real ms, rounded up (and one more for the
		 * millisecond resolution of the real clock) so the wait does not
		 * end just short of the deadline; at least 1 ms so it yields. */
		double real = (double)(target - now) / (c->kind == CLOCK_KIND_SCALED ? c->speed : 1.0);

		timed_wait(cond, mutex, real > 3.6e6 ? 3600000 : (int64_t)real + 2);
	} else {
		timed_wait(cond, mutex, LIMIT_WAIT_MS);
	}
}

const struct clock_ops perch_clock_ops = {
	.now_ms = op_now,
	.wait = op_wait,
};
