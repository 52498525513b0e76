/* test_store_dir.c — the state-directory store: round trips of status, spec
 * and journal; atomic saves and corruption detection; the control lock across
 * processes; read-only handles; canary names; the torn journal line and
 * rotation; listing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/codec.h"
#include "store/dir.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

#define OPS store_dir_ops

/* ---- fixture: a fresh directory per test -------------------------------- */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/perch-store.XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	*state = xstrdup(dir);
	return 0;
}

static int
teardown(void **state)
{
	char *dir = *state;

	chmod(dir, 0700);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return 0;
}

static struct store_dir *
open_rw(const char *dir)
{
	char err[256];
	struct store_dir *sd = store_dir_open(dir, false, err, sizeof err);

	if (sd == NULL)
		fail_msg("open %s: %s", dir, err);
	return sd;
}

static struct store_dir *
open_ro(const char *dir)
{
	char err[256];
	struct store_dir *sd = store_dir_open(dir, true, err, sizeof err);

	if (sd == NULL)
		fail_msg("open %s read-only: %s", dir, err);
	return sd;
}

static char *
path_of(const char *dir, const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

static char *
slurp(const char *path)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	buf_init(&b, 0);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	if (b.data == NULL)
		return xstrdup("");
	return buf_take(&b);
}

static void
spew(const char *path, const char *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static struct canary_status
sample_status(void)
{
	struct canary_status st;

	memset(&st, 0, sizeof st);
	st.phase = PHASE_PROGRESSING;
	st.canary_weight = 30;
	st.failed_checks = 2;
	st.iterations = 3;
	st.mirrored = true;
	st.paused = true;
	st.skip_requested = false;
	st.approved = CONFIRM_ROLLOUT;
	snprintf(st.last_applied, sizeof st.last_applied, "7d9f8c6b5-abc123");
	snprintf(st.last_promoted, sizeof st.last_promoted, "6c8d7b5a4-def456");
	snprintf(st.failed_revision, sizeof st.failed_revision, "%s", "");
	st.last_transition_ms = 1795000000123LL;
	st.phase_since_ms = 1794999990000LL;
	st.hold_since_ms = 0;
	st.wait_since_ms = 1794999995000LL;
	st.next_tick_ms = 1795000030123LL;
	st.seq = 4242;
	snprintf(st.reason, sizeof st.reason, "request-success-rate 97.10 < 99 \"quoted\" ünïcode");
	snprintf(st.affinity_cookie, sizeof st.affinity_cookie, "canary-session=AbcdEfghIj");
	snprintf(st.primary_affinity_cookie, sizeof st.primary_affinity_cookie,
	    "primary-session=KlmnOpqrSt");
	snprintf(st.previous_affinity_cookie, sizeof st.previous_affinity_cookie,
	    "canary-session=UvwxYzabCd");
	snprintf(st.last_failure, sizeof st.last_failure, "request-duration 681ms > 500ms");
	st.last_failure_ms = 1794999999000LL;
	st.override = OVR_SKIPPED;
	snprintf(st.override_by, sizeof st.override_by, "alice@host");
	st.override_ms = 1795000000000LL;
	st.override_failed = 3;
	st.override_threshold = 5;
	/* What the screens read (the controller's and its watchers') */
	st.held = true;
	st.gate = GATE_PROMOTION;
	snprintf(st.applied_name, sizeof st.applied_name, "podinfo:6.1.0");
	snprintf(st.promoted_name, sizeof st.promoted_name, "podinfo:6.0.0");
	st.run_since_ms = 1794999980000LL;
	st.last_phase = PHASE_FAILED;
	st.last_end_ms = 1794999970000LL;
	snprintf(st.last_reason, sizeof st.last_reason, "request-success-rate 93.2%% < 99%%");
	return st;
}

static void
assert_status_equal(const struct canary_status *a, const struct canary_status *b)
{
	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->canary_weight, b->canary_weight);
	assert_int_equal(a->failed_checks, b->failed_checks);
	assert_int_equal(a->iterations, b->iterations);
	assert_int_equal(a->mirrored, b->mirrored);
	assert_int_equal(a->paused, b->paused);
	assert_int_equal(a->skip_requested, b->skip_requested);
	assert_int_equal(a->approved, b->approved);
	assert_string_equal(a->last_applied, b->last_applied);
	assert_string_equal(a->last_promoted, b->last_promoted);
	assert_string_equal(a->failed_revision, b->failed_revision);
	assert_true(a->last_transition_ms == b->last_transition_ms);
	assert_true(a->phase_since_ms == b->phase_since_ms);
	assert_true(a->hold_since_ms == b->hold_since_ms);
	assert_true(a->wait_since_ms == b->wait_since_ms);
	assert_true(a->next_tick_ms == b->next_tick_ms);
	assert_true(a->seq == b->seq);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->affinity_cookie, b->affinity_cookie);
	assert_string_equal(a->primary_affinity_cookie, b->primary_affinity_cookie);
	assert_string_equal(a->previous_affinity_cookie, b->previous_affinity_cookie);
	assert_string_equal(a->last_failure, b->last_failure);
	assert_true(a->last_failure_ms == b->last_failure_ms);
	assert_int_equal(a->override, b->override);
	assert_string_equal(a->override_by, b->override_by);
	assert_true(a->override_ms == b->override_ms);
	assert_int_equal(a->override_failed, b->override_failed);
	assert_int_equal(a->override_threshold, b->override_threshold);
	assert_int_equal(a->held, b->held);
	assert_int_equal(a->gate, b->gate);
	assert_string_equal(a->applied_name, b->applied_name);
	assert_string_equal(a->promoted_name, b->promoted_name);
	assert_true(a->run_since_ms == b->run_since_ms);
	assert_int_equal(a->last_phase, b->last_phase);
	assert_true(a->last_end_ms == b->last_end_ms);
	assert_string_equal(a->last_reason, b->last_reason);
}

/* ---- names -------------------------------------------------------------- */

