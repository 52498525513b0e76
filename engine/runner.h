/*
 * runner.h — the engine thread: owns every canary, runs each tick at its
 * deadline, executes the actions the state machine asks for through the
 * provider interfaces, saves status, publishes snapshots.
 *
 * Threads: runner_new/add/start/stop/free from one controlling thread (the
 * UI or main thread); runner_command and runner_snapshot from any thread;
 * runner_replace and runner_adopt from tasks given to runner_post.
 * The runner owns a second thread, the notifier, that sends cluster events,
 * event webhooks, post-rollout hooks and alerts in order, so a hung receiver
 * never delays a tick or a command (providers.h says which ops it calls);
 * both threads are joined by runner_stop.  It also owns a small pool of
 * take workers (engine/runner_pool.c) that run the store's acquire, load
 * and save_spec of several canaries at once when canaries held elsewhere
 * are tried again, while the engine thread waits for them; they are joined
 * by runner_free.
 * The runner calls notify() from its own thread after each publish (the UI
 * writes one byte to its wake pipe there) and sink() for each event and
 * check result (headless JSON lines).  No lock of the runner is held during
 * either callback, so they may call runner_command or runner_snapshot.
 *
 * Snapshots are built on demand: runner_snapshot returns the last one when
 * nothing changed since and the clock moved less than a second, else builds
 * a new one.  notify() is coalesced: after
 * a change it is called once, and not again until runner_snapshot has been
 * called (so a busy engine never floods the UI's pipe).  History in a
 * snapshot: the last 120 values per metric and 200 events per canary (fewer,
 * down to 16, with thousands of canaries).
 *
 * Durability (runner.c has the details): each status is saved before the
 * actions it implies run; a restart re-applies routes and scale and never
 * repeats a step or a promotion.
 */
#ifndef PERCH_ENGINE_RUNNER_H
#define PERCH_ENGINE_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/providers.h"
#include "engine/snapshot.h"

struct runner;

struct runner_config {
	const struct cluster_ops *cluster;  void *cluster_ctx;
	const struct metrics_ops *metrics;  void *metrics_ctx;
	const struct webhook_ops *webhook;  void *webhook_ctx;	/* may be NULL */
	const struct store_ops   *store;    void *store_ctx;	/* may be NULL: nothing saved */
	const struct clock_ops   *clock;    void *clock_ctx;

	const char *actor;		/* "user@host" for control and commands */
	const char *context;		/* header text: "DEMO" or the kube context */
	const char *ns;			/* header namespace, may be NULL */
	bool observer;			/* watch mode: read the store, never write */
	unsigned confirm;		/* `--confirm`: CONFIRM_* gates for every canary */
	/* Headless runs end when every canary is terminal and every queued
	 * notification is sent; interactive runs go on until stopped. */
	bool stop_when_done;

	/* Called on the runner thread after each published snapshot. */
	void (*notify)(void *arg);
	void *notify_arg;
	/* Called on the runner thread for each event and check result. */
	void (*sink)(void *arg, const struct journal_rec *rec);
	void *sink_arg;

	/* Randomness for the ticks (session affinity cookies): each tick gets
	 * a value derived from this seed, the canary and its status sequence.
	 * `perch run` seeds it from /dev/urandom; tests fix it. */
	uint64_t seed;

	/* Observer mode: where the controllers' heartbeats are found (NULL:
	 * not known).  Each observation reads the heartbeat of every canary's
	 * controller; the snapshot says whether they are alive (ctl). */
	const struct heartbeat_ops *heartbeat;  void *heartbeat_ctx;

	/* Alerts (reference §6) to each canary's analysis.alerts entries; may
	 * be NULL: none are sent (the demo).  Sent like event webhooks, one
	 * call at a time on the notifier thread; a failure is logged and
	 * recorded as a Warning event, never more. */
	const struct alert_ops *alert;  void *alert_ctx;

