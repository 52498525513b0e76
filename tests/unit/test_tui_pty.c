/*
 * test_tui_pty.c — the real UI loop on a real pseudo-terminal: a child runs
 * tui_run_source() fed by a fixed snapshot; the parent types keys, resizes
 * the terminal and sends signals, and reads what reaches the terminal.
 * Checks: the first frame arrives; r + y sends exactly one rollback; the
 * read-only loop refuses r and sends nothing; a resize is redrawn (and a
 * too-small terminal says so); an idle screen writes little, and one where
 * everything is paused nothing at all; q asks first (exit 0) and SIGHUP,
 * SIGTERM and Ctrl-C end it with 128 + the signal; the alternate screen is
 * left on every way out; colour
 * follows the terminal (256, 8), the theme and NO_COLOR, and bold stays.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helper_clock.h"
#include "helper_snapfix.h"
#include "tui/source.h"
#include "tui/tui.h"
#include "tui/ui.h"
#include "util/buf.h"

struct child {
	pid_t pid;
	int master;
	int cmd_rd;		/* commands the loop sent, one line each */
	struct buf out;		/* everything written to the terminal */
};

static struct snapshot *fixture;
static int cmd_wr = -1;

/* The terminal and theme of the next child. */
static const char *child_term = "xterm-256color";
static const char *child_theme = "default";
static const char *child_no_color;
static bool child_paused;	/* every canary in progress paused */

static struct snapshot *
fake_snapshot(void *ctx)
{
	(void)ctx;
	return snapshot_ref(fixture);
}

static void
fake_command(void *ctx, const struct command *cmd)
{
	char line[256];
	int n;

	(void)ctx;
	n = snprintf(line, sizeof line, "%s %s %s\n", command_name(cmd->kind), cmd->canary, cmd->actor);
	if (write(cmd_wr, line, (size_t)n) != n)
		_exit(9);
}

static void
start(struct child *c, bool read_only, int rows, int cols)
{
	static const struct tui_source src = { fake_snapshot, fake_command };
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	int p[2];

	assert_int_equal(pipe(p), 0);
	buf_init(&c->out, 0);
	c->pid = forkpty(&c->master, NULL, NULL, &ws);
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		struct tui_config cfg = { .theme = child_theme, .read_only = read_only, .context = NULL,
			.saved_in = "in the cluster" };
		struct tui *t;
		int st;

		close(p[0]);
		cmd_wr = p[1];
		setenv("TERM", child_term, 1);
		setenv("XDG_CONFIG_HOME", "/nonexistent", 1);	/* no user themes */
		if (child_no_color != NULL)
			setenv("NO_COLOR", child_no_color, 1);
		else
			unsetenv("NO_COLOR");
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		setenv("USER", "tester", 1);
		fixture = snapfix_new();
		for (size_t i = 0; child_paused && i < fixture->n_canaries; i++)
			if (ui_in_progress_phase(fixture->canaries[i].phase))
				fixture->canaries[i].paused = true;
		t = tui_new(&cfg);
		st = tui_run_source(t, &src, NULL);
		tui_free(t);
		snapshot_unref(fixture);
		_exit(st);
	}
	close(p[1]);
	c->cmd_rd = p[0];
	fcntl(c->cmd_rd, F_SETFL, O_NONBLOCK);
}

/* Reads the terminal for up to ms; returns bytes read. */
static size_t
pump(struct child *c, int ms)
{
	struct pollfd pf = { .fd = c->master, .events = POLLIN };
	char chunk[4096];
	size_t total = 0;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int left, n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return total;
		n = (int)read(c->master, chunk, sizeof chunk);
		if (n <= 0)
			return total;
		buf_append(&c->out, chunk, (size_t)n);
		total += (size_t)n;
	}
}

/* Waits until the output since offset `from` contains s. */
static bool
wait_for(struct child *c, size_t from, const char *s, int ms)
{
	int waited;

	ms *= test_timeout_scale();
	for (waited = 0; waited < ms; waited += 50) {
		if (c->out.len > from && memmem(buf_str(&c->out) + from, c->out.len - from, s, strlen(s)))
			return true;
		pump(c, 50);
	}
	return false;
}

static void
type(struct child *c, const char *keys)
{
	assert_int_equal(write(c->master, keys, strlen(keys)), (ssize_t)strlen(keys));
}

