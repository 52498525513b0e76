/*
 * providers.h — what the engine needs of the world, as structs of function
 * pointers.  Backends implement them: k8s/ and sim/ (cluster), metrics/ and
 * sim/ (metrics), metrics/webhook.c (webhook), metrics/notify.c (alerts),
 * store/dir.c and k8s/ (store), app/clock.c and sim/ (clock).  The
 * engine never knows which.
 *
 * Threads: every op is called from the engine (runner) thread only, unless
 * its comment says otherwise.  The runner's notifier thread calls
 * cluster_ops.emit_event, webhook_ops.call (event and post-rollout hooks)
 * and alert_ops.send, at the same time as the engine thread calls the
 * other ops (and webhook_ops.call for the hooks of a tick): a backend that
 * shares state between its calls must lock it (k8s/rest.c's client does,
 * metrics/webhook.c and notify.c keep none; k8s gives events a client of
 * their own).  Every op that can block has a timeout of its own; none may
 * block forever.  Strings passed in are borrowed for the call; strings
 * returned in fixed buffers are NUL-terminated and sanitized by the backend
 * (they come from the outside world).  Ops return a status (util/status.h);
 * `err` buffers, when given, receive a one-line reason.
 */
#ifndef PERCH_ENGINE_PROVIDERS_H
#define PERCH_ENGINE_PROVIDERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"

#define ERRMSG_MAX 512

/* ---- cluster ---------------------------------------------------------- */

enum workload { WL_PRIMARY, WL_CANARY };

struct revision {
	char id[72];		/* pod-template hash + tracked-config checksum; "" = unknown */
	char image[128];	/* first container image, for display; may be "" */
};

struct readiness {
	bool ready;
	bool retriable;		/* false: past its deadline, give up (reference §2.6) */
	char msg[ERRMSG_MAX];	/* e.g. "waiting for rollout to finish: 0 of 1 ..." */
};

struct routes {
	int  primary;		/* weights; primary + canary = 100 */
	int  canary;
	bool mirrored;
	/* Session affinity (cfg->affinity): the cookies "name=value" the
	 * router sets, sticks to and expires, as in struct canary_status;
	 * "" = none.  Routers without affinity ignore them. */
	char cookie[AFFINITY_COOKIE_MAX];
	char primary_cookie[AFFINITY_COOKIE_MAX];
	char previous_cookie[AFFINITY_COOKIE_MAX];
};

struct journal_rec;