	/* Fair share among replicas (`perch controller`); NULL: no limit.
	 * share(arg, n) answers how many of the n canaries this runner may
	 * control now (for example ceil(n / live replicas)).  A canary beyond
	 * it is shown read-only and tried again every RETAKE_MS, as one held by
	 * another controller; at each renewal round a runner holding more than
	 * its share saves and releases the excess, so that the other replicas
	 * take them.  Called on the engine thread; must not block long. */
	size_t (*share)(void *arg, size_t n_canaries);
	void *share_arg;

	/* Called on the engine thread after each tick of a canary ("ns/name")
	 * with its duration on the engine's clock (the /metrics histogram);
	 * may be NULL. */
	void (*on_tick)(void *arg, const char *canary, int64_t ms);
	void *tick_arg;

	/* The default metric backend has no server (perch run or watch
	 * without --prometheus): why, in one calm line, or NULL when it has
	 * one.  The metrics of a canary another controller drives that would
	 * query it are then not evaluated (they would only be errors: the
	 * judging is the other controller's), and its snapshot's metrics_note
	 * says this line instead.  perch's own canaries are not affected. */
	const char *metrics_off;
};

struct command {
	enum command_kind kind;
	char canary[128];		/* "ns/name" */
	char actor[96];			/* who: "user@host" */
};

/* The runner copies what it needs of cfg. */
struct runner *runner_new(const struct runner_config *cfg);
/* Takes ownership of c.  Before runner_start. */
void runner_add(struct runner *r, struct canary_cfg *c);
/* Starts the engine thread.  ST_OK, or an error (err says which canary and
 * why).  A corrupt saved status refuses control of that canary only (its
 * snapshot reason and the log name the file; it stays read-only and counts
 * as infrastructure in runner_outcome) unless every canary is corrupt, e.g.
 * the only one: then ST_CORRUPT and nothing starts. */
int  runner_start(struct runner *r, char *err, size_t errsz);
/* Queues a command and wakes the engine.  The answer (done, or refused
 * with its reason) appears as the snapshot's status_msg and as an event. */
void runner_command(struct runner *r, const struct command *cmd);
/* Something a canary waits for may have changed (a watch saw its target
 * Deployment change): an idle canary (Initialized, Succeeded or Failed,
 * waiting for a new revision) ticks now instead of at its next interval;
 * the others keep their schedule, so an analysis step never runs early.
 * The tick is an ordinary one: a new revision is still detected at a tick,
 * only sooner.  canary is "ns/name"; unknown names are ignored.  Any
 * thread; before runner_start and after the engine ended it does nothing. */
void runner_wake(struct runner *r, const char *canary);
/* Runs fn(r, arg) on the engine thread, between ticks, soon (tasks run in
 * the order posted).  Any thread.  When the engine is not running, or stops
 * before the task ran, fn is called with r NULL (on the caller's thread, or
 * in runner_free) so that it can free arg. */
void runner_post(struct runner *r, void (*fn)(struct runner *r, void *arg), void *arg);
/* From a posted task only (the engine thread): the canary "ns/name" gets a
 * new configuration cfg (owned), used from its next tick on (its schedule
 * stays; metric and hook history start over; the spec is saved for
 * watchers; notifications still queued for the old configuration, and the
 * answers of those being sent, are dropped).  cfg NULL: the canary's
 * object is gone: it is held where it is, its control released, it no
 * longer ticks and no longer counts in runner_outcome.  A canary let go
 * that way and given a cfg again (its object was created again) is taken
 * back as runner_adopt takes a new one: its lease and saved status, its
 * event history kept.  A canary another controller drives (driven_by, also
 * in cfg) takes cfg for what is shown of it and its keys (webhooks, gates,
 * metrics); nothing is saved; cfg NULL: it is no longer shown (snapshots
 * leave it out) until a cfg brings it back; both also in observer mode.
 * ST_OK, or ST_NOTFOUND when the canary is
 * unknown or not controlled by this runner (cfg is freed), or the error of
 * taking it back. */
int  runner_replace(struct runner *r, const char *key, struct canary_cfg *cfg);
/* From a posted task only (the engine thread), in observer mode (perch
 * watch): perch's own canary "ns/name", held by another controller, had
 * its Canary object deleted (gone: snapshots leave it out, its state is no
 * longer read, the log and the status line say so) or created again (shown
 * again).  ST_OK, or ST_NOTFOUND when the canary is unknown, another
 * controller's Flagger canary (runner_replace) or the runner no observer. */
