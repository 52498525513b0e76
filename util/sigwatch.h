/*
 * sigwatch.h — SIGINT, SIGTERM and SIGHUP, received by one thread that
 * turns them into an orderly end.
 *
 * sigwatch_start() blocks the three signals in the calling thread, and so
 * in every thread it creates afterwards: call it before any other thread
 * starts (the first thing `perch run`, `perch demo` and `perch watch` do),
 * or a signal may be delivered to a thread that does not block it and end
 * the process on the spot.  A thread of its own then waits for them with
 * sigwait().  Each one received is counted and handed to the hook
 * (sigwatch_hook): the first asks the mode to end (the terminal front end
 * leaves its loop, a headless run stops waiting for the engine), a second
 * one asks it to hurry (notifications still queued are dropped).
 *
 * Child processes: the process groups registered with sigwatch_child_add
 * (exec credential plugins, which run in a group of their own) are sent
 * SIGTERM at the first signal and SIGKILL half a second later if they are
 * still registered, so that nothing perch started outlives it.
 *
 * sigwatch_exit_status() is the exit status of a process that a signal
 * ended: 128 + its number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
 *
 * Threads: start and stop from the main thread; the others from any
 * thread.  The hook runs on the watching thread (or, when a signal came
 * before it was set, on the thread that sets it) with no lock of perch
 * held, and never concurrently with sigwatch_hook: clearing the hook
 * (NULL) waits for a call in progress, so its argument may be freed
 * after.
 */
#ifndef PERCH_UTIL_SIGWATCH_H
#define PERCH_UTIL_SIGWATCH_H

#include <stdbool.h>
#include <sys/types.h>

typedef void sigwatch_fn(void *arg, int sig, int count);

/* ST_OK, ST_CONFLICT when it already runs, or ST_ERR (no thread). */
int  sigwatch_start(void);
/* Ends the thread and restores the caller's signal mask.  A signal still
 * pending is then delivered with its default action. */
void sigwatch_stop(void);
bool sigwatch_active(void);
/* Sets (or clears, fn NULL) the hook; when a signal came already, fn is
 * called at once with it. */
void sigwatch_hook(sigwatch_fn *fn, void *arg);
/* The first signal received, or 0. */
int  sigwatch_caught(void);
/* 128 + sig, or rc when sig is 0. */
int  sigwatch_exit_status(int sig, int rc);

/* A child's process group to end with perch (its leader's pid). */
void sigwatch_child_add(pid_t pgid);
void sigwatch_child_remove(pid_t pgid);

#endif
