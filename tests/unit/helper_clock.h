/*
 * helper_clock.h — a manual clock for tests (test_sim, test_sim_resume,
 * test_runner_slow): the test, or a fake provider, moves `now`; wait jumps
 * straight to the deadline (but never to INT64_MAX, "nothing scheduled").
 *
 * `now` is atomic, so a runner thread may read it while the test or a
 * provider moves it.  The caller owns the struct; mclock_ops' ctx is it.
 * Also the real-time stretch of slow runs (test_timeout_scale).
 */
#ifndef PERCH_TESTS_HELPER_CLOCK_H
#define PERCH_TESTS_HELPER_CLOCK_H

#include <stdint.h>

#include "engine/providers.h"

struct mclock {
	_Atomic int64_t now;
};

extern const struct clock_ops mclock_ops;

/* How much slower than usual this run is allowed to be: N from
 * PERCH_TEST_TIMEOUT_SCALE=N (1..100; tests/valgrind.sh sets it), else 1.
 * Tests that wait in real time multiply their limits by it. */
int test_timeout_scale(void);

#endif