struct cluster_ops {
	const char *name;	/* "k8s", "sim" */
	/* Initialize (reference §2.3 steps 4-13): services, the primary
	 * workload, routes at 100/0, target scaled to zero.  Idempotent; called
	 * while the phase is Initializing, and may be called again. */
	int (*initialize)(void *ctx, const struct canary_cfg *c, char *err);
	/* The target's current revision. */
	int (*revision)(void *ctx, const struct canary_cfg *c, struct revision *out, char *err);
	/* The revision the primary workload was made from (created by
	 * initialize, or last promoted), read from the primary itself: a change
	 * to the target after the primary was made is not in it.  out->id ""
	 * when the primary does not say (e.g. one made by another controller).
	 * May be NULL (unknown: the target's revision at initialization is
	 * taken). */
	int (*primary_revision)(void *ctx, const struct canary_cfg *c, struct revision *out,
	    char *err);
	/* Readiness of the primary or canary workload (reference §2.6).  `now_ms`
	 * is the engine's clock, for deadline checks kept by the backend. */
	int (*readiness)(void *ctx, const struct canary_cfg *c, enum workload w,
	    int64_t now_ms, struct readiness *out);
	/* Scale the target (canary workload) to zero, or back from zero. */
	int (*scale)(void *ctx, const struct canary_cfg *c, bool up, char *err);
	/* Copy the target's template (and tracked configs) to the primary.
	 * Must be idempotent for the same revision: when the primary already
	 * runs the target's revision it is left untouched (no new rollout).
	 * After a crash the runner may repeat one promote call (runner.c). */
	int (*promote)(void *ctx, const struct canary_cfg *c, char *err);
	/* Absolute weights: setting the same routes twice changes nothing. */
	int (*set_routes)(void *ctx, const struct canary_cfg *c, const struct routes *r, char *err);
	int (*get_routes)(void *ctx, const struct canary_cfg *c, struct routes *out, char *err);
	/* The canary's object is being deleted and holds perch's finalizer
	 * (engine/machine.h, machine_on_deletion): with `revert`, the target
	 * is given back (scaled up as the primary runs) and every route
	 * object sends all traffic to it (reference §2.10); then the
	 * finalizer is removed.  ST_OK, or an error with err filled (the
	 * finalizer stays; the runner calls it again after a backoff).  With
	 * `revert` the runner calls it only once scale(up) is done and the
	 * target's readiness (WL_CANARY) says ready.  May be NULL (nothing
	 * to finalise). */
	int (*finalize)(void *ctx, const struct canary_cfg *c, bool revert, char *err);
	/* Record an event on the canary's target (Kubernetes Event); may be
	 * NULL.  Called on the runner's notifier thread, concurrently with the
	 * other ops on the engine thread. */
	int (*emit_event)(void *ctx, const struct canary_cfg *c, enum severity sev,
	    const char *message);
	/* Whether the backend answers but not well (requests had to be
	 * repeated or failed lately): shown as "degraded", and it clears by
	 * itself once the backend behaves.  May be NULL (never degraded). */
	bool (*degraded)(void *ctx);
	/* A canary another controller drives (c->driven_by): its status as
	 * that controller publishes it (phase, weights, failed checks,
	 * iterations, last transition; reason: its condition message) and
	 * its newest events, oldest first, at most max (REC_EVENT records,
	 * sanitized), read from the backend's watch caches.  ST_OK, or an
	 * error (nothing known yet: the last view stays).  May be NULL. */
	int (*external)(void *ctx, const struct canary_cfg *c, struct canary_status *st,
	    struct journal_rec *ev, size_t max, size_t *n_ev);
	/* A manual command on such a canary, through that controller's own
	 * controls (its gates, its spec), recorded as an event naming actor;
	 * paused: the canary is suspended now (pause means resume).  answer:
	 * one line saying what was done, or why not.  May be NULL. */
	int (*external_command)(void *ctx, const struct canary_cfg *c, enum command_kind k,
	    bool paused, const char *actor, char *answer, size_t answersz);
};

/* ---- metrics ---------------------------------------------------------- */

struct metric_query {
	const struct canary_cfg *canary;
	const struct metric_cfg *metric;
	bool volume;		/* ask for the request volume instead of the metric */
	const char *query;	/* the rendered query (metric->query or ->volume_query) */
	int64_t at_ms;		/* evaluate at this time (explicit time=) */
	/* metrics_ops.samples: the query is the one aimed at the primary
	 * (metric->primary_query), for a provider that derives the
	 * measurement itself (the simulator) the primary's workload. */
	bool primary;
};

struct metric_value {
	enum check_result result;	/* PASS here means "a value" (see value) */
	double value;			/* valid when result == CHECK_PASS */
	/* CHECK_ERROR only: the backend gave no answer (unreachable, timed
	 * out, HTTP 5xx).  The analysis is inconclusive (degraded backend),
	 * never a failed check; a query the backend refused is not this. */
	bool unavailable;
	char err[ERRMSG_MAX];		/* for CHECK_NODATA and CHECK_ERROR */
};

/* The samples of one query over a window (a range query at a step), for
 * the comparison judge (engine/compare.h).  At most METRIC_SAMPLES_MAX:
 * a provider keeps the latest ones. */
#define METRIC_SAMPLES_MAX 128

