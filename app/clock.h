/*
 * clock.h — the clocks behind clock_ops (engine/providers.h).
 *
 *   real     CLOCK_REALTIME in ms; wait = pthread_cond_timedwait until the
 *            deadline (`perch run`).
 *   scaled   virtual time that runs `speed` times faster than real time from
 *            a chosen start (`perch demo --speed N`).
 *   instant  virtual time that only moves when waited on: wait jumps straight
 *            to the deadline (`perch demo --speed max`, tests, benchmarks).
 *
 * A limit (clock_set_limit) freezes virtual time there: a wait past the
 * limit moves the clock to the limit and blocks on the condition variable
 * (for up to 100 ms of real time per call) instead, so a caller can see the
 * limit reached and stop the run.  A deadline of INT64_MAX ("nothing
 * scheduled") behaves the same on virtual clocks: time does not jump to the
 * end of time.
 *
 * The condition variable handed to wait must use the default clock
 * (CLOCK_REALTIME), as pthread_cond_timedwait expects.
 *
 * Threads: now_ms from any thread (virtual time is atomic); wait from one
 * thread at a time (the runner's), with the mutex held.  clock_new/free and
 * clock_set_limit on the controlling thread, before the run or while
 * nothing waits.  Ownership: the caller frees the clock after the runner has
 * stopped; the ops' ctx is the struct perch_clock *.
 */
#ifndef PERCH_APP_CLOCK_H
#define PERCH_APP_CLOCK_H

#include <stdint.h>

#include "engine/providers.h"
#include "util/systime.h"	/* clock_realtime_ms, clock_format_rfc3339, ... */

enum clock_kind { CLOCK_KIND_REAL, CLOCK_KIND_SCALED, CLOCK_KIND_INSTANT };

struct perch_clock;

/* start_ms is ignored for the real clock; speed only matters when scaled
 * (> 0). */
struct perch_clock *clock_new(enum clock_kind kind, int64_t start_ms, double speed);
void clock_free(struct perch_clock *c);
/* Virtual time stops at limit_ms (INT64_MAX = no limit). */
void clock_set_limit(struct perch_clock *c, int64_t limit_ms);
/* Whether virtual time has reached the limit. */
int  clock_at_limit(struct perch_clock *c);

/* The ops of every kind; ctx is the struct perch_clock *. */
extern const struct clock_ops perch_clock_ops;

#endif
