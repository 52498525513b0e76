/*
 * runner_int.h — what the files of the engine thread share (runner.c and
 * runner_*.c); not for other modules: use runner.h.
 *
 * The engine thread's concerns, one file each, each calling only those
 * below it (make lint checks that no file calls back up):
 *
 *   runner.c          the API, the thread and its loop (a table of event
 *                     sources), start and stop
 *   runner_snap.c     snapshots
 *   runner_command.c  manual commands, runner_wake, runner_post
 *   runner_observe.c  observing the store; the controllers' heartbeats
 *   runner_tick.c     one tick: gather, machine_tick, apply; suspend
 *   runner_control.c  control and leases; canaries replaced or adopted
 *   runner_apply.c    save first, then publish and act (crash safety)
 *   runner_gather.c   observations through the cluster, metrics and
 *                     webhook ops
 *   runner_journal.c  events and check results: history, journal, sink,
 *                     notifications; the notifier's answers
 *   runner_notify.c   the notifier thread and its queue
 *   runner_sched.c    the deadline heap
 *   runner_core.c     the clock, the canary table, the status line
 *   runner_hist.c     the history rings
 *   runner_pool.c     the worker threads that run a batch of takes' I/O
 *
 * Locking: `mu` protects the command queue, the published snapshot, every
 * field of a canary the snapshot reads, and the notifier's queue and
 * results.  Only the runner thread changes canaries, and no thread calls a
 * provider while holding `mu`.  Nothing here reads the clock but through
 * clock_ops, sleeps or does I/O but through the ops (DESIGN.md §1).
 */
#ifndef PERCH_ENGINE_RUNNER_INT_H
#define PERCH_ENGINE_RUNNER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/command.h"
#include "engine/machine.h"
#include "engine/runner.h"

/* History depth per canary: the last HIST_POINTS values of each metric and
 * the last HIST_EVENTS events, shrinking (to HIST_MIN) when there are so
 * many canaries that the whole would pass HIST_BUDGET entries: 10,000
 * canaries must fit in a few tens of megabytes. */
#define HIST_POINTS 120
#define HIST_EVENTS 200
#define HIST_MIN    16
#define HIST_BUDGET 20000
#define OBSERVE_MS  250
#define RENEW_MS    10000
#define RETAKE_MS   2000	/* an interactive run tries a held canary again */
#define REQUEST_POLL_MS 1000	/* requests to and answers from a holder are read */
#define REQUEST_WAIT_MS (2 * RENEW_MS)	/* a request unanswered this long is given up */
#define NOTE_MAX    4096
#define POOL_WORKERS 7		/* take workers, besides the engine thread */
#define NO_HEAP     ((size_t)-1)

struct rpoint {
	int64_t t_ms;
	float value;
	unsigned char result;
};

struct rring_pts {
	struct rpoint *p;
	size_t n, head, cap;
};

struct revent {
	int64_t t_ms;
	enum severity sev;
	char *msg;
	char *actor;		/* NULL unless a command */
};

struct rhook {
	enum check_result last;
	char msg[96];
};

/* One canary, as the engine keeps it.  Its parts by concern; a snapshot
 * (any thread, under mu) reads every part but `run`, which the runner
 * thread alone reads and changes without the lock.  Each part starts on
 * an 8-byte boundary (it holds a pointer or a 64-bit field, or is aligned
 * so), so a read of a lock-protected flag, which the compiler may widen to
 * the word around it, never spans a flag of `run`. */
