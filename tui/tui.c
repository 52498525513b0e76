/*
 * tui.c — the UI loop (see tui.h): poll() on the terminal and the wake
 * pipe with the next redraw deadline as timeout, draw from the latest
 * snapshot, hand keys to the handler, send commands.  Frames are drawn into
 * ncurses' buffers and refreshed, so only changed cells reach the terminal;
 * there is no full repaint on a timer (Ctrl-L asks for one).  Resizes are
 * debounced.  SIGINT, SIGTERM and SIGHUP end the loop through the wake pipe
 * (util/sigwatch's thread calls tui_interrupt) and the terminal is restored
 * on every way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/render.h"
#include "tui/source.h"
#include "tui/theme.h"
#include "tui/tui.h"
#include "tui/ui.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/sigwatch.h"
#include "util/status.h"
#include "util/xalloc.h"

#define RESIZE_DEBOUNCE_MS 40

struct tui {
	int wake_rd, wake_wr;
	char theme[256];	/* "" = $PERCH_THEME or default */
	bool read_only;
	char context[96];
	char saved_in[200];	/* tui_config.saved_in, "" = nothing saved */
	char released[16];	/* tui_config.released */
	char empty_hint[UI_HINT_MAX];	/* tui_config.empty_hint, "" = "no canaries" */
	atomic_int signal;	/* the signal that ends the loop, 0 = none */
};

void
tui_interrupt(struct tui *t, int sig)
{
	char c = 's';

	if (t == NULL)
		return;
	atomic_store(&t->signal, sig);
	if (write(t->wake_wr, &c, 1) < 0) {
		/* EAGAIN: the pipe is full, a wake-up is pending */
	}
}

/* The util/sigwatch hook when the loop runs it itself. */
static void
on_signal(void *arg, int sig, int count)
{
	(void)count;
	tui_interrupt(arg, sig);
}

struct tui *
tui_new(const struct tui_config *cfg)
{
	struct tui *t;
	int fds[2];

	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->wake_rd = fds[0];
	t->wake_wr = fds[1];
	t->read_only = cfg->read_only;
	atomic_init(&t->signal, 0);
	snprintf(t->saved_in, sizeof t->saved_in, "%s", cfg->saved_in ? cfg->saved_in : "");
	snprintf(t->released, sizeof t->released, "%s", cfg->released ? cfg->released : "control");
	snprintf(t->theme, sizeof t->theme, "%s", cfg->theme ? cfg->theme : "");
	sanitize(t->empty_hint, sizeof t->empty_hint, cfg->empty_hint ? cfg->empty_hint : "",
	    cfg->empty_hint ? strlen(cfg->empty_hint) : 0);	/* may name a namespace */
	sanitize(t->context, sizeof t->context, cfg->context ? cfg->context : "",
	    cfg->context ? strlen(cfg->context) : 0);	/* a kubeconfig's name */
	return t;
}

void
tui_notify(void *arg)
{
	struct tui *t = arg;
	char c = 'w';

	if (t != NULL && write(t->wake_wr, &c, 1) < 0) {
		/* EAGAIN: the pipe is full, the UI will wake anyway */
	}
}

