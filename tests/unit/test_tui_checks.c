/*
 * test_tui_checks.c — the check history of the detail screen: the merge of
 * all metrics' points, newest first, and each row's text and colour (a
 * failing check in the failure colour, an inconclusive one marked, never
 * shown with a value).
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

#include "tui/render.h"

/* Two metrics, times in seconds; equal times keep the metric order. */
static struct snap_point rate_pts[] = {
	{ 10000, 99.5, CHECK_PASS }, { 40000, 97.0, CHECK_FAIL }, { 70000, 0, CHECK_NODATA },
};
static struct snap_point lat_pts[] = {
	{ 40000, 230, CHECK_PASS }, { 55000, 0, CHECK_ERROR }, { 70000, 640, CHECK_FAIL },
};

static void
fixture(struct snap_canary *c, struct snap_metric m[2])
{
	memset(c, 0, sizeof *c);
	memset(m, 0, 2 * sizeof *m);
	m[0] = (struct snap_metric){ .name = "request-success-rate", .kind = METRIC_SUCCESS_RATE,
		.has_min = true, .min = 99, .points = rate_pts, .n_points = 3 };
	m[1] = (struct snap_metric){ .name = "request-duration", .kind = METRIC_DURATION,
		.has_max = true, .max = 500, .points = lat_pts, .n_points = 3 };
	c->metrics = m;
	c->n_metrics = 2;
}

static void
test_recent_order(void **state)
{
	static const struct {
		size_t max, want_n;
		int64_t t[6];
		int metric[6];
	} cases[] = {
		{ 6, 6, { 70000, 70000, 55000, 40000, 40000, 10000 }, { 0, 1, 1, 0, 1, 0 } },
		{ 3, 3, { 70000, 70000, 55000 }, { 0, 1, 1 } },
		{ 10, 6, { 70000, 70000, 55000, 40000, 40000, 10000 }, { 0, 1, 1, 0, 1, 0 } },
		{ 0, 0, { 0 }, { 0 } },
	};
	struct snap_canary c;
	struct snap_metric m[2];
	struct check_ref out[10];
	size_t i, k;

	(void)state;
	fixture(&c, m);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = recent_checks(&c, out, cases[i].max);

		assert_int_equal(n, cases[i].want_n);
		for (k = 0; k < n; k++) {
			assert_int_equal(out[k].pt->t_ms, cases[i].t[k]);
			assert_ptr_equal(out[k].m, &m[cases[i].metric[k]]);
		}
	}
	c.n_metrics = 0;
	assert_int_equal(recent_checks(&c, out, 10), 0);
}

static void row_text(int y, int cols, char *out, size_t n);