static void
test_names(void **state)
{
	static const struct { const char *name; int want; } rows[] = {
		{ "test/podinfo", ST_OK },
		{ "prod/checkout.v2", ST_OK },
		{ "a/b", ST_OK },
		{ "ns-1/app-2.api", ST_OK },
		{ "podinfo", ST_INVALID },
		{ "/podinfo", ST_INVALID },
		{ "test/", ST_INVALID },
		{ "../etc", ST_INVALID },
		{ "test/..", ST_INVALID },
		{ "test/../x", ST_INVALID },
		{ "test/a/b", ST_INVALID },
		{ "Test/podinfo", ST_INVALID },
		{ "test/PodInfo", ST_INVALID },
		{ "test/-app", ST_INVALID },
		{ "test/app-", ST_INVALID },
		{ "test/a..b", ST_INVALID },
		{ "test/.hidden", ST_INVALID },
		{ "te.st/app", ST_INVALID },
		{ "test/app\n", ST_INVALID },
		{ "test/app name", ST_INVALID },
		{ "", ST_INVALID },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		err[0] = '\0';
		if (store_dir_check_name(rows[i].name, err, sizeof err) != rows[i].want)
			fail_msg("row %zu \"%s\": want %s (%s)", i, rows[i].name,
			    status_name(rows[i].want), err);
		if (rows[i].want != ST_OK)
			assert_true(err[0] != '\0');
	}
	assert_int_equal(store_dir_check_name("../x", NULL, 0), ST_INVALID);
	assert_int_equal(store_dir_check_name(NULL, err, sizeof err), ST_INVALID);
	/* A 64-character namespace is one too many. */
	char ns[80];
	memset(ns, 'a', 64);
	snprintf(ns + 64, sizeof ns - 64, "/x");
	assert_int_equal(store_dir_check_name(ns, err, sizeof err), ST_INVALID);
}

/* Every op refuses a bad name without touching the disk. */
static void
test_bad_names_rejected_by_ops(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status(), got;
	struct journal_rec rec;
	char err[ERRMSG_MAX], holder[128];
	char **names;
	struct stat sb;

	assert_int_equal(OPS.save(sd, "../evil", &st, err), ST_INVALID);
	assert_int_equal(OPS.save(sd, "x/../../evil", &st, err), ST_INVALID);
	assert_int_equal(OPS.load(sd, "../evil", &got, err), ST_INVALID);
	assert_int_equal(OPS.acquire(sd, "a/..", "me@here", holder, sizeof holder, NULL), ST_INVALID);
	memset(&rec, 0, sizeof rec);
	snprintf(rec.canary, sizeof rec.canary, "../../tmp");
	assert_int_equal(OPS.append(sd, &rec, NULL), ST_INVALID);
	assert_int_equal(stat("/tmp/evil", &sb), -1);
	assert_int_equal(OPS.list(sd, &names), 0);
	store_dir_close(sd);
}

/* ---- status ------------------------------------------------------------- */

static void
test_status_round_trip(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status(), got;
	char err[ERRMSG_MAX];
	int ph;

	assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_NOTFOUND);
	for (ph = 0; ph < PHASE__COUNT; ph++) {
		st.phase = (enum phase)ph;
		st.seq++;
		assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
		assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_OK);
		assert_status_equal(&got, &st);
	}
	store_dir_close(sd);
	/* A second handle (a restart) reads the same. */
	sd = open_ro(dir);
	assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_OK);
	assert_status_equal(&got, &st);
	store_dir_close(sd);
}

/* A crash between writing the temp file and the rename leaves the temp file:
 * it is ignored, and the old status is what loads. */
static void
test_leftover_temp_ignored(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status(), got;
	char err[ERRMSG_MAX], **names;
	char *tmp = path_of(dir, "test/podinfo/.status.json.tmp.99999.0");

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	spew(tmp, "{\"format\":1,\"sta", 16);
	assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_OK);
	assert_status_equal(&got, &st);
	assert_int_equal(OPS.list(sd, &names), 1);
	assert_string_equal(names[0], "test/podinfo");
	free(names[0]);
	free(names);
	/* A new save still works beside it. */
	st.canary_weight = 40;
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_OK);
	assert_int_equal(got.canary_weight, 40);
	assert_int_equal(access(tmp, F_OK), 0);
	/* The next controller to take the lock clears it away. */
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "me@here", err, sizeof err, NULL), ST_OK);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(OPS.load(sd, "test/podinfo", &got, err), ST_OK);
	assert_int_equal(got.canary_weight, 40);
	free(tmp);
	store_dir_close(sd);
}

/* Loads a damaged status.json with a fresh handle; expects ST_CORRUPT with
 * the file named and `what` in the message. */
static void
expect_corrupt(const char *dir, const char *what)
{
	struct store_dir *sd = open_rw(dir);
	struct canary_status got, st = sample_status();
	char err[ERRMSG_MAX] = "";
	char *path = path_of(dir, "test/podinfo/status.json");
	char *before = slurp(path), *after;

	if (OPS.load(sd, "test/podinfo", &got, err) != ST_CORRUPT)
		fail_msg("%s: not reported as corrupt", what);
	if (strstr(err, path) == NULL || strstr(err, what) == NULL)
		fail_msg("message \"%s\" does not name %s and \"%s\"", err, path, what);
	/* Never overwritten: a save is refused and the file stays as it was. */
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_CORRUPT);
	after = slurp(path);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(path);
	store_dir_close(sd);
}

static void
test_truncated_and_flipped(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status();
	char err[ERRMSG_MAX];
	char *path = path_of(dir, "test/podinfo/status.json"), *good;
	size_t len, i;

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	store_dir_close(sd);
	good = slurp(path);
	len = strlen(good);
	/* Truncated anywhere (a crash of a writer without rename). */
	for (i = 0; i < len; i += len / 7) {
		spew(path, good, i);
		expect_corrupt(dir, i == 0 ? "bad JSON" : "");
	}
	/* Every single byte flipped is detected. */
	for (i = 0; i < len; i++) {
		char *bad = xstrdup(good);
		struct canary_status got;

		bad[i] ^= 0x01;
		spew(path, bad, len);
		sd = open_ro(dir);
		if (OPS.load(sd, "test/podinfo", &got, err) != ST_CORRUPT)
			fail_msg("flipped byte %zu ('%c') not detected", i, good[i]);
		if (strstr(err, path) == NULL)
			fail_msg("flipped byte %zu: message \"%s\" does not name the file", i, err);
		store_dir_close(sd);
		free(bad);
	}
	spew(path, good, len);
	free(good);
	free(path);
}

/* Writes a status.json envelope with a valid checksum around `body`. */
static void
write_envelope(const char *path, int format, json_t *body)
{
	json_t *env = json_object();
	char *canon, sum[40], *text;

	json_object_set_new(env, "format", json_integer(format));
	json_object_set_new(env, "kind", json_string("status"));
	json_object_set_new(env, "canary", json_string("test/podinfo"));
	json_object_set_new(env, "status", body);
	canon = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(sum, sizeof sum, "fnv1a64:%016llx", (unsigned long long)fnv1a64(canon, strlen(canon)));
	json_object_set_new(env, "checksum", json_string(sum));
	text = json_dumps(env, JSON_INDENT(2));
	spew(path, text, strlen(text));
	free(canon);
	free(text);
	json_decref(env);
}

