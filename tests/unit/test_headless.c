/* test_headless.c — the JSON lines of headless runs: field order, nulls,
 * rounding, sanitizing, one flushed line per record; and the stored form of
 * the same builder, which the state directory's journal writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/headless.h"
#include "store/codec.h"

#define START INT64_C(1772460000000)

static struct journal_rec
event(int64_t t, const char *type, const char *msg)
{
	struct journal_rec r = { .time_ms = t, .kind = REC_EVENT, .severity = SEV_NORMAL,
	    .phase = PHASE_PROGRESSING, .weight = 20, .failed_checks = 1, .iteration = 0 };

	snprintf(r.canary, sizeof r.canary, "shop/checkout");
	snprintf(r.type, sizeof r.type, "%s", type);
	snprintf(r.reason, sizeof r.reason, "Synced");
	snprintf(r.message, sizeof r.message, "%s", msg);
	return r;
}

static struct journal_rec
check(const char *metric, bool has_value, double v, bool has_min, double min,
    bool has_max, double max, enum check_result res)
{
	struct journal_rec r = { .time_ms = START + 60000, .kind = REC_CHECK,
	    .has_value = has_value, .value = v, .has_min = has_min, .min = min,
	    .has_max = has_max, .max = max, .result = res };

	snprintf(r.canary, sizeof r.canary, "shop/checkout");
	snprintf(r.metric, sizeof r.metric, "%s", metric);
	return r;
}

/* The comparison judge's records of one analysis. */
static struct journal_rec
compare_rec(const char *metric, enum judge_class cl, double c, double p, const char *why)
{
	struct journal_rec r = check(metric, false, 0, false, 0, false, 0, CHECK_PASS);

	r.kind = REC_COMPARE;
	r.judge_class = cl;
	r.canary_median = c;
	r.primary_median = p;
	r.effect = c / p;
	snprintf(r.message, sizeof r.message, "%s", why);
	return r;
}

static struct journal_rec
score_rec(double score, enum judge_verdict v)
{
	struct journal_rec r = check("", false, 0, false, 0, false, 0, CHECK_PASS);

	r.kind = REC_SCORE;
	r.value = score;
	r.has_value = true;
	r.verdict = v;
	return r;
}

/* Compare and score records: headless lines as perch check prints them,
 * and a stored form that reads back as the same record (NaN medians are
 * null, and come back NaN). */
