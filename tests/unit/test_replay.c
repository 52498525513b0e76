/* test_replay.c — perch replay's pieces: recorded analyses through the
 * rollout engine on a replayed clock (engine/replay.c), a journal cut into
 * rollouts and read strictly (app/replay_journal.c), the difference to the
 * record (app/replay_print.c), and the request volume a check record keeps
 * (store/codec.c, older records without it still read). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/replay_journal.h"
#include "app/replay_print.h"
#include "engine/replay.h"
#include "store/codec.h"
#include "tests/unit/helper_canary.h"
#include "util/status.h"
#include "util/xalloc.h"

#define T0 1772460030000LL	/* 2026-03-02T14:00:30Z */

/* n analyses 30 s apart from T0 + 60 s, success rate rates[i] and
 * request duration 200 ms, each with a request volume. */
static struct replay_analysis *
analyses(const double *rates, size_t n, double volume)
{
	struct replay_analysis *a = xcalloc(n, sizeof *a);
	size_t i;

	for (i = 0; i < n; i++) {
		a[i].time_ms = T0 + 60000 + (int64_t)i * 30000;
		a[i].weight = -1;
		a[i].n = 2;
		a[i].v = xcalloc(2, sizeof *a[i].v);
		strcpy(a[i].v[0].metric, "request-success-rate");
		a[i].v[0].value = rates[i];
		strcpy(a[i].v[1].metric, "request-duration");
		a[i].v[1].value = 200;
		for (int k = 0; k < 2; k++) {
			a[i].v[k].has_value = true;
			a[i].v[k].result = CHECK_PASS;
			a[i].v[k].has_volume = volume >= 0;
			a[i].v[k].volume = volume;
		}
	}
	return a;
}

static void
free_analyses(struct replay_analysis *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].v);
	free(a);
}

/* The fixture canary (threshold 5, steps of 10 to 50) with threshold th. */
static void
replay(int threshold, double min, const double *rates, size_t n, double volume,
    struct replay_result *res)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct replay_analysis *a = analyses(rates, n, volume);
	char err[256];

	c->threshold = threshold;
	c->metrics[0].min = min;
	c->min_requests = 10;
	assert_int_equal(replay_run(c, T0, a, n, res, err, sizeof err), ST_OK);
	free_analyses(a, n);
	canary_cfg_free(c);
}

static void
test_threshold_decides_earlier(void **state)
{
	static const double rates[] = { 100, 100, 95, 95, 95, 95, 95 };
	struct replay_result r;

	(void)state;
	replay(2, 99, rates, 7, 1000, &r);
	assert_int_equal(r.outcome, REPLAY_OUT_FAILED);
	assert_int_equal(r.n_steps, 4);
	assert_int_equal(r.used, 4);
	assert_int_equal(r.weight, 30);
	/* the analyses fall on the recorded times: one interval apart */
	assert_int_equal(r.steps[0].time_ms, T0 + 60000);
	assert_int_equal(r.end_ms, T0 + 60000 + 3 * 30000);
	assert_int_equal(r.steps[0].decision, REPLAY_ADVANCE);
	assert_int_equal(r.steps[0].weight, 10);
	assert_int_equal(r.steps[0].weight_after, 20);
	assert_int_equal(r.steps[2].decision, REPLAY_FAILED);
	assert_int_equal(r.steps[2].failed_checks, 1);
	assert_int_equal(r.steps[3].decision, REPLAY_ROLLBACK);
	assert_int_equal(r.steps[3].checks[0].result, CHECK_FAIL);
	assert_non_null(strstr(r.reason, "request-success-rate 95.0% < 99%"));
	replay_result_fini(&r);

	replay(5, 99, rates, 7, 1000, &r);	/* the same values, threshold 5 */
	assert_int_equal(r.outcome, REPLAY_OUT_FAILED);
	assert_int_equal(r.n_steps, 7);
	assert_int_equal(r.end_ms, T0 + 60000 + 6 * 30000);
	replay_result_fini(&r);
}

static void
test_lower_bound_passes(void **state)
{
	static const double rates[] = { 100, 100, 95, 95, 95, 95, 95 };
	struct replay_result r;

	(void)state;
	replay(2, 90, rates, 7, 1000, &r);
	assert_int_equal(r.outcome, REPLAY_OUT_SUCCEEDED);
	assert_int_equal(r.n_steps, 5);		/* 10, 20, 30, 40 % then 50 %: promote */
	assert_int_equal(r.steps[4].decision, REPLAY_PROMOTE);
	assert_int_equal(r.weight, 50);
	assert_true(r.end_ms > r.steps[4].time_ms);	/* promoting, finalising, then done */
	replay_result_fini(&r);
}

