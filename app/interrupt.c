/* interrupt.c — SIGINT, SIGTERM and SIGHUP for the long-running commands
 * (see interrupt.h). */
#include <signal.h>
#include <stdio.h>

#include "app/interrupt.h"
#include "engine/runner.h"
#include "tui/tui.h"
#include "util/log.h"
#include "util/sigwatch.h"
#include "util/status.h"

/* What the hook ends; main thread writes, the hook reads under
 * util/sigwatch's hook lock (interrupt_attach/detach go through it). */
static struct target {
	struct runner *r;
	struct tui *t;
} target;

static const char *
sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" :
	    "a signal";
}

static void
on_signal(void *arg, int sig, int count)
{
	struct target *tg = arg;

	if (count == 1) {
		log_info("%s received: ending", sig_name(sig));
		if (tg->t != NULL)
			tui_interrupt(tg->t, sig);
		if (tg->r != NULL)
			runner_cancel_wait(tg->r);
		return;
	}
	log_warn("%s received again: dropping the notifications still queued", sig_name(sig));
	if (tg->r != NULL)
		runner_drop_notes(tg->r);
}

void
interrupt_begin(void)
{
	if (sigwatch_start() != ST_OK)
		log_warn("cannot watch for signals: SIGINT and SIGTERM end perch at once");
}

void
interrupt_attach(struct runner *r, struct tui *t)
{
	sigwatch_hook(NULL, NULL);	/* no call in progress while it changes */
	target.r = r;
	target.t = t;
	sigwatch_hook(on_signal, &target);
}

void
interrupt_detach(void)
{
	sigwatch_hook(NULL, NULL);
	target.r = NULL;
	target.t = NULL;
}

int
interrupt_signal(void)
{
	return sigwatch_caught();
}

int
interrupt_end(const char *cmd, int rc)
{
	int sig = sigwatch_caught();

	interrupt_detach();
	sigwatch_stop();
	if (sig == 0)
		return rc;
	fprintf(stderr, "perch %s: stopped by %s\n", cmd, sig_name(sig));
	return sigwatch_exit_status(sig, rc);
}