void
tui_free(struct tui *t)
{
	if (t == NULL)
		return;
	close(t->wake_rd);
	close(t->wake_wr);
	free(t);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The loop's state, beyond the UI state proper. */
struct loop {
	struct tui *t;
	const struct tui_source *src;
	void *ctx;
	struct ui u;
	struct snapshot *s;
	int64_t snap_mono;		/* when s arrived */
	struct theme theme;
	attr_t attrs[ROLE__COUNT];
	bool color;
	bool dirty, quit;
	int64_t resize_at;		/* debounced redraw after a resize, 0 = none */
	int idle_reads;			/* readable terminal with no key: gone */
	SCREEN *screen;
};

static void
send_command(struct loop *l, const struct command *cmd)
{
	if (l->t->read_only)	/* watch mode never sends */
		return;
	l->src->command(l->ctx, cmd);
}

static void
next_theme(struct loop *l)
{
	char err[512];
	int i, cur = -1;
	struct theme th;

	for (i = 0; theme_cycle[i] != NULL; i++)
		if (strcmp(theme_cycle[i], l->theme.name) == 0)
			cur = i;
	i = theme_cycle[cur + 1] != NULL ? cur + 1 : 0;
	if (theme_load(theme_cycle[i], &th, err, sizeof err) != 0) {
		ui_message(&l->u, "theme %s: %s", theme_cycle[i], err);
		snprintf(l->theme.name, sizeof l->theme.name, "%s", theme_cycle[i]);
		return;
	}
	snprintf(th.name, sizeof th.name, "%s", theme_cycle[i]);
	l->theme = th;
	theme_attrs(&l->theme, l->color, l->attrs);
	ui_message(&l->u, "theme: %s", th.name);
}

static void
take_snapshot(struct loop *l)
{
	struct snapshot *s;

	s = l->src->snapshot(l->ctx);
	if (s == NULL)
		return;
	if (s != NULL && l->s != NULL && s->version == l->s->version) {
		snapshot_unref(s);
		return;
	}
	snapshot_unref(l->s);
	l->s = s;
	l->snap_mono = mono_ms();
	l->dirty = true;
}

static void
handle_key(struct loop *l, int code)
{
	struct command cmd;
	unsigned what;

	if (code == KEY_RESIZE) {
		l->resize_at = mono_ms() + RESIZE_DEBOUNCE_MS;
		return;
	}
	l->u.mono_ms = mono_ms();
	what = ui_key(&l->u, l->s, code, &cmd);
	if (what & UI_SEND)
		send_command(l, &cmd);
	if (what & UI_THEME)
		next_theme(l);
	if (what & UI_REPAINT)
		clearok(curscr, TRUE);
	if (what & UI_QUIT)
		l->quit = true;
	if (what & UI_REDRAW)
		l->dirty = true;
}

static void
read_keys(struct loop *l)
{
	int code, n = 0;

	while (!l->quit && (code = getch()) != ERR) {
		handle_key(l, code);
		n++;
	}
	l->idle_reads = n == 0 ? l->idle_reads + 1 : 0;
	if (l->idle_reads > 100)	/* readable but never a key: the terminal is gone */
		l->quit = true;
}

/* The time the header shows: the snapshot's, moved on by the real time
 * since it was taken, except when a watched controller is lost or
 * stopped: its clock stands where it stopped (moving it on between two
 * snapshots of the same time would show a second that then goes back). */
static int64_t
screen_now(const struct loop *l)
{
	if (l->s == NULL)
		return wall_ms();
	if (l->s->ctl == CTL_LOST || l->s->ctl == CTL_STOPPED)
		return l->s->now_ms;
	return l->s->now_ms + (mono_ms() - l->snap_mono);
}

static void
draw(struct loop *l)
{
	l->u.now_ms = screen_now(l);
	l->u.mono_ms = mono_ms();
	ui_sync(&l->u, l->s);
	l->u.event_page = render(stdscr, l->attrs, l->s, &l->u);
	wnoutrefresh(stdscr);
	doupdate();
	l->dirty = false;
}

/* Milliseconds until the next thing on screen changes by itself. */
static int
next_deadline(const struct loop *l)
{
	int64_t now = screen_now(l);
	int64_t wait = 1000 - now % 1000 + 5, expires;

	/* The status line's message goes when it expires. */
	if (ui_status_line(&l->u, l->s, &expires) != NULL && expires - mono_ms() + 5 < wait)
		wait = expires - mono_ms() + 5 > 0 ? expires - mono_ms() + 5 : 0;
	if (l->resize_at > 0) {
		int64_t d = l->resize_at - mono_ms();

		wait = d < wait ? (d > 0 ? d : 0) : wait;
	}
	return (int)wait;
}

static void
drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof buf) > 0)
		;
}