static void
test_record_ends_undecided(void **state)
{
	static const double rates[] = { 100, 100 };
	struct replay_result r;

	(void)state;
	replay(2, 99, rates, 2, 1000, &r);
	assert_int_equal(r.outcome, REPLAY_OUT_UNDECIDED);
	assert_int_equal(r.n_steps, 2);
	assert_int_equal(r.weight, 30);
	replay_result_fini(&r);
}

/* The recorded volume meets the spec's minimum: below it the analysis
 * holds (no step, no failed check); without a recorded volume the guard
 * is not applied. */
static void
test_volume_guard(void **state)
{
	static const double rates[] = { 100, 100, 100 };
	struct replay_result r;

	(void)state;
	replay(2, 99, rates, 3, 5, &r);
	assert_int_equal(r.outcome, REPLAY_OUT_UNDECIDED);
	assert_int_equal(r.steps[0].decision, REPLAY_HOLD);
	assert_int_equal(r.steps[2].weight_after, 10);
	assert_int_equal(r.steps[0].checks[0].result, CHECK_NODATA);
	replay_result_fini(&r);
	replay(2, 99, rates, 3, -1, &r);
	assert_int_equal(r.steps[2].weight_after, 40);
	replay_result_fini(&r);
}

static void
test_bad_config_refused(void **state)
{
	struct canary_cfg *c = fixture_canary("checkout", 2);
	struct replay_result r;
	char err[256] = "";

	(void)state;
	c->threshold = 0;
	assert_int_equal(replay_run(c, T0, NULL, 0, &r, err, sizeof err), ST_INVALID);
	assert_true(err[0] != '\0');
	canary_cfg_free(c);
}

/* ---- the journal ------------------------------------------------------------ */

static struct journal_rec
rec(int64_t t, enum phase p, int weight, const char *metric, double value)
{
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time_ms = t;
	strcpy(r.canary, "shop/checkout");
	r.phase = p;
	r.weight = weight;
	if (metric != NULL) {
		r.kind = REC_CHECK;
		strcpy(r.metric, metric);
		r.has_value = true;
		r.value = value;
		r.result = CHECK_PASS;
	} else {
		r.kind = REC_EVENT;
		r.severity = p == PHASE_FAILED ? SEV_WARNING : SEV_NORMAL;
		strcpy(r.message, p == PHASE_FAILED ? "Halt: bad" : "ok");
	}
	return r;
}

static void
test_cut_rollouts(void **state)
{
	const struct journal_rec recs[] = {
		rec(1000, PHASE_INITIALIZED, 0, NULL, 0),
		rec(2000, PHASE_PROGRESSING, 0, NULL, 0),	/* rollout 1 */
		rec(3000, PHASE_PROGRESSING, 10, NULL, 0),
		rec(4000, PHASE_PROGRESSING, 20, NULL, 0),
		rec(4000, PHASE_PROGRESSING, 20, "a", 1),
		rec(4000, PHASE_PROGRESSING, 20, "b", 2),
		rec(5000, PHASE_FAILED, 0, NULL, 0),
		rec(5000, PHASE_FAILED, 0, "a", 3),		/* the rollback's analysis */
		rec(6000, PHASE_PROGRESSING, 0, NULL, 0),	/* rollout 2 */
		rec(7000, PHASE_PROGRESSING, 10, "a", 4),
		rec(8000, PHASE_SUCCEEDED, 0, NULL, 0),
	};
	struct recorded out;

	(void)state;
	replay_journal_cut(recs, sizeof recs / sizeof recs[0], &out);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.r[0].start_ms, 2000);
	assert_int_equal(out.r[0].n, 2);
	assert_int_equal(out.r[0].a[0].n, 2);
	assert_int_equal(out.r[0].a[0].weight, 10);	/* measured before its tick */
	assert_int_equal(out.r[0].a[1].weight, 20);
	assert_true(out.r[0].a[1].v[0].value == 3);
	assert_int_equal(out.r[0].end, PHASE_FAILED);
	assert_int_equal(out.r[0].end_ms, 5000);
	assert_int_equal(out.r[0].end_weight, 20);
	assert_string_equal(out.r[0].reason, "Halt: bad");
	assert_int_equal(out.r[1].start_ms, 6000);
	assert_int_equal(out.r[1].n, 1);
	assert_int_equal(out.r[1].end, PHASE_SUCCEEDED);
	assert_int_equal(out.r[1].end_weight, 10);
	replay_journal_free(&out);
}

static char dir[256];

