/*
 * startup.c — the screen while `perch run` starts (see startup.h): a
 * tui_source that makes snapshots of its own (no canary, the status line)
 * until the runner is handed over, then asks the runner.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/startup.h"
#include "engine/runner.h"
#include "tui/source.h"
#include "tui/tui.h"
#include "util/sanitize.h"
#include "util/systime.h"
#include "util/xalloc.h"

struct startup {
	pthread_mutex_t mu;
	struct tui *t;
	char context[96];
	char line[512];		/* the status line (mu) */
	bool failed, quit;	/* (mu) */
	bool taking;		/* the Leases are being taken (mu) */
	bool cancelled;		/* quit before it failed (mu) */
	void (*cancel)(void *);	/* at a quit before taking */
	void *cancel_arg;
	long quit_size;		/* of the stderr file at the quit */
	struct runner *r;	/* once ready (mu) */
	uint64_t version;	/* of the snapshots made here (mu) */
	FILE *err;		/* stderr meanwhile */
	int saved_fd;		/* the real stderr */
};

struct startup *
startup_new(struct tui *t, const char *context)
{
	struct startup *s = xcalloc(1, sizeof *s);

	pthread_mutex_init(&s->mu, NULL);
	s->t = t;
	snprintf(s->context, sizeof s->context, "%s", context ? context : "");
	s->saved_fd = -1;
	fflush(stderr);
	/* O_APPEND: what the start writes never lands where last_error reads */
	if ((s->err = tmpfile()) != NULL && (s->saved_fd = dup(STDERR_FILENO)) >= 0 &&
	    fcntl(fileno(s->err), F_SETFL, O_APPEND) == 0)
		dup2(fileno(s->err), STDERR_FILENO);
	return s;
}

static void
set_line(struct startup *s, bool failed, const char *text)
{
	pthread_mutex_lock(&s->mu);
	sanitize(s->line, sizeof s->line, text, strlen(text));
	s->failed = failed;
	s->version++;
	pthread_mutex_unlock(&s->mu);
	tui_notify(s->t);
}

void
startup_say(struct startup *s, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	set_line(s, false, text);
}

/* The last line of what the start wrote on stderr, "" when none. */
static void
last_error(struct startup *s, char *out, size_t sz)
{
	char line[512];

	out[0] = '\0';
	fflush(stderr);
	if (s->err == NULL || fseek(s->err, 0, SEEK_SET) != 0)
		return;
	while (fgets(line, sizeof line, s->err) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] != '\0')
			snprintf(out, sz, "%s", line);
	}
	fseek(s->err, 0, SEEK_END);
}

void
startup_set_cancel(struct startup *s, void (*fn)(void *), void *arg)
{
	s->cancel = fn;
	s->cancel_arg = arg;
}

bool
startup_take(struct startup *s, size_t n)
{
	bool go;

	pthread_mutex_lock(&s->mu);
	go = s->taking = !s->quit;
	pthread_mutex_unlock(&s->mu);
	if (go)
		startup_say(s, "taking %zu canar%s...", n, n == 1 ? "y" : "ies");
	return go;
}

bool
startup_fail(struct startup *s)
{
	char why[512], text[600];

	pthread_mutex_lock(&s->mu);
	s->cancelled = s->quit;
	pthread_mutex_unlock(&s->mu);
	if (s->cancelled)
		return false;
	last_error(s, why, sizeof why);
	snprintf(text, sizeof text, "%s; q quits", why[0] ? why : "perch could not start");
	set_line(s, true, text);
	return true;
}

void
startup_ready(struct startup *s, struct runner *r)
{
	pthread_mutex_lock(&s->mu);
	s->r = r;
	pthread_mutex_unlock(&s->mu);
	tui_notify(s->t);
}

bool
startup_quit(struct startup *s)
{
	bool q;

	pthread_mutex_lock(&s->mu);
	q = s->quit;
	pthread_mutex_unlock(&s->mu);
	return q;
}

static struct snapshot *
starting_snapshot(struct startup *s)
{
	struct snapshot *snap = snapshot_new();

	snap->version = UINT64_C(1) << 63 | s->version;	/* never one of the runner's */
	snap->now_ms = clock_realtime_ms();	/* the header's time: no engine clock yet */
	snap->context = xstrdup(s->context);
	snap->ns = xstrdup("");
	snap->api_ok = !s->failed;
	snap->metrics_ok = true;
	snap->startup = xstrdup(s->line);
	snap->startup_failed = s->failed;
	return snap;
}

static struct snapshot *
source_snapshot(void *ctx)
{
	struct startup *s = ctx;
	struct snapshot *snap;

	pthread_mutex_lock(&s->mu);
	snap = s->r != NULL ? runner_snapshot(s->r) : starting_snapshot(s);
	pthread_mutex_unlock(&s->mu);
	return snap;
}

/* Before the runner: no canary, so no key sends a command. */
static void
source_command(void *ctx, const struct command *cmd)
{
	struct startup *s = ctx;

	pthread_mutex_lock(&s->mu);
	if (s->r != NULL)
		runner_command(s->r, cmd);
	pthread_mutex_unlock(&s->mu);
}

int
startup_tui(struct startup *s, struct tui *t)
{
	static const struct tui_source source = {
		.snapshot = source_snapshot,
		.command = source_command,
	};
	int status = tui_run_source(t, &source, s);

	fflush(stderr);
	pthread_mutex_lock(&s->mu);
	s->quit = true;
	s->quit_size = s->err != NULL ? lseek(fileno(s->err), 0, SEEK_END) : 0;
	if (!s->taking && s->r == NULL && s->cancel != NULL)
		s->cancel(s->cancel_arg);
	pthread_mutex_unlock(&s->mu);
	return status;
}

void
startup_free(struct startup *s)
{
	char buf[4096];
	size_t n;
	long left = LONG_MAX;

	if (s == NULL)
		return;
	if (s->cancelled)
		left = s->quit_size;
	fflush(stderr);
	if (s->saved_fd >= 0) {
		dup2(s->saved_fd, STDERR_FILENO);
		close(s->saved_fd);
	}
	if (s->err != NULL) {
		rewind(s->err);
		while (left > 0 && (n = fread(buf, 1, sizeof buf, s->err)) > 0) {
			n = (long)n < left ? n : (size_t)left;
			fwrite(buf, 1, n, stderr);
			left -= (long)n;
		}
		fclose(s->err);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}