static void
test_corrupt_reasons(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status();
	char err[ERRMSG_MAX];
	char *path = path_of(dir, "test/podinfo/status.json");
	json_t *body;

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	store_dir_close(sd);

	{ const char *t = "{\n  \"format\": 1,\n  \"status\": {,\n}\n"; spew(path, t, strlen(t)); }
	expect_corrupt(dir, ":3:14: bad JSON");

	write_envelope(path, 2, status_to_json(&st));
	expect_corrupt(dir, "unknown format version 2");

	body = status_to_json(&st);
	json_object_del(body, "failedChecks");
	write_envelope(path, 1, body);
	expect_corrupt(dir, "field \"failedChecks\" is missing");

	/* State saved before session affinity existed loads with no cookies;
	 * a cookie too long for its field does not. */
	body = status_to_json(&st);
	json_object_del(body, "sessionAffinityCookie");
	json_object_del(body, "primarySessionAffinityCookie");
	json_object_del(body, "previousSessionAffinityCookie");
	/* ... and before skipped or forced promotions were kept: none */
	json_object_del(body, "lastFailure");
	json_object_del(body, "lastFailureMs");
	json_object_del(body, "override");
	json_object_del(body, "overrideBy");
	json_object_del(body, "overrideMs");
	json_object_del(body, "overrideFailedChecks");
	json_object_del(body, "overrideThreshold");
	/* ... and before the screens read theirs from it: unset */
	json_object_del(body, "held");
	json_object_del(body, "gate");
	json_object_del(body, "appliedName");
	json_object_del(body, "promotedName");
	json_object_del(body, "runSinceMs");
	json_object_del(body, "lastOutcome");
	json_object_del(body, "lastOutcomeMs");
	json_object_del(body, "lastOutcomeReason");
	write_envelope(path, 1, body);
	{
		struct store_dir *sd2 = open_ro(dir);
		struct canary_status got;

		assert_int_equal(OPS.load(sd2, "test/podinfo", &got, err), ST_OK);
		assert_string_equal(got.affinity_cookie, "");
		assert_string_equal(got.previous_affinity_cookie, "");
		assert_int_equal(got.override, OVR_NONE);
		assert_string_equal(got.last_failure, "");
		assert_false(got.held);
		assert_int_equal(got.gate, GATE_NONE);
		assert_string_equal(got.applied_name, "");
		assert_int_equal(got.last_phase, PHASE_INITIALIZING);
		assert_string_equal(got.last_reason, "");
		assert_int_equal(got.canary_weight, st.canary_weight);
		store_dir_close(sd2);
	}
	body = status_to_json(&st);
	{
		char longer[AFFINITY_COOKIE_MAX + 8];

		memset(longer, 'x', sizeof longer - 1);
		longer[sizeof longer - 1] = '\0';
		json_object_set_new(body, "sessionAffinityCookie", json_string(longer));
	}
	write_envelope(path, 1, body);
	expect_corrupt(dir, "field \"sessionAffinityCookie\" is too long");

	body = status_to_json(&st);
	json_object_set_new(body, "phase", json_string("Exploding"));
	write_envelope(path, 1, body);
	expect_corrupt(dir, "field \"phase\" has an unknown value");

	body = status_to_json(&st);
	json_object_set_new(body, "canaryWeight", json_string("30"));
	write_envelope(path, 1, body);
	expect_corrupt(dir, "field \"canaryWeight\" is not an integer");

	spew(path, "[1,2]", 5);
	expect_corrupt(dir, "not a JSON object");
	free(path);
}

/* ---- spec --------------------------------------------------------------- */

static struct canary_cfg *
sample_cfg(void)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);

	c->ns = xstrdup("test");
	c->name = xstrdup("podinfo");
	c->target = xstrdup("podinfo");
	c->target_kind = xstrdup("Deployment");
	c->service = xstrdup("podinfo");
	c->provider = xstrdup("linkerd");
	c->port = 9898;
	c->strategy = STRATEGY_CANARY;
	c->interval_s = 30;
	c->threshold = 5;
	c->max_weight = 50;
	c->step_weight = 10;
	c->n_step_weights = 3;
	c->step_weights = xcalloc(3, sizeof(int));
	c->step_weights[0] = 5;
	c->step_weights[1] = 25;
	c->step_weights[2] = 60;
	c->step_weight_promotion = 20;
	c->progress_deadline_s = 600;
	c->primary_ready_threshold = 100;
	c->canary_ready_threshold = 80;
	c->nodata = NODATA_FAIL;
	c->min_requests = 12.5;
	c->confirm = CONFIRM_ROLLOUT | CONFIRM_PROMOTION;
	c->n_metrics = 2;
	c->metrics = xcalloc(2, sizeof *c->metrics);
	c->metrics[0].name = xstrdup("request-success-rate");
	c->metrics[0].kind = METRIC_SUCCESS_RATE;
	c->metrics[0].interval_s = 60;
	c->metrics[0].interval = xstrdup("1m");
	c->metrics[0].has_min = true;
	c->metrics[0].min = 99;
	c->metrics[0].query = xstrdup("sum(rate(x{a=\"b\"}[1m]))");
	c->metrics[1].name = xstrdup("latency");
	c->metrics[1].kind = METRIC_DURATION;
	c->metrics[1].interval_s = 30;
	c->metrics[1].has_max = true;
	c->metrics[1].max = 500.25;
	c->metrics[1].template_ref = xstrdup("test/latency");
	c->n_hooks = 1;
	c->hooks = xcalloc(1, sizeof *c->hooks);
	c->hooks[0].name = xstrdup("gate");
	c->hooks[0].url = xstrdup("http://user:s3cret@gate.test:8080/approve?x=1");
	c->hooks[0].type = HOOK_CONFIRM_PROMOTION;
	c->hooks[0].timeout_ms = 10000;
	c->hooks[0].retries = 2;
	c->hooks[0].mute_alert = true;
	c->hooks[0].n_metadata = 1;
	c->hooks[0].metadata = xcalloc(1, sizeof(struct kv));
	c->hooks[0].metadata[0].key = xstrdup("token");
	c->hooks[0].metadata[0].value = xstrdup("hunter2");
	return c;
}

