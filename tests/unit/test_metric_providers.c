/* test_metric_providers.c — the answers of the HTTP metric backends
 * (graphite, datadog, newrelic, influxdb, externalmetrics): a value, no
 * data, or an error, from fixture strings shaped as each provider's
 * documented answers; Graphite's query string, the external metrics
 * path and Kubernetes quantities; the backends' rows in the table; keptn's
 * queries, objects, and its backend over a cluster held in memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "metrics/backend.h"
#include "metrics/http_backend.h"
#include "metrics/datadog.h"
#include "metrics/externalmetrics.h"
#include "metrics/graphite.h"
#include "metrics/influxdb.h"
#include "metrics/keptn.h"
#include "metrics/newrelic.h"
#include "util/status.h"

struct row {
	const char *body;
	enum check_result r;
	double v;
	const char *err;	/* part of the message, or NULL */
};

static void
run_rows(void (*parse)(const char *, size_t, struct metric_value *), const struct row *rows,
    size_t n)
{
	struct metric_value v;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&v, 0x5a, sizeof v);
		parse(rows[i].body, strlen(rows[i].body), &v);
		if (v.result != rows[i].r)
			fail_msg("row %zu (%s): result %d, want %d (%s)", i, rows[i].body, v.result,
			    rows[i].r, v.err);
		if (rows[i].r == CHECK_PASS) {
			assert_false(isnan(v.value));
			assert_true(fabs(v.value - rows[i].v) < 1e-9 * (1 + fabs(rows[i].v)));
			assert_string_equal(v.err, "");
		} else {
			assert_true(v.err[0] != '\0');
		}
		if (rows[i].err != NULL && strstr(v.err, rows[i].err) == NULL)
			fail_msg("row %zu: message \"%s\" lacks \"%s\"", i, v.err, rows[i].err);
	}
}

