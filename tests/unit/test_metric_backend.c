/* test_metric_backend.c — the metric backends (metrics/backend.h): the table
 * by MetricTemplate type, a query routed to its metric's backend and the
 * template's server, one of an unknown type answered with an error while
 * the others are evaluated, credentials through the backend's secret keys,
 * and the engine's provider on top (the future asked at the backend's now,
 * no probe when no backend has one).  A scripted Prometheus records what
 * it is asked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "tests/unit/helper_httpd.h"
#include "util/status.h"

#define VEC(v) "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":" \
	"[{\"metric\":{},\"value\":[1,\"" v "\"]}]}}"

static const struct httpd_rule rules[] = {
	{ .match = "query=a", .status = 200, .body = VEC("1") },
	{ .match = "query=b", .status = 200, .body = VEC("2") },
};

/* A Flagger type perch has no backend for yet (NULL: it has them all). */
static const char *
type_without_backend(void)
{
	int i;

	for (i = 0; i < MT__COUNT; i++)
		if (metric_backend_find(metric_type_name((enum metric_type)i)) == NULL)
			return metric_type_name((enum metric_type)i);
	return NULL;
}

static void
test_table(void **state)
{
	char types[256], small[5];
	int i;

	(void)state;
	assert_non_null(metric_backend_find(NULL));
	assert_ptr_equal(metric_backend_find(NULL), metric_backend_find("prometheus"));
	assert_string_equal(metric_type_name(metric_backend_find(NULL)->type), "prometheus");
	assert_null(metric_backend_find("no-such-type"));
	metric_backend_types(types, sizeof types);
	assert_int_equal(strncmp(types, "prometheus, graphite, ", 22), 0);
	/* every backend under its own type's name */
	for (i = 0; i < MT__COUNT; i++) {
		const struct metric_backend_ops *o = metric_backend_find(metric_type_name((enum metric_type)i));

		if (o != NULL) {
			assert_int_equal(o->type, i);
			assert_non_null(strstr(types, metric_type_name((enum metric_type)i)));
		}
	}
	metric_backend_types(small, sizeof small);
	assert_string_equal(small, "prom");
}

/* Each query to its template's server; an unknown type is an error of its
 * own and the rest are still asked. */
static void
test_routing(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct metric_backends *b = metric_backends_new(NULL);
	struct metric_cfg m[3] = {
		{ .name = (char *)"x", .kind = METRIC_CUSTOM },
		{ .name = (char *)"y", .kind = METRIC_CUSTOM, .provider = (char *)"prometheus" },
		{ .name = (char *)"z", .kind = METRIC_CUSTOM, .provider = (char *)"no-such-type" },
	};
	struct metric_query q[3] = {
		{ .metric = &m[0], .query = "a" }, { .metric = &m[1], .query = "b" },
		{ .metric = &m[2], .query = "c" },
	};
	struct metric_value out[3];
	struct metric_provider p = { 0 };
	char url[64], err[256];
	char *r;

	(void)state;
	httpd_url(h, url, sizeof url);
	m[1].server = url;
	p.address = "http://127.0.0.1:1";	/* the default: nothing there */
	assert_int_equal(metric_backends_add(b, NULL, &p, err, sizeof err), ST_OK);
	p.address = url;
	assert_int_equal(metric_backends_add(b, "prometheus", &p, err, sizeof err), ST_OK);
	assert_int_equal(metric_backends_add(b, "no-such-type", &p, err, sizeof err), ST_UNSUPPORTED);
	assert_int_equal(strncmp(err, "provider type no-such-type has no metric backend (perch has: "
	    "prometheus, ", 61), 0);
	if (type_without_backend() != NULL)
		assert_int_equal(metric_backends_add(b, type_without_backend(), &p, err, sizeof err),
		    ST_UNSUPPORTED);
	assert_int_equal(metric_backends_eval(b, q, 3, out), ST_OK);
	assert_true(out[0].result == CHECK_ERROR && out[0].unavailable);	/* the default */
	assert_true(out[1].result == CHECK_PASS && out[1].value == 2);		/* its server */
	assert_int_equal(out[2].result, CHECK_ERROR);
	assert_false(out[2].unavailable);
	assert_string_equal(out[2].err, "no metric backend for provider type no-such-type");
	assert_int_equal(httpd_count(h), 1);
	r = httpd_request(h, 0);
	assert_non_null(strstr(r, "query=b"));
	free(r);
	metric_backends_free(b);
	httpd_stop(h);
}

/* The engine's provider: a time ahead of real time is asked at the
 * backend's now (no time=); a past one as given. */
static void
test_engine_ops(void **state)
{
	struct httpd *h = httpd_start(rules, sizeof rules / sizeof rules[0]);
	struct metric_backends *b = metric_backends_new(NULL);
	struct metric_cfg m = { .name = (char *)"x", .kind = METRIC_CUSTOM };
	struct metric_query q[2] = {
		{ .metric = &m, .query = "a", .at_ms = 4102444800000LL },	/* 2100 */
		{ .metric = &m, .query = "b", .at_ms = 1700000000000LL },
	};
	struct metric_value out[2];
	struct metric_provider p = { 0 };
	char url[64], err[256], *r[2];
	size_t i;

	(void)state;
	httpd_url(h, url, sizeof url);
	p.address = url;
	assert_int_equal(metric_backends_add(b, NULL, &p, err, sizeof err), ST_OK);
	/* the backends with a probe (graphite, ...) make it probing; a
	 * canary whose metrics are all Prometheus' has nothing probed */
	assert_non_null(metric_backends_engine_ops()->check);
	{
		struct canary_cfg cc = { .n_metrics = 1, .metrics = &m };

		err[0] = 'x';
		assert_int_equal(metric_backends_engine_ops()->check(b, &cc, err), ST_UNSUPPORTED);
		assert_string_equal(err, "");
	}
	assert_int_equal(metric_backends_engine_ops()->eval(b, q, 2, out), ST_OK);
	assert_true(out[0].result == CHECK_PASS && out[1].result == CHECK_PASS);
	for (i = 0; i < 2; i++)
		r[i] = httpd_request(h, i);
	if (strstr(r[0], "query=b") != NULL) {
		char *t = r[0];

		r[0] = r[1];
		r[1] = t;
	}
	assert_null(strstr(r[0], "time="));
	assert_non_null(strstr(r[1], "time=1700000000"));
	free(r[0]);
	free(r[1]);
	metric_backends_free(b);
	httpd_stop(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_engine_ops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
