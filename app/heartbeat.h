/*
 * heartbeat.h — the controller's heartbeat (engine/providers.h): a thread
 * of `perch run` and `perch demo` that writes, every `every_ms` of real
 * time, who controls (user@host pid N), its header context and its
 * backends' health into the state its watchers already read, and a last
 * time, saying it stopped, when it ends.  It beats only while the runner
 * controls a canary (runner_health): a perch left read-only by another
 * controller, or that lost its canaries to one, never writes over that
 * controller's heartbeat, and one that takes a canary back (an
 * interactive retake) beats from then on.  Where it goes is the target's
 * business: DIR/clock.json with the clock's mapping (app/clock_file.h), or
 * the cluster's perch.heartbeat ConfigMap (store/k8s.h).
 *
 * The health is read through runner_health, which takes the engine's lock:
 * an engine stuck with its lock held stops the beats, and its watchers see
 * the controller lost, as they do when it is killed or stopped.
 *
 * Threads: beat_start and beat_stop on the controlling thread; write() is
 * called on the heartbeat's own thread (and by beat_stop for the last
 * beat).  Ownership: the writer copies the strings; the target and the
 * runner must outlive it (beat_stop before runner_free).
 */
#ifndef PERCH_APP_HEARTBEAT_H
#define PERCH_APP_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "engine/runner.h"

#define BEAT_DIR_MS 1000	/* the state directory: a local file */
#define BEAT_K8S_MS 2000	/* the cluster: one ConfigMap write per namespace */

struct beat_target {
	/* Writes one beat (hb->age_ms is 0).  ST_OK or an error with err
	 * (ERRMSG_MAX bytes); a failure is logged once and retried at the next
	 * beat. */
	int (*write)(void *ctx, const struct heartbeat *hb, char *err);
	void *ctx;
};

/* The target of the state directory: DIR/clock.json, with the clock's
 * mapping at each beat (virtual time now at real time now, running speed
 * times as fast; 0 = max).  The caller owns it; dir and the clock outlive
 * the writer. */
struct beat_dir {
	const char *dir;
	const struct clock_ops *clock;
	void *clock_ctx;
	double speed;
};
int beat_dir_write(void *ctx, const struct heartbeat *hb, char *err);

struct beat_writer;

/* Writes a first beat now, then one every every_ms (<= 0: BEAT_DIR_MS)
 * until beat_stop, each while the runner controls a canary.  controller is "user@host pid N"; context the header's
 * ("DEMO", the kube context).  Never NULL: when its thread cannot start
 * (logged), the first and the last beat are still written. */
struct beat_writer *beat_start(struct runner *r, const struct beat_target *t,
    const char *controller, const char *context, int64_t every_ms);
/* Stops the thread and writes the last beat, saying the controller
 * stopped.  NULL is fine. */
void beat_stop(struct beat_writer *w);

#endif