static void
test_graphite(void **state)
{
	static const struct row rows[] = {
		/* the last non-null value of all the targets */
		{ "[{\"target\":\"a\",\"datapoints\":[[null,1621348400],[99.2,1621348460]]}]",
		  CHECK_PASS, 99.2, NULL },
		{ "[{\"target\":\"a\",\"datapoints\":[[1,10],[2,20],[null,30]]},"
		  "{\"target\":\"b\",\"datapoints\":[[7,10],[null,20]]}]", CHECK_PASS, 7, NULL },
		{ "[{\"target\":\"a\",\"datapoints\":[[\"3.5\",\"10\"]]}]", CHECK_PASS, 3.5, NULL },
		{ "[]", CHECK_NODATA, 0, "no values" },
		{ "[{\"target\":\"a\",\"datapoints\":[[null,1],[null,2]]}]", CHECK_NODATA, 0, NULL },
		{ "[{\"target\":\"a\",\"datapoints\":[]}]", CHECK_NODATA, 0, NULL },
		{ "[{\"target\":\"a\",\"datapoints\":[[1,2,3]]}]", CHECK_ERROR, 0, "bad datapoint" },
		{ "[{\"target\":\"a\",\"datapoints\":[[\"x\",2]]}]", CHECK_ERROR, 0, "bad datapoint" },
		{ "[{\"target\":\"a\"}]", CHECK_ERROR, 0, "no datapoints" },
		{ "{\"error\":1}", CHECK_ERROR, 0, "not a JSON array" },
		{ "<html>", CHECK_ERROR, 0, "invalid JSON" },
	};

	(void)state;
	run_rows(graphite_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_graphite_params(void **state)
{
	char err[128], *p;

	(void)state;
	/* white space collapsed, format=json, keys sorted, re-encoded */
	p = graphite_params("target=summarize(asPercent(a.b, c.d),\n  '1min', 'avg')&from=-5min\n",
	    err, sizeof err);
	assert_non_null(p);
	assert_string_equal(p, "format=json&from=-5min&target=summarize%28asPercent%28a.b%2C%20"
	    "c.d%29%2C%20%271min%27%2C%20%27avg%27%29");
	free(p);
	/* a format of the template is replaced; two targets keep their order */
	p = graphite_params("target=b&format=raw&target=a+x", err, sizeof err);
	assert_string_equal(p, "format=json&target=b&target=a%20x");
	free(p);
	assert_null(graphite_params("target=%zz", err, sizeof err));
	assert_non_null(strstr(err, "escape"));
}

static void
test_datadog(void **state)
{
	static const struct row rows[] = {
		/* the first (oldest) point of the first series */
		{ "{\"status\":\"ok\",\"series\":[{\"pointlist\":[[1577232000000,2.5],[1577318400000,3.1]]},"
		  "{\"pointlist\":[[1,9]]}]}", CHECK_PASS, 2.5, NULL },
		/* a null point is skipped, not read as 0 */
		{ "{\"series\":[{\"pointlist\":[[1,null],[2,4]]}]}", CHECK_PASS, 4, NULL },
		{ "{\"status\":\"ok\",\"series\":[]}", CHECK_NODATA, 0, "no values" },
		{ "{\"series\":[{\"pointlist\":[]}]}", CHECK_NODATA, 0, NULL },
		{ "{\"series\":[{\"pointlist\":[[1,null]]}]}", CHECK_NODATA, 0, NULL },
		{ "{}", CHECK_NODATA, 0, NULL },
		/* a point without its value: an error, not a crash */
		{ "{\"series\":[{\"pointlist\":[[1]]}]}", CHECK_ERROR, 0, "bad point" },
		{ "{\"series\":[{\"pointlist\":[[1,\"x\"]]}]}", CHECK_ERROR, 0, "no number" },
		{ "{\"status\":\"error\",\"error\":\"Error parsing query\"}", CHECK_ERROR, 0,
		  "Error parsing query" },
		{ "{\"series\":{}}", CHECK_ERROR, 0, "not an array" },
		{ "nope", CHECK_ERROR, 0, "invalid JSON" },
	};

	(void)state;
	run_rows(datadog_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_newrelic(void **state)
{
	static const struct row rows[] = {
		{ "{\"results\":[{\"result\":1.11111}]}", CHECK_PASS, 1.11111, NULL },
		{ "{\"results\":[{\"result\":0}],\"metadata\":{}}", CHECK_PASS, 0, NULL },
		{ "{\"results\":[]}", CHECK_NODATA, 0, "no values" },
		{ "{\"results\":[{\"result\":null}]}", CHECK_NODATA, 0, NULL },
		/* a bare count(*) answers with the key count */
		{ "{\"results\":[{\"count\":3}]}", CHECK_NODATA, 0, NULL },
		{ "{\"results\":[{\"result\":1},{\"result\":2}]}", CHECK_NODATA, 0, NULL },
		{ "{\"results\":[{\"result\":\"1\"}]}", CHECK_ERROR, 0, "not a number" },
		{ "{\"error\":\"NRQL Syntax Error\"}", CHECK_ERROR, 0, "NRQL Syntax Error" },
		{ "[1]", CHECK_ERROR, 0, "not a JSON object" },
	};

	(void)state;
	run_rows(newrelic_parse, rows, sizeof rows / sizeof rows[0]);
}

#define ANN "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double,string,string\r\n" \
	"#group,false,false,true,true,false,true,true\r\n#default,_result,,,,,,\r\n" \
	",result,table,_start,_stop,_value,_field,_measurement\r\n"

static void
test_influxdb(void **state)
{
	static const struct row rows[] = {
		{ ANN ",,0,2024-05-01T08:00:00Z,2024-05-01T10:00:00Z,12.5,value,m\r\n"
		  ",,0,2024-05-01T08:00:00Z,2024-05-01T10:00:00Z,99,value,m\r\n\r\n", CHECK_PASS, 12.5, NULL },
		/* a long (count()) is a value too */
		{ "#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n"
		  ",result,table,_value\n,,0,42\n", CHECK_PASS, 42, NULL },
		/* quoted fields */
		{ "#datatype,string,long,string,double\n,result,table,tag,_value\n"
		  ",,0,\"a,\"\"b\"\"\",3.25\n", CHECK_PASS, 3.25, NULL },
		/* zero records: no data (Flagger returns 0) */
		{ "", CHECK_NODATA, 0, "no values" },
		{ "\r\n", CHECK_NODATA, 0, NULL },
		{ ANN "\r\n", CHECK_NODATA, 0, NULL },
		{ ANN ",,0,2024-05-01T08:00:00Z,2024-05-01T10:00:00Z,,value,m\r\n", CHECK_NODATA, 0, "null" },
		/* an in-band error table */
		{ "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n"
		  ",\"failed to execute query: bucket not found\",\n", CHECK_ERROR, 0, "bucket not found" },
		{ "#datatype,string,long,string\n,result,table,_value\n,,0,abc\n", CHECK_ERROR, 0,
		  "not a number" },
		{ "#datatype,string,long,double\n,result,table,_value\n,,0,1x\n", CHECK_ERROR, 0,
		  "not a number" },
		{ ",result,table,_time\n,,0,5\n", CHECK_ERROR, 0, "no _value" },
		{ ",result,_value\n,\"open", CHECK_ERROR, 0, "unterminated" },
	};

	(void)state;
	run_rows(influxdb_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_externalmetrics(void **state)
{
	static const struct row rows[] = {
		{ "{\"kind\":\"ExternalMetricValueList\",\"apiVersion\":\"external.metrics.k8s.io/v1beta1\","
		  "\"metadata\":{},\"items\":[{\"metricName\":\"job-success-rate\",\"metricLabels\":"
		  "{\"env\":\"production\"},\"timestamp\":\"2024-05-01T10:00:00Z\",\"value\":\"995m\"}]}",
		  CHECK_PASS, 0.995, NULL },
		{ "{\"items\":[{\"value\":\"12\"},{\"value\":\"1\"}]}", CHECK_PASS, 12, NULL },
		{ "{\"kind\":\"ExternalMetricValueList\",\"items\":[]}", CHECK_NODATA, 0, "no values" },
		{ "{\"kind\":\"ExternalMetricValueList\"}", CHECK_NODATA, 0, NULL },
		{ "{\"items\":[{\"value\":\"12q\"}]}", CHECK_ERROR, 0, "quantity" },
		{ "{\"items\":[{\"value\":12}]}", CHECK_ERROR, 0, "quantity" },
		{ "{\"items\":[{}]}", CHECK_ERROR, 0, "no value" },
		{ "{\"items\":{}}", CHECK_ERROR, 0, "not an array" },
	};

	(void)state;
	run_rows(externalmetrics_parse, rows, sizeof rows / sizeof rows[0]);
}

static void
test_quantity(void **state)
{
	static const struct { const char *s; double v; } ok[] = {
		{ "1500m", 1.5 }, { "1", 1 }, { "-2", -2 }, { "0.5", 0.5 }, { "2Ki", 2048 },
		{ "3M", 3e6 }, { "1e3", 1000 }, { "1E", 1e18 }, { "5n", 5e-9 }, { "7u", 7e-6 },
		{ "1Gi", 1073741824.0 }, { "2.5E-1", 0.25 }, { "+4k", 4000 },
	};
	static const char *const bad[] = { "", "m", "1mm", "1K", "abc", "1 m", ".", "1e", "-" };
	size_t i;
	double v;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (quantity_parse(ok[i].s, &v) != ST_OK)
			fail_msg("%s does not parse", ok[i].s);
		if (fabs(v - ok[i].v) > 1e-12 * (1 + fabs(ok[i].v)))
			fail_msg("%s: %g, want %g", ok[i].s, v, ok[i].v);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (quantity_parse(bad[i], &v) == ST_OK)
			fail_msg("\"%s\" parses", bad[i]);
}

static void
test_external_path(void **state)
{
	char err[256], *p;

	(void)state;
	assert_int_equal(externalmetrics_path("shop/job-success-rate?labelSelector=env%3Dprod\n",
	    &p, err, sizeof err), ST_OK);
	assert_string_equal(p, "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/"
	    "job-success-rate?labelSelector=env%3Dprod");
	free(p);
	assert_int_equal(externalmetrics_path("queue-depth", &p, err, sizeof err), ST_OK);
	assert_string_equal(p, "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/"
	    "queue-depth");
	free(p);
	assert_int_equal(externalmetrics_path("a/b/c", &p, err, sizeof err), ST_INVALID);
	assert_int_equal(externalmetrics_path("shop/", &p, err, sizeof err), ST_INVALID);
	assert_int_equal(externalmetrics_path("", &p, err, sizeof err), ST_INVALID);
	assert_int_equal(externalmetrics_path("m?foo=1", &p, err, sizeof err), ST_INVALID);
}

/* Each backend is found by its type, with Flagger's secret keys. */
static void
test_table(void **state)
{
	static const struct { enum metric_type t; const char *keys; bool req; } rows[] = {
		{ MT_GRAPHITE, "username,password", false },
		{ MT_DATADOG, "datadog_api_key,datadog_application_key", true },
		{ MT_NEWRELIC, "newrelic_account_id,newrelic_query_key", true },
		{ MT_INFLUXDB, "token,org", false },
		{ MT_EXTERNALMETRICS, "token", false },
	};
	const struct metric_backend_ops *ops;
	char keys[256];
	size_t i, k, len;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ops = metric_backend_find(metric_type_name(rows[i].t));
		assert_non_null(ops);
		assert_int_equal(ops->type, rows[i].t);
		assert_non_null(ops->probe);
		assert_int_equal(ops->secret_required, rows[i].req);
		keys[0] = '\0';
		for (k = 0, len = 0; ops->secret_keys[k] != NULL; k++)
			len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", k ? "," : "",
			    ops->secret_keys[k]);
		assert_string_equal(keys, rows[i].keys);
	}
}


/* Which backends can aim a query at a past time (perch replay): those
 * whose request carries the time, the others only answer for now. */
static void
test_past(void **state)
{
	static const struct { enum metric_type t; bool past; } rows[] = {
		{ MT_PROMETHEUS, true }, { MT_GRAPHITE, true }, { MT_DATADOG, true },
		{ MT_CLOUDWATCH, true }, { MT_DYNATRACE, true }, { MT_SPLUNK, true },
		{ MT_NEWRELIC, true }, { MT_INFLUXDB, true }, { MT_STACKDRIVER, false },
		{ MT_EXTERNALMETRICS, false }, { MT_KEPTN, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct metric_backend_ops *ops = metric_backend_find(metric_type_name(rows[i].t));

		assert_non_null(ops);
		if (ops->past != rows[i].past)
			fail_msg("%s: past %d, want %d", metric_type_name(rows[i].t), ops->past,
			    rows[i].past);
	}
}

/* Flagger's grammar: lower-cased, trimmed, <kind>/<ns>/<name>[/tf[/args]]. */
static void
test_keptn_query(void **state)
{
	struct keptn_query q;
	char err[256];

	(void)state;
	assert_int_equal(keptn_query_parse(" KeptnMetric/Shop/Rate\n", &q, err, sizeof err), ST_OK);
	assert_int_equal(q.kind, KEPTN_METRIC);
	assert_string_equal(q.ns, "shop");
	assert_string_equal(q.name, "rate");
	keptn_query_fini(&q);
	assert_int_equal(keptn_query_parse("analyses/shop/def/5m/Team=Shop;bad;a=b=c;r=eu", &q, err,
	    sizeof err), ST_OK);
	assert_int_equal(q.kind, KEPTN_ANALYSIS);
	assert_string_equal(q.timeframe, "5m");
	assert_string_equal(json_string_value(json_object_get(q.args, "team")), "shop");
	assert_string_equal(json_string_value(json_object_get(q.args, "r")), "eu");
	assert_int_equal(json_object_size(q.args), 2);
	keptn_query_fini(&q);
	assert_int_equal(keptn_query_parse("analysis/shop/def", &q, err, sizeof err), ST_OK);
	assert_string_equal(q.timeframe, "1m");
	assert_int_equal(json_object_size(q.args), 0);
	keptn_query_fini(&q);
	assert_int_equal(keptn_query_parse("keptnmetric/shop", &q, err, sizeof err), ST_INVALID);
	assert_non_null(strstr(err, "<namespace>/<name>"));
	assert_int_equal(keptn_query_parse("keptnmetric//x", &q, err, sizeof err), ST_INVALID);
	assert_int_equal(keptn_query_parse("metric/shop/x", &q, err, sizeof err), ST_INVALID);
	assert_non_null(strstr(err, "kind"));
	assert_int_equal(keptn_query_parse("", &q, err, sizeof err), ST_INVALID);
}

static void
keptn_object(const char *json, bool analysis, enum check_result r, double v, const char *msg)
{
	json_t *o = json_loads(json, 0, NULL);
	struct metric_value out;

	assert_non_null(o);
	memset(&out, 0, sizeof out);
	if (analysis)
		assert_true(keptn_analysis_done(o, &out));
	else
		keptn_metric_value(o, &out);
	assert_int_equal(out.result, r);
	if (r == CHECK_PASS)
		assert_true(out.value == v);
	else
		assert_non_null(strstr(out.err, msg));
	json_decref(o);
}

static void
test_keptn_objects(void **state)
{
	struct metric_value out;
	json_t *o = json_loads("{\"status\":{\"state\":\"Progressing\"}}", 0, NULL);

	(void)state;
	keptn_object("{\"status\":{\"value\":\"42.5\"}}", false, CHECK_PASS, 42.5, NULL);
	keptn_object("{\"status\":{\"value\":\"-1e3\"}}", false, CHECK_PASS, -1000, NULL);
	keptn_object("{\"spec\":{}}", false, CHECK_ERROR, 0, "no value (status.value)");
	keptn_object("{\"status\":{\"value\":\"\",\"errMsg\":\"down\"}}", false, CHECK_ERROR, 0,
	    "no value (status.value): down");
	keptn_object("{\"status\":{\"value\":\"1x\"}}", false, CHECK_ERROR, 0, "not a number: 1x");
	keptn_object("{\"status\":{\"value\":\"NaN\"}}", false, CHECK_ERROR, 0, "not a number");
	keptn_object("{\"status\":{\"state\":\"Completed\",\"pass\":true}}", true, CHECK_PASS, 1,
	    NULL);
	keptn_object("{\"status\":{\"state\":\"Completed\",\"pass\":false}}", true, CHECK_PASS,
	    0, NULL);
	keptn_object("{\"status\":{\"state\":\"Completed\"}}", true, CHECK_PASS, 0, NULL);
	assert_false(keptn_analysis_done(o, &out));
	json_decref(o);
}

/* A cluster in memory: objects by "plural/ns/name"; what was created and
 * deleted; created Analyses complete at once, passing. */
struct fake_kube {
	json_t *objs;
	int created, deleted, fail;
};

static int
fk_get(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name, json_t **out,
    char *err, size_t errsz)
{
	struct fake_kube *k = ctx;
	char key[256];

	if (k->fail != ST_OK) {
		snprintf(err, errsz, "connection refused");
		return k->fail;
	}
	snprintf(key, sizeof key, "%s/%s/%s", r->plural, ns, name);
	*out = json_incref(json_object_get(k->objs, key));
	return *out != NULL ? ST_OK : ST_NOTFOUND;
}

static int
fk_create(void *ctx, const struct metric_kube_res *r, const char *ns, json_t *obj, char *err,
    size_t errsz)
{
	struct fake_kube *k = ctx;
	const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"),
	    "name"));
	char key[256];
	json_t *o = json_deep_copy(obj);

	(void)err;
	(void)errsz;
	assert_string_equal(r->group, "metrics.keptn.sh");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(obj,
	    "spec"), "timeframe"), "recent")), "2m");
	json_object_set_new(o, "status", json_pack("{s:s, s:b}", "state", "Completed", "pass", 1));
	snprintf(key, sizeof key, "%s/%s/%s", r->plural, ns, name);
	json_object_set_new(k->objs, key, o);
	k->created++;
	return ST_OK;
}