struct rcan {
	struct canary_cfg *cfg;
	char key[128];			/* "ns/name" */
	struct canary_status st;
	struct rcan_sched {		/* its place in the deadlines (mu) */
		int64_t due;
		size_t heap;		/* index in the heap, NO_HEAP */
		bool wake;		/* runner_wake asked for an early tick */
	} sched;
	struct rcan_ctl {		/* who controls it (mu) */
		bool control;		/* we hold its lock (or there is no store):
					 * set only once acquire and load succeeded;
					 * nothing is written for it otherwise */
		bool let_go;		/* controlled until runner_stop released it */
		bool readonly;		/* held elsewhere, or observer */
		bool corrupt;
		bool refused;		/* its configuration cannot be driven (err
					 * says why): shown, never acted on */
		bool removed;		/* runner_replace(NULL): its object is gone */
		bool deleting;		/* runner_delete while held elsewhere: done
					 * once taken (deleting_fin: the finalizer) */
		bool deleting_fin;
		bool terminating;	/* its object is deleted and its
					 * finalisation not done yet: tried
					 * again at its deadline, err says why
					 * it is not done (rn_finalize_try) */
		char holder[96];
		char err[ERRMSG_MAX];
		uint64_t gen;		/* configuration generation: runner_replace
					 * bumps it; notes of an older one are dropped */
	} ctl;
	struct rcan_seen {		/* what was last observed, for facts (mu) */
		/* The readiness of the primary and the canary, forgotten when
		 * the phase or the revision changes. */
		struct readiness ready[2];
		bool ready_known[2];
		struct heartbeat hb;	/* observer: its controller's heartbeat ... */
		bool has_hb;		/* ... when one is known */
	} seen;
	struct rcan_hist {		/* history for the screens (mu) */
		struct rring_pts *pts;	/* cfg->n_metrics rings */
		struct rhook *hooks;	/* cfg->n_hooks */
		struct revent *ev;	/* ring of max_ev, allocated as it grows */
		size_t ev_n, ev_head, ev_cap;
		unsigned short max_ev, max_pts;	/* history depth */
		struct compare_result compare;	/* the last comparison with the primary */
	} hist;
	_Alignas(8) struct rcan_run {	/* the runner thread's own (no lock) */
		char rev_image[96];	/* the target's image as last seen, for
					 * the status's names ... */
		char rev_id[72];	/* ... of this revision id */
		bool journal_failing;	/* its last journal append failed */
		bool store_failed;	/* a save or an append failed: exit 3 */
		bool unsupported;	/* this tick: the cluster cannot drive it */
		bool ticked;		/* ticked at least once since start */
		bool idle_checked;	/* an idle tick found no new revision */
		bool reconcile;		/* re-apply routes and scale first */
		bool suspended;
		unsigned long journal_lost;	/* records not written since then */
		uint64_t journal_mark;	/* observer: what the last tail looked like */
		int64_t ext_since;	/* driven by another controller: the run its
					 * graphs show (its phase's start) ... */
		int64_t ext_next;	/* ... and when its metrics are next evaluated */
		int64_t retake_at;	/* held elsewhere: when to try to take it */
		enum deletion deletion;	/* terminating: revert or release */
		int fin_tries;		/* terminating: tries that did not finish */
		struct obs *resume;	/* a suspended tick's observations (reused) */
		int64_t resume_at;	/* its clock */
		struct rreq {		/* held elsewhere: our request to its holder */
			bool waiting;
			uint64_t seq;
			enum command_kind kind;
			char holder[96];
		} req;
	} run;
};

/* A notification waiting to be sent: a cluster event (hook < 0), one
 * event webhook call, one post-rollout hook call, or one alert to one
 * analysis.alerts entry (alert >= 0).  The runner queues them; the notifier
 * thread sends them in order, so a slow receiver never holds up a tick or
 * a command.  The notifier reads the note, the configuration it was queued
 * for (cfg: runner_replace keeps it alive while a note of it is being sent,
 * rn_retire_cfg); it reads c->ctl.gen under mu and drops a note of an older
 * configuration. */
struct note {
	struct rcan *c;
	const struct canary_cfg *cfg;
	uint64_t gen;			/* c->ctl.gen when queued */
	int hook;
	int alert;			/* index in cfg->alerts, or -1 */
	bool meta;			/* an alert with the metadata fields */
	enum alert_severity asev;
	bool post;			/* a post-rollout hook: its answer is an event */
	uint64_t batch;			/* post-rollout hooks called together */
	enum severity sev;
	enum phase phase;
	int64_t t;
	char checksum[72];
	char msg[MACH_MSG_MAX];
};