static void
test_spec_round_trip(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_cfg *c = sample_cfg(), *got = NULL;
	char err[ERRMSG_MAX], *path, *text;
	size_t i;

	assert_int_equal(OPS.load_spec(sd, "test/podinfo", &got, err), ST_NOTFOUND);
	assert_int_equal(OPS.save_spec(sd, "test/podinfo", c, err), ST_OK);
	store_dir_close(sd);
	sd = open_ro(dir);
	if (OPS.load_spec(sd, "test/podinfo", &got, err) != ST_OK)
		fail_msg("load_spec: %s", err);
	assert_string_equal(got->ns, "test");
	assert_string_equal(got->name, "podinfo");
	assert_string_equal(got->target_kind, "Deployment");
	assert_string_equal(got->provider, "linkerd");
	assert_int_equal(got->port, 9898);
	assert_int_equal(got->interval_s, 30);
	assert_int_equal(got->threshold, 5);
	assert_int_equal(got->max_weight, 50);
	assert_int_equal(got->step_weight, 10);
	assert_int_equal(got->n_step_weights, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(got->step_weights[i], c->step_weights[i]);
	assert_int_equal(got->step_weight_promotion, 20);
	assert_int_equal(got->canary_ready_threshold, 80);
	assert_int_equal(got->nodata, NODATA_FAIL);
	assert_true(got->min_requests == 12.5);
	assert_int_equal(got->confirm, CONFIRM_ROLLOUT | CONFIRM_PROMOTION);
	assert_int_equal(got->n_metrics, 2);
	assert_string_equal(got->metrics[0].query, c->metrics[0].query);
	assert_true(got->metrics[0].has_min && !got->metrics[0].has_max);
	assert_true(got->metrics[0].min == 99);
	assert_int_equal(got->metrics[1].kind, METRIC_DURATION);
	assert_true(got->metrics[1].has_max && got->metrics[1].max == 500.25);
	assert_null(got->metrics[1].query);
	assert_string_equal(got->metrics[1].template_ref, "test/latency");
	assert_int_equal(got->n_hooks, 1);
	assert_int_equal(got->hooks[0].type, HOOK_CONFIRM_PROMOTION);
	assert_int_equal(got->hooks[0].retries, 2);
	assert_true(got->hooks[0].mute_alert);
	/* Credentials stay out of the state directory. */
	assert_string_equal(got->hooks[0].url, "http://gate.test:8080/approve?x=1");
	assert_int_equal(got->hooks[0].n_metadata, 0);
	path = path_of(dir, "test/podinfo/spec.json");
	text = slurp(path);
	assert_null(strstr(text, "s3cret"));
	assert_null(strstr(text, "hunter2"));
	/* The spec has a checksum too. */
	text[strlen(text) / 2] ^= 0x02;
	spew(path, text, strlen(text));
	canary_cfg_free(got);
	got = NULL;
	assert_int_equal(OPS.load_spec(sd, "test/podinfo", &got, err), ST_CORRUPT);
	assert_null(got);
	assert_non_null(strstr(err, path));
	free(text);
	free(path);
	canary_cfg_free(c);
	store_dir_close(sd);
}

/* ---- journal ------------------------------------------------------------ */

static struct journal_rec
sample_event(int i)
{
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time_ms = 1795000000000LL + i * 1001LL;
	snprintf(r.canary, sizeof r.canary, "test/podinfo");
	r.kind = REC_EVENT;
	r.severity = i % 2 ? SEV_WARNING : SEV_NORMAL;
	snprintf(r.type, sizeof r.type, "%s", i % 2 ? "Warning" : "Normal");
	snprintf(r.reason, sizeof r.reason, "Synced");
	snprintf(r.message, sizeof r.message, "Advance podinfo.test canary weight %d \"q\"\t", i);
	snprintf(r.actor, sizeof r.actor, "%s", i % 3 ? "" : "alice@laptop");
	r.phase = PHASE_PROGRESSING;
	r.weight = i;
	r.failed_checks = i % 4;
	r.iteration = i;
	return r;
}

static struct journal_rec
sample_check(int i)
{
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time_ms = 1795000000500LL + i;
	snprintf(r.canary, sizeof r.canary, "test/podinfo");
	r.kind = REC_CHECK;
	snprintf(r.metric, sizeof r.metric, "request-success-rate");
	r.has_value = i % 2 == 0;
	r.value = 99.25;
	r.has_min = true;
	r.min = 99;
	r.result = i % 2 == 0 ? CHECK_PASS : CHECK_NODATA;
	r.phase = PHASE_PROGRESSING;
	r.weight = 10;
	r.iteration = i;
	return r;
}

static void
assert_rec_equal(const struct journal_rec *a, const struct journal_rec *b)
{
	assert_true(a->time_ms == b->time_ms);
	assert_string_equal(a->canary, b->canary);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->phase, b->phase);
	assert_int_equal(a->weight, b->weight);
	assert_int_equal(a->failed_checks, b->failed_checks);
	assert_int_equal(a->iteration, b->iteration);
	if (a->kind == REC_EVENT) {
		assert_int_equal(a->severity, b->severity);
		assert_string_equal(a->type, b->type);
		assert_string_equal(a->reason, b->reason);
		assert_string_equal(a->message, b->message);
		assert_string_equal(a->actor, b->actor);
	} else {
		assert_string_equal(a->metric, b->metric);
		assert_int_equal(a->has_value, b->has_value);
		if (a->has_value)
			assert_true(a->value == b->value);
		assert_int_equal(a->has_min, b->has_min);
		assert_int_equal(a->has_max, b->has_max);
		assert_true(a->min == b->min);
		assert_int_equal(a->result, b->result);
	}
}

static void
test_journal_round_trip(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct journal_rec want[20], got[32];
	size_t i, n;

	assert_int_equal(OPS.tail(sd, "test/podinfo", got, 32), 0);
	for (i = 0; i < 20; i++) {
		want[i] = i % 3 == 2 ? sample_check((int)i) : sample_event((int)i);
		assert_int_equal(OPS.append(sd, &want[i], NULL), ST_OK);
	}
	n = OPS.tail(sd, "test/podinfo", got, 32);
	assert_int_equal(n, 20);
	for (i = 0; i < n; i++)
		assert_rec_equal(&got[i], &want[i]);
	/* The last few, oldest first. */
	n = OPS.tail(sd, "test/podinfo", got, 5);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++)
		assert_rec_equal(&got[i], &want[15 + i]);
	store_dir_close(sd);
}

/* Journal fsyncs are batched: each row runs its steps on a fresh
 * directory ('a' append, 's' save the status, 'r' release, 'w' wait 30 ms)
 * and says how many journal fsyncs there are after each step. */