static int
fk_del(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name, char *err,
    size_t errsz)
{
	struct fake_kube *k = ctx;
	char key[256];

	(void)err;
	(void)errsz;
	snprintf(key, sizeof key, "%s/%s/%s", r->plural, ns, name);
	k->deleted += json_object_del(k->objs, key) == 0;
	return ST_OK;
}

/* The external metrics API: namespaces/NS/METRIC with the selector. */
static int
fk_list(void *ctx, const struct metric_kube_res *r, const char *ns, const char *sel, json_t **out,
    char *err, size_t errsz)
{
	(void)ctx;
	(void)err;
	(void)errsz;
	assert_string_equal(r->group, "external.metrics.k8s.io");
	if (strcmp(ns, "shop") != 0 || strcmp(r->plural, "queue-depth") != 0)
		return ST_NOTFOUND;
	assert_string_equal(sel, "app=cart,env in (a b)");
	*out = json_pack("{s:[{s:s}]}", "items", "value", "2k");
	return ST_OK;
}

static void
keptn_eval(struct fake_kube *fk, const char *query, struct metric_value *out)
{
	const struct metric_kube kube = { fk, fk_get, fk_list, fk_create, fk_del };
	const struct metric_backend_opts o = { .kube = fk != NULL ? &kube : NULL };
	const struct metric_query q = { .query = query };
	void *b = keptn_backend.open(&o);
	char err[ERRMSG_MAX];

	assert_int_equal(keptn_backend.eval(b, &q, 1, out), fk != NULL ? ST_OK : ST_UNSUPPORTED);
	assert_int_equal(keptn_backend.probe(b, NULL, err), fk != NULL ? ST_OK : ST_UNSUPPORTED);
	keptn_backend.close(b);
}

