/*
 * helper_clock.c — the tests' manual clock (see helper_clock.h).
 */
#include "tests/unit/helper_clock.h"

#include <stdatomic.h>
#include <stdlib.h>

static int64_t
mc_now(void *ctx)
{
	return atomic_load(&((struct mclock *)ctx)->now);
}

static void
mc_wait(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mu, int64_t deadline)
{
	struct mclock *mc = ctx;

	(void)cond; (void)mu;
	if (deadline != INT64_MAX && deadline > atomic_load(&mc->now))
		atomic_store(&mc->now, deadline);
}

const struct clock_ops mclock_ops = { .now_ms = mc_now, .wait = mc_wait };

int
test_timeout_scale(void)
{
	const char *s = getenv("PERCH_TEST_TIMEOUT_SCALE");
	int n = s != NULL ? atoi(s) : 1;

	return n >= 1 && n <= 100 ? n : 1;
}