/* A tall screen (more rows than a fixed buffer) still shows every check. */
static void
test_tall(void **state)
{
	static struct snap_point many[150];
	struct snap_canary c;
	struct snap_metric m[2];
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	attr_t roles[ROLE__COUNT] = { 0 };
	SCREEN *scr;
	struct pen p;
	char line[512];
	size_t i;

	(void)state;
	for (i = 0; i < 150; i++)
		many[i] = (struct snap_point){ (int64_t)i * 30000, 99.5, CHECK_PASS };
	fixture(&c, m);
	m[0].points = many;
	m[0].n_points = 150;
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	scr = newterm("xterm-256color", out, in);
	assert_non_null(scr);
	resize_term(160, 80);
	p = (struct pen){ stdscr, roles, true, NULL };
	render_checks(&p, &c, (struct rect){ 0, 0, 155, 76 });
	row_text(0, 80, line, sizeof line);
	assert_non_null(strstr(line, "last 153 of 153"));
	row_text(153, 80, line, sizeof line);
	assert_non_null(strstr(line, "00:00:00  request-success-rate"));
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

/* Row text of the screen, trailing blanks removed. */
static void
row_text(int y, int cols, char *out, size_t n)
{
	wchar_t line[256];
	size_t end, i, used = 0;

	memset(line, 0, sizeof line);
	mvwinnwstr(stdscr, y, 0, line, cols);
	end = wcslen(line);
	while (end > 0 && line[end - 1] == L' ')
		end--;
	for (i = 0; i < end && used + MB_CUR_MAX < n; i++) {
		int k = wctomb(out + used, line[i]);

		used += k > 0 ? (size_t)k : 0;
	}
	out[used] = '\0';
}

static void
test_rows(void **state)
{
	static const struct {
		bool utf8;
		int row;
		const char *text;
		const char *cell;	/* a text whose first cell has the role below */
		enum theme_role role;
	} cases[] = {
		{ true, 0, "checks  last 6 of 6, newest first", "checks", ROLE_TITLE },
		{ true, 1, "00:01:10  request-success-rate       —  ≥ 99%     ? no data", "?", ROLE_METRIC_NODATA },
		{ true, 2, "00:01:10  request-duration       640ms  ≤ 500ms   ✗ FAIL", "640ms", ROLE_METRIC_FAIL },
		{ true, 2, "", "✗ FAIL", ROLE_METRIC_FAIL },
		{ true, 3, "00:00:55  request-duration           —  ≤ 500ms   ? error", "? error", ROLE_METRIC_NODATA },
		{ true, 4, "00:00:40  request-success-rate   97.0%  ≥ 99%     ✗ FAIL", "request-success-rate", ROLE_METRIC_FAIL },
		{ true, 5, "00:00:40  request-duration       230ms  ≤ 500ms   ✓ pass", "✓ pass", ROLE_METRIC_PASS },
		{ true, 6, "00:00:10  request-success-rate   99.5%  ≥ 99%     ✓ pass", "≥ 99%", ROLE_METRIC_BOUND },
		{ false, 1, "00:01:10  request-success-rate       -  >= 99%    ? no data", "?", ROLE_METRIC_NODATA },
		{ false, 2, "00:01:10  request-duration       640ms  <= 500ms  FAIL", "FAIL", ROLE_METRIC_FAIL },
	};
	attr_t roles[ROLE__COUNT];
	struct snap_canary c;
	struct snap_metric m[2];
	size_t i;
	int r;

	(void)state;
	for (r = 0; r < ROLE__COUNT; r++)
		roles[r] = (attr_t)COLOR_PAIR(r + 1);	/* distinct per role, no colours needed */
	fixture(&c, m);
	setenv("TZ", "UTC", 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
		SCREEN *scr;
		struct pen p;
		char line[512];
		const char *at;
		int x;

		assert_non_null(setlocale(LC_ALL, cases[i].utf8 ? "C.UTF-8" : "C"));
		scr = newterm("xterm-256color", out, in);
		assert_non_null(scr);
		resize_term(24, 80);
		p = (struct pen){ stdscr, roles, cases[i].utf8, NULL };
		render_checks(&p, &c, (struct rect){ 0, 0, 10, 76 });
		row_text(cases[i].row, 80, line, sizeof line);
		if (cases[i].text[0] != '\0')
			assert_string_equal(line, cases[i].text);
		at = strstr(line, cases[i].cell);
		assert_non_null(at);
		{
			char head[512];

			snprintf(head, sizeof head, "%.*s", (int)(at - line), line);
			x = (int)mbstowcs(NULL, head, 0);
		}
		{
			cchar_t cc;
			wchar_t wch[CCHARW_MAX + 1];
			attr_t a;
			short pair;

			assert_int_equal(mvwin_wch(stdscr, cases[i].row, x, &cc), OK);
			assert_int_equal(getcchar(&cc, wch, &a, &pair, NULL), OK);
			if (pair != PAIR_NUMBER(roles[cases[i].role]))
				fail_msg("case %zu: '%s' has pair %d, want %d", i, cases[i].cell,
				    pair, (int)PAIR_NUMBER(roles[cases[i].role]));
		}
		endwin();
		delscreen(scr);
		fclose(out);
		fclose(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recent_order),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_tall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