static void
test_keptn_backend(void **state)
{
	struct fake_kube fk = { json_object(), 0, 0, ST_OK };
	struct metric_value out;

	(void)state;
	json_object_set_new(fk.objs, "keptnmetrics/shop/rate",
	    json_pack("{s:{s:s}}", "status", "value", "99.5"));
	keptn_eval(&fk, "keptnmetric/shop/rate", &out);
	assert_int_equal(out.result, CHECK_PASS);
	assert_true(out.value == 99.5);
	keptn_eval(&fk, "keptnmetric/shop/gone", &out);
	assert_int_equal(out.result, CHECK_ERROR);
	assert_string_equal(out.err, "KeptnMetric shop/gone: not found");
	assert_false(out.unavailable);
	keptn_eval(&fk, "analysis/shop/def/2m", &out);
	assert_int_equal(out.result, CHECK_PASS);
	assert_true(out.value == 1);
	assert_int_equal(fk.created, 1);
	assert_int_equal(fk.deleted, 1);
	assert_int_equal(json_object_size(fk.objs), 1);
	fk.fail = ST_NETWORK;
	keptn_eval(&fk, "keptnmetric/shop/rate", &out);
	assert_int_equal(out.result, CHECK_ERROR);
	assert_true(out.unavailable);
	keptn_eval(NULL, "keptnmetric/shop/rate", &out);
	assert_int_equal(out.result, CHECK_ERROR);
	assert_non_null(strstr(out.err, "no cluster given"));
	json_decref(fk.objs);
}

