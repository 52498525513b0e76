/*
 * tui.h — the ncurses front end: overview and detail screens, keymap,
 * themes, confirmations; `perch run`, `perch demo` and `perch watch` share it.
 *
 * Use (app/):
 *	t = tui_new(&cfg);
 *	runner_config.notify = tui_notify; runner_config.notify_arg = t;
 *	r = runner_new(&runner_config); runner_start(r, ...);
 *	status = tui_run(t, r);
 *	runner_stop(r); runner_free(r); tui_free(t);
 *
 * Threads: tui_new, tui_run and tui_free on the UI (main) thread, the only
 * thread that calls ncurses.  tui_notify may be called from any thread (the
 * runner calls it from its own after each published snapshot): it writes one
 * byte to a non-blocking wake pipe and never blocks.
 *
 * Ownership: tui_config strings are copied by tui_new.  The runner is
 * borrowed by tui_run; the caller stops and frees it afterwards.
 */
#ifndef PERCH_TUI_TUI_H
#define PERCH_TUI_TUI_H

#include <stdbool.h>

struct runner;
struct tui;

struct tui_config {
	const char *theme;	/* theme name or path; NULL = $PERCH_THEME or "default" */
	bool read_only;		/* `perch watch`: no code path sends a command */
	const char *context;	/* header text ("DEMO", the kube context); NULL = the snapshot's */
	/* Where the rollouts' state is kept when perch quits, for the quit
	 * dialog: "in /path" or "in the cluster"; NULL: nothing is saved. */
	const char *saved_in;
	/* What quitting gives back so that another perch takes the rollouts
	 * over, for the quit dialog: "Lease" (the cluster) or "lock" (a state
	 * directory); NULL: "control". */
	const char *released;
	/* What the overview says while there is no canary, in terms of the
	 * source (a state directory, a cluster namespace); NULL: "no canaries". */
	const char *empty_hint;
};

/* Creates the wake pipe and loads the theme (errors reported by tui_run).
 * NULL only when the pipe cannot be created. */
struct tui *tui_new(const struct tui_config *cfg);
/* The runner's notify callback: writes one byte to the wake pipe.  Any thread. */
void tui_notify(void *tui);
/* Ends the UI loop because of signal sig (a util/sigwatch hook calls it).
 * Any thread; never blocks. */
void tui_interrupt(struct tui *t, int sig);
/* Runs the UI loop on the calling thread until the user quits or a signal
 * (SIGINT, SIGTERM, SIGHUP) arrives; the terminal is restored before it
 * returns.  The signals come through util/sigwatch: when it does not run
 * yet, tui_run starts it for the loop (and stops it after); when it does,
 * its owner's hook calls tui_interrupt.  Returns an exit status: 0, 128 +
 * the signal that ended it, 2 for a broken theme file (the error naming
 * file:line:column goes to stderr), 3 when no terminal works. */
int  tui_run(struct tui *t, struct runner *r);
/* Closes the pipe, frees everything.  NULL is fine. */
void tui_free(struct tui *t);

#endif