static void
test_journal_sync_batches(void **state)
{
	static const struct {
		const char *what;
		int64_t sync_ms;
		size_t journal_max;
		const char *steps, *syncs;
	} rows[] = {
		{ "a save syncs the records before it, once", 60000, 0, "aaassaar", "00011112" },
		{ "a release syncs what is left", 60000, 0, "aar", "001" },
		{ "nothing to sync, no fsync", 60000, 0, "ssr", "000" },
		{ "a record waits at most sync_ms", 20, 0, "awaa", "0011" },
		{ "a rotation syncs the file it sets aside", 60000, 1, "aaa", "012" },
	};
	const char *root = *state;
	struct canary_status st = sample_status();
	char err[ERRMSG_MAX];
	size_t i, k;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char *dir = xasprintf("%s/row%zu", root, i);
		struct store_dir *sd;
		struct journal_rec r = sample_event((int)i);

		assert_int_equal(mkdir(dir, 0700), 0);
		sd = open_rw(dir);
		store_dir_set_journal_sync_ms(sd, rows[i].sync_ms);
		store_dir_set_journal_max(sd, rows[i].journal_max);
		for (k = 0; rows[i].steps[k] != '\0'; k++) {
			switch (rows[i].steps[k]) {
			case 'a': assert_int_equal(OPS.append(sd, &r, NULL), ST_OK); break;
			case 's': assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK); break;
			case 'r': assert_int_equal(OPS.release(sd, "test/podinfo"), ST_OK); break;
			case 'w': usleep(30000); break;
			default: fail_msg("bad step");
			}
			if (store_dir_journal_syncs(sd) != (unsigned long)(rows[i].syncs[k] - '0'))
				fail_msg("%s: after step %zu of %s: %lu fsyncs, want %c", rows[i].what, k,
				    rows[i].steps, store_dir_journal_syncs(sd), rows[i].syncs[k]);
		}
		store_dir_close(sd);
		free(dir);
	}
}

static void
test_journal_torn_and_bad_lines(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct journal_rec r, got[16];
	char *path = path_of(dir, "test/podinfo/journal.jsonl");
	char *logpath = path_of(dir, "log"), *log;
	const char *torn = "{\"time\":\"2026-11-26T12:00:00.000Z\",\"canary\":\"te";
	int fd;
	size_t n;

	assert_int_equal(log_open(logpath, LOG_INFO), ST_OK);
	r = sample_event(1);
	assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
	/* A corrupted line in the middle: reported and skipped. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "{\"time\": garbage\n", 17), 17);
	close(fd);
	r = sample_event(2);
	assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
	/* A crash in the middle of the last write. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, torn, strlen(torn)), (ssize_t)strlen(torn));
	close(fd);
	n = OPS.tail(sd, "test/podinfo", got, 16);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].weight, 1);
	assert_int_equal(got[1].weight, 2);
	log_close();
	log = slurp(logpath);
	assert_non_null(strstr(log, "journal.jsonl: byte "));
	assert_non_null(strstr(log, "unreadable journal record"));
	assert_non_null(strstr(log, "unfinished last line"));
	free(log);
	free(logpath);
	free(path);
	store_dir_close(sd);
}

/* A torn last record (a short write on a full disk, `truncate -s -40`)
 * costs that record only: the next writer cuts it before appending, so
 * the new record does not run into it. */
static void
test_journal_torn_tail_repaired(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct journal_rec r, got[16];
	char *path = path_of(dir, "test/podinfo/journal.jsonl"), *text;
	char holder[128], err[ERRMSG_MAX];
	struct stat sb;
	int i;
	size_t n;

	for (i = 1; i <= 3; i++) {
		r = sample_event(i);
		assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
	}
	store_dir_close(sd);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - 40), 0);
	/* The next controller. */
	sd = open_rw(dir);
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "me@here", holder, sizeof holder, err),
	    ST_OK);
	r = sample_event(4);
	assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
	n = OPS.tail(sd, "test/podinfo", got, 16);
	assert_int_equal(n, 3);
	assert_int_equal(got[0].weight, 1);
	assert_int_equal(got[1].weight, 2);
	assert_int_equal(got[2].weight, 4);
	text = slurp(path);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	store_dir_close(sd);
	free(path);
}

/* A planted link or another kind of entry in the state directory is
 * refused, naming it; the file it points to is never touched. */
static void
test_links_refused(void **state)
{
	static const char *files[] = { "lock", "journal.jsonl", "status.json", "spec.json" };
	const char *dir = *state;
	struct canary_status st = sample_status();
	struct canary_cfg *c = sample_cfg(), *back = NULL;
	char *victim = path_of(dir, "victim"), *link, *text;
	char holder[128], err[ERRMSG_MAX], *cdir = path_of(dir, "test/podinfo");
	struct journal_rec r = sample_event(1);
	struct store_dir *sd;
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		sd = open_rw(dir);
		assert_int_equal(OPS.save_spec(sd, "test/podinfo", c, err), ST_OK);	/* the dirs */
		spew(victim, "precious\n", 9);
		link = xasprintf("%s/%s", cdir, files[i]);
		unlink(link);
		assert_int_equal(symlink(victim, link), 0);
		err[0] = '\0';
		switch (i) {
		case 0:
			assert_int_equal(OPS.acquire(sd, "test/podinfo", "me@here", holder,
			    sizeof holder, err), ST_INVALID);
			break;
		case 1:
			assert_int_equal(OPS.append(sd, &r, err), ST_INVALID);
			break;
		case 2:
			assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_INVALID);
			assert_int_equal(OPS.load(sd, "test/podinfo", &st, err), ST_INVALID);
			break;
		default:
			assert_int_equal(OPS.load_spec(sd, "test/podinfo", &back, err), ST_INVALID);
			assert_null(back);
			assert_int_equal(OPS.save_spec(sd, "test/podinfo", c, err), ST_INVALID);
			break;
		}
		if (strstr(err, link) == NULL || strstr(err, "symbolic link") == NULL)
			fail_msg("%s: %s", files[i], err);
		text = slurp(victim);
		assert_string_equal(text, "precious\n");
		free(text);
		unlink(link);
		free(link);
		store_dir_close(sd);
	}
	canary_cfg_free(c);
	free(victim);
	free(cdir);
}

/* A directory, a FIFO in place of the lock: refused at once (a FIFO opened
 * for reading would block), naming the entry. */
static void
test_odd_entries_refused(void **state)
{
	const char *dir = *state;
	char *lock = path_of(dir, "test/podinfo/lock"), holder[128], err[ERRMSG_MAX];
	struct canary_status st = sample_status();
	struct store_dir *sd = open_rw(dir), *ro;

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	assert_int_equal(mkdir(lock, 0700), 0);
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "me@here", holder, sizeof holder, err),
	    ST_INVALID);
	assert_non_null(strstr(err, "a directory, not a regular file"));
	assert_int_equal(rmdir(lock), 0);
	assert_int_equal(mkfifo(lock, 0600), 0);
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "me@here", holder, sizeof holder, err),
	    ST_INVALID);
	assert_non_null(strstr(err, "a FIFO"));
	ro = open_ro(dir);
	assert_int_equal(store_dir_holder(ro, "test/podinfo", holder, sizeof holder), ST_NOTFOUND);
	store_dir_close(ro);
	store_dir_close(sd);
	free(lock);
}