struct metric_samples {
	enum check_result result;	/* PASS: n >= 1 values; NODATA; ERROR */
	bool unavailable;		/* as in struct metric_value */
	size_t n;
	double v[METRIC_SAMPLES_MAX];	/* oldest first, no NaN */
	char err[ERRMSG_MAX];		/* for CHECK_NODATA and CHECK_ERROR */
};

struct metrics_ops {
	const char *name;
	/* Evaluates n queries, concurrently where the backend can; fills out[i]
	 * for each.  Returns ST_OK unless the backend itself is unusable. */
	int (*eval)(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out);
	/* Whether the canary's metrics backends answer (Flagger's probe at
	 * initialization, reference §2.3 step 6): ST_OK, or an error with err
	 * filled.  May be NULL (no probe). */
	int (*check)(void *ctx, const struct canary_cfg *c, char *err);
	/* The samples of n queries over (q->at_ms - range_ms, q->at_ms], one
	 * every step_ms, into out[i] (the comparison judge: each compared
	 * metric's query aimed at the canary and at the primary, q->primary).
	 * Returns ST_OK unless the backend itself is unusable.  May be NULL:
	 * no samples (every compared metric is then NoData). */
	int (*samples)(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms,
	    int64_t step_ms, struct metric_samples *out);
};

/* ---- webhooks --------------------------------------------------------- */

struct hook_call {
	const struct canary_cfg *canary;
	const struct hook_cfg *hook;
	enum phase phase;		/* phase sent in the payload */
	const char *checksum;		/* payload checksum (revision id) */
	/* event hooks only: */
	const char *event_message;
	enum severity event_type;
	int64_t event_time_ms;
};

struct hook_result {
	bool ok;			/* HTTP status <= 202 (reference §5.1) */
	int  http_status;		/* 0 when no answer */
	char msg[ERRMSG_MAX];		/* the body or the error, sanitized */
};

struct webhook_ops {
	const char *name;
	/* Calls n hooks of one type in list order; stops at the first failure.
	 * Returns how many were called (results filled for those).  Event and
	 * post-rollout hooks are called on the runner's notifier thread, the
	 * others on the engine thread: two calls may run at once. */
	size_t (*call)(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out);
};

/* ---- alerts (reference §6) -------------------------------------------- */

struct alert_field {		/* one metadata field: "Target", "Deployment/podinfo.test" */
	const char *name;
	const char *value;
};

struct alert_msg {
	const struct canary_cfg *canary;
	const struct alert_cfg *alert;	/* the analysis.alerts entry it goes to */
	enum alert_severity severity;	/* of the message */
	const char *message;		/* "New revision detected, progressing ..." */
	const struct alert_field *fields;
	size_t n_fields;
};

struct alert_ops {
	const char *name;
	/* Sends one alert to the AlertProvider of msg->alert, on the runner's
	 * notifier thread.  Blocks for a
	 * bounded time (a few seconds at most).  ST_OK, or an error with a
	 * one-line reason in err that never holds the provider's address or
	 * token (they carry secrets). */
	int (*send)(void *ctx, const struct alert_msg *msg, char *err);
};

/* ---- durable state ---------------------------------------------------- */

#define JOURNAL_SAMPLES_MAX 24	/* samples of a side in a compare record */

/* One line of the journal: an event or a check result. */
struct journal_rec {
	int64_t time_ms;
	char canary[128];		/* "ns/name" */
	enum { REC_EVENT, REC_CHECK, REC_COMPARE, REC_SCORE } kind;
	/* event */
	enum severity severity;
	char type[32];			/* "Normal", "Warning", or a perch type */
	char reason[48];		/* Flagger: "Synced"; perch: "Command", ... */
	char message[384];
	char actor[96];			/* who gave a manual command, "" otherwise */
	/* check */
	char metric[64];
	double value;
	bool has_value;
	bool has_min, has_max;
	double min, max;
	enum check_result result;
	/* The request volume of the metric's window, when the minimum-traffic
	 * guard measured one (stored journals only; older records lack it). */
	bool has_volume;
	double volume;
	/* compare (a metric compared with the primary: metric, message is
	 * why it has no data) and score (value the score, message why it
	 * was forced to 0) */
	enum judge_class judge_class;
	enum judge_verdict verdict;
	double canary_median, primary_median, effect;	/* NaN: unknown */
	/* compare: the samples of each side the judge saw (the graph's
	 * distributions), oldest first, NaN a step without a value; stored
	 * journals only, older records have none. */
	size_t n_canary, n_primary;
	double canary_samples[JOURNAL_SAMPLES_MAX], primary_samples[JOURNAL_SAMPLES_MAX];
	/* status at the time */
	enum phase phase;
	int weight;
	int failed_checks;
	int iteration;
};

