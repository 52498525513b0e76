/*
 * fmt.h — the one text form of each quantity perch shows: a percentage
 * (success rate), a latency, a traffic weight, a plain number (a custom
 * metric), a time span and a revision.  The screens, the events and
 * reasons the engine writes, `perch status` and the headless messages all
 * print through these, so one value never reads two ways ("729.675824ms"
 * beside "730ms", "92.83%" beside "92.0%").  JSON fields keep full
 * precision and never come here.
 *
 * Two precisions:
 *   FMT_MEASURED  a measured value: a percentage with one decimal
 *                 ("99.8%"), a latency in whole milliseconds below a
 *                 second and in seconds with two decimals above ("730ms",
 *                 "1.25s"), a plain number with three significant digits
 *                 (whole numbers from 1000 on: "0.42", "1234");
 *   FMT_EXACT     a configured bound, as written: only the decimals it has,
 *                 up to three ("99%", "99.95%", "0.5ms", "1.5s", "0.25").
 * A comparison ("93.2% < 99%", fmt_compare) shows the value with more
 * decimals when one would otherwise read as equal to the bound or on its
 * wrong side ("500.4ms > 500ms", not "500ms > 500ms").
 *
 * Non-finite values are spelled as Prometheus spells them: "NaN", "+Inf",
 * "-Inf" (with the unit for percentages and latencies: "NaN%", "+Infms"
 * would mislead, so no unit is added to them).  Values too large for fixed
 * decimals (1e12 and beyond, in seconds for a latency) get three
 * significant digits: "1e+305s", "1e+308%", "-3e+20".
 *
 * Every function writes a NUL-terminated string cut to n bytes (n >= 1);
 * FMT_MAX bytes always suffice.  Pure functions, any thread.
 */
#ifndef PERCH_UTIL_FMT_H
#define PERCH_UTIL_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_MAX 40

enum fmt_unit {
	FMT_PERCENT,	/* 0..100, "%" */
	FMT_MS,		/* milliseconds */
	FMT_PLAIN,	/* no unit */
};

enum fmt_prec { FMT_MEASURED, FMT_EXACT };

/* The unit of a metric from its unit text ("%", "ms", anything else is
 * plain), as engine/canary.h's metric_kind_unit gives it. */
enum fmt_unit fmt_unit_of(const char *unit);

/* One value of unit u. */
void fmt_quantity(char *out, size_t n, enum fmt_unit u, enum fmt_prec p, double v);
/* Shorthands for measured values. */
void fmt_percent(char *out, size_t n, double v);
void fmt_latency(char *out, size_t n, double ms);
void fmt_number(char *out, size_t n, double v);

/* "value op bound": the value measured, the bound exact, op as given
 * ("<", ">", "≥", ...).  The value gets up to three more decimals (or
 * significant digits) when fewer would not show the relation op claims
 * (value below the bound for "<", above it for ">"). */
void fmt_compare(char *out, size_t n, enum fmt_unit u, double v, const char *op, double bound);

/* A traffic weight, an integer percentage: "30%".  Out of 0..100 it is
 * still printed as it is (a bug elsewhere must stay visible). */
void fmt_weight(char *out, size_t n, int w);

/* A time span, coarse on purpose (a column of counters ticking every
 * second is noise): "12s" in the first minute, then "4m", "2h05m", "3d".
 * Negative spans are "0s". */
void fmt_span(char *out, size_t n, int64_t ms);

/* A revision for people: its name (the image, "cart:v2") when known, else
 * its id cut to 12 characters ("006f2c07139f"), else "?". */
void fmt_revision(char *out, size_t n, const char *name, const char *id);

#endif