/* The directories: a linked canary or namespace directory is refused, and
 * so is a state directory or canary directory others may write to. */
static void
test_directories_checked(void **state)
{
	const char *dir = *state;
	struct canary_status st = sample_status();
	char *ns = path_of(dir, "test"), *cdir = path_of(dir, "test/podinfo");
	char *elsewhere = path_of(dir, "elsewhere"), err[ERRMSG_MAX];
	struct store_dir *sd = open_rw(dir), *again;

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	/* the canary's directory moved away and linked back */
	assert_int_equal(rename(cdir, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, cdir), 0);
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_INVALID);
	assert_non_null(strstr(err, "test/podinfo: it is a symbolic link"));
	assert_int_equal(OPS.load(sd, "test/podinfo", &st, err), ST_INVALID);
	assert_int_equal(unlink(cdir), 0);
	assert_int_equal(rename(elsewhere, cdir), 0);
	/* open to others */
	assert_int_equal(chmod(cdir, 0777), 0);
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_INVALID);
	assert_non_null(strstr(err, "writable by others (chmod go-w"));
	assert_int_equal(chmod(cdir, 0755), 0);
	assert_int_equal(chmod(ns, 0775), 0);
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_INVALID);
	assert_non_null(strstr(err, "writable by its group"));
	assert_int_equal(chmod(ns, 0755), 0);
	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	store_dir_close(sd);
	/* the state directory itself */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_null(again = store_dir_open(dir, false, err, sizeof err));
	assert_non_null(strstr(err, "writable by others"));
	assert_null(store_dir_open(dir, true, err, sizeof err));
	assert_int_equal(chmod(dir, 0700), 0);
	free(ns);
	free(cdir);
	free(elsewhere);
}

static void
test_journal_rotation(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct journal_rec r, got[300];
	char *cur = path_of(dir, "test/podinfo/journal.jsonl");
	char *old = path_of(dir, "test/podinfo/journal.1.jsonl");
	struct stat sb;
	size_t n, i;
	int k;

	store_dir_set_journal_max(sd, 4096);
	for (k = 0; k < 200; k++) {
		r = sample_event(k);
		assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
		assert_int_equal(stat(cur, &sb), 0);
		assert_true(sb.st_size <= 4096);
	}
	assert_int_equal(stat(old, &sb), 0);
	assert_true(sb.st_size <= 4096);
	/* What is left is the newest records, in order, across both files. */
	n = OPS.tail(sd, "test/podinfo", got, 300);
	assert_true(n > 10 && n < 200);
	for (i = 0; i < n; i++)
		assert_int_equal(got[i].iteration, 200 - (int)n + (int)i);
	free(cur);
	free(old);
	store_dir_close(sd);
}

/* ---- the control lock --------------------------------------------------- */

/* A child process that takes the lock and then waits to be killed. */
static pid_t
spawn_holder(const char *dir, const char *canary)
{
	int p[2];
	pid_t pid;
	char c = 0;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256], holder[128];
		struct store_dir *sd = store_dir_open(dir, false, err, sizeof err);

		close(p[0]);
		c = sd != NULL && OPS.acquire(sd, canary, "bob@ci", holder, sizeof holder, NULL) == ST_OK;
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(c, 1);
	return pid;
}