/* What the notifier hands back to the runner thread, which alone changes
 * canaries and publishes events: a post-rollout hook's answer (post), or
 * the Warning of an alert that was not sent (msg). */
struct nres {
	struct rcan *c;
	uint64_t gen;			/* the note's: an older one is dropped */
	bool post;
	int hook;
	int64_t t;
	struct hook_result res;
	char msg[MACH_MSG_MAX];
};

struct hent {
	int64_t due;
	struct rcan *c;
};

struct runner;

/* One job of a batch (runner_pool.c): jobs[i] of the caller's array. */
typedef void (*rn_job_fn)(struct runner *r, void *jobs, size_t i);

/* The take workers (runner_pool.c), under their own mu: the batch being
 * run, the next job to start and how many are not done.  started, th and
 * n_th are the engine thread's (and runner_free's, once it is joined). */
struct rpool {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* a batch, or stop */
	pthread_cond_t done;		/* its last job is done */
	pthread_t th[POOL_WORKERS];
	size_t n_th;
	bool started, stop;
	rn_job_fn fn;
	void *jobs;
	size_t n, next, left;
};

struct runner {
	struct runner_config cfg;
	char *actor, *context, *ns;	/* owned copies cfg points to */
	pthread_mutex_t mu;
	pthread_cond_t cond;		/* commands and stop wake the engine */

	struct rtable {			/* the canaries (changed under mu) */
		struct rcan **cs;
		size_t n, cap;
		struct rcan **index;	/* open addressing by key, 2 * cap slots */
		size_t index_cap;
	} tab;
	struct rsched {			/* their deadlines (runner thread; under mu) */
		struct hent *heap;
		size_t hn;
		bool wake_pending;	/* some canary's wake is set */
	} sched;
	struct rlife {			/* the engine thread (mu) */
		pthread_t thread;
		bool started;
		pthread_cond_t done_cond;	/* runner_wait */
		bool stopping, finished;
		bool wait_cancelled;	/* runner_cancel_wait */
	} life;
	struct rinbox {			/* what other threads hand in (mu) */
		struct command *q;
		size_t qn, qcap;
		struct task {		/* runner_post, run in order */
			void (*fn)(struct runner *r, void *arg);
			void *arg;
		} *tasks;
		size_t n_tasks, cap_tasks;
	} inbox;
	struct rpub {			/* what is published (mu) */
		struct snapshot *snap;	/* the last one built, or NULL */
		uint64_t version, snap_version;
		bool notify_pending;
		uint64_t notified_version;
		char status_msg[512];
		char status_canary[128];	/* the canary it is about, "" */
		uint64_t status_seq;
		int64_t now;		/* the clock at the last loop, for snapshots */
	} pub;
	struct rhealth {		/* the backends, and an observer's controllers
					 * (written under mu by the runner thread) */
		bool api_ok, metrics_ok;
		bool api_degraded;	/* the API answers, but requests had to be
					 * repeated lately */
		bool metrics_degraded;	/* some queries of the last batch got no answer */
		enum ctl_state ctl;	/* observer: the controllers' liveness */
		int64_t ctl_silent_ms;
		char ctl_context[96];	/* observer: a controller's header context */
	} health;
	struct rwatch {			/* observing the store (runner thread, mu) */
		bool observing;		/* observer, or some canary is held elsewhere */
		bool observe_due;	/* observer: a clock wait returned */
		int64_t next_observe;
		int64_t next_renew;	/* when the leases are renewed next */
		int64_t next_request;	/* when requests are read next */
		struct journal_rec *tail;	/* HIST_EVENTS records, for refresh() */
	} watch;
	struct rtick {			/* runner thread only: scratch space reused
					 * by every tick */
		struct obs obs;
		struct tick_out out;
		struct tick_out post;	/* post-rollout hook events */
		struct hook_call *calls;
		struct hook_result *results;
		size_t cap_calls;
		struct metric_query *mq;
		struct metric_value *mv;
		size_t cap_mq;
		struct journal_rec rec;
		uint64_t post_batch;
	} tick;
	/* The notifier thread (started and joined by the engine thread; not
	 * in observer mode).  Under mu: the ring of pending notifications,
	 * whether one is being sent (busy), the stop flag and the results
	 * for the runner.  nt.cond wakes the notifier; it wakes the runner
	 * through cond. */
	struct rnotifier {
		pthread_t thread;
		bool running;
		pthread_cond_t cond;
		bool stop, busy;
		bool drop;		/* runner_drop_notes */
		struct note *notes;
		size_t head, n, cap;
		uint64_t dropped;
		struct nres *res;
		size_t res_n, res_cap;
		const struct canary_cfg *sending;	/* the cfg of the note being sent */
		struct canary_cfg **retired;	/* replaced while being sent: the
						 * notifier frees them after the call */
		size_t n_retired;
	} nt;
	struct rpool pool;
};

