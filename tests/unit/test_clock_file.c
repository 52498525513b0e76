/* test_clock_file.c — the controller's clock in DIR/clock.json: saving and
 * loading it, errors naming the file and field, the mapping, and the
 * watcher's clock that follows the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/clock.h"
#include "app/clock_file.h"
#include "util/status.h"

#define START INT64_C(1772460000000)	/* 2026-03-02T14:00:00Z */

static char *
tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof dir, "/tmp/perch-clockfile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
rmdir_all(const char *dir)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, CLOCK_FILE_NAME);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);	/* no temp file left behind */
}

static void
write_file(const char *dir, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, CLOCK_FILE_NAME);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void
test_round_trip(void **state)
{
	static const struct clock_map maps[] = {
		{ START, INT64_C(1795700000000), 3.0 },
		{ START + 86400000, INT64_C(1795700000123), 0 },	/* max */
		{ START, INT64_C(1795700000000), 0.5 },
	};
	char err[256], *dir = tmpdir();
	struct clock_map m;
	size_t i;

	(void)state;
	assert_int_equal(clock_file_load(dir, &m, NULL, err, sizeof err), ST_NOTFOUND);
	for (i = 0; i < sizeof maps / sizeof maps[0]; i++) {
		assert_int_equal(clock_file_save(dir, &maps[i], NULL, err, sizeof err), ST_OK);
		memset(&m, 0xff, sizeof m);
		assert_int_equal(clock_file_load(dir, &m, NULL, err, sizeof err), ST_OK);
		assert_int_equal(m.virtual_ms, maps[i].virtual_ms);
		assert_int_equal(m.real_ms, maps[i].real_ms);
		assert_true(m.speed == maps[i].speed);
	}
	rmdir_all(dir);
}

static void
test_bad_files(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"format\":1,", "clock.json:1:" },
		{ "[1]", "not a JSON object" },
		{ "{\"format\":2,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":1}", "\"format\"" },
		{ "{\"format\":1,\"kind\":\"status\",\"virtualMs\":1,\"realMs\":1,\"speed\":1}", "\"kind\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"realMs\":1,\"speed\":1}", "\"virtualMs\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":\"x\",\"speed\":1}", "\"realMs\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":0}", "\"speed\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":\"fast\"}", "\"speed\"" },
		/* a heartbeat is whole or absent */
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":1,"
		  "\"everyMs\":0}", "\"everyMs\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":1,"
		  "\"everyMs\":1000,\"context\":\"DEMO\"}", "\"controller\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":1,"
		  "\"everyMs\":1000,\"controller\":\"a\",\"context\":\"D\",\"stopped\":1}", "\"stopped\"" },
		{ "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,\"speed\":1,"
		  "\"everyMs\":1000,\"controller\":\"a\",\"context\":\"D\",\"stopped\":false,"
		  "\"apiOk\":true,\"metricsOk\":true,\"metricsDegraded\":\"yes\"}", "\"metricsDegraded\"" },
	};
	char err[256], *dir = tmpdir();
	struct clock_beat b;
	struct clock_map m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_file(dir, cases[i].text);
		err[0] = '\0';
		assert_int_equal(clock_file_load(dir, &m, &b, err, sizeof err), ST_CORRUPT);
		assert_non_null(strstr(err, CLOCK_FILE_NAME));
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].want);
	}
	rmdir_all(dir);
}

static void
test_map_at(void **state)
{
	static const struct {
		struct clock_map m;
		int64_t real, want;
	} cases[] = {
		{ { START, 1000, 1 }, 1000, START },
		{ { START, 1000, 1 }, 3000, START + 2000 },
		{ { START, 1000, 3 }, 3000, START + 6000 },
		{ { START, 1000, 100 }, 1010, START + 1000 },
		{ { START, 1000, 0 }, 999999, START },		/* max: the saved time */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(clock_map_at(&cases[i].m, cases[i].real), cases[i].want);
}

static int64_t
follow_wait_ms(struct clock_follow *f, int64_t deadline)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	int64_t t0 = clock_realtime_ms();

	pthread_mutex_lock(&mu);
	clock_follow_ops.wait(f, &cond, &mu, deadline);
	pthread_mutex_unlock(&mu);
	return clock_realtime_ms() - t0;
}

/* The watcher's clock: real time without a file, the controller's mapping
 * with one (re-read as it changes), and never backwards. */
