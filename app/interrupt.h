/*
 * interrupt.h — how `perch run`, `perch demo` and `perch watch` end on
 * SIGINT, SIGTERM and SIGHUP (Ctrl-C, a CI job cancelled, an SSH login
 * dropped): in every mode the same way.
 *
 *	interrupt_begin();		first thing, before any thread starts
 *	...
 *	interrupt_attach(r, t);		once the runner (and the UI) exist
 *	rc = tui_run(t, r) / runner_wait(r);	returns at the signal
 *	interrupt_detach();
 *	runner_stop(r);			the tick finished or abandoned, queued
 *					notifications sent, saved, released
 *	return interrupt_end("run", rc);	128 + the signal when one came
 *
 * The first signal ends the wait: the UI's loop (tui_interrupt) or a
 * headless run's runner_wait (runner_cancel_wait).  A second one drops the
 * notifications still queued (runner_drop_notes), so that perch does not
 * wait for every slow receiver.  Exec credential plugins still running
 * are ended with their process group (util/sigwatch.h).
 *
 * Main thread only (the hook runs on util/sigwatch's thread).
 */
#ifndef PERCH_APP_INTERRUPT_H
#define PERCH_APP_INTERRUPT_H

struct runner;
struct tui;

/* Starts util/sigwatch. */
void interrupt_begin(void);
/* The runner and the UI (either may be NULL) the signals end. */
void interrupt_attach(struct runner *r, struct tui *t);
/* Before the runner or the UI is freed. */
void interrupt_detach(void);
/* The signal received so far, or 0. */
int  interrupt_signal(void);
/* Stops util/sigwatch; with a signal received, says so on stderr (naming
 * the command) and returns 128 + its number, else rc. */
int  interrupt_end(const char *cmd, int rc);

#endif