/* ---- runner_pool.c: the take workers.  rn_pool_run (runner thread, no
 * lock held) runs fn(r, jobs, i) for every i < n, on the workers and on
 * the calling thread, and returns once all are done; rn_pool_stop joins
 * the workers (runner_free). */
void rn_pool_run(struct runner *r, size_t n, rn_job_fn fn, void *jobs);
void rn_pool_stop(struct runner *r);

/* ---- runner_hist.c: the history rings (caller holds mu) */
void rn_hist_point(struct rcan *c, size_t m, int64_t t, const struct mach_check *ch);
void rn_hist_event(struct rcan *c, int64_t t, enum severity sev, const char *msg,
    const char *actor, bool is_clean);
void rn_hist_clear(struct rcan *c);
void rn_hist_depth(struct rcan *c, size_t n);
void rn_hist_from_journal(struct rcan *c, const struct journal_rec *recs, size_t n);
/* Only the events of c's history, from REC_EVENT records. */
void rn_hist_events_from(struct rcan *c, const struct journal_rec *recs, size_t n);

/* ---- runner_external.c: the metric graphs of a canary another
 * controller drives (evaluated and shown, never written).  Runner
 * thread, mu not held. */
void rn_external_metrics(struct runner *r, struct rcan *c, int64_t now);
/* Whether metric m of a driven canary is left out: it would query the
 * default backend, which has no server (runner_config.metrics_off). */
bool rn_metric_off(const struct runner *r, const struct metric_cfg *m);
/* Whether the driven canary cfg has a metric left out (rn_metric_off). */
bool rn_metrics_off(const struct runner *r, const struct canary_cfg *cfg);

/* ---- runner_core.c: clock, table, canaries, status line, health */
int64_t rn_now_ms(struct runner *r);
int rn_interval_ms(const struct canary_cfg *c);
void rn_clean(char *dst, size_t dstsz, const char *src);
struct rcan *rn_find(struct runner *r, const char *key);
void rn_set_status_msg(struct runner *r, const char *key, const char *msg);
void rn_set_health(struct runner *r, bool *field, bool ok);
uint64_t rn_tick_entropy(const struct runner *r, const struct rcan *c);
void rn_canary_arrays(struct rcan *c, const struct canary_cfg *cfg);
struct rcan *rn_canary_new(struct canary_cfg *cfg, const char *key);
void rn_canary_free(struct rcan *c);
void rn_add_canary(struct runner *r, struct rcan *c);
struct canary_cfg *rn_stub_cfg(const char *key);

/* ---- runner_sched.c: the deadline heap */
void rn_heap_remove(struct runner *r, struct rcan *c);
void rn_schedule(struct runner *r, struct rcan *c, int64_t due);
void rn_first_tick(struct runner *r, struct rcan *c, int64_t now);
void rn_wake_idle(struct runner *r, int64_t now);
bool rn_others_waiting(struct runner *r, const struct rcan *c, int64_t now);

