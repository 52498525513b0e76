/* test_metric_saas.c — the answer parsers of the SaaS metric backends
 * (fixture strings as each provider documents them): a value, which value
 * is taken when there are several, no data, and malformed answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "metrics/dynatrace.h"
#include "util/status.h"

struct row {
	const char *body;
	int st;
	enum check_result r;
	double v;
};

static void
run_rows(int (*parse)(const char *, size_t, struct metric_value *), const struct row *rows,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct metric_value v;
		int st = parse(rows[i].body, strlen(rows[i].body), &v);

		if (st != rows[i].st || v.result != rows[i].r)
			fail_msg("row %zu: status %d result %d (%s)", i, st, v.result, v.err);
		if (rows[i].r == CHECK_PASS)
			assert_true(v.value == rows[i].v);
		else
			assert_true(v.err[0] != '\0');
	}
}

static void
test_dynatrace(void **state)
{
	static const struct row rows[] = {
		{ "{\"totalCount\":1,\"nextPageKey\":null,\"resolution\":\"Inf\",\"result\":[{\"metricId\":"
		  "\"m\",\"data\":[{\"dimensions\":[\"SERVICE-ABC\"],\"timestamps\":[1589455320000],"
		  "\"values\":[812.4]}]}]}", ST_OK, CHECK_PASS, 812.4 },
		/* the last data entry, its first value */
		{ "{\"result\":[{\"data\":[{\"values\":[1]},{\"values\":[2.5,9]}]},{\"data\":[{\"values\":"
		  "[7]}]}]}", ST_OK, CHECK_PASS, 2.5 },
		{ "{\"result\":[]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[{\"values\":[]}]}]}", ST_OK, CHECK_NODATA, 0 },
		/* null: Flagger reads 0, perch says no values */
		{ "{\"result\":[{\"data\":[{\"values\":[null]}]}]}", ST_OK, CHECK_NODATA, 0 },
		{ "{\"result\":[{\"data\":[{\"values\":[\"1\"]}]}]}", ST_PARSE, CHECK_ERROR, 0 },
		{ "{\"result\":{}}", ST_PARSE, CHECK_ERROR, 0 },
		{ "[1]", ST_PARSE, CHECK_ERROR, 0 },
		{ "not json", ST_PARSE, CHECK_ERROR, 0 },
	};

	(void)state;
	run_rows(dynatrace_parse, rows, sizeof rows / sizeof rows[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dynatrace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