/* externalmetrics without an address: the cluster's external metrics API. */
static void
test_external_cluster(void **state)
{
	struct fake_kube fk = { json_object(), 0, 0, ST_OK };
	const struct metric_kube kube = { &fk, fk_get, fk_list, fk_create, fk_del };
	const struct metric_backend_opts o = { .kube = &kube };
	const struct metric_provider p = { .address = NULL };
	const struct metric_query q[2] = {
		{ .query = "shop/queue-depth?labelSelector=app%3Dcart%2Cenv+in+%28a+b%29\n" },
		{ .query = "shop/other" },
	};
	struct metric_value out[2];
	void *b = externalmetrics_backend.open(&o);
	char err[ERRMSG_MAX];

	(void)state;
	assert_int_equal(externalmetrics_backend.add(b, &p), ST_OK);
	assert_int_equal(externalmetrics_backend.eval(b, q, 2, out), ST_OK);
	assert_int_equal(out[0].result, CHECK_PASS);
	assert_true(out[0].value == 2000);
	assert_int_equal(out[1].result, CHECK_ERROR);
	assert_int_equal(externalmetrics_backend.probe(b, NULL, err), ST_NOTFOUND);
	externalmetrics_backend.close(b);
	b = externalmetrics_backend.open(&(struct metric_backend_opts){ 0 });
	assert_int_equal(externalmetrics_backend.add(b, &p), ST_INVALID);
	externalmetrics_backend.close(b);
	json_decref(fk.objs);
}

