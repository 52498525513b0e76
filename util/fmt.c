/* fmt.c — the text form of each quantity (see fmt.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/fmt.h"

enum fmt_unit
fmt_unit_of(const char *unit)
{
	if (unit != NULL && strcmp(unit, "%") == 0)
		return FMT_PERCENT;
	if (unit != NULL && strcmp(unit, "ms") == 0)
		return FMT_MS;
	return FMT_PLAIN;
}

/* "NaN", "+Inf", "-Inf" for a non-finite v; false for a finite one. */
static bool
non_finite(char *out, size_t n, double v)
{
	if (isnan(v))
		snprintf(out, n, "NaN");
	else if (isinf(v))
		snprintf(out, n, "%s", v > 0 ? "+Inf" : "-Inf");
	else
		return false;
	return true;
}

/* The fewest decimals (0..3) that write v exactly (within rounding noise);
 * 3 when it needs more. */
static int
exact_decimals(double v)
{
	double scale = 1;
	int d;

	for (d = 0; d < 3; d++, scale *= 10) {
		double x = v * scale;

		if (fabs(x - nearbyint(x)) <= 1e-9 * (fabs(x) > 1 ? fabs(x) : 1))
			return d;
	}
	return 3;
}

/* v with d decimals, "-0" written "0", then the suffix. */
static void
fixed(char *out, size_t n, double v, int d, const char *suffix)
{
	char num[FMT_MAX];

	snprintf(num, sizeof num, "%.*f", d, v);
	if (num[0] == '-' && strspn(num + 1, "0.") == strlen(num + 1))
		memmove(num, num + 1, strlen(num));	/* "-0.0" is "0.0" */
	snprintf(out, n, "%s%s", num, suffix);
}

/* A latency with `extra` more decimals than its precision gives. */
static void
latency(char *out, size_t n, enum fmt_prec p, double ms, int extra)
{
	double s = ms / 1000;

	if (p == FMT_EXACT) {
		if (fabs(ms) < 1000)
			fixed(out, n, ms, exact_decimals(ms) + extra, "ms");
		else
			fixed(out, n, s, exact_decimals(s) + extra, "s");
		return;
	}
	/* 999.6ms rounds to a second: written as one. */
	if (fabs(nearbyint(ms * pow(10, extra)) / pow(10, extra)) < 1000)
		fixed(out, n, ms, extra, "ms");
	else
		fixed(out, n, s, 2 + extra, "s");
}

/* A plain number with `extra` more digits than its precision gives. */
static void
plain(char *out, size_t n, enum fmt_prec p, double v, int extra)
{
	if (p == FMT_EXACT)
		fixed(out, n, v, exact_decimals(v) + extra, "");
	else if (fabs(v) >= 1000 && fabs(v) < 1e12 && extra == 0)
		fixed(out, n, v, 0, "");
	else
		snprintf(out, n, "%.*g", 3 + extra, v);
}

/* A value so large that fixed decimals would run to dozens of digits (a
 * check value of 1e308): three significant digits in its unit ("1e+305s",
 * "1e+308%"), never cut or "infs"; false for the others. */
static bool
huge(char *out, size_t n, enum fmt_unit u, double v, int extra)
{
	double x = u == FMT_MS ? v / 1000 : v;

	if (fabs(x) < 1e12)
		return false;
	snprintf(out, n, "%.*g%s", 3 + extra, x, u == FMT_MS ? "s" : u == FMT_PERCENT ? "%" : "");
	return true;
}

static void
quantity(char *out, size_t n, enum fmt_unit u, enum fmt_prec p, double v, int extra)
{
	if (non_finite(out, n, v) || huge(out, n, u, v, extra))
		return;
	switch (u) {
	case FMT_PERCENT:
		fixed(out, n, v, (p == FMT_EXACT ? exact_decimals(v) : 1) + extra, "%");
		break;
	case FMT_MS:
		latency(out, n, p, v, extra);
		break;
	default:
		plain(out, n, p, v, extra);
		break;
	}
}

void
fmt_quantity(char *out, size_t n, enum fmt_unit u, enum fmt_prec p, double v)
{
	quantity(out, n, u, p, v, 0);
}

void
fmt_percent(char *out, size_t n, double v)
{
	quantity(out, n, FMT_PERCENT, FMT_MEASURED, v, 0);
}

void
fmt_latency(char *out, size_t n, double ms)
{
	quantity(out, n, FMT_MS, FMT_MEASURED, ms, 0);
}

void
fmt_number(char *out, size_t n, double v)
{
	quantity(out, n, FMT_PLAIN, FMT_MEASURED, v, 0);
}

/* The value as a text shows it (its number, unit stripped, scaled back to
 * the unit of v). */
static double
shown(const char *text, enum fmt_unit u)
{
	double x = 0;
	size_t len = strlen(text);

	if (sscanf(text, "%lf", &x) != 1)
		return NAN;
	if (u == FMT_MS && len >= 2 && text[len - 1] == 's' && text[len - 2] != 'm')
		x *= 1000;		/* "1.25s" */
	return x;
}

/* Whether the value as shown keeps the relation op says it has. */
static bool
relation_shown(const char *vtext, const char *btext, enum fmt_unit u, const char *op)
{
	double a = shown(vtext, u), b = shown(btext, u);

	if (isnan(a) || isnan(b))
		return true;
	if (strcmp(op, "<") == 0)
		return a < b;
	if (strcmp(op, ">") == 0)
		return a > b;
	return true;		/* "<=", ">=", "≥", ...: equal is fine */
}

void
fmt_compare(char *out, size_t n, enum fmt_unit u, double v, const char *op, double bound)
{
	char vt[FMT_MAX], bt[FMT_MAX];
	int extra;

	quantity(bt, sizeof bt, u, FMT_EXACT, bound, 0);
	for (extra = 0; extra <= 3; extra++) {
		quantity(vt, sizeof vt, u, FMT_MEASURED, v, extra);
		if (!isfinite(v) || !isfinite(bound) || relation_shown(vt, bt, u, op))
			break;
	}
	snprintf(out, n, "%s %s %s", vt, op, bt);
}

void
fmt_weight(char *out, size_t n, int w)
{
	snprintf(out, n, "%d%%", w);
}

void
fmt_span(char *out, size_t n, int64_t ms)
{
	int64_t s = ms > 0 ? ms / 1000 : 0;

	if (s < 60)
		snprintf(out, n, "%ds", (int)s);
	else if (s < 3600)
		snprintf(out, n, "%dm", (int)(s / 60));
	else if (s < 86400)
		snprintf(out, n, "%dh%02dm", (int)(s / 3600), (int)(s % 3600 / 60));
	else
		snprintf(out, n, "%lldd", (long long)(s / 86400));
}

void
fmt_revision(char *out, size_t n, const char *name, const char *id)
{
	if (name != NULL && name[0] != '\0')
		snprintf(out, n, "%s", name);
	else if (id != NULL && id[0] != '\0')
		snprintf(out, n, "%.12s", id);
	else
		snprintf(out, n, "?");
}
