/*
 * systime.c — the system's clocks and RFC 3339 dates (see systime.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "util/systime.h"

int64_t
clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 UTC; the milliseconds always, or only when not zero. */
static void
format_rfc3339(int64_t t_ms, bool always_ms, char *dst, size_t dstsz)
{
	time_t secs = (time_t)(t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000);
	int ms = (int)(t_ms - (int64_t)secs * 1000);
	struct tm tm;
	char base[32];

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(base, sizeof base, "0000-00-00T00:00:00");
	if (always_ms || ms != 0)
		snprintf(dst, dstsz, "%s.%03dZ", base, ms);
	else
		snprintf(dst, dstsz, "%sZ", base);
}

void
clock_format_rfc3339(int64_t t_ms, char *dst, size_t dstsz)
{
	format_rfc3339(t_ms, false, dst, dstsz);
}

void
clock_format_rfc3339_ms(int64_t t_ms, char *dst, size_t dstsz)
{
	format_rfc3339(t_ms, true, dst, dstsz);
}
