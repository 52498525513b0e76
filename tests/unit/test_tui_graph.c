/*
 * test_tui_graph.c — the y range of the detail screen's graphs: round tick
 * values at the top and bottom, the bound and every point inside, a success
 * rate never above 100 % nor below 0, a latency from 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "tui/render.h"

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
	{ METRIC_DURATION, false, true, 500, 3, { 150, 220, 200 }, { 0 }, 4, 0, 600 },
	{ METRIC_DURATION, false, false, 0, 1, { 212 }, { 0 }, 4, 0, 300 },
	{ METRIC_CUSTOM, false, true, 1, 2, { 0.25, 0.5 }, { 0 }, 5, 0, 1.25 },
	/* an infinite value is left out of the range (drawn at the edge) */
	{ METRIC_DURATION, false, true, 500, 3, { 150, 1.0 / 0.0, 200 }, { 0 }, 4, 0, 600 },
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
