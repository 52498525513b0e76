/*
 * test_tui_watch.c — `perch watch` end to end on a real pseudo-terminal:
 * this test plays the controller (it takes a canary's lock and writes its
 * spec, status and journal into a state directory with the store), while a
 * child runs cmd_watch() on that directory.  The watcher draws the canary
 * READ-ONLY, refuses r, follows a change of the
 * saved status, writes nothing, and ends cleanly on SIGHUP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/cmd/cmd.h"
#include "app/clock.h"
#include "store/dir.h"
#include "sim/scenario.h"
#include "tests/unit/helper_clock.h"
#include "util/buf.h"
#include "util/status.h"

#define CANARY "shop/checkout"

static void
pump(int fd, struct buf *out, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	char chunk[4096];
	ssize_t n;

	while (poll(&pf, 1, ms) > 0 && (n = read(fd, chunk, sizeof chunk)) > 0)
		buf_append(out, chunk, (size_t)n);
}

/* Waits for s in what the terminal received since `from`.  ncurses sends
 * only the cells that changed (30% -> 40% is one "4"), so every half second
 * the wait asks for a full repaint with Ctrl-L, which sends whole lines. */
static bool
wait_for(int fd, struct buf *out, size_t from, const char *s)
{
	int i, tries = 100 * test_timeout_scale();	/* slow runs (valgrind) */

	for (i = 0; i < tries; i++) {
		if (out->len > from && memmem(buf_str(out) + from, out->len - from, s, strlen(s)))
			return true;
		if (i % 10 == 9 && write(fd, "\f", 1) != 1)
			break;
		pump(fd, out, 50);
	}
	fprintf(stderr, "no '%s' in:\n%s\n", s, buf_str(out) + from);
	return false;
}

static void
save(struct store_dir *sd, enum phase ph, int weight, const char *event)
{
	struct canary_status st;
	struct journal_rec rec;
	char err[ERRMSG_MAX];
	int64_t now = clock_realtime_ms();

	memset(&st, 0, sizeof st);
	st.phase = ph;
	st.canary_weight = weight;
	st.phase_since_ms = st.last_transition_ms = now - 60000;
	st.next_tick_ms = now + 20000;
	snprintf(st.last_applied, sizeof st.last_applied, "checkout-v2");
	snprintf(st.last_promoted, sizeof st.last_promoted, "checkout-v1");
	st.seq = (uint64_t)weight;
	assert_int_equal(store_dir_ops.save(sd, CANARY, &st, err), ST_OK);
	memset(&rec, 0, sizeof rec);
	rec.time_ms = now;
	snprintf(rec.canary, sizeof rec.canary, CANARY);
	rec.kind = REC_EVENT;
	rec.severity = SEV_NORMAL;
	snprintf(rec.type, sizeof rec.type, "Normal");
	snprintf(rec.reason, sizeof rec.reason, "Synced");
	snprintf(rec.message, sizeof rec.message, "%s", event);
	rec.phase = ph;
	rec.weight = weight;
	assert_int_equal(store_dir_ops.append(sd, &rec, NULL), ST_OK);
}

/* Every file under dir with its size and modification time, one line each. */
static void
listing(const char *dir, struct buf *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[1024];

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		assert_int_equal(lstat(path, &sb), 0);
		if (S_ISDIR(sb.st_mode)) {
			listing(path, out);
			continue;
		}
		buf_printf(out, "%s %lld %lld.%09ld\n", path, (long long)sb.st_size,
		    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	}
	closedir(d);
}

static pid_t
start_watch(const char *dir, int *master)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	pid_t pid = forkpty(master, NULL, NULL, &ws);

	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "watch", "--state-dir", (char *)dir, "--theme", "default", NULL };

		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		_exit(cmd_watch(5, argv));
	}
	return pid;
}

static void
test_watch_follows_read_only(void **state)
{
	char dir[] = "/tmp/perch-watch-XXXXXX", err[ERRMSG_MAX], holder[128];
	struct canary_cfg *cfg = scenario_canary(SCN_HEALTHY, "shop", "checkout", 0);
	struct store_dir *sd;
	struct buf out, before, after;
	int master, status;
	size_t mark;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sd = store_dir_open(dir, false, err, sizeof err);
	assert_non_null(sd);
	assert_int_equal(store_dir_ops.acquire(sd, CANARY, "alice@laptop", holder, sizeof holder, NULL), ST_OK);
	assert_int_equal(store_dir_ops.save_spec(sd, CANARY, cfg, err), ST_OK);
	save(sd, PHASE_PROGRESSING, 30, "Advance checkout.shop canary weight 30");

	buf_init(&out, 0);
	pid = start_watch(dir, &master);
	assert_true(wait_for(master, &out, 0, "READ-ONLY"));
	assert_true(wait_for(master, &out, 0, "controlled by alice@laptop"));	/* who controls */
	/* no heartbeat in this directory: its health is not claimed */
	assert_true(wait_for(master, &out, 0, "controller health unknown"));
	assert_true(wait_for(master, &out, 0, "checkout"));
	assert_true(wait_for(master, &out, 0, "30%"));
	assert_true(wait_for(master, &out, 0, "Advance checkout.shop canary weight 30"));

	mark = out.len;
	assert_int_equal(write(master, "r", 1), 1);
	assert_true(wait_for(master, &out, mark, "read-only: perch watch cannot change rollouts"));

	/* the controller moves on; the watcher follows */
	mark = out.len;
	save(sd, PHASE_PROGRESSING, 40, "Advance checkout.shop canary weight 40");
	assert_true(wait_for(master, &out, mark, "40%"));
	assert_true(wait_for(master, &out, mark, "Advance checkout.shop canary weight 40"));

	/* the watcher writes nothing: the directory is the same before and after */
	pump(master, &out, 300);
	buf_init(&before, 0);
	listing(dir, &before);
	mark = out.len;
	assert_int_equal(write(master, "pPsRa y", 7), 7);
	pump(master, &out, 600);
	kill(pid, SIGHUP);
	status = -1;
	for (int i = 0; i < 200 && waitpid(pid, &status, WNOHANG) != pid; i++) {
		struct timespec nap = { 0, 20 * 1000000 };

		pump(master, &out, 20);
		nanosleep(&nap, NULL);	/* the terminal may already be closed */
	}
	/* What it wrote just before exiting may still wait in the pty. */
	pump(master, &out, 200);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 128 + SIGHUP);
	assert_non_null(memmem(buf_str(&out), out.len, "\033[?1049l", 8));
	buf_init(&after, 0);
	listing(dir, &after);
	assert_string_equal(buf_str(&before), buf_str(&after));

	close(master);
	buf_fini(&out);
	buf_fini(&before);
	buf_fini(&after);
	store_dir_close(sd);
	canary_cfg_free(cfg);
	{
		/* only this test's directory: others may run beside it */
		char cmd[64];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_follows_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
