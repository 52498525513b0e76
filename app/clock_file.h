/*
 * clock_file.h — the controller's clock, shared through the state directory
 * so that `perch watch --state-dir DIR` shows the time of the perch it
 * follows (the demo runs on virtual time) and a restarted demo continues its
 * virtual time instead of starting over.
 *
 *   DIR/clock.json   {"format":1,"kind":"clock","virtualMs":V,"realMs":R,
 *                     "speed":S, "everyMs":E,"controller":"user@host pid N",
 *                     "context":"DEMO","stopped":false,"apiOk":true,
 *                     "metricsOk":true}
 *
 * meaning: virtual time was V ms since the epoch at the real instant R
 * (CLOCK_REALTIME, ms) and runs S times as fast as real time; "speed":"max"
 * (struct clock_map speed 0) says virtual time jumps from deadline to
 * deadline, and V is then the newest virtual time, rewritten as it moves.
 * The rest is the controller's heartbeat (engine/providers.h): it rewrites
 * the file every E ms of real time (so R is the time of its last beat),
 * naming itself, its header context and its backends' health, and a last
 * time with "stopped":true when it exits; a file without "everyMs" comes
 * from a perch that does not beat.  `perch demo` and `perch run
 * --state-dir` write it atomically (temp file, fsync, rename) through
 * app/heartbeat.h; a watcher only ever reads it.
 *
 * Threads: clock_file_save/load from any thread (no shared state).  The
 * follow clock's ops may be called from any thread (a mutex guards its
 * cached mapping); clock_follow_new/free on the controlling thread, free
 * after the runner has stopped.  Ownership: the follow clock copies dir.
 */
#ifndef PERCH_APP_CLOCK_FILE_H
#define PERCH_APP_CLOCK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"

#define CLOCK_FILE_NAME   "clock.json"
#define CLOCK_FILE_FORMAT 1

struct clock_map {
	int64_t virtual_ms;	/* virtual time at real_ms */
	int64_t real_ms;	/* CLOCK_REALTIME, ms since the epoch */
	double speed;		/* virtual ms per real ms; 0 = max */
};

/* The heartbeat fields of the file; the beat's time is the map's real_ms. */
struct clock_beat {
	bool has;		/* the file holds a heartbeat */
	int64_t every_ms;
	char controller[96];	/* sanitized when read */
	char context[96];
	bool stopped, api_ok, metrics_ok;
	bool metrics_degraded;	/* "metricsDegraded", absent (an older perch): false */
};

/* Writes DIR/clock.json atomically, with beat b (NULL: none).  ST_OK, or
 * ST_IO with err naming the file. */
int clock_file_save(const char *dir, const struct clock_map *m, const struct clock_beat *b,
    char *err, size_t errsz);
/* Reads DIR/clock.json (b may be NULL).  ST_OK, ST_NOTFOUND (no file), or
 * ST_CORRUPT with err naming the file and the field. */
int clock_file_load(const char *dir, struct clock_map *m, struct clock_beat *b, char *err,
    size_t errsz);
/* The same from the text of a clock.json (name is used in err). */
int clock_file_parse(const char *data, size_t len, const char *name, struct clock_map *m,
    struct clock_beat *b, char *err, size_t errsz);
/* The mapping's virtual time at the real instant real_ms (for speed max:
 * the saved virtual time). */
int64_t clock_map_at(const struct clock_map *m, int64_t real_ms);

/* A read-only clock that follows DIR/clock.json, re-reading it every
 * CLOCK_FOLLOW_RELOAD_MS of real time; real time while there is no (valid)
 * file.  Its time moves in steps, once per read (so a restarted
 * controller's new mapping is picked up, and an observer polling the state
 * every so many virtual ms polls at most once per read however fast the
 * demo runs); a wait lasts until the next read, the deadline passed, or
 * the signal.  Its time never runs backwards, but for a new controller
 * (another "controller" in the file): it follows a restarted controller at
 * once.  With a heartbeat it stops where the controller stopped (two beats
 * after its last one; at its last beat when it said it stopped): the time
 * of a lost controller does not run on. */
#define CLOCK_FOLLOW_RELOAD_MS 250

struct clock_follow;

struct clock_follow *clock_follow_new(const char *dir);
void clock_follow_free(struct clock_follow *f);

/* The ops; ctx is the struct clock_follow *. */
extern const struct clock_ops clock_follow_ops;
/* The heartbeat in the file as last read, for every canary of the
 * directory (canary is ignored); its age is measured on this process's
 * clock from when a beat was first seen, so it counts on while the
 * controller is silent.  ctx is the struct clock_follow *. */
extern const struct heartbeat_ops clock_follow_heartbeat_ops;

#endif
