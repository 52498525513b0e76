/*
 * test_tui_graph.c — the y range of the detail screen's graphs: round tick
 * values at the top and bottom, the bound and every point inside, a success
 * rate never above 100 % nor below 0, a latency from 0.  And the marks,
 * drawn on a fake terminal without any colour (as NO_COLOR shows them):
 * every failing point and every inconclusive one reads differently from a
 * pass, on the top row too; a revision boundary separates two runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "tui/render.h"
#include "util/xalloc.h"

#define MAXP 8

struct range_case {
	enum metric_kind kind;
	bool has_min, has_max;
	double bound;
	int n;
	double v[MAXP];
	enum check_result r[MAXP];	/* CHECK_PASS (0) unless set */
	int rows;
	double lo, hi;			/* expected */
};

static const struct range_case cases[] = {
	/* all at 100 %: the padding would reach 106 % */
	{ METRIC_SUCCESS_RATE, false, false, 0, 3, { 100, 100, 100 }, { 0 }, 4, 94, 100 },
	/* near the top with a bound: 100 %, not 100.1 % */
	{ METRIC_SUCCESS_RATE, true, false, 99, 4, { 99.3, 99.9, 99.6, 99.95 }, { 0 }, 4, 98.5, 100 },
	{ METRIC_SUCCESS_RATE, true, false, 99, 4, { 99.3, 99.9, 91.0, 95 }, { 0 }, 6, 90, 100 },
	/* a no-data point's value is not plotted */
	{ METRIC_SUCCESS_RATE, true, false, 99, 3, { 99.5, 0, 99.8 }, { 0, CHECK_NODATA, 0 }, 4, 98.5, 100 },
	/* low rates: steps of 0.2 % */
	{ METRIC_SUCCESS_RATE, false, false, 0, 2, { 0.5, 1 }, { 0 }, 4, 0.4, 1.2 },
	/* a single 0 %: never below 0 % */
	{ METRIC_SUCCESS_RATE, false, false, 0, 1, { 0 }, { 0 }, 4, 0, 1 },
	{ METRIC_DURATION, false, true, 500, 3, { 150, 670, 200 }, { 0 }, 6, 0, 800 },
	/* the bound 500 would fall on the top row (0..600): one more step, so
	 * that it has a row of its own under the top value */
	{ METRIC_DURATION, false, true, 500, 3, { 150, 220, 200 }, { 0 }, 4, 0, 800 },
	{ METRIC_DURATION, false, false, 0, 1, { 212 }, { 0 }, 4, 0, 300 },
	{ METRIC_CUSTOM, false, true, 1, 2, { 0.25, 0.5 }, { 0 }, 5, 0, 1.5 },
	/* an infinite value is left out of the range (drawn at the edge); the
	 * bound 500 then falls on the top row of 0..600: one more step */
	{ METRIC_DURATION, false, true, 500, 3, { 150, 1.0 / 0.0, 200 }, { 0 }, 4, 0, 800 },
	{ METRIC_CUSTOM, false, false, 0, 2, { -1.0 / 0.0, 0.0 / 0.0 }, { 0 }, 4, -1, 1 },
};

static void
test_ranges(void **state)
{
	size_t i;
	int k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct range_case *c = &cases[i];
		struct snap_point pts[MAXP];
		struct snap_metric m;
		double lo, hi;

		memset(&m, 0, sizeof m);
		memset(pts, 0, sizeof pts);
		for (k = 0; k < c->n; k++)
			pts[k] = (struct snap_point){ 1000 * k, c->v[k], c->r[k] };
		m = (struct snap_metric){ .name = "m", .kind = c->kind, .has_min = c->has_min,
			.has_max = c->has_max, .min = c->bound, .max = c->bound, .points = pts,
			.n_points = (size_t)c->n };
		graph_range(&m, 0, c->rows, &lo, &hi);
		if (fabs(lo - c->lo) > 1e-6 || fabs(hi - c->hi) > 1e-6)
			fail_msg("case %zu: range %g..%g, want %g..%g", i, lo, hi, c->lo, c->hi);
		assert_true(isfinite(lo) && isfinite(hi) && lo < hi);
		for (k = 0; k < c->n; k++)
			if (c->r[k] == CHECK_PASS && isfinite(c->v[k]))
				assert_true(c->v[k] >= lo - 1e-9 && c->v[k] <= hi + 1e-9);
	}
}

/* ---- marks without colour ----------------------------------------------- */

#define NOW 1795701751000LL

/* A snapshot of one canary with one request-duration metric (bound 500 ms)
 * whose points are values[] / results[] 30 s apart, the current run since
 * run_since. */
static struct snapshot *
one_metric(const double *values, const enum check_result *results, int n, int64_t run_since)
{
	struct snapshot *s = snapshot_new();
	struct snap_canary *c;
	struct snap_metric *m;
	int i;

	s->context = xstrdup("T");
	s->ns = xstrdup("shop");
	s->holder = xstrdup("");
	s->status_msg = xstrdup("");
	s->now_ms = NOW;
	s->canaries = xcalloc(1, sizeof *s->canaries);
	s->n_canaries = 1;
	c = &s->canaries[0];
	c->ns = xstrdup("shop");
	c->name = xstrdup("search");
	c->target = xstrdup("search");
	c->provider = xstrdup("linkerd");
	c->phase = PHASE_PROGRESSING;
	c->threshold = 5;
	c->interval_s = 30;
	c->max_weight = 50;
	c->rev_from = xstrdup("search:v1");
	c->rev_to = xstrdup("search:v2");
	c->reason = xstrdup("");
	c->run_since_ms = run_since;
	c->metrics = xcalloc(1, sizeof *c->metrics);
	c->n_metrics = 1;
	m = &c->metrics[0];
	m->name = xstrdup("request-duration");
	m->kind = METRIC_DURATION;
	m->has_max = true;
	m->max = 500;
	m->points = xcalloc((size_t)n, sizeof *m->points);
	m->n_points = (size_t)n;
	for (i = 0; i < n; i++)
		m->points[i] = (struct snap_point){ NOW - (int64_t)(n - i) * 30000, values[i],
			results[i] };
	return s;
}