static bool
left_alt_screen(struct child *c)
{
	const char *s = buf_str(&c->out);
	const char *enter = memmem(s, c->out.len, "\033[?1049h", 8);
	const char *leave = memmem(s, c->out.len, "\033[?1049l", 8);

	return enter != NULL && leave != NULL && leave > enter;
}

/* Waits for the child to end; returns its exit status and checks that the
 * alternate screen was entered and then left (the terminal restored). */
static int
finish(struct child *c)
{
	int status = -1, i;

	for (i = 0; i < 200; i++) {
		struct timespec ts = { 0, 20 * 1000000 };

		if (pump(c, 20) == 0)	/* EIO once the child closed the terminal */
			nanosleep(&ts, NULL);
		if (waitpid(c->pid, &status, WNOHANG) == c->pid)
			break;
	}
	if (i == 200) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		fprintf(stderr, "last output: %s\n", buf_str(&c->out) + (c->out.len > 400 ? c->out.len - 400 : 0));
		fail_msg("the UI did not end");
	}
	pump(c, 50);
	assert_true(left_alt_screen(c));
	close(c->master);
	close(c->cmd_rd);
	buf_fini(&c->out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void
read_commands(struct child *c, char *out, size_t n)
{
	ssize_t r = read(c->cmd_rd, out, n - 1);

	out[r > 0 ? r : 0] = '\0';
}


static void
test_control_rollback_and_quit(void **state)
{
	struct child c;
	char cmds[512];
	size_t mark;

	(void)state;
	start(&c, false, 24, 80);
	assert_true(wait_for(&c, 0, "checkout", 3000));
	assert_true(wait_for(&c, 0, "CONTROL", 1000));
	mark = c.out.len;
	type(&c, "r");
	assert_true(wait_for(&c, mark, "roll back checkout?", 2000));
	read_commands(&c, cmds, sizeof cmds);
	assert_string_equal(cmds, "");		/* nothing before y */
	type(&c, "y");
	assert_true(wait_for(&c, mark, "checkout rollback: sent", 2000));
	read_commands(&c, cmds, sizeof cmds);
	assert_true(strncmp(cmds, "rollback shop/checkout tester@", 30) == 0);
	assert_null(strchr(cmds, '\n') == NULL ? NULL : strchr(strchr(cmds, '\n') + 1, '\n'));
	mark = c.out.len;
	type(&c, "t");
	assert_true(wait_for(&c, mark, "theme: light", 2000));
	mark = c.out.len;
	type(&c, "\004\013");			/* Ctrl-D, Ctrl-K: nothing */
	type(&c, "q");
	assert_true(wait_for(&c, mark, "quit perch?", 2000));
	assert_true(wait_for(&c, mark, "stay where", 1000));
	type(&c, "y");
	assert_int_equal(finish(&c), 0);
}

static void
test_read_only_refuses(void **state)
{
	struct child c;
	char cmds[512];
	size_t mark;

	(void)state;
	start(&c, true, 24, 80);
	assert_true(wait_for(&c, 0, "READ-ONLY", 3000));
	mark = c.out.len;
	type(&c, "r");
	assert_true(wait_for(&c, mark, "read-only: perch watch cannot change rollouts", 2000));
	type(&c, "yp PsRa");
	pump(&c, 200);
	read_commands(&c, cmds, sizeof cmds);
	assert_string_equal(cmds, "");
	kill(c.pid, SIGHUP);			/* an SSH drop */
	assert_int_equal(finish(&c), 128 + SIGHUP);
}

static void
test_resize_and_idle(void **state)
{
	struct winsize big = { .ws_row = 40, .ws_col = 120 }, tiny = { .ws_row = 20, .ws_col = 60 };
	struct child c;
	size_t mark, idle;

	(void)state;
	start(&c, false, 24, 80);
	assert_true(wait_for(&c, 0, "checkout", 3000));
	mark = c.out.len;
	ioctl(c.master, TIOCSWINSZ, &big);
	assert_true(wait_for(&c, mark, "prometheus", 2000));	/* the wide header */
	assert_true(wait_for(&c, mark, "events", 1000));	/* the split layout */
	pump(&c, 300);
	/* nothing changes but the clock and the time in phase: a few bytes a second */
	idle = pump(&c, 2000);
	if (idle > 600)
		fail_msg("idle screen wrote %zu bytes in 2 s", idle);
	mark = c.out.len;
	ioctl(c.master, TIOCSWINSZ, &tiny);
	assert_true(wait_for(&c, mark, "terminal too small: need 80x24, have 60x20", 2000));
	kill(c.pid, SIGTERM);
	assert_int_equal(finish(&c), 128 + SIGTERM);
}

/* Everything paused: the clock shows HH:MM and nothing ticks, so once the
 * first frame is out the terminal gets not one byte more. */
static void
test_all_paused_is_still(void **state)
{
	struct child c;
	size_t idle;

	(void)state;
	child_paused = true;
	start(&c, false, 24, 80);
	child_paused = false;
	assert_true(wait_for(&c, 0, "checkout", 3000));
	assert_true(wait_for(&c, 0, "14:02", 1000));
	pump(&c, 300);
	idle = pump(&c, 2500);
	if (idle != 0)
		fail_msg("a paused screen wrote %zu bytes in 2.5 s", idle);
	assert_null(memmem(buf_str(&c.out), c.out.len, "14:02:3", 7));	/* no seconds */
	kill(c.pid, SIGTERM);
	assert_int_equal(finish(&c), 128 + SIGTERM);
}

/* Colour in the output: 256-colour SGR, basic SGR, bold. */
static void
colours_seen(const struct buf *b, bool *c256, bool *c8, bool *bold)
{
	const char *s = buf_str(b), *p;

	*c256 = memmem(s, b->len, "38;5;", 5) != NULL;
	*c8 = false;
	*bold = false;
	for (p = s; (p = memchr(p, 0x1b, (size_t)(s + b->len - p))) != NULL; p++) {
		char seq[32];
		size_t n = strspn(p + 2, "0123456789;");

		if (p[1] != '[' || p[2 + n] != 'm' || n >= sizeof seq - 1)
			continue;
		snprintf(seq, sizeof seq, ";%.*s;", (int)n, p + 2);
		if (strstr(seq, ";1;") != NULL)
			*bold = true;
		for (int k = 30; k <= 37; k++) {
			char want[16];

			snprintf(want, sizeof want, ";%d;", k);
			if (strstr(seq, want) != NULL && strstr(seq, ";38;5;") == NULL)
				*c8 = true;
		}
	}
}

static const struct {
	const char *term, *theme, *no_color;
	bool c256, c8;		/* expected: 256-colour codes, basic colour codes */
} colour_rows[] = {
	{ "xterm-256color", "default", NULL, true, false },
	{ "xterm", "default", NULL, false, true },	/* 8 colours: nearest basic colour */
	{ "xterm-256color", "default", "1", false, false },	/* NO_COLOR */
	{ "xterm-256color", "default", "", true, false },	/* empty NO_COLOR is unset */
	{ "xterm-256color", "mono", NULL, false, false },
	{ "xterm-256color", "themes/high-contrast.yaml", NULL, false, true },
};

static void
test_colours(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof colour_rows / sizeof colour_rows[0]; i++) {
		struct child c;
		bool c256, c8, bold;

		child_term = colour_rows[i].term;
		child_theme = colour_rows[i].theme;
		child_no_color = colour_rows[i].no_color;
		start(&c, false, 24, 80);
		assert_true(wait_for(&c, 0, "quit", 3000));
		colours_seen(&c.out, &c256, &c8, &bold);
		if (c256 != colour_rows[i].c256 || c8 != colour_rows[i].c8 || !bold)
			fail_msg("row %zu (%s, %s, NO_COLOR=%s): 256 %d, basic %d, bold %d", i,
			    child_term, child_theme, child_no_color ? child_no_color : "-", c256, c8, bold);
		if (i % 2 == 1)
			type(&c, "\003");	/* Ctrl-C: SIGINT through the terminal */
		else
			kill(c.pid, SIGTERM);
		assert_int_equal(finish(&c), 128 + (i % 2 == 1 ? SIGINT : SIGTERM));
	}
	child_term = "xterm-256color";
	child_theme = "default";
	child_no_color = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_rollback_and_quit),
		cmocka_unit_test(test_read_only_refuses),
		cmocka_unit_test(test_resize_and_idle),
		cmocka_unit_test(test_all_paused_is_still),
		cmocka_unit_test(test_colours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