int  runner_observed_gone(struct runner *r, const char *key, bool gone);
/* From a posted task only (the engine thread): the canary "ns/name"'s
 * object is being deleted; finalizer: it still holds perch's finalizer
 * (k8s/finalize.h).  What is done is machine_on_deletion's decision: with
 * spec.revertOnDeletion the target is scaled up and, once it is ready, the
 * cluster's finalize gives the routes back and removes the finalizer; then
 * the canary is let go as runner_replace(NULL) lets it go.  Until then it
 * no longer ticks: a target not ready or a failed finalize is tried again
 * at a deadline of its own (machine_finalize_backoff), shown terminating
 * with the reason, until it is done or runner_replace(NULL) says the
 * object is gone (a second call changes nothing).  ST_OK, or ST_NOTFOUND when the canary
 * is unknown, already let go or not controlled by this runner (one held
 * elsewhere that this runner takes over later is deleted then). */
int  runner_delete(struct runner *r, const char *key, bool finalizer);
/* From a posted task only (the engine thread): a canary whose object was
 * created while the runner runs joins it (cfg owned), set up as
 * runner_start sets up each canary: its saved status loaded, its control
 * taken (held by another controller: shown read-only naming the holder, as
 * at start; a corrupt saved status: shown with the reason, never acted
 * on), its first tick scheduled; from then on it is woken by runner_wake,
 * shown in snapshots (their canary count grows) and counted by
 * runner_outcome.  ST_OK; ST_LOCKED is not returned (held elsewhere is
 * ST_OK, read-only); ST_CORRUPT (added, refused); ST_CONFLICT when the key
 * is known already, ST_REFUSED in observer mode (unless another
 * controller drives cfg: then it is shown, as at start), or the store's
 * error when control cannot be taken (logged): cfg is freed and nothing is
 * added. */
int  runner_adopt(struct runner *r, struct canary_cfg *cfg);
/* What the controller's heartbeat says: the health of the backends as the
 * engine last saw them, and whether this runner controls a canary now (or
 * did until runner_stop gave it back): a run that is read-only, or lost
 * its canaries to another controller, must not beat over that one's
 * heartbeat; one that takes a canary back (an interactive retake) beats
 * from then on. */
struct runner_health {
	bool api_ok, metrics_ok;
	bool metrics_degraded;		/* some queries got no answer */
	bool controls;
};
/* Takes the engine's lock briefly: a heartbeat that calls it stops when
 * the engine is stuck.  Any thread. */
void runner_health(struct runner *r, struct runner_health *h);
/* The latest snapshot, with a reference for the caller. */
struct snapshot *runner_snapshot(struct runner *r);
/* Blocks until stop_when_done finds every canary terminal, runner_stop,
 * or runner_cancel_wait. */
void runner_wait(struct runner *r);
/* Whether runner_wait would return at once (the engine has ended).  Any
 * thread. */
bool runner_done(struct runner *r);
/* Makes runner_wait return now, and from now on (a signal asked perch to
 * end: the caller then calls runner_stop).  Any thread. */
void runner_cancel_wait(struct runner *r);
/* Drops the notifications still queued (a second signal: perch must end
 * now, not after every queued call); the one being sent finishes within
 * its timeout.  The count is logged.  Any thread. */
void runner_drop_notes(struct runner *r);
/* Holds every canary where it is (a tick waiting on a slow call is
 * abandoned at the next call, as a crash would leave it: nothing of it was
 * saved), sends the notifications still queued (each bounded by its
 * timeout), saves, releases control, joins the threads. */
void runner_stop(struct runner *r);
void runner_free(struct runner *r);

/* Outcome for the exit status: EXIT 0 all Succeeded (or initialized with
 * nothing to roll out), 1 any Failed, 3 an infrastructure error stopped a
 * canary (corrupt state, control held elsewhere, stopped before the end).
 * With stop_when_done a canary is done when it is Succeeded or Failed, or
 * Initialized and a later tick found no new revision. */
int  runner_outcome(struct runner *r);

#endif