/* The detail of s at 80x24 without attributes; columns[k] gets the plot
 * column of point k (top to bottom), boundary the column after the axis
 * that holds the run boundary (or "" when none). */
static void
plot_columns(bool utf8, struct snapshot *s, int n, char columns[][64], char *boundary)
{
	static const attr_t roles[ROLE__COUNT];	/* no colour, no attribute */
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	int y, x, top = -1, axis = -1, ph = 0, k, col;
	wchar_t cells[24][81];
	SCREEN *scr;
	struct ui u;

	assert_non_null(setlocale(LC_ALL, utf8 ? "C.UTF-8" : "C"));
	scr = newterm("xterm-256color", out, in);
	assert_non_null(scr);
	resize_term(24, 80);
	ui_init(&u, false, utf8);
	u.now_ms = NOW;
	u.screen = SCR_DETAIL;
	render(stdscr, roles, s, &u);
	for (y = 0; y < 24; y++) {
		memset(cells[y], 0, sizeof cells[y]);
		mvwinnwstr(stdscr, y, 0, cells[y], 80);
	}
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	for (y = 0; y < 24 && top < 0; y++)
		if (wcsstr(cells[y], L"request-duration") != NULL)
			top = y + 1;
	assert_true(top > 0);
	for (x = 2; x < 78 && axis < 0; x++)	/* inside the box */
		if (cells[top][x] == (utf8 ? L'┤' : L'|') || cells[top][x] == (utf8 ? L'┼' : L'+'))
			axis = x;
	assert_true(axis > 0);
	/* The x axis: its corner, then the first check's time (ASCII draws
	 * the bound's row with a '+' too). */
	while (!(cells[top + ph][axis] == (utf8 ? L'└' : L'+') && cells[top + ph][axis + 1] == L' ' &&
	    iswdigit((wint_t)cells[top + ph][axis + 2])))
		ph++;
	boundary[0] = '\0';
	for (k = 0, col = axis + 1; k < n; k++, col++) {
		if (cells[top][col] == (utf8 ? L'┊' : L':')) {
			sprintf(boundary, "%d", k);
			col++;
		}
		columns[k][0] = '\0';
		for (y = 0; y < ph; y++) {
			size_t len = strlen(columns[k]), w;
			mbstate_t st;

			memset(&st, 0, sizeof st);
			w = wcrtomb(columns[k] + len, cells[top + y][col], &st);
			columns[k][len + (w == (size_t)-1 ? 0 : w)] = '\0';
		}
	}
}

static void
test_marks_without_colour(void **state)
{
	static const double v[] = { 200, 800, 640, 0, 250, 700 };
	static const enum check_result r[] = {
		CHECK_PASS, CHECK_FAIL, CHECK_FAIL, CHECK_NODATA, CHECK_PASS, CHECK_FAIL };
	char cols[6][64], boundary[8];
	int utf8, k;

	(void)state;
	for (utf8 = 1; utf8 >= 0; utf8--) {
		struct snapshot *s = one_metric(v, r, 6, 0);

		memset(cols, 0, sizeof cols);
		plot_columns(utf8, s, 6, cols, boundary);
		for (k = 0; k < 6; k++) {
			bool has_x = strstr(cols[k], utf8 ? "×" : "X") != NULL;
			bool has_q = strchr(cols[k], '?') != NULL;

			if (r[k] == CHECK_FAIL && !has_x)
				fail_msg("%s: failing point %d has no mark: '%s'", utf8 ? "utf8" : "ascii",
				    k, cols[k]);
			if (r[k] != CHECK_FAIL && has_x)
				fail_msg("point %d is marked as failing: '%s'", k, cols[k]);
			if ((r[k] == CHECK_NODATA) != has_q)
				fail_msg("point %d: '?' %s", k, has_q ? "on a conclusive one" : "missing");
		}
		/* 800 ms is the highest value: its mark is on the top row. */
		assert_true(strncmp(cols[1], utf8 ? "×" : "X", utf8 ? 2 : 1) == 0);
		assert_string_equal(boundary, "");
		snapshot_unref(s);
	}
}

/* Two runs in one graph: a boundary column between them. */
static void
test_revision_boundary(void **state)
{
	static const double v[] = { 700, 800, 640, 210, 220 };
	static const enum check_result r[] = {
		CHECK_FAIL, CHECK_FAIL, CHECK_FAIL, CHECK_PASS, CHECK_PASS };
	char cols[5][64], boundary[8];
	struct snapshot *s = one_metric(v, r, 5, NOW - 2 * 30000 - 1000);

	(void)state;
	plot_columns(true, s, 5, cols, boundary);
	assert_string_equal(boundary, "3");
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_marks_without_colour),
		cmocka_unit_test(test_revision_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