/* A command asked of the canary's holder by another perch (store_ops
 * request/pending/ack/answer).  requester: the asking process's identity
 * ("user@host pid N"); seq: increasing per requester; actor: the person. */
struct cmd_request {
	char requester[160];
	uint64_t seq;
	enum command_kind kind;
	char actor[96];
	int64_t age_ms;			/* pending: how long ago it was written */
};

/* The holder's acknowledgement of a requester's requests up to seq. */
struct cmd_ack {
	char requester[160];
	uint64_t seq;
	char applied_by[160];		/* the holder's identity */
	char result[240];		/* the command's answer */
	bool applied;			/* it changed the canary (else refused) */
	int64_t wait_ms;		/* answer: real ms since the requester's
					 * last request was written, -1 none */
};

struct store_ops {
	const char *name;
	/* Takes exclusive control of the canary (flock / Lease).  ST_LOCKED
	 * with `holder` filled ("user@host") when someone else has it; any
	 * other error with `err` (may be NULL) saying what failed and where
	 * (the file, or the server and the cause).  Until it returns ST_OK
	 * the caller writes nothing for the canary (runner.c).  acquire, load
	 * and save_spec, for canaries held elsewhere that are tried again, are
	 * also called on the runner's take workers (runner_pool.c), several
	 * canaries at once, each canary on one thread at a time. */
	int (*acquire)(void *ctx, const char *canary, const char *actor, char *holder,
	    size_t holdersz, char *err);
	int (*renew)(void *ctx, const char *canary);
	int (*release)(void *ctx, const char *canary);
	/* ST_OK, ST_NOTFOUND (no saved status: a new canary), or ST_CORRUPT
	 * (err says which file and what; the caller refuses control). */
	int (*load)(void *ctx, const char *canary, struct canary_status *out, char *err);
	/* Atomic: after a crash either the old or the new status is there. */
	int (*save)(void *ctx, const char *canary, const struct canary_status *st, char *err);
	/* Appends one record to the canary's journal.  An error (err, may be
	 * NULL, says why) means the record is not saved; ST_AGAIN, from a
	 * store that writes in the background, that its last write failed
	 * and its records are kept and tried again.  The runner shows either
	 * as an event. */
	int (*append)(void *ctx, const struct journal_rec *rec, char *err);
	/* The canary's configuration, saved by the controller so that a
	 * read-only watcher can draw the same screens (ladder, bounds, ...).
	 * load_spec allocates *out (canary_cfg_free). */
	int (*save_spec)(void *ctx, const char *canary, const struct canary_cfg *cfg, char *err);
	int (*load_spec)(void *ctx, const char *canary, struct canary_cfg **out, char *err);
	/* Reads the last `max` journal records of a canary, oldest first
	 * (for the UI after a restart and for watch mode).  Returns the count. */
	size_t (*tail)(void *ctx, const char *canary, struct journal_rec *out, size_t max);
	/* The canaries that have saved state ("ns/name"), for watch/status;
	 * returns the count, names written into out[i] (caller frees each). */
	size_t (*list)(void *ctx, char ***out);
	/* Who controls the canary, for observers (perch watch): ST_OK with
	 * holder filled ("user@host pid N"), ST_NOTFOUND when nobody does.
	 * Changes nothing.  May be NULL (the holder is then not shown). */
	int (*holder)(void *ctx, const char *canary, char *holder, size_t holdersz);

