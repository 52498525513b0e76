/*
 * systime.h — the system's clocks (real and monotonic time in ms) and RFC
 * 3339 dates, for the parts of perch that do I/O (app/, store/, k8s/).
 * Never for engine/, which is given its time (engine/providers.h
 * clock_ops; the clocks behind it are app/clock.h).  Any thread.
 */
#ifndef PERCH_UTIL_SYSTIME_H
#define PERCH_UTIL_SYSTIME_H

#include <stddef.h>
#include <stdint.h>

/* Real time in ms since the epoch (CLOCK_REALTIME). */
int64_t clock_realtime_ms(void);
/* Elapsed real time in ms from an arbitrary start (CLOCK_MONOTONIC): for
 * intervals, never for dates.  Any thread. */
int64_t clock_monotonic_ms(void);
/* Formats t_ms as RFC 3339 UTC ("2026-03-02T14:00:30Z", with ".mmm" when
 * the milliseconds are not zero) into dst (at least 32 bytes). */
void clock_format_rfc3339(int64_t t_ms, char *dst, size_t dstsz);
/* The same with the milliseconds always ("2026-03-02T14:00:30.000Z"). */
void clock_format_rfc3339_ms(int64_t t_ms, char *dst, size_t dstsz);

#endif
