/*
 * test_tui_draw.c — the drawing primitives: durations, values and widths as
 * tables, and text bounded to its column width with wide characters,
 * combining marks and ASCII fallback on a fake terminal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/draw.h"
#include "util/fmt.h"

static void
test_durations(void **state)
{
	static const struct { int64_t ms; const char *want; } rows[] = {
		{ -5000, "0s" }, { 0, "0s" }, { 999, "0s" }, { 12000, "12s" }, { 59999, "59s" },
		{ 60000, "1m" }, { 90000, "1m" }, { 242000, "4m" }, { 3599000, "59m" },
		{ 3600000, "1h00m" }, { 7500000, "2h05m" }, { 86399000, "23h59m" },
		{ 86400000, "1d" }, { 864000000, "10d" },
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fmt_span(out, sizeof out, rows[i].ms);
		assert_string_equal(out, rows[i].want);
	}
}

static void
test_values(void **state)
{
	static const struct { enum metric_kind k; double v; const char *want; } rows[] = {
		{ METRIC_SUCCESS_RATE, 99.84, "99.8%" }, { METRIC_SUCCESS_RATE, 100, "100.0%" },
		{ METRIC_DURATION, 212.4, "212ms" }, { METRIC_DURATION, 999.4, "999ms" },
		{ METRIC_DURATION, 1250, "1.25s" }, { METRIC_CUSTOM, 0.4217, "0.422" },
		{ METRIC_CUSTOM, 12345, "12345" },
		/* not finite, or huge: never "infs" or hundreds of digits */
		{ METRIC_DURATION, 1.0 / 0.0, "+Inf" }, { METRIC_SUCCESS_RATE, -1.0 / 0.0, "-Inf" },
		{ METRIC_CUSTOM, 0.0 / 0.0, "NaN" }, { METRIC_DURATION, 1e308, "1e+305s" },
		{ METRIC_SUCCESS_RATE, 1e308, "1e+308%" }, { METRIC_CUSTOM, -3e20, "-3e+20" },
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		fmt_value(out, sizeof out, rows[i].k, rows[i].v);
		assert_string_equal(out, rows[i].want);
	}
}

static void
test_widths(void **state)
{
	static const struct { const char *s; int utf8, ascii; } rows[] = {
		{ "", 0, 0 }, { "checkout", 8, 8 }, { "支払い", 6, 3 }, { "café", 4, 4 },
		{ "e\xcc\x81", 1, 2 },		/* e + combining acute */
		{ "█░┆", 3, 3 }, { "a\xff" "b", 2, 2 },	/* an invalid byte is skipped */
	};
	size_t i;

	(void)state;
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (text_width(rows[i].s, true) != rows[i].utf8 ||
		    text_width(rows[i].s, false) != rows[i].ascii)
			fail_msg("'%s': %d/%d, want %d/%d", rows[i].s, text_width(rows[i].s, true),
			    text_width(rows[i].s, false), rows[i].utf8, rows[i].ascii);
	}
}

/* Draws s in a field of width w at column 2 between two '|', returns the row. */
static void
field(bool utf8, const char *s, int w, char *out, size_t n)
{
	static const attr_t roles[ROLE__COUNT];
	struct pen p = { stdscr, roles, utf8, NULL };
	wchar_t line[64];
	int used;
	size_t i, o = 0;

	werase(stdscr);
	mvwaddch(stdscr, 0, 1, '|');
	used = put(&p, 0, 2, w, s, ROLE_NORMAL);
	assert_true(used <= w);
	mvwaddch(stdscr, 0, 2 + w, '|');
	memset(line, 0, sizeof line);
	mvwinnwstr(stdscr, 0, 0, line, 40);
	for (i = 0; line[i] != 0 && o + 8 < n; i++) {
		mbstate_t st;

		memset(&st, 0, sizeof st);
		o += wcrtomb(out + o, line[i], &st);
	}
	out[o] = '\0';
	while (o > 0 && out[o - 1] == ' ')
		out[--o] = '\0';
}

static void
test_bounded(void **state)
{
	static const struct { bool utf8; const char *s; int w; const char *want; } rows[] = {
		/* A cut is marked "…" ("~" in ASCII), never silent. */
		{ true, "checkout", 5, " |chec…|" },
		{ true, "checkout", 8, " |checkout|" },
		{ true, "checkout", 10, " |checkout  |" },
		{ true, "支払い-gw", 5, " |支払…|" },	/* a wide character never straddles the edge */
		{ true, "支払い-gw", 6, " |支払… |" },
		{ true, "支払い", 6, " |支払い|" },
		{ true, "a支", 2, " |a…|" },
		{ true, "e\xcc\x81t\xc3\xa9", 2, " |e\xcc\x81…|" },
		{ true, "checkout", 1, " |…|" },
		{ false, "支払い-gw", 5, " |?" "?" "?-~|" },
		{ false, "café", 4, " |caf?|" },
		{ true, "", 3, " |   |" },
		/* a right-to-left override or a C1 control never reaches the screen */
		{ true, "prod\xe2\x80\xaegnol", 8, " |prodgnol|" },
		{ true, "a\xc2\x9b" "b", 2, " |ab|" },
	};
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	char got[256];
	size_t i;

	(void)state;
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	scr = newterm("xterm-256color", out, in);
	assert_non_null(scr);
	resize_term(5, 40);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		field(rows[i].utf8, rows[i].s, rows[i].w, got, sizeof got);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: '%s', want '%s'", i, got, rows[i].want);
	}
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