/* A kind that sends nothing: its request names the block it was given. */
static int
block_request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	(void)q;
	(void)now_s;
	(void)r;
	snprintf(err, errsz, "%s %s %s", s->address, s->region != NULL ? s->region : "-",
	    s->secret[0] != NULL ? s->secret[0] : "-");
	return ST_INVALID;
}

static void
block_parse(const char *body, size_t len, struct metric_value *out)
{
	(void)body;
	(void)len;
	hb_value(out, 0);
}

/* Two address-less blocks of one type (other regions, other Secrets) are
 * two blocks, each query going to its metric's. */
static void
test_blocks_by_key(void **state)
{
	static const char *const keys[] = { "token", NULL };
	static const struct http_kind k = {
		.label = "test", .default_address = "http://127.0.0.1:1", .secret_keys = keys,
		.request = block_request, .parse = block_parse,
	};
	const char *sa[] = { "sa" }, *sb[] = { "sb" };
	const struct metric_provider pa = { .region = "eu-west-1", .secret = sa, .block = "A" };
	const struct metric_provider pb = { .region = "us-east-1", .secret = sb, .block = "B" };
	struct metric_cfg ma = { .block = (char *)"A" }, mb = { .block = (char *)"B" };
	const struct metric_query q[2] = { { .metric = &ma, .query = "x" },
		{ .metric = &mb, .query = "x" } };
	struct metric_value out[2];
	void *b = hb_open(&k, &(struct metric_backend_opts){ 0 });

	(void)state;
	assert_int_equal(hb_add(b, &pa), ST_OK);
	assert_int_equal(hb_add(b, &pb), ST_OK);
	assert_int_equal(hb_eval(b, q, 2, out), ST_OK);
	assert_string_equal(out[0].err, "http://127.0.0.1:1 eu-west-1 sa");
	assert_string_equal(out[1].err, "http://127.0.0.1:1 us-east-1 sb");
	hb_close(b);
}

