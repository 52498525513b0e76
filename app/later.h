/*
 * later.h — calls made later: fn(arg) on a thread of its own once a delay
 * of real time has passed (app/cmd/run.c: a new Canary whose setup failed
 * on a passing API error is tried again with a backoff).
 *
 * Ownership and threads: later_new/later_free from one thread; later_at
 * from any thread.  fn runs on the later thread, one call at a time, in
 * the order of their deadlines, and must not call later_free.  Calls
 * still waiting at later_free are made with cancelled true at once (on
 * the caller's thread) so that they free arg.
 */
#ifndef PERCH_APP_LATER_H
#define PERCH_APP_LATER_H

#include <stdbool.h>
#include <stdint.h>

struct later;

typedef void later_fn(void *arg, bool cancelled);

/* NULL when the thread cannot start. */
struct later *later_new(void);
/* fn(arg, false) in delay_ms (NULL l: fn(arg, true) at once). */
void later_at(struct later *l, int64_t delay_ms, later_fn *fn, void *arg);
void later_free(struct later *l);

#endif