static void
test_follow(void **state)
{
	char err[256], *dir = tmpdir();
	struct clock_follow *f = clock_follow_new(dir);
	struct clock_map m;
	int64_t now, real = clock_realtime_ms(), took;

	(void)state;
	now = clock_follow_ops.now_ms(f);
	assert_true(now >= real && now < real + 1000);
	/* A scaled demo: its virtual time, moving 10 times as fast. */
	m = (struct clock_map){ START, clock_realtime_ms(), 10 };
	assert_int_equal(clock_file_save(dir, &m, NULL, err, sizeof err), ST_OK);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	now = clock_follow_ops.now_ms(f);
	assert_true(now >= START + 10 * CLOCK_FOLLOW_RELOAD_MS && now < START + 60000);
	/* Time moves in steps, one per read of the file: the same time until
	 * the next read, which a wait lasts for (however far its deadline),
	 * then about RELOAD_MS x 10 later. */
	assert_int_equal(clock_follow_ops.now_ms(f), now);
	took = follow_wait_ms(f, now + 3600000);
	assert_true(took >= CLOCK_FOLLOW_RELOAD_MS - 100 && took <= CLOCK_FOLLOW_RELOAD_MS + 150);
	assert_true(clock_follow_ops.now_ms(f) >= now + 8 * CLOCK_FOLLOW_RELOAD_MS);
	/* Speed max: the saved time exactly, as the demo rewrites it. */
	m = (struct clock_map){ START + 3600000, clock_realtime_ms(), 0 };
	assert_int_equal(clock_file_save(dir, &m, NULL, err, sizeof err), ST_OK);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	assert_int_equal(clock_follow_ops.now_ms(f), START + 3600000);
	/* Waiting at max lasts until the next look at the file. */
	took = follow_wait_ms(f, START + 7200000);
	assert_true(took >= CLOCK_FOLLOW_RELOAD_MS - 10 && took <= CLOCK_FOLLOW_RELOAD_MS + 150);
	assert_true(follow_wait_ms(f, START) < 50);
	/* An older mapping (a demo restarted on a fresh directory) never
	 * turns the watcher's time back. */
	m = (struct clock_map){ START, clock_realtime_ms(), 0 };
	assert_int_equal(clock_file_save(dir, &m, NULL, err, sizeof err), ST_OK);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	assert_int_equal(clock_follow_ops.now_ms(f), START + 3600000);
	clock_follow_free(f);
	rmdir_all(dir);
}

static void
save_beat(const char *dir, int64_t virtual_ms, double speed, const char *who, int64_t every,
    bool stopped)
{
	struct clock_map m = { virtual_ms, clock_realtime_ms(), speed };
	struct clock_beat b = { .has = true, .every_ms = every, .stopped = stopped, .api_ok = true,
		.metrics_ok = false };
	char err[256];

	snprintf(b.controller, sizeof b.controller, "%s", who);
	snprintf(b.context, sizeof b.context, "DEMO\x1b[2J");	/* sanitized when read */
	assert_int_equal(clock_file_save(dir, &m, &b, err, sizeof err), ST_OK);
}

/* The heartbeat in clock.json: its age counts on this process's clock
 * while the controller is silent, the controller's time stops where it
 * stopped (not running on), and a restarted controller is followed at
 * once even when its time lies behind. */