/* The keys of templates: equal when nothing that makes a block differs. */
static void
test_template_block(void **state)
{
	struct spec_metric_template a = { .provider_type = (char *)"cloudwatch",
		.region = (char *)"eu-west-1" };
	struct spec_metric_template c = a;
	char *ka, *kc;

	(void)state;
	a.meta.ns = (char *)"shop";
	c.meta.ns = (char *)"shop";
	ka = metric_template_block(&a);
	kc = metric_template_block(&c);
	assert_string_equal(ka, kc);
	free(kc);
	c.region = (char *)"us-east-1";
	kc = metric_template_block(&c);
	assert_string_not_equal(ka, kc);
	free(kc);
	c.region = a.region;
	c.secret_ref = (char *)"aws-b";
	kc = metric_template_block(&c);
	assert_string_not_equal(ka, kc);
	free(kc);
	c.secret_ref = NULL;
	c.insecure_skip_verify = true;
	kc = metric_template_block(&c);
	assert_string_not_equal(ka, kc);
	free(kc);
	free(ka);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graphite),
		cmocka_unit_test(test_graphite_params),
		cmocka_unit_test(test_datadog),
		cmocka_unit_test(test_newrelic),
		cmocka_unit_test(test_influxdb),
		cmocka_unit_test(test_externalmetrics),
		cmocka_unit_test(test_quantity),
		cmocka_unit_test(test_external_path),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_past),
		cmocka_unit_test(test_keptn_query),
		cmocka_unit_test(test_keptn_objects),
		cmocka_unit_test(test_keptn_backend),
		cmocka_unit_test(test_external_cluster),
		cmocka_unit_test(test_blocks_by_key),
		cmocka_unit_test(test_template_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