/* ---- runner_notify.c: the notifier thread and its queue */
void rn_note_init(struct note *n, struct rcan *c, int hook, enum phase phase, int64_t t);
void rn_note_queue(struct runner *r, const struct note *n);
void rn_note_push(struct runner *r, struct rcan *c, int hook, const struct mach_event *e, int64_t t,
    const char *msg);
void rn_free_retired(struct runner *r);
void *rn_notifier_main(void *arg);
bool rn_notes_pending(const struct runner *r);
bool rn_retire_cfg(struct runner *r, struct canary_cfg *old);

/* ---- runner_journal.c: events and check results published */
void rn_publish_event(struct runner *r, struct rcan *c, const struct mach_event *e, int64_t t);
void rn_publish_msg(struct runner *r, struct rcan *c, enum severity sev, int64_t t,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void rn_publish_check(struct runner *r, struct rcan *c, const struct mach_check *ch, int64_t t);
/* The comparison with the primary of an analysis: kept for the screens, a
 * compare record per metric and a score record in the journal and sink. */
void rn_publish_compare(struct runner *r, struct rcan *c, const struct compare_result *cr,
    int64_t t);
void rn_queue_alert(struct runner *r, struct rcan *c, const struct mach_alert *a, int64_t t);
void rn_take_results(struct runner *r, int64_t now);

/* ---- runner_gather.c: observations for a tick (runner thread, no lock) */
void rn_grow_scratch(struct runner *r, const struct canary_cfg *c);
void rn_gather_hooks(struct runner *r, struct rcan *c, enum hook_type t, enum phase phase);
void rn_gather(struct runner *r, struct rcan *c, enum need need, enum hook_type ht,
    int64_t now);

/* ---- runner_apply.c: saving and acting */
int rn_save(struct runner *r, struct rcan *c, const struct canary_status *st, char *err);
/* Saves st (a failure is an event) and makes it c's status. */
void rn_save_set(struct runner *r, struct rcan *c, const struct canary_status *st, int64_t now);
void rn_refuse_canary(struct runner *r, struct rcan *c, int64_t now, const char *why);
void rn_reconcile(struct runner *r, struct rcan *c, int64_t now);
bool rn_apply(struct runner *r, struct rcan *c, struct tick_out *out, int64_t now, char *err);

/* ---- runner_control.c: control and leases */
bool rn_renew(struct runner *r, struct rcan *c);
bool rn_full(const struct runner *r);
void rn_rebalance(struct runner *r, int64_t now);
void rn_renew_all(struct runner *r);
bool rn_refuse_cfg(struct rcan *c);
/* One try of a terminating canary's finalisation (runner thread, no
 * lock): done, the canary is let go; else the next try is scheduled
 * (c->st.next_tick_ms) after a backoff and the reason shown. */
void rn_finalize_try(struct runner *r, struct rcan *c, int64_t now);
int rn_take_control(struct runner *r, struct rcan *c, int64_t now, char *err, size_t errsz);
void rn_retake_all(struct runner *r, int64_t now);
void rn_release_all(struct runner *r, bool with_save);

/* ---- runner_tick.c: one tick */
void rn_run_tick(struct runner *r, struct rcan *c, int64_t now);

/* ---- runner_observe.c: observing the store */
void rn_observe(struct runner *r);

/* ---- runner_command.c: manual commands */
void rn_known_facts(const struct runner *r, const struct rcan *c, struct cmd_facts *f);
void rn_handle_command(struct runner *r, const struct command *cmd, int64_t now);

/* ---- runner_request.c: commands asked of another process's canary */
bool rn_requests(const struct runner *r);
void rn_request(struct runner *r, struct rcan *c, const struct command *cmd,
    const struct cmd_facts *f, int64_t now);
void rn_request_poll(struct runner *r, struct rcan *c);

/* ---- runner_holder.c: requests to this runner's canaries, and the
 * answers to its own requests (the loop's request source) */
void rn_requests_poll(struct runner *r, int64_t now);

#endif