static void
test_follow_heartbeat(void **state)
{
	char err[256], *dir = tmpdir();
	struct clock_follow *f = clock_follow_new(dir);
	struct clock_beat b;
	struct clock_map m;
	struct heartbeat hb;
	int64_t t1, t2;

	(void)state;
	assert_int_equal(clock_follow_heartbeat_ops.last(f, "shop/a", &hb), ST_NOTFOUND);
	save_beat(dir, START, 10, "alice@host pid 1", 200, false);
	assert_int_equal(clock_file_load(dir, &m, &b, err, sizeof err), ST_OK);
	assert_true(b.has);
	assert_int_equal(b.every_ms, 200);
	assert_string_equal(b.context, "DEMO");
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	assert_int_equal(clock_follow_heartbeat_ops.last(f, "shop/a", &hb), ST_OK);
	assert_string_equal(hb.controller, "alice@host pid 1");
	assert_string_equal(hb.context, "DEMO");
	assert_true(hb.api_ok && !hb.metrics_ok && !hb.stopped);
	assert_int_equal(hb.every_ms, 200);
	assert_true(hb.age_ms < 200 + CLOCK_FOLLOW_RELOAD_MS + 100);
	/* Silent for more than three beats: lost, and its time stopped two
	 * beats after the last one (10 x 400 ms of virtual time). */
	nap_ms(800);
	assert_int_equal(clock_follow_heartbeat_ops.last(f, "shop/a", &hb), ST_OK);
	assert_true(hb.age_ms > HEARTBEAT_MISSED * hb.every_ms);
	t1 = clock_follow_ops.now_ms(f);
	assert_true(t1 <= START + 10 * 400 + 10);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	assert_int_equal(clock_follow_ops.now_ms(f), t1);
	/* Restarted, with an earlier time: followed at once. */
	save_beat(dir, START - 60000, 10, "alice@host pid 2", 200, false);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	t2 = clock_follow_ops.now_ms(f);
	assert_true(t2 < t1 && t2 >= START - 60000);
	assert_int_equal(clock_follow_heartbeat_ops.last(f, "shop/a", &hb), ST_OK);
	assert_string_equal(hb.controller, "alice@host pid 2");
	assert_true(hb.age_ms < 200 + CLOCK_FOLLOW_RELOAD_MS + 100);
	/* It stops cleanly: its time stays at its last beat. */
	save_beat(dir, START, 10, "alice@host pid 2", 200, true);
	nap_ms(CLOCK_FOLLOW_RELOAD_MS + 50);
	assert_int_equal(clock_follow_ops.now_ms(f), START);
	assert_int_equal(clock_follow_heartbeat_ops.last(f, "shop/a", &hb), ST_OK);
	assert_true(hb.stopped);
	clock_follow_free(f);
	rmdir_all(dir);
}

/* Metrics that answer in part are said in the beat ("degraded" in the
 * watcher's header as in the controller's); a beat of an older perch,
 * without the field, is not degraded. */
static void
test_beat_degraded(void **state)
{
	static const char older[] = "{\"format\":1,\"kind\":\"clock\",\"virtualMs\":1,\"realMs\":1,"
	    "\"speed\":1,\"everyMs\":1000,\"controller\":\"a\",\"context\":\"D\","
	    "\"stopped\":false,\"apiOk\":true,\"metricsOk\":true}";
	struct clock_map m = { START, INT64_C(1795700000000), 1 };
	struct clock_beat b = { .has = true, .every_ms = 1000, .api_ok = true, .metrics_ok = true,
		.metrics_degraded = true }, got;
	char err[256], *dir = tmpdir();

	(void)state;
	snprintf(b.controller, sizeof b.controller, "alice@host pid 1");
	assert_int_equal(clock_file_save(dir, &m, &b, err, sizeof err), ST_OK);
	assert_int_equal(clock_file_load(dir, &m, &got, err, sizeof err), ST_OK);
	assert_true(got.has && got.metrics_ok && got.metrics_degraded);
	assert_int_equal(clock_file_parse(older, sizeof older - 1, "clock.json", &m, &got, err,
	    sizeof err), ST_OK);
	assert_true(got.has && got.metrics_ok && !got.metrics_degraded);
	rmdir_all(dir);
}

/* A link planted where the temporary file goes, or in place of the file
 * itself, never leads a save to write through it. */
static void
test_links_not_followed(void **state)
{
	struct clock_map m = { START, INT64_C(1795700000000), 3.0 };
	char err[256], victim[128], tmp[160], path[160], back[16] = "";
	char *dir = tmpdir();
	FILE *f;

	(void)state;
	snprintf(victim, sizeof victim, "%s/victim", dir);
	assert_non_null(f = fopen(victim, "w"));
	fputs("precious\n", f);
	fclose(f);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, CLOCK_FILE_NAME, (long)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(clock_file_save(dir, &m, NULL, err, sizeof err), ST_OK);	/* the stale one goes */
	assert_non_null(f = fopen(victim, "r"));
	assert_non_null(fgets(back, sizeof back, f));
	fclose(f);
	assert_string_equal(back, "precious\n");
	snprintf(path, sizeof path, "%s/%s", dir, CLOCK_FILE_NAME);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(clock_file_save(dir, &m, NULL, err, sizeof err), ST_INVALID);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(clock_file_load(dir, &m, NULL, err, sizeof err), ST_CORRUPT);
	assert_non_null(strstr(err, "symbolic link"));
	assert_non_null(f = fopen(victim, "r"));
	assert_non_null(fgets(back, sizeof back, f));
	fclose(f);
	assert_string_equal(back, "precious\n");
	unlink(victim);
	rmdir_all(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_map_at),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_follow_heartbeat),
		cmocka_unit_test(test_beat_degraded),
		cmocka_unit_test(test_links_not_followed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