static void
loop_run(struct loop *l)
{
	struct pollfd pf[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = l->t->wake_rd, .events = POLLIN },
	};
	int64_t second = -1;

	take_snapshot(l);
	l->dirty = true;
	while (!l->quit && atomic_load(&l->t->signal) == 0) {
		int64_t now;
		int rc;

		if (l->dirty && l->resize_at == 0)
			draw(l);
		second = l->u.now_ms / 1000;
		rc = poll(pf, 2, next_deadline(l));
		if (rc < 0 && errno != EINTR)
			break;
		if (atomic_load(&l->t->signal) != 0)
			break;
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break;
		if (pf[1].revents & POLLIN) {
			drain(l->t->wake_rd);
			take_snapshot(l);
		}
		if ((pf[0].revents & POLLIN) || rc < 0)	/* EINTR: maybe SIGWINCH */
			read_keys(l);
		if (l->resize_at > 0 && mono_ms() >= l->resize_at) {
			l->resize_at = 0;
			l->dirty = true;
		}
		now = screen_now(l);
		if (now / 1000 != second)
			l->dirty = true;
	}
}

static bool
terminal_start(struct loop *l)
{
	const char *nc = getenv("NO_COLOR");

	l->screen = newterm(NULL, stdout, stdin);
	if (l->screen == NULL)
		return false;
	set_escdelay(25);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	l->color = has_colors() && (nc == NULL || nc[0] == '\0');
	if (l->color) {
		start_color();
		use_default_colors();
	}
	theme_attrs(&l->theme, l->color, l->attrs);
	return true;
}

int
tui_run_source(struct tui *t, const struct tui_source *src, void *ctx)
{
	struct loop *l = xcalloc(1, sizeof *l);
	const char *name = t->theme[0] ? t->theme : getenv("PERCH_THEME");
	char err[512];
	bool own_watch = false;
	int sig, status = 0;

	l->t = t;
	l->src = src;
	l->ctx = ctx;
	if (theme_load(name && name[0] ? name : "default", &l->theme, err, sizeof err) != 0) {
		sanitize_print(stderr, "perch", "%s", err);	/* it may quote a theme name */
		free(l);
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		sanitize_print(stderr, "perch", "the terminal front end needs a terminal on stdin and "
		    "stdout");
		free(l);
		return 3;
	}
	setlocale(LC_ALL, "");
	ui_init(&l->u, t->read_only, strcmp(nl_langinfo(CODESET), "UTF-8") == 0);
	snprintf(l->u.context, sizeof l->u.context, "%s", t->context);
	snprintf(l->u.saved_in, sizeof l->u.saved_in, "%s", t->saved_in);
	snprintf(l->u.released, sizeof l->u.released, "%s", t->released);
	snprintf(l->u.empty_hint, sizeof l->u.empty_hint, "%s", t->empty_hint);
	identity_get(l->u.actor, sizeof l->u.actor);
	if (!terminal_start(l)) {
		const char *term = getenv("TERM");

		sanitize_print(stderr, "perch", "cannot use the terminal (TERM=%s)", term ? term : "");
		free(l);
		return 3;
	}
	/* Whoever started util/sigwatch calls tui_interrupt from its hook;
	 * else the loop watches the signals itself. */
	if (!sigwatch_active() && sigwatch_start() == ST_OK) {
		own_watch = true;
		sigwatch_hook(on_signal, t);
	}
	loop_run(l);
	endwin();
	delscreen(l->screen);
	if (own_watch) {
		sigwatch_hook(NULL, NULL);
		sigwatch_stop();
	}
	if ((sig = atomic_load(&t->signal)) != 0) {
		log_info("ui: ended by signal %d", sig);
		status = sigwatch_exit_status(sig, status);
	}
	snapshot_unref(l->s);
	free(l);
	return status;
}