	/* Requests to the holder: a perch whose canary is held by another
	 * process (a controller, another terminal) asks that one to run a
	 * command, and the holder runs it as its own and acknowledges it
	 * (engine/runner_request.c has the protocol; store/k8s.h where it
	 * lives).  All four may be NULL: no requests (the state directory).
	 * request: the requester writes its request (one per requester, the
	 * newest replacing the last), rq's requester ("" = this store's own
	 * identity) and seq filled by the store (one above the requester's
	 * last request and acknowledgement); ST_OK, ST_REFUSED (read-only),
	 * or the error with err (ERRMSG_MAX) saying what the server refused,
	 * starting "forbidden: " (the identity may not write: ST_AUTH) or "not
	 * requested: ".
	 * pending: the holder reads the requests whose seq is above their
	 * requester's acknowledgement (written or staged), up to max, with
	 * their age on the wall clock; returns the count.  Cheap
	 * (a cache): called about every second.
	 * ack: the holder stages an acknowledgement, written with the
	 * canary's next save, in the same write as its status (so a request
	 * is applied exactly once whatever crashes between).
	 * answer: the requester reads the holder's acknowledgement of its
	 * requests (requester "" = this store's identity): ST_OK (out
	 * filled), ST_NOTFOUND (none yet), or the error; whatever it
	 * returns, out->wait_ms is how long ago its last request was
	 * written, on the wall clock as pending's ages are (the time a
	 * requester waits is the same for it and its holder, whatever
	 * either's engine clock). */
	int (*request)(void *ctx, const char *canary, struct cmd_request *rq, char *err);
	size_t (*pending)(void *ctx, const char *canary, struct cmd_request *out, size_t max);
	void (*ack)(void *ctx, const char *canary, const struct cmd_ack *ack);
	int (*answer)(void *ctx, const char *canary, const char *requester, struct cmd_ack *out);
};

/* ---- the controller's heartbeat ---------------------------------------- */

/* A controller (perch run, perch demo) writes a heartbeat into the state
 * its watchers already read, every `every_ms` of real time, so that a
 * watcher knows when it last wrote: a controller killed or stopped is seen
 * as lost within a few beats, not taken for a quiet one.  Where it lives is
 * the store's business (the state directory's clock.json, the cluster's
 * perch.heartbeat ConfigMap: app/heartbeat.h). */
struct heartbeat {
	char controller[96];		/* "user@host pid N" */
	char context[96];		/* its header context: "DEMO", a kube context */
	int64_t age_ms;			/* real ms since its last beat, as the
					 * reader measured it (not the writer's clock) */
	int64_t every_ms;		/* how often it beats */
	bool stopped;			/* it exited cleanly (its last beat) */
	bool api_ok, metrics_ok;	/* its backends' health at the last beat */
	bool metrics_degraded;		/* some of its queries got no answer */
};

/* A controller is lost when it has missed this many beats. */
#define HEARTBEAT_MISSED 3

struct heartbeat_ops {
	/* The heartbeat of the controller of canary "ns/name": ST_OK, or
	 * ST_NOTFOUND when none is known (nobody wrote one, or an older perch
	 * that does not beat).  Cheap (reads what the reader holds already);
	 * any thread. */
	int (*last)(void *ctx, const char *canary, struct heartbeat *out);
};

/* ---- the clock -------------------------------------------------------- */

/* Time is passed in: real time for `perch run`, scaled or instant virtual
 * time for the simulator.  `wait` blocks on cond (mutex held, as
 * pthread_cond_timedwait) until the clock reaches deadline_ms or the cond is
 * signalled; an instant clock jumps straight to the deadline. */
struct clock_ops {
	int64_t (*now_ms)(void *ctx);
	void (*wait)(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms);
};

#endif
