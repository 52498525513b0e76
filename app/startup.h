/*
 * startup.h — the screen while `perch run` starts: the TUI comes up at
 * once and a thread of the caller's connects, loads the canaries and takes
 * their Leases behind it.  Until the runner is handed over the overview
 * shows no canary and the status line says what is being done
 * ("connecting to URL (context X)…", "taking N canaries…"), or why the
 * start failed; keys work meanwhile (q quits, ? helps).  Then the runner's
 * snapshots and commands take over.
 *
 * What the start writes on stderr meanwhile (errors, diagnostics) goes to
 * a file instead of the screen ncurses draws: the last line of a failure
 * is shown on the status line, and startup_free writes it all back on
 * stderr once the screen is restored.
 *
 * Threads: startup_new, startup_tui and startup_free on the UI (main)
 * thread; startup_say, startup_take, startup_fail, startup_ready and
 * startup_quit from any thread.  Ownership: the runner handed over stays the caller's.
 */
#ifndef PERCH_APP_STARTUP_H
#define PERCH_APP_STARTUP_H

#include <stdbool.h>
#include <stddef.h>

struct runner;
struct tui;
struct startup;

/* context: the header's kube context (copied); t: the UI woken on each
 * change (borrowed).  Redirects stderr until startup_free. */
struct startup *startup_new(struct tui *t, const char *context);
/* The status line while starting. */
void startup_say(struct startup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Called (on the UI thread) when the user quits before the start takes
 * anything: fn(arg) gives its requests up. */
void startup_set_cancel(struct startup *s, void (*fn)(void *), void *arg);
/* Before the Leases are taken: says "taking N canaries..." and returns
 * true, or false when the user has quit (then take nothing).  From then
 * on a quit waits for the start and the stop releases what it took. */
bool startup_take(struct startup *s, size_t n);
/* The start failed: the status line shows the last line written on stderr
 * (or "perch could not start"), with the way out.  False when the user
 * had quit before (the failure is the cancel; what the start wrote after
 * the quit is then not written back). */
bool startup_fail(struct startup *s);
/* The runner runs: the screen is its own from now on. */
void startup_ready(struct startup *s, struct runner *r);
/* True once the UI has quit: the start should stop at its next step. */
bool startup_quit(struct startup *s);
/* Runs the UI loop (tui_run's status); marks the start as quit after. */
int  startup_tui(struct startup *s, struct tui *t);
/* Gives stderr back and writes on it what the start wrote; NULL is fine. */
void startup_free(struct startup *s);

#endif