static void
test_lock_across_processes(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir), *ro = open_ro(dir);
	char holder[128], want[64];
	pid_t pid;
	int status;

	pid = spawn_holder(dir, "test/podinfo");
	snprintf(want, sizeof want, "bob@ci pid %ld", (long)pid);
	holder[0] = '\0';
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_LOCKED);
	assert_string_equal(holder, want);
	assert_int_equal(store_dir_holder(ro, "test/podinfo", holder, sizeof holder), ST_OK);
	assert_string_equal(holder, want);
	/* Other canaries are free. */
	assert_int_equal(OPS.acquire(sd, "test/other", "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	/* kill -9 frees it. */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(store_dir_holder(ro, "test/podinfo", holder, sizeof holder), ST_NOTFOUND);
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(OPS.acquire(sd, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(OPS.renew(sd, "test/podinfo"), ST_OK);
	snprintf(want, sizeof want, "alice@laptop pid %ld", (long)getpid());
	assert_int_equal(store_dir_holder(ro, "test/podinfo", holder, sizeof holder), ST_OK);
	assert_string_equal(holder, want);
	store_dir_close(ro);
	store_dir_close(sd);
}

static void
test_lock_release_and_close(void **state)
{
	const char *dir = *state;
	struct store_dir *a = open_rw(dir), *b = open_rw(dir);
	char holder[128];

	assert_int_equal(OPS.acquire(a, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	/* A second controller in the same process is refused too. */
	assert_int_equal(OPS.acquire(b, "test/podinfo", "carol@desk", holder, sizeof holder, NULL), ST_LOCKED);
	assert_non_null(strstr(holder, "alice@laptop pid "));
	assert_int_equal(OPS.renew(b, "test/podinfo"), ST_CONFLICT);
	/* The one without control cannot write the canary's state. */
	{
		struct canary_status st = sample_status(), got;
		struct journal_rec r = sample_event(1);
		struct canary_cfg *c = sample_cfg();
		char err[ERRMSG_MAX];

		assert_int_equal(OPS.save(a, "test/podinfo", &st, err), ST_OK);
		st.canary_weight = 99;
		assert_int_equal(OPS.save(b, "test/podinfo", &st, err), ST_LOCKED);
		assert_non_null(strstr(err, "alice@laptop pid "));
		assert_int_equal(OPS.save_spec(b, "test/podinfo", c, err), ST_LOCKED);
		assert_int_equal(OPS.append(b, &r, NULL), ST_LOCKED);
		assert_int_equal(OPS.tail(a, "test/podinfo", &r, 1), 0);
		assert_int_equal(OPS.load(b, "test/podinfo", &got, err), ST_OK);
		assert_int_equal(got.canary_weight, 30);
		canary_cfg_free(c);
	}
	assert_int_equal(OPS.release(a, "test/podinfo"), ST_OK);
	assert_int_equal(OPS.acquire(b, "test/podinfo", "carol@desk", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(OPS.acquire(a, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_LOCKED);
	assert_non_null(strstr(holder, "carol@desk pid "));
	store_dir_close(b);	/* closing releases */
	assert_int_equal(OPS.acquire(a, "test/podinfo", "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	store_dir_close(a);
}

/* ---- threads: one handle used from several threads ----------------------- */

struct worker {
	struct store_dir *sd;
	char canary[64];
	int ok;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct canary_status st = sample_status(), got;
	struct journal_rec r, recs[8];
	char err[ERRMSG_MAX], holder[128];
	int i;

	for (i = 0; i < 20; i++) {
		st.canary_weight = i;
		if (OPS.acquire(w->sd, w->canary, "t@h", holder, sizeof holder, NULL) != ST_OK ||
		    OPS.save(w->sd, w->canary, &st, err) != ST_OK ||
		    OPS.load(w->sd, w->canary, &got, err) != ST_OK || got.canary_weight != i)
			return NULL;
		r = sample_event(i);
		snprintf(r.canary, sizeof r.canary, "%s", w->canary);
		if (OPS.append(w->sd, &r, NULL) != ST_OK || OPS.tail(w->sd, w->canary, recs, 8) == 0 ||
		    OPS.release(w->sd, w->canary) != ST_OK)
			return NULL;
	}
	w->ok = 1;
	return NULL;
}

static void
test_threads(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct worker w[4];
	pthread_t t[4];
	char **names;
	size_t i, n;

	for (i = 0; i < 4; i++) {
		w[i].sd = sd;
		w[i].ok = 0;
		snprintf(w[i].canary, sizeof w[i].canary, "ns%zu/app", i);
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(w[i].ok);
	}
	n = OPS.list(sd, &names);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	store_dir_close(sd);
}

/* ---- read-only ---------------------------------------------------------- */

/* Every file under dir with its size, mtime and contents, as one string. */
static void
tree_add(struct buf *b, const char *dir, const char *rel)
{
	char *path = rel[0] ? xasprintf("%s/%s", dir, rel) : xstrdup(dir);
	struct stat sb;
	struct dirent **ents;
	int n, i;

	assert_int_equal(lstat(path, &sb), 0);
	buf_printf(b, "%s %o %lld %lld.%09ld\n", rel, (unsigned)sb.st_mode, (long long)sb.st_size,
	    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	if (S_ISDIR(sb.st_mode)) {
		n = scandir(path, &ents, NULL, alphasort);
		assert_true(n >= 0);
		for (i = 0; i < n; i++) {
			if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0) {
				char *sub = rel[0] ? xasprintf("%s/%s", rel, ents[i]->d_name) :
				    xstrdup(ents[i]->d_name);
				tree_add(b, dir, sub);
				free(sub);
			}
			free(ents[i]);
		}
		free(ents);
	} else {
		char *data = slurp(path);
		buf_puts(b, data);
		free(data);
	}
	free(path);
}

static char *
tree(const char *dir)
{
	struct buf b;

	buf_init(&b, 0);
	tree_add(&b, dir, "");
	return buf_take(&b);
}

static void
test_read_only(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir), *ro;
	struct canary_status st = sample_status(), got;
	struct canary_cfg *c = sample_cfg(), *gotc = NULL;
	struct journal_rec r = sample_event(7), recs[4];
	char err[ERRMSG_MAX], holder[128], *before, *after, **names;
	char *missing = path_of(dir, "nope");

	assert_int_equal(OPS.save(sd, "test/podinfo", &st, err), ST_OK);
	assert_int_equal(OPS.save_spec(sd, "test/podinfo", c, err), ST_OK);
	assert_int_equal(OPS.append(sd, &r, NULL), ST_OK);
	store_dir_close(sd);
	chmod(dir, 0555);
	before = tree(dir);
	sleep(0);

	ro = open_ro(dir);
	assert_int_equal(OPS.save(ro, "test/podinfo", &st, err), ST_REFUSED);
	assert_int_equal(OPS.save(ro, "test/new", &st, err), ST_REFUSED);
	assert_int_equal(OPS.save_spec(ro, "test/podinfo", c, err), ST_REFUSED);
	assert_int_equal(OPS.append(ro, &r, NULL), ST_REFUSED);
	assert_int_equal(OPS.acquire(ro, "test/podinfo", "eve@x", holder, sizeof holder, NULL), ST_REFUSED);
	assert_int_equal(OPS.renew(ro, "test/podinfo"), ST_REFUSED);
	assert_int_equal(OPS.release(ro, "test/podinfo"), ST_REFUSED);
	/* Reading works. */
	assert_int_equal(OPS.load(ro, "test/podinfo", &got, err), ST_OK);
	assert_status_equal(&got, &st);
	assert_int_equal(OPS.load_spec(ro, "test/podinfo", &gotc, err), ST_OK);
	assert_int_equal(OPS.tail(ro, "test/podinfo", recs, 4), 1);
	assert_int_equal(OPS.list(ro, &names), 1);
	free(names[0]);
	free(names);
	assert_int_equal(store_dir_holder(ro, "test/podinfo", holder, sizeof holder), ST_NOTFOUND);
	store_dir_close(ro);
	after = tree(dir);
	assert_string_equal(before, after);
	/* A missing directory is not created by a read-only open. */
	assert_null(store_dir_open(missing, true, err, sizeof err));
	assert_non_null(strstr(err, missing));
	assert_int_equal(access(missing, F_OK), -1);
	free(missing);
	free(before);
	free(after);
	canary_cfg_free(gotc);
	canary_cfg_free(c);
}

/* ---- list --------------------------------------------------------------- */

static void
test_list(void **state)
{
	const char *dir = *state;
	struct store_dir *sd = open_rw(dir);
	struct canary_status st = sample_status();
	static const char *const names[] = { "prod/checkout", "test/podinfo", "prod/api.v2", "a/z" };
	static const char *const sorted[] = { "a/z", "prod/api.v2", "prod/checkout", "test/podinfo" };
	char err[ERRMSG_MAX], **out, *junk;
	size_t i, n;

	for (i = 0; i < 4; i++)
		assert_int_equal(OPS.save(sd, names[i], &st, err), ST_OK);
	/* Things that are not canaries are not listed. */
	junk = path_of(dir, "Not_A_Namespace");
	assert_int_equal(mkdir(junk, 0755), 0);
	free(junk);
	junk = path_of(dir, "test/empty");
	assert_int_equal(mkdir(junk, 0755), 0);
	free(junk);
	n = OPS.list(sd, &out);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++) {
		assert_string_equal(out[i], sorted[i]);
		free(out[i]);
	}
	free(out);
	store_dir_close(sd);
}

static void
test_default_path(void **state)
{
	char *p;

	(void)state;
	setenv("XDG_STATE_HOME", "/xdg/state", 1);
	setenv("HOME", "/home/u", 1);
	p = store_dir_default_path();
	assert_string_equal(p, "/xdg/state/perch");
	free(p);
	setenv("XDG_STATE_HOME", "relative", 1);	/* ignored, as the XDG spec says */
	p = store_dir_default_path();
	assert_string_equal(p, "/home/u/.local/state/perch");
	free(p);
	unsetenv("XDG_STATE_HOME");
	p = store_dir_default_path();
	assert_string_equal(p, "/home/u/.local/state/perch");
	free(p);
}

/* ---- opening: what is created ------------------------------------------ */

/* Each row opens ROOT/path (ROOT holds "exists/" and the file "afile"). */
static const struct open_row {
	const char *path;
	bool read_only;
	bool ok;
	const char *err;	/* in the message when !ok */
	const char *made;	/* ROOT/made exists afterwards ("" = nothing new) */
} open_rows[] = {
	{ "exists", false, true, NULL, "" },
	{ "exists/", false, true, NULL, "" },
	{ "new", false, true, NULL, "new" },
	{ "exists/new/", false, true, NULL, "exists/new" },
	{ "missing/new", false, false, "its parent ROOT/missing does not exist", "" },
	{ "missing/deeper/new/", false, false, "its parent ROOT/missing/deeper does not exist", "" },
	{ "afile/new", false, false, "Not a directory", "" },
	{ "afile", false, false, "not a directory", "" },
	{ "exists", true, true, NULL, "" },
	{ "new", true, false, "ROOT/new: No such file or directory", "" },
	{ "missing/new", true, false, "ROOT/missing/new: No such file or directory", "" },
	{ "afile", true, false, "not a directory", "" },
};

static char *
listing(const char *dir)
{
	char *cmd = xasprintf("cd '%s' && find . | sort", dir), line[512];
	FILE *f = popen(cmd, "r");
	struct buf b;

	buf_init(&b, 0);
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		buf_append(&b, line, strlen(line));
	if (f != NULL)
		pclose(f);
	free(cmd);
	return b.data != NULL ? buf_take(&b) : xstrdup("");
}

static void
test_open_creates_only_the_last_component(void **state)
{
	const char *root = *state;
	char *p = xasprintf("%s/exists", root);
	size_t i;
	int fd;

	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%s/afile", root);
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	free(p);
	for (i = 0; i < sizeof open_rows / sizeof open_rows[0]; i++) {
		const struct open_row *r = &open_rows[i];
		char *path = xasprintf("%s/%s", root, r->path), *before, *after, *want, err[512] = "";
		char *made = xasprintf("%s/%s", root, r->made);
		struct store_dir *sd;
		struct stat sb;

		before = listing(root);
		sd = store_dir_open(path, r->read_only, err, sizeof err);
		after = listing(root);
		if (r->ok != (sd != NULL))
			fail_msg("row %zu (%s): open %s: %s", i, r->path, sd ? "worked" : "failed", err);
		if (!r->ok) {
			char *at = strstr(r->err, "ROOT");

			want = at ? xasprintf("%.*s%s%s", (int)(at - r->err), r->err, root, at + 4) :
			    xstrdup(r->err);
			if (strstr(err, want) == NULL)
				fail_msg("row %zu (%s): '%s' does not say '%s'", i, r->path, err, want);
			free(want);
		}
		if (r->made[0] == '\0')
			assert_string_equal(before, after);
		else if (stat(made, &sb) != 0 || !S_ISDIR(sb.st_mode))
			fail_msg("row %zu (%s): %s was not created", i, r->path, made);
		else
			assert_int_equal(rmdir(made), 0);	/* the next row starts clean */
		store_dir_close(sd);
		free(path);
		free(made);
		free(before);
		free(after);
	}
}

/* A compare record's stored form keeps the samples of both sides (the
 * watcher's distributions); an older record without them still reads, and
 * an oversized or malformed array is refused naming the field. */
static void
test_journal_compare_samples(void **state)
{
	static const char *const bad_fields[] = {
		"{\"canarySamples\":\"1,2\"}", "canarySamples\" is not an array",
		"{\"primarySamples\":[1,\"x\"]}", "primarySamples\" value 1 is not a number",
		"{\"canarySamples\":[[1]]}", "canarySamples\" value 0 is not a number",
		"{\"primarySamples\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}",
		"primarySamples\" has more than 24 values",
	};
	struct journal_rec r, back;
	json_t *o, *extra;
	char err[256];
	size_t i;

	(void)state;
	memset(&r, 0, sizeof r);
	r.time_ms = 1700000000123;
	snprintf(r.canary, sizeof r.canary, "shop/checkout");
	snprintf(r.metric, sizeof r.metric, "request-duration");
	r.kind = REC_COMPARE;
	r.judge_class = JUDGE_HIGH;
	r.canary_median = 240;
	r.primary_median = 120;
	r.effect = 2;
	r.n_canary = 11;
	r.n_primary = 3;
	for (i = 0; i < r.n_canary; i++)
		r.canary_samples[i] = 200.125 + (double)i * 8.5;
	r.canary_samples[4] = NAN;
	r.primary_samples[0] = 119.5;
	r.primary_samples[1] = 120;
	r.primary_samples[2] = 121.0 / 3.0;
	o = journal_to_json(&r);
	assert_int_equal(json_array_size(json_object_get(o, "canarySamples")), 11);
	assert_int_equal(journal_from_json(o, &back, err, sizeof err), ST_OK);
	assert_int_equal(back.n_canary, 11);
	assert_int_equal(back.n_primary, 3);
	assert_true(isnan(back.canary_samples[4]));
	back.canary_samples[4] = r.canary_samples[4] = 0;
	assert_memory_equal(back.canary_samples, r.canary_samples, 11 * sizeof(double));
	assert_memory_equal(back.primary_samples, r.primary_samples, 3 * sizeof(double));
	/* perch check's record keeps the documented keys only */
	json_decref(o);
	o = journal_to_json_form(&r, JOURNAL_DISPLAY);
	assert_null(json_object_get(o, "canarySamples"));
	json_decref(o);
	/* an older journal's record: no samples */
	o = journal_to_json(&r);
	json_object_del(o, "canarySamples");
	json_object_del(o, "primarySamples");
	assert_int_equal(journal_from_json(o, &back, err, sizeof err), ST_OK);
	assert_int_equal(back.n_canary + back.n_primary, 0);
	assert_true(back.canary_median == 240 && back.judge_class == JUDGE_HIGH);
	for (i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i += 2) {
		extra = json_loads(bad_fields[i], 0, NULL);
		assert_non_null(extra);
		json_object_update(o, extra);
		assert_int_equal(journal_from_json(o, &back, err, sizeof err), ST_CORRUPT);
		assert_non_null(strstr(err, bad_fields[i + 1]));
		json_object_del(o, "canarySamples");
		json_object_del(o, "primarySamples");
		json_decref(extra);
	}
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_bad_names_rejected_by_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_temp_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_flipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spec_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sync_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_torn_and_bad_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_torn_tail_repaired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_entries_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directories_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_across_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_release_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_journal_compare_samples),
		cmocka_unit_test_setup_teardown(test_open_creates_only_the_last_component, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