static void
write_journal(const char *text)
{
	char path[512];
	FILE *f;

	snprintf(dir, sizeof dir, "%s/perch-test-replay.%d", getenv("TMPDIR") ? getenv("TMPDIR") :
	    "/tmp", (int)getpid());
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/shop", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/shop/checkout", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/shop/checkout/journal.jsonl", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_journal(void)
{
	char path[512];

	snprintf(path, sizeof path, "%s/shop/checkout/journal.jsonl", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/shop/checkout", dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/shop", dir);
	rmdir(path);
	rmdir(dir);
}

#define LINE_EVENT "{\"time\":\"2026-03-02T14:00:30.000Z\",\"canary\":\"shop/checkout\"," \
	"\"phase\":\"Progressing\",\"weight\":0,\"failedChecks\":0,\"iteration\":0," \
	"\"type\":\"Normal\",\"reason\":\"Synced\",\"message\":\"New revision\"}\n"
/* as perch wrote check records before they kept the volume */
#define LINE_OLD_CHECK "{\"time\":\"2026-03-02T14:01:30.000Z\",\"canary\":\"shop/checkout\"," \
	"\"kind\":\"check\",\"metric\":\"request-success-rate\",\"value\":99.5,\"min\":99.0," \
	"\"max\":null,\"result\":\"pass\",\"phase\":\"Progressing\",\"weight\":20," \
	"\"failedChecks\":0,\"iteration\":0}\n"

static void
test_read_journal(void **state)
{
	struct journal_rec *recs = NULL;
	size_t n = 0;
	char err[1024] = "";

	(void)state;
	/* an old record (no volume) reads; a torn last line is skipped */
	write_journal(LINE_EVENT LINE_OLD_CHECK "{\"time\":\"2026-03");
	assert_int_equal(replay_journal_read_dir(dir, "shop/checkout", &recs, &n, err, sizeof err),
	    ST_OK);
	assert_int_equal(n, 2);
	assert_int_equal(recs[1].kind, REC_CHECK);
	assert_false(recs[1].has_volume);
	assert_true(recs[1].value == 99.5);
	free(recs);
	recs = NULL;
	n = 0;
	/* a bad line in the middle is an error naming the file and line */
	write_journal(LINE_EVENT "{\"time\":\"yesterday\"}\n" LINE_OLD_CHECK);
	assert_int_equal(replay_journal_read_dir(dir, "shop/checkout", &recs, &n, err, sizeof err),
	    ST_CORRUPT);
	assert_non_null(strstr(err, "/shop/checkout/journal.jsonl:2: bad journal record"));
	assert_non_null(strstr(err, "time"));
	write_journal(LINE_EVENT "not json\n");
	assert_int_equal(replay_journal_read_dir(dir, "shop/checkout", &recs, &n, err, sizeof err),
	    ST_CORRUPT);
	assert_non_null(strstr(err, "journal.jsonl:2: not a JSON journal record"));
	free(recs);
	recs = NULL;
	n = 0;
	remove_journal();
	assert_int_equal(replay_journal_read_dir(dir, "shop/checkout", &recs, &n, err, sizeof err),
	    ST_NOTFOUND);
	assert_non_null(strstr(err, "no journal of canary shop/checkout"));
	free(recs);
}

static void
test_volume_round_trip(void **state)
{
	struct journal_rec r = rec(5000, PHASE_PROGRESSING, 10, "a", 99), back;
	json_t *o;
	char err[256];

	(void)state;
	r.has_volume = true;
	r.volume = 1234;
	o = journal_to_json(&r);
	assert_true(json_real_value(json_object_get(o, "volume")) == 1234);
	assert_int_equal(journal_from_json(o, &back, err, sizeof err), ST_OK);
	assert_true(back.has_volume && back.volume == 1234);
	json_decref(o);
	/* the headless form keeps the documented keys only */
	o = journal_to_json_form(&r, JOURNAL_DISPLAY);
	assert_null(json_object_get(o, "volume"));
	json_decref(o);
}

static void
test_difference(void **state)
{
	struct replay_result res = { .outcome = REPLAY_OUT_FAILED, .end_ms = 5000 };
	struct recorded_rollout rec = { .end = PHASE_FAILED, .end_ms = 9000 };

	(void)state;
	assert_int_equal(replay_diff(&res, &rec), RDIFF_EARLIER);
	res.end_ms = 9000;
	assert_int_equal(replay_diff(&res, &rec), RDIFF_SAME);
	res.end_ms = 12000;
	assert_int_equal(replay_diff(&res, &rec), RDIFF_LATER);
	rec.end = PHASE_SUCCEEDED;
	assert_int_equal(replay_diff(&res, &rec), RDIFF_OUTCOME);
	assert_int_equal(replay_diff(&res, NULL), RDIFF_UNKNOWN);
	res.outcome = REPLAY_OUT_UNDECIDED;
	assert_int_equal(replay_diff(&res, &rec), RDIFF_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threshold_decides_earlier),
		cmocka_unit_test(test_lower_bound_passes),
		cmocka_unit_test(test_record_ends_undecided),
		cmocka_unit_test(test_volume_guard),
		cmocka_unit_test(test_bad_config_refused),
		cmocka_unit_test(test_cut_rollouts),
		cmocka_unit_test(test_read_journal),
		cmocka_unit_test(test_volume_round_trip),
		cmocka_unit_test(test_difference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