static void
test_compare_records(void **state)
{
	struct {
		struct journal_rec rec;
		const char *display;
	} rows[] = {
		{ compare_rec("request-duration\x1b[2J", JUDGE_HIGH, 240, 120, ""),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"compare\","
		  "\"metric\":\"request-duration\",\"classification\":\"High\",\"canaryMedian\":240.0,"
		  "\"primaryMedian\":120.0,\"effectSize\":2.0,\"reason\":null}" },
		{ compare_rec("latency", JUDGE_NODATA, NAN, 120, "canary: no values found"),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"compare\","
		  "\"metric\":\"latency\",\"classification\":\"NoData\",\"canaryMedian\":null,"
		  "\"primaryMedian\":120.0,\"effectSize\":null,\"reason\":\"canary: no values found\"}" },
		{ score_rec(75, JUDGE_VERDICT_MARGINAL),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"score\","
		  "\"score\":75.0,\"result\":\"marginal\",\"reason\":null}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		json_t *o = journal_to_json_form(&rows[i].rec, JOURNAL_STORED);
		char *d = headless_format(&rows[i].rec), *s = json_dumps(o, JSON_COMPACT), *s2;
		struct journal_rec back;
		char err[256];

		assert_string_equal(d, rows[i].display);
		assert_int_equal(journal_from_json(o, &back, err, sizeof err), 0);
		assert_int_equal(back.kind, rows[i].rec.kind);
		assert_int_equal(back.judge_class, rows[i].rec.judge_class);
		assert_int_equal(back.verdict, rows[i].rec.verdict);
		assert_true(isnan(back.canary_median) == isnan(rows[i].rec.canary_median));
		json_decref(o);
		o = journal_to_json_form(&back, JOURNAL_STORED);
		s2 = json_dumps(o, JSON_COMPACT);
		assert_string_equal(s2, s);
		free(s2);
		free(s);
		free(d);
		json_decref(o);
	}
}

static void
test_format(void **state)
{
	struct {
		struct journal_rec rec;
		const char *want;
	} rows[] = {
		{ event(START + 30000, "Normal", "Advance checkout.shop canary weight 20"),
		  "{\"time\":\"2026-03-02T14:00:30Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"reason\":\"Synced\","
		  "\"message\":\"Advance checkout.shop canary weight 20\"}" },
		/* No type given: the severity names it; control characters go. */
		{ event(START, "", "bad\x1b[31m \"quoted\"\ttab"),
		  "{\"time\":\"2026-03-02T14:00:00Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"reason\":\"Synced\","
		  "\"message\":\"bad \\\"quoted\\\" tab\"}" },
		/* OSC and CSI sequences, bidi overrides and isolates, C1 controls and
		 * invalid UTF-8 from a cluster's event go too, in type and metric. */
		{ event(START, "Warn\u202eing", "a\x1b]0;title\x07" "b\u2066c\xc2\x9b" "d\xff\xfe" "e"),
		  "{\"time\":\"2026-03-02T14:00:00Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Warning\",\"reason\":\"Synced\","
		  "\"message\":\"abcde\"}" },
		{ check("rate\x1b[2J\u202e", false, 0, false, 0, true, 500, CHECK_NODATA),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"rate\",\"value\":null,\"min\":null,\"max\":500.0,\"result\":\"nodata\"}" },
		{ check("request-success-rate", true, 99.95000000001, true, 99, false, 0, CHECK_PASS),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"request-success-rate\",\"value\":99.95,\"min\":99.0,\"max\":null,\"result\":\"pass\"}" },
		{ check("request-duration", true, 693.61234, false, 0, true, 500, CHECK_FAIL),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"request-duration\",\"value\":693.612,\"min\":null,\"max\":500.0,\"result\":\"fail\"}" },
		{ check("request-duration", false, 0, false, 0, true, 500, CHECK_NODATA),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"request-duration\",\"value\":null,\"min\":null,\"max\":500.0,\"result\":\"nodata\"}" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *s = headless_format(&rows[i].rec);

		assert_string_equal(s, rows[i].want);
		free(s);
	}
}

/* The state directory's journal is built by the same code in its stored
 * form: every field, full precision, raw strings (JSON-escaped), the time
 * with milliseconds; it reads back as the record it was.  The strings are
 * what the two separate builders wrote before they became one. */
static void
test_stored_form(void **state)
{
	struct journal_rec cmd = event(START + 1234, "Command", "paused by alice");
	struct {
		struct journal_rec rec;
		const char *display, *stored;
	} rows[] = {
		{ event(START + 30000, "Normal", "Advance checkout.shop canary weight 20"),
		  "{\"time\":\"2026-03-02T14:00:30Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"reason\":\"Synced\","
		  "\"message\":\"Advance checkout.shop canary weight 20\"}",
		  "{\"time\":\"2026-03-02T14:00:30.000Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"severity\":\"Normal\","
		  "\"reason\":\"Synced\",\"message\":\"Advance checkout.shop canary weight 20\",\"actor\":\"\"}" },
		{ event(START, "", "bad\x1b[31m \"quoted\"\ttab"),
		  "{\"time\":\"2026-03-02T14:00:00Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"reason\":\"Synced\","
		  "\"message\":\"bad \\\"quoted\\\" tab\"}",
		  "{\"time\":\"2026-03-02T14:00:00.000Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"\",\"severity\":\"Normal\","
		  "\"reason\":\"Synced\",\"message\":\"bad\\u001B[31m \\\"quoted\\\"\\ttab\",\"actor\":\"\"}" },
		/* Not valid UTF-8: sanitized in both (it used to vanish from the journal). */
		{ event(START, "Normal", "a\x1b]0;title\x07" "b\xff\xfe" "c"),
		  "{\"time\":\"2026-03-02T14:00:00Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"reason\":\"Synced\","
		  "\"message\":\"abc\"}",
		  "{\"time\":\"2026-03-02T14:00:00.000Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Normal\",\"severity\":\"Normal\","
		  "\"reason\":\"Synced\",\"message\":\"abc\",\"actor\":\"\"}" },
		{ check("request-success-rate", true, 99.95000000001, true, 99, false, 0, CHECK_PASS),
		  "{\"time\":\"2026-03-02T14:01:00Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"request-success-rate\",\"value\":99.95,\"min\":99.0,\"max\":null,\"result\":\"pass\"}",
		  "{\"time\":\"2026-03-02T14:01:00.000Z\",\"canary\":\"shop/checkout\",\"kind\":\"check\","
		  "\"metric\":\"request-success-rate\",\"value\":99.950000000009993,\"min\":99.0,\"max\":null,"
		  "\"result\":\"pass\",\"phase\":\"Initializing\",\"weight\":0,\"failedChecks\":0,\"iteration\":0}" },
		{ cmd,
		  "{\"time\":\"2026-03-02T14:00:01.234Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Command\",\"reason\":\"Command\","
		  "\"message\":\"paused by alice\"}",
		  "{\"time\":\"2026-03-02T14:00:01.234Z\",\"canary\":\"shop/checkout\",\"phase\":\"Progressing\","
		  "\"weight\":20,\"failedChecks\":1,\"iteration\":0,\"type\":\"Command\",\"severity\":\"Warning\","
		  "\"reason\":\"Command\",\"message\":\"paused by alice\",\"actor\":\"alice@laptop\"}" },
	};
	size_t i;

	(void)state;
	rows[4].rec.severity = SEV_WARNING;
	snprintf(rows[4].rec.reason, sizeof rows[4].rec.reason, "Command");
	snprintf(rows[4].rec.actor, sizeof rows[4].rec.actor, "alice@laptop");
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct journal_rec *rec = &rows[i].rec;
		json_t *o = journal_to_json_form(rec, JOURNAL_STORED);
		char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII), *d = headless_format(rec);
		struct journal_rec back;
		char err[256];

		assert_string_equal(d, rows[i].display);
		assert_string_equal(s, rows[i].stored);
		/* It reads back as the same record: encoded again, the same text. */
		assert_int_equal(journal_from_json(o, &back, err, sizeof err), 0);
		json_decref(o);
		free(s);
		o = journal_to_json_form(&back, JOURNAL_STORED);
		s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		assert_string_equal(s, rows[i].stored);
		free(s);
		free(d);
		json_decref(o);
	}
}

static void
test_sink_lines(void **state)
{
	struct journal_rec a = event(START, "Warning", "one"), b = event(START + 1, "Normal", "two");
	char buf[1024];
	FILE *f = tmpfile();
	size_t n;

	(void)state;
	assert_non_null(f);
	headless_sink(f, &a);
	headless_sink(f, &b);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "\"type\":\"Warning\",\"reason\":\"Synced\",\"message\":\"one\"}\n{"));
	assert_non_null(strstr(buf, "\"time\":\"2026-03-02T14:00:00.001Z\""));
	assert_int_equal(buf[n - 1], '\n');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_compare_records),
		cmocka_unit_test(test_stored_form),
		cmocka_unit_test(test_sink_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
