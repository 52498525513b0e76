/*
 * runner.c — the engine thread (see runner.h).
 *
 * It owns every canary: its configuration, its durable status, a bounded
 * history for the screens (the last HIST_POINTS values per metric, the last
 * HIST_EVENTS events) and its place in a binary heap of deadlines, so the
 * next due tick is found in O(log n) without scanning.  The thread sleeps
 * through clock_ops->wait until the earliest deadline or until a command
 * signals the condition variable, so a keystroke acts at once.
 *
 * One tick: machine_tick() (engine/machine.c) asks for observations one at a
 * time; the runner gathers each through the ops (outside the lock) and runs
 * the tick again until it completes.  Then apply():
 *
 *   1. the new status (with the intended actions implied by it) is SAVED
 *      first (write-ahead); if the save fails, the tick is dropped whole and
 *      retried at the next interval, nothing is executed;
 *   2. events and check results go to the journal, sink(), the cluster's
 *      event recorder and the event webhooks; alerts to the alert backend;
 *   3. the actions run: routes are set to ABSOLUTE weights and scaling is a
 *      desired state, so running them twice changes nothing;  a promotion is
 *      guarded by a saved marker: the status says "promoting revision X"
 *      (phase Promoting/Finalising/Succeeded with last_promoted != X) before
 *      the call, and last_promoted := X is saved right after it succeeds;
 *      a promotion is only issued while that marker says it is pending.
 *
 * Crash safety (kill -9 at any point), what a restart sees:
 *   - before the save: the old status; the tick runs again from the same
 *     state (no step was taken, none is taken twice);
 *   - after the save, before or during the actions: the new status; at start
 *     the runner re-applies the routes and scale that status implies
 *     (idempotent), and re-issues a promotion only while its marker is still
 *     pending.  The one window where a promotion call may be repeated is
 *     "promote returned, marker not yet saved"; cluster_ops->promote must
 *     therefore be idempotent for the same revision (the backend leaves a
 *     primary that already runs it untouched), so there is never a second
 *     effective promotion.
 *   - events of a tick are journalled after its status: a crash between the
 *     two loses them (they are never duplicated); post-rollout hooks are
 *     called at most once for the same reason.
 *
 * Slow backends: a tick whose calls take time is suspended before its next
 * call when another canary is due or a command waits, and resumed after
 * them (run_tick).  So a slow backend of one canary delays the others by one
 * call at most, never by the sum of its calls.
 *
 * Notifications: cluster events, event webhooks, post-rollout hooks and
 * alerts (whose answers change nothing) are queued, in order, for the
 * notifier thread, which the engine thread starts and joins: it sends them
 * one call at a time, so a receiver that hangs delays no tick and no
 * command.  The queue is bounded (NOTE_MAX, dropping the oldest with one
 * warning).  The notifier changes no canary and publishes nothing: a
 * post-rollout hook's answer and an alert that failed go back to the engine
 * thread (the results in struct runner), which records them at its next
 * wake (post_answer, take_results).  stop_when_done ends once the queue is
 * empty too; at the end of the run what is still queued is sent, each call
 * bounded by its own timeout, before the thread ends.
 *
 * Locking: `mu` protects the command queue, the published snapshot, every
 * field of a canary the snapshot reads, and the notifier's queue and
 * results.  Only the runner thread changes canaries, and no thread calls a
 * provider while holding `mu`.
 *
 * Observer mode (perch watch) never calls a mutating op: it lists the
 * canaries in the store and re-reads their spec, status and journal tail
 * about every OBSERVE_MS of clock time.  Canaries whose control lock is
 * held by someone else are refreshed the same way in control mode.
 *
 * Control: each canary's lock is taken at start or by runner_adopt (a corrupt status refuses
 * control of that canary, naming the file in its snapshot reason and the
 * log, while the others run; when every canary is corrupt, e.g. the only
 * one, the start itself is refused), renewed about every RENEW_MS of clock time
 * and before each tick; a canary whose lease was taken over becomes
 * read-only.  An interactive run (not stop_when_done) tries a read-only
 * canary again every RETAKE_MS and takes it once its holder is gone
 * (retake); a headless one never acts on it.  runner_stop saves and
 * releases.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/command.h"
#include "engine/machine.h"
#include "engine/runner.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

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
#define NOTE_MAX    4096
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
		int64_t retake_at;	/* held elsewhere: when to try to take it */
		struct obs *resume;	/* a suspended tick's observations (reused) */
		int64_t resume_at;	/* its clock */
	} run;
};

/* A notification waiting to be sent: a cluster event (hook < 0), one
 * event webhook call, one post-rollout hook call, or one alert to one
 * analysis.alerts entry (alert >= 0).  The runner queues them; the notifier
 * thread sends them in order, so a slow receiver never holds up a tick or
 * a command.  The notifier reads the note, the configuration it was queued
 * for (cfg: runner_replace keeps it alive while a note of it is being sent,
 * retire_cfg); it reads c->gen under mu and drops a note of an older
 * configuration. */
struct note {
	struct rcan *c;
	const struct canary_cfg *cfg;
	uint64_t gen;			/* c->gen when queued */
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
};

/* ---- small helpers ----------------------------------------------------- */

static int64_t
now_ms(struct runner *r)
{
	return r->cfg.clock->now_ms(r->cfg.clock_ctx);
}

static int
interval_ms(const struct canary_cfg *c)
{
	return (c->interval_s > 0 ? c->interval_s : 60) * 1000;
}

static size_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)h;
}

/* sanitize() with a fast path: printable ASCII, the common case, is what
 * sanitize would give, copied as it is (bounded by dstsz). */
static void
clean(char *dst, size_t dstsz, const char *src)
{
	size_t i = 0;

	while (i + 1 < dstsz && (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] < 0x7f)
		i++;
	if (src[i] != '\0' && i + 1 < dstsz) {
		sanitize(dst, dstsz, src, strlen(src));
		return;
	}
	memcpy(dst, src, i);
	dst[i] = '\0';
}

static struct rcan *
find(struct runner *r, const char *key)
{
	size_t i;

	if (r->tab.index_cap == 0)
		return NULL;
	for (i = key_hash(key) & (r->tab.index_cap - 1); r->tab.index[i] != NULL;
	    i = (i + 1) & (r->tab.index_cap - 1))
		if (strcmp(r->tab.index[i]->key, key) == 0)
			return r->tab.index[i];
	return NULL;
}

static void
index_put(struct runner *r, struct rcan *c)
{
	size_t i = key_hash(c->key) & (r->tab.index_cap - 1);

	while (r->tab.index[i] != NULL)
		i = (i + 1) & (r->tab.index_cap - 1);
	r->tab.index[i] = c;
}

/* The answer shown in the status line, and the canary "ns/name" it is
 * about ("" when none). */
static void
set_status_msg(struct runner *r, const char *key, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	sanitize(r->pub.status_msg, sizeof r->pub.status_msg, msg, strlen(msg));
	snprintf(r->pub.status_canary, sizeof r->pub.status_canary, "%s", key ? key : "");
	r->pub.status_seq++;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

/* Backend health for the header; read by snapshots. */
static void
set_health(struct runner *r, bool *field, bool ok)
{
	if (*field == ok)	/* only this thread writes it: no lock to read */
		return;
	pthread_mutex_lock(&r->mu);
	if (*field != ok) {
		*field = ok;
		r->pub.version++;
	}
	pthread_mutex_unlock(&r->mu);
}

/* ---- the deadline heap (runner thread; `due` written under mu) ---------
 * Entries carry their deadline, so sifting through 10,000 canaries reads
 * the heap array and not every canary it passes. */

/* Moves entry e up from the hole at i to its place. */
static void
heap_up(struct runner *r, size_t i, struct hent e)
{
	while (i > 0 && e.due < r->sched.heap[(i - 1) / 2].due) {
		r->sched.heap[i] = r->sched.heap[(i - 1) / 2];
		r->sched.heap[i].c->sched.heap = i;
		i = (i - 1) / 2;
	}
	r->sched.heap[i] = e;
	e.c->sched.heap = i;
}

/* Moves entry e down from the hole at i to its place. */
static void
heap_down(struct runner *r, size_t i, struct hent e)
{
	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= r->sched.hn)
			break;
		m = l + 1 < r->sched.hn && r->sched.heap[l + 1].due < r->sched.heap[l].due ? l + 1 : l;
		if (!(r->sched.heap[m].due < e.due))
			break;
		r->sched.heap[i] = r->sched.heap[m];
		r->sched.heap[i].c->sched.heap = i;
		i = m;
	}
	r->sched.heap[i] = e;
	e.c->sched.heap = i;
}

/* Puts e at hole i, then up or down to its place. */
static void
heap_place(struct runner *r, size_t i, struct hent e)
{
	if (i > 0 && e.due < r->sched.heap[(i - 1) / 2].due)
		heap_up(r, i, e);
	else
		heap_down(r, i, e);
}

static void
heap_remove(struct runner *r, struct rcan *c)
{
	size_t i = c->sched.heap;

	if (i == NO_HEAP)
		return;
	r->sched.hn--;
	if (i != r->sched.hn)
		heap_place(r, i, r->sched.heap[r->sched.hn]);
	c->sched.heap = NO_HEAP;
}

/* (Re)schedules c at `due`, in place when it is in the heap.  Caller
 * holds mu. */
static void
schedule(struct runner *r, struct rcan *c, int64_t due)
{
	struct hent e = { .due = due, .c = c };

	c->sched.due = due;
	if (c->sched.heap == NO_HEAP)
		c->sched.heap = r->sched.hn++;
	heap_place(r, c->sched.heap, e);
}

/* ---- history ----------------------------------------------------------- */

static void
hist_point(struct rcan *c, size_t m, int64_t t, const struct mach_check *ch)
{
	struct rring_pts *ring = &c->hist.pts[m];
	struct rpoint *p;

	if (ring->cap < c->hist.max_pts && ring->n == ring->cap) {
		size_t ncap = ring->cap ? ring->cap * 2 : 8;

		if (ncap > c->hist.max_pts)
			ncap = c->hist.max_pts;
		ring->p = xreallocarray(ring->p, ncap, sizeof *ring->p);
		ring->cap = ncap;
	}
	if (ring->n < ring->cap) {
		p = &ring->p[(ring->head + ring->n) % ring->cap];
		ring->n++;
	} else {
		p = &ring->p[ring->head];
		ring->head = (ring->head + 1) % ring->cap;
	}
	p->t_ms = t;
	p->value = (float)(ch->has_value ? ch->value : 0);
	p->result = (unsigned char)ch->result;
}

/* is_clean: msg is already sanitized. */
static void
hist_event(struct rcan *c, int64_t t, enum severity sev, const char *msg, const char *actor,
    bool is_clean)
{
	struct revent *e;

	if (c->hist.ev_cap < c->hist.max_ev && c->hist.ev_n == c->hist.ev_cap) {
		size_t ncap = c->hist.ev_cap ? c->hist.ev_cap * 2 : 8;

		if (ncap > c->hist.max_ev)
			ncap = c->hist.max_ev;
		c->hist.ev = xreallocarray(c->hist.ev, ncap, sizeof *c->hist.ev);
		c->hist.ev_cap = ncap;
	}
	if (c->hist.ev_n < c->hist.ev_cap) {
		e = &c->hist.ev[(c->hist.ev_head + c->hist.ev_n) % c->hist.ev_cap];
		c->hist.ev_n++;
	} else {
		e = &c->hist.ev[c->hist.ev_head];
		free(e->msg);
		free(e->actor);
		c->hist.ev_head = (c->hist.ev_head + 1) % c->hist.ev_cap;
	}
	/* Exact sizes: 10,000 canaries' histories must stay small. */
	if (is_clean) {
		size_t len = strlen(msg);

		e->msg = xmalloc(len + 1);
		memcpy(e->msg, msg, len + 1);
	} else {
		e->msg = sanitize_dup(msg, MACH_MSG_MAX);
	}
	e->t_ms = t;
	e->sev = sev;
	e->actor = actor && actor[0] ? sanitize_dup(actor, 95) : NULL;
}

static void
hist_clear(struct rcan *c)
{
	size_t i;

	for (i = 0; i < c->hist.ev_n; i++) {
		struct revent *e = &c->hist.ev[(c->hist.ev_head + i) % c->hist.ev_cap];

		free(e->msg);
		free(e->actor);
	}
	c->hist.ev_n = c->hist.ev_head = 0;
	for (i = 0; c->cfg && i < c->cfg->n_metrics; i++)
		c->hist.pts[i].n = c->hist.pts[i].head = 0;
}

/* ---- canaries ---------------------------------------------------------- */

/* The history arrays sized by a configuration. */
static void
rcan_arrays(struct rcan *c, const struct canary_cfg *cfg)
{
	size_t i;

	c->hist.pts = cfg->n_metrics > 0 ? xcalloc(cfg->n_metrics, sizeof *c->hist.pts) : NULL;
	c->hist.hooks = cfg->n_hooks > 0 ? xcalloc(cfg->n_hooks, sizeof *c->hist.hooks) : NULL;
	for (i = 0; i < cfg->n_hooks; i++)
		c->hist.hooks[i].last = CHECK_NODATA;
}

static struct rcan *
rcan_new(struct canary_cfg *cfg, const char *key)
{
	struct rcan *c = xcalloc(1, sizeof *c);

	c->cfg = cfg;
	snprintf(c->key, sizeof c->key, "%s", key);
	c->sched.heap = NO_HEAP;
	c->hist.max_ev = HIST_EVENTS;
	c->hist.max_pts = HIST_POINTS;
	rcan_arrays(c, cfg);
	return c;
}

static void
rcan_free(struct rcan *c)
{
	size_t i;

	hist_clear(c);
	free(c->hist.ev);
	for (i = 0; i < c->cfg->n_metrics; i++)
		free(c->hist.pts[i].p);
	free(c->hist.pts);
	free(c->hist.hooks);
	if (c->run.resume != NULL) {
		obs_fini(c->run.resume);
		free(c->run.resume);
	}
	canary_cfg_free(c->cfg);
	free(c);
}

static void
add_canary(struct runner *r, struct rcan *c)
{
	size_t i;

	if (r->tab.n == r->tab.cap) {
		r->tab.cap = r->tab.cap ? r->tab.cap * 2 : 16;
		r->tab.cs = xreallocarray(r->tab.cs, r->tab.cap, sizeof *r->tab.cs);
		r->sched.heap = xreallocarray(r->sched.heap, r->tab.cap, sizeof *r->sched.heap);
		free(r->tab.index);
		r->tab.index_cap = 2 * r->tab.cap;
		r->tab.index = xcalloc(r->tab.index_cap, sizeof *r->tab.index);
		for (i = 0; i < r->tab.n; i++)
			index_put(r, r->tab.cs[i]);
	}
	r->tab.cs[r->tab.n++] = c;
	index_put(r, c);
}

struct runner *
runner_new(const struct runner_config *cfg)
{
	struct runner *r = xcalloc(1, sizeof *r);

	r->cfg = *cfg;
	r->actor = xstrdup(cfg->actor ? cfg->actor : "unknown");
	/* Shown in the header: a kubeconfig's names may hold anything. */
	r->context = sanitize_dup(cfg->context, 128);
	r->ns = sanitize_dup(cfg->ns, 128);
	r->cfg.actor = r->actor;
	r->cfg.context = r->context;
	r->cfg.ns = r->ns;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_cond_init(&r->life.done_cond, NULL);
	pthread_cond_init(&r->nt.cond, NULL);
	obs_init(&r->tick.obs);
	r->health.api_ok = r->health.metrics_ok = true;
	r->health.ctl = cfg->observer ? CTL_UNKNOWN : CTL_SELF;
	return r;
}

void
runner_add(struct runner *r, struct canary_cfg *cfg)
{
	char key[128];

	snprintf(key, sizeof key, "%s/%s", cfg->ns ? cfg->ns : "", cfg->name ? cfg->name : "");
	if (find(r, key) != NULL) {
		canary_cfg_free(cfg);
		return;
	}
	cfg->order = (int)r->tab.n;
	add_canary(r, rcan_new(cfg, key));
}

/* ---- journal, sink, events --------------------------------------------- */

static void
rec_status(struct journal_rec *rec, const struct rcan *c, int64_t t)
{
	memset(rec, 0, sizeof *rec);
	rec->time_ms = t;
	snprintf(rec->canary, sizeof rec->canary, "%s", c->key);
	rec->phase = c->st.phase;
	rec->weight = c->st.canary_weight;
	rec->failed_checks = c->st.failed_checks;
	rec->iteration = c->st.iterations;
}

static void publish_msg(struct runner *r, struct rcan *c, enum severity sev, int64_t t,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The answer of a journal append: a failure is an Error event once (the
 * event itself cannot be journalled either, and says so), and a journal
 * that works again says how many records it lost.  ST_AGAIN is a store
 * that keeps what it could not write and tries again (the cluster's): not
 * lost, but still a failure of the store.  Either way the run's exit
 * status says the store failed (runner_outcome). */
static void
journal_answer(struct runner *r, struct rcan *c, int rc, const char *err, int64_t t)
{
	unsigned long lost;

	if (rc != ST_OK) {
		c->run.journal_lost += rc != ST_AGAIN;
		if (c->run.journal_failing)
			return;
		c->run.journal_failing = true;
		c->run.store_failed = true;
		publish_msg(r, c, SEV_ERROR, t, "cannot write the journal of %s: %s; %s", c->key,
		    err[0] ? err : status_text(rc), rc == ST_AGAIN ? "its records are kept and "
		    "written when it can" : "events and check results are not saved");
		return;
	}
	if (!c->run.journal_failing)
		return;
	lost = c->run.journal_lost;
	c->run.journal_failing = false;
	c->run.journal_lost = 0;
	if (lost == 0)
		publish_msg(r, c, SEV_WARNING, t, "the journal of %s is written again", c->key);
	else
		publish_msg(r, c, SEV_WARNING, t, "the journal of %s is written again; %lu record%s "
		    "could not be saved", c->key, lost, lost == 1 ? "" : "s");
}

/* One record to the sink (headless output) and, when we control the
 * canary, to the store's journal.  rec is r->tick.rec: used up before any
 * event about the journal itself is published. */
static void
journal(struct runner *r, struct rcan *c, const struct journal_rec *rec)
{
	char err[ERRMSG_MAX] = "";
	int64_t t = rec->time_ms;
	int rc;

	if (r->cfg.sink != NULL)
		r->cfg.sink(r->cfg.sink_arg, rec);
	if (r->cfg.store == NULL || r->cfg.store->append == NULL || !c->ctl.control ||
	    r->cfg.observer)
		return;
	rc = r->cfg.store->append(r->cfg.store_ctx, rec, err);
	journal_answer(r, c, rc, err, t);
}

/* A new notification (runner thread), filled in by the caller and then
 * queued with note_queue. */
static void
note_init(struct note *n, struct rcan *c, int hook, enum phase phase, int64_t t)
{
	memset(n, 0, sizeof *n);
	n->c = c;
	n->cfg = c->cfg;
	n->gen = c->ctl.gen;
	n->hook = hook;
	n->alert = -1;
	n->asev = ALERT_INFO;
	n->sev = SEV_NORMAL;
	n->phase = phase;
	n->t = t;
	snprintf(n->checksum, sizeof n->checksum, "%s", c->st.last_applied);
}

/* Appends n to the notifier's queue and wakes it (runner thread, mu not
 * held).  When the queue is full (receivers slower than the events), the
 * oldest is dropped and counted. */
static void
note_queue(struct runner *r, const struct note *n)
{
	pthread_mutex_lock(&r->mu);
	if (r->nt.n == r->nt.cap && r->nt.cap < NOTE_MAX) {
		size_t ncap = r->nt.cap ? r->nt.cap * 2 : 16, i;
		struct note *nn = xreallocarray(NULL, ncap, sizeof *nn);

		for (i = 0; i < r->nt.n; i++)
			nn[i] = r->nt.notes[(r->nt.head + i) % r->nt.cap];
		free(r->nt.notes);
		r->nt.notes = nn;
		r->nt.cap = ncap;
		r->nt.head = 0;
	}
	if (r->nt.n == r->nt.cap) {
		if (r->nt.dropped++ == 0)
			log_warn("notifications are slower than events: dropping the oldest");
		r->nt.head = (r->nt.head + 1) % r->nt.cap;
		r->nt.n--;
	}
	r->nt.notes[(r->nt.head + r->nt.n++) % r->nt.cap] = *n;
	pthread_cond_signal(&r->nt.cond);
	pthread_mutex_unlock(&r->mu);
}

static void
note_push(struct runner *r, struct rcan *c, int hook, const struct mach_event *e, int64_t t,
    const char *msg)
{
	struct note n;

	note_init(&n, c, hook, c->st.phase, t);
	n.sev = e->sev;
	snprintf(n.msg, sizeof n.msg, "%s", msg);
	note_queue(r, &n);
}

static void publish_event(struct runner *r, struct rcan *c, const struct mach_event *e, int64_t t);

/* A result for the runner thread (notifier thread, mu held); wakes it. */
static struct nres *
nres_new(struct runner *r, const struct note *n)
{
	struct nres *x;

	if (r->nt.res_n == r->nt.res_cap) {
		r->nt.res_cap = r->nt.res_cap ? r->nt.res_cap * 2 : 8;
		r->nt.res = xreallocarray(r->nt.res, r->nt.res_cap, sizeof *r->nt.res);
	}
	x = &r->nt.res[r->nt.res_n++];
	memset(x, 0, sizeof *x);
	x->c = n->c;
	x->gen = n->gen;
	x->t = n->t;
	pthread_cond_broadcast(&r->cond);
	return x;
}

/* One post-rollout hook, called (notifier thread, no lock held).  Hooks of
 * one type stop at the first failure (reference §5.1): the notifier skips
 * the rest of a batch that failed (*failed).  The answer goes back to the
 * runner, which records it (post_answer). */
static void
note_post(struct runner *r, const struct note *n, uint64_t *failed)
{
	const struct canary_cfg *cfg = n->cfg;
	struct hook_call call = {
		.canary = cfg, .hook = &cfg->hooks[n->hook], .phase = n->phase,
		.checksum = n->checksum,
	};
	struct hook_result res;

	if (*failed == n->batch)
		return;
	memset(&res, 0, sizeof res);
	if (r->cfg.webhook->call(r->cfg.webhook_ctx, &call, 1, &res) < 1)
		snprintf(res.msg, sizeof res.msg, "not called");
	if (!res.ok)
		*failed = n->batch;
	pthread_mutex_lock(&r->mu);
	{
		struct nres *x = nres_new(r, n);

		x->post = true;
		x->hook = n->hook;
		x->res = res;
	}
	pthread_mutex_unlock(&r->mu);
}

/* A post-rollout hook's answer (runner thread, not inside a tick: it uses
 * the tick's scratch space): the hook's state and its events. */
static void
post_answer(struct runner *r, const struct nres *x)
{
	struct rcan *c = x->c;
	const struct canary_cfg *cfg = c->cfg;
	size_t i;

	pthread_mutex_lock(&r->mu);
	c->hist.hooks[x->hook].last = x->res.ok ? CHECK_PASS : CHECK_FAIL;
	sanitize(c->hist.hooks[x->hook].msg, sizeof c->hist.hooks[x->hook].msg, x->res.msg,
	    strlen(x->res.msg));
	pthread_mutex_unlock(&r->mu);
	obs_reset(&r->tick.obs, cfg->n_hooks, cfg->n_metrics);
	r->tick.obs.hooks[x->hook].called = true;
	r->tick.obs.hooks[x->hook].r = x->res;
	memset(&r->tick.post, 0, sizeof r->tick.post);
	r->tick.post.st = c->st;
	machine_post_hook_events(cfg, r->tick.obs.hooks, &r->tick.post);
	for (i = 0; i < r->tick.post.n_ev; i++)
		publish_event(r, c, &r->tick.post.ev[i], x->t);
}

/* One alert to one analysis.alerts entry (notifier thread, no lock held);
 * a failure is logged and handed to the runner as a Warning event (the
 * backend's reason holds no secret). */
static void
note_alert(struct runner *r, const struct note *n)
{
	const struct canary_cfg *cfg = n->cfg;
	const struct alert_cfg *a = &cfg->alerts[n->alert];
	struct alert_field fields[MACH_ALERT_FIELDS];
	struct mach_alert_buf fb = { "", "", "", "" };
	struct alert_msg msg = {
		.canary = cfg, .alert = a, .severity = n->asev, .message = n->msg,
		.fields = fields,
		.n_fields = n->meta ? machine_alert_fields(cfg, fields, &fb) : 0,
	};
	const char *pns = a->provider_ns != NULL ? a->provider_ns : cfg->ns;
	char err[ERRMSG_MAX] = "";
	int st;

	st = r->cfg.alert->send(r->cfg.alert_ctx, &msg, err);
	if (st == ST_OK) {
		log_debug("%s/%s: alert %s sent to AlertProvider %s/%s: %s", cfg->ns, cfg->name,
		    a->name, pns, a->provider, n->msg);
		return;
	}
	log_warn("%s/%s: alert %s to AlertProvider %s/%s not sent: %s", cfg->ns, cfg->name,
	    a->name, pns, a->provider, err[0] ? err : status_text(st));
	pthread_mutex_lock(&r->mu);
	snprintf(nres_new(r, n)->msg, MACH_MSG_MAX,
	    "Alert %s to AlertProvider %s/%s not sent: %.200s", a->name, pns, a->provider,
	    err[0] ? err : status_text(st));
	pthread_mutex_unlock(&r->mu);
}

/* Sends one notification (notifier thread, no lock held). */
static void
note_send(struct runner *r, const struct note *n, uint64_t *failed)
{
	const struct canary_cfg *cfg = n->cfg;

	if (n->post) {
		note_post(r, n, failed);
	} else if (n->alert >= 0) {
		note_alert(r, n);
	} else if (n->hook < 0) {
		r->cfg.cluster->emit_event(r->cfg.cluster_ctx, cfg, n->sev, n->msg);
	} else {
		struct hook_call call = {
			.canary = cfg, .hook = &cfg->hooks[n->hook], .phase = n->phase,
			.checksum = n->checksum, .event_message = n->msg,
			.event_type = n->sev, .event_time_ms = n->t,
		};
		struct hook_result res;

		/* Event hooks are notifications: every one is called. */
		r->cfg.webhook->call(r->cfg.webhook_ctx, &call, 1, &res);
	}
}

/* Frees the configurations replaced while a note of theirs was being sent
 * (mu held; nothing else uses them). */
static void
free_retired(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->nt.n_retired; i++)
		canary_cfg_free(r->nt.retired[i]);
	free(r->nt.retired);
	r->nt.retired = NULL;
	r->nt.n_retired = 0;
}

/* The notifier thread: sends the queued notifications one at a time, in
 * order, until told to stop with none left.  It wakes the runner when the
 * queue runs dry (stop_when_done waits for that) and with each result. */
static void *
notifier_main(void *arg)
{
	struct runner *r = arg;
	uint64_t failed = 0;		/* the batch of post-rollout hooks that failed */

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct note n;

		while (r->nt.n == 0 && !r->nt.stop)
			pthread_cond_wait(&r->nt.cond, &r->mu);
		if (r->nt.drop && r->nt.n > 0) {	/* runner_drop_notes */
			r->nt.dropped += r->nt.n;
			r->nt.n = 0;
			pthread_cond_broadcast(&r->cond);
			continue;
		}
		if (r->nt.n == 0)
			break;
		n = r->nt.notes[r->nt.head];
		r->nt.head = (r->nt.head + 1) % r->nt.cap;
		r->nt.n--;
		/* A note of a configuration replaced since is dropped. */
		if (n.gen == n.c->ctl.gen) {
			r->nt.busy = true;
			r->nt.sending = n.cfg;
			pthread_mutex_unlock(&r->mu);
			note_send(r, &n, &failed);
			pthread_mutex_lock(&r->mu);
			r->nt.busy = false;
			r->nt.sending = NULL;
			free_retired(r);
		}
		if (r->nt.n == 0)	/* the runner may wait for this */
			pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Whether the notifier has work left or results wait (mu held).  Without
 * a notifier (it could not start) nothing is ever sent: nothing waits. */
static bool
notes_pending(const struct runner *r)
{
	return r->nt.running && (r->nt.n > 0 || r->nt.busy || r->nt.res_n > 0);
}

/* Publishes what the notifier handed back (runner thread, mu held on entry
 * and exit, released while publishing). */
static void
take_results(struct runner *r, int64_t now)
{
	struct nres *res = r->nt.res;
	size_t n = r->nt.res_n, cap = r->nt.res_cap, i;

	r->nt.res = NULL;
	r->nt.res_n = r->nt.res_cap = 0;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < n; i++) {
		if (res[i].gen != res[i].c->ctl.gen)
			continue;	/* for a configuration replaced since */
		if (res[i].post)
			post_answer(r, &res[i]);
		else
			publish_msg(r, res[i].c, SEV_WARNING, now, "%s", res[i].msg);
	}
	pthread_mutex_lock(&r->mu);
	if (r->nt.res == NULL) {		/* keep the larger buffer */
		r->nt.res = res;
		r->nt.res_cap = cap;
	} else {
		free(res);
	}
}

/* Records one event: history (under mu), journal, sink, cluster, hooks. */
static void
publish_event(struct runner *r, struct rcan *c, const struct mach_event *e, int64_t t)
{
	struct journal_rec *rec = &r->tick.rec;
	char msg[MACH_MSG_MAX];
	size_t i;

	clean(msg, sizeof msg, e->message);
	pthread_mutex_lock(&r->mu);
	hist_event(c, t, e->sev, msg, e->actor, true);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.observer)
		return;
	if (r->cfg.store != NULL || r->cfg.sink != NULL) {
		rec_status(rec, c, t);
		rec->kind = REC_EVENT;
		rec->severity = e->sev;
		snprintf(rec->type, sizeof rec->type, "%s", severity_name(e->sev));
		snprintf(rec->reason, sizeof rec->reason, "%s", e->reason);
		snprintf(rec->message, sizeof rec->message, "%s", msg);
		clean(rec->actor, sizeof rec->actor, e->actor);
		journal(r, c, rec);
	}
	if (r->cfg.cluster->emit_event != NULL)
		note_push(r, c, -1, e, t, msg);
	for (i = 0; r->cfg.webhook != NULL && i < c->cfg->n_hooks; i++)
		if (c->cfg->hooks[i].type == HOOK_EVENT)
			note_push(r, c, (int)i, e, t, msg);
}

static void
publish_msg(struct runner *r, struct rcan *c, enum severity sev, int64_t t, const char *fmt, ...)
{
	struct mach_event e;
	va_list ap;

	memset(&e, 0, sizeof e);
	e.sev = sev;
	snprintf(e.reason, sizeof e.reason, "Engine");
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof e.message, fmt, ap);
	va_end(ap);
	publish_event(r, c, &e, t);
}

static void
publish_check(struct runner *r, struct rcan *c, const struct mach_check *ch, int64_t t)
{
	const struct metric_cfg *m = &c->cfg->metrics[ch->metric];
	struct journal_rec *rec = &r->tick.rec;

	pthread_mutex_lock(&r->mu);
	hist_point(c, ch->metric, t, ch);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.store == NULL && r->cfg.sink == NULL)
		return;
	rec_status(rec, c, t);
	rec->kind = REC_CHECK;
	snprintf(rec->metric, sizeof rec->metric, "%s", m->name);
	rec->value = ch->value;
	rec->has_value = ch->has_value;
	rec->has_min = m->has_min;
	rec->has_max = m->has_max;
	rec->min = m->min;
	rec->max = m->max;
	rec->result = ch->result;
	journal(r, c, rec);
}

/* Queues an alert for every analysis.alerts entry that wants its severity
 * (without entries nothing is sent: perch has no global notifier). */
static void
queue_alert(struct runner *r, struct rcan *c, const struct mach_alert *a, int64_t t)
{
	size_t j;

	if (r->cfg.alert == NULL || r->cfg.observer)
		return;
	for (j = 0; j < c->cfg->n_alerts; j++) {
		struct note n;

		if (!machine_alert_wanted(c->cfg->alerts[j].severity, a->sev))
			continue;
		note_init(&n, c, -1, c->st.phase, t);
		n.alert = (int)j;
		n.meta = a->metadata;
		n.asev = a->sev;
		clean(n.msg, sizeof n.msg, a->message);
		note_queue(r, &n);
	}
}

/* ---- gathering observations (runner thread, no lock) ------------------- */

static void
grow_scratch(struct runner *r, const struct canary_cfg *c)
{
	if (c->n_hooks > r->tick.cap_calls) {
		r->tick.calls = xreallocarray(r->tick.calls, c->n_hooks, sizeof *r->tick.calls);
		r->tick.results = xreallocarray(r->tick.results, c->n_hooks, sizeof *r->tick.results);
		r->tick.cap_calls = c->n_hooks;
	}
	if (2 * c->n_metrics > r->tick.cap_mq) {
		r->tick.mq = xreallocarray(r->tick.mq, 2 * c->n_metrics, sizeof *r->tick.mq);
		r->tick.mv = xreallocarray(r->tick.mv, 2 * c->n_metrics, sizeof *r->tick.mv);
		r->tick.cap_mq = 2 * c->n_metrics;
	}
}

/* Calls the hooks of type t into r->tick.obs.hooks.  Gating types stop at the
 * first failure (webhook_ops contract); rollback hooks are asked one by one
 * until one says "roll back". */
static void
gather_hooks(struct runner *r, struct rcan *c, enum hook_type t, enum phase phase)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t idx[64], n = 0, called, i;

	for (i = 0; i < cfg->n_hooks && n < 64; i++) {
		if (cfg->hooks[i].type != t)
			continue;
		r->tick.calls[n] = (struct hook_call){
			.canary = cfg, .hook = &cfg->hooks[i], .phase = phase,
			.checksum = c->st.last_applied,
		};
		idx[n++] = i;
	}
	if (r->cfg.webhook == NULL) {
		for (i = 0; i < n; i++) {
			r->tick.obs.hooks[idx[i]].called = true;
			r->tick.obs.hooks[idx[i]].r.ok = false;
			snprintf(r->tick.obs.hooks[idx[i]].r.msg, sizeof r->tick.obs.hooks[idx[i]].r.msg,
			    "no webhook client");
		}
		r->tick.obs.hooks_have |= 1u << t;
		return;
	}
	if (t == HOOK_ROLLBACK) {
		for (called = 0; called < n; called++) {
			r->cfg.webhook->call(r->cfg.webhook_ctx, &r->tick.calls[called], 1, &r->tick.results[called]);
			if (r->tick.results[called].ok) {
				called++;
				break;
			}
		}
	} else {
		called = r->cfg.webhook->call(r->cfg.webhook_ctx, r->tick.calls, n, r->tick.results);
	}
	for (i = 0; i < called && i < n; i++) {
		struct rhook *h = &c->hist.hooks[idx[i]];

		r->tick.obs.hooks[idx[i]].called = true;
		r->tick.obs.hooks[idx[i]].r = r->tick.results[i];
		pthread_mutex_lock(&r->mu);
		h->last = r->tick.results[i].ok ? CHECK_PASS : CHECK_FAIL;
		sanitize(h->msg, sizeof h->msg, r->tick.results[i].msg, strlen(r->tick.results[i].msg));
		pthread_mutex_unlock(&r->mu);
	}
	r->tick.obs.hooks_have |= 1u << t;
}

static void
gather_metrics(struct runner *r, struct rcan *c, int64_t now)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t i, n = 0, gone;
	int st;

	for (i = 0; i < cfg->n_metrics; i++) {
		const struct metric_cfg *m = &cfg->metrics[i];

		r->tick.mq[n++] = (struct metric_query){ .canary = cfg, .metric = m, .query = m->query,
			.at_ms = now };
		r->tick.obs.has_volume[i] = machine_wants_volume(cfg, m);
		if (r->tick.obs.has_volume[i])
			r->tick.mq[n++] = (struct metric_query){ .canary = cfg, .metric = m, .volume = true,
				.query = m->volume_query, .at_ms = now };
	}
	memset(r->tick.mv, 0, n * sizeof *r->tick.mv);
	st = r->cfg.metrics->eval(r->cfg.metrics_ctx, r->tick.mq, n, r->tick.mv);
	for (i = 0, gone = 0; i < n; i++)
		gone += r->tick.mv[i].unavailable;
	/* Down when nothing answered; degraded when some queries did not. */
	set_health(r, &r->health.metrics_ok, st == ST_OK && (gone == 0 || gone < n));
	set_health(r, &r->health.metrics_degraded, st == ST_OK && gone > 0 && gone < n);
	for (i = 0, n = 0; i < cfg->n_metrics; i++) {
		r->tick.obs.values[i] = r->tick.mv[n++];
		if (st != ST_OK) {
			r->tick.obs.values[i].result = CHECK_ERROR;
			snprintf(r->tick.obs.values[i].err, sizeof r->tick.obs.values[i].err, "metrics backend: %s",
			    status_text(st));
		}
		if (r->tick.obs.has_volume[i])
			r->tick.obs.volumes[i] = r->tick.mv[n++];
	}
}

static void
gather_readiness(struct runner *r, struct rcan *c, enum workload w, int64_t now)
{
	struct readiness *out = w == WL_PRIMARY ? &r->tick.obs.primary : &r->tick.obs.canary;
	int st, i;

	memset(out, 0, sizeof *out);
	out->retriable = true;
	st = r->cfg.cluster->readiness(r->cfg.cluster_ctx, c->cfg, w, now, out);
	set_health(r, &r->health.api_ok, st == ST_OK);
	if (st != ST_OK) {
		out->ready = false;
		out->retriable = true;
		if (out->msg[0] == '\0')
			snprintf(out->msg, sizeof out->msg, "%s", status_text(st));
	}
	i = w == WL_PRIMARY ? 0 : 1;
	pthread_mutex_lock(&r->mu);
	if (!c->seen.ready_known[i] || c->seen.ready[i].ready != out->ready)
		r->pub.version++;	/* the keys that apply may change */
	c->seen.ready[i] = *out;
	c->seen.ready_known[i] = true;
	pthread_mutex_unlock(&r->mu);
}

static void
gather(struct runner *r, struct rcan *c, enum need need, enum hook_type ht, int64_t now)
{
	struct obs *o = &r->tick.obs;

	switch (need) {
	case NEED_INIT:
		o->init_status = r->cfg.cluster->initialize(r->cfg.cluster_ctx, c->cfg, o->init_err);
		set_health(r, &r->health.api_ok, o->init_status == ST_OK || o->init_status == ST_UNSUPPORTED);
		c->run.unsupported = o->init_status == ST_UNSUPPORTED;
		break;
	case NEED_REVISION:
		o->rev_status = r->cfg.cluster->revision(r->cfg.cluster_ctx, c->cfg, &o->rev, o->rev_err);
		set_health(r, &r->health.api_ok, o->rev_status == ST_OK);
		/* Read and written on this thread only (apply names the
		 * status's revisions with it). */
		if (o->rev_status == ST_OK && o->rev.image[0]) {
			sanitize(c->run.rev_image, sizeof c->run.rev_image, o->rev.image, strlen(o->rev.image));
			snprintf(c->run.rev_id, sizeof c->run.rev_id, "%s", o->rev.id);
		}
		break;
	case NEED_PRIMARY:
		gather_readiness(r, c, WL_PRIMARY, now);
		break;
	case NEED_CANARY:
		gather_readiness(r, c, WL_CANARY, now);
		break;
	case NEED_HOOKS:
		/* reference §5.1: the current phase for confirm-rollout and
		 * rollback hooks, Progressing for the others. */
		gather_hooks(r, c, ht, ht == HOOK_CONFIRM_ROLLOUT || ht == HOOK_ROLLBACK ?
		    c->st.phase : PHASE_PROGRESSING);
		return;
	case NEED_METRICS:
		gather_metrics(r, c, now);
		break;
	case NEED_PROVIDERS:
		o->providers_status = ST_UNSUPPORTED;
		if (r->cfg.metrics->check != NULL) {
			o->providers_status = r->cfg.metrics->check(r->cfg.metrics_ctx, c->cfg,
			    o->providers_err);
			set_health(r, &r->health.metrics_ok, o->providers_status == ST_OK);
		}
		break;
	default:
		break;
	}
	o->have |= 1u << need;
}

/* ---- saving and acting ------------------------------------------------- */

/* Whether two statuses differ in anything but bookkeeping. */
static bool
status_changed(const struct canary_status *a, const struct canary_status *b)
{
	struct canary_status x = *a, y = *b;

	x.next_tick_ms = y.next_tick_ms = 0;
	x.last_transition_ms = y.last_transition_ms = 0;
	x.seq = y.seq = 0;
	return memcmp(&x, &y, sizeof x) != 0;
}

/* Saves c's status (when there is a store and we control it). */
static int
save(struct runner *r, struct rcan *c, const struct canary_status *st, char *err)
{
	int rc;

	err[0] = '\0';
	if (r->cfg.store == NULL || r->cfg.observer || !c->ctl.control)
		return ST_OK;
	rc = r->cfg.store->save(r->cfg.store_ctx, c->key, st, err);
	if (rc != ST_OK)
		c->run.store_failed = true;		/* the exit status says so */
	return rc;
}

static void
action_failed(struct runner *r, struct rcan *c, int64_t now, const char *what, int st,
    const char *err)
{
	publish_msg(r, c, SEV_ERROR, now, "%s %s failed: %s", what, c->key,
	    err && err[0] ? err : status_text(st));
	c->run.reconcile = true;
}

static void
do_promote(struct runner *r, struct rcan *c, int64_t now)
{
	char err[ERRMSG_MAX] = "";
	struct canary_status st;
	int rc;

	if (!machine_promote_pending(&c->st))
		return;		/* the saved marker says it is done */
	rc = r->cfg.cluster->promote(r->cfg.cluster_ctx, c->cfg, err);
	if (rc != ST_OK) {
		action_failed(r, c, now, "promotion of", rc, err);
		return;
	}
	st = c->st;
	memcpy(st.last_promoted, st.last_applied, sizeof st.last_promoted);
	memcpy(st.promoted_name, st.applied_name, sizeof st.promoted_name);
	st.seq++;
	if (save(r, c, &st, err) != ST_OK)
		publish_msg(r, c, SEV_ERROR, now, "cannot save state of %s: %s", c->key, err);
	pthread_mutex_lock(&r->mu);
	c->st = st;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

/* Post-rollout hooks (reference §5.1: their answers change nothing) are
 * queued like notifications, one call each, for the notifier thread: slow
 * ones hold up neither the ticks nor the commands, and their answers come
 * back to this thread (post_answer).  Without a webhook client each is
 * reported as failed at once. */
static void
post_hooks(struct runner *r, struct rcan *c, enum phase phase, int64_t now)
{
	size_t i;

	if (r->cfg.webhook != NULL) {
		r->tick.post_batch++;
		for (i = 0; i < c->cfg->n_hooks; i++) {
			struct note n;

			if (c->cfg->hooks[i].type != HOOK_POST_ROLLOUT)
				continue;
			note_init(&n, c, (int)i, phase, now);
			n.post = true;
			n.batch = r->tick.post_batch;
			note_queue(r, &n);
		}
		return;
	}
	obs_reset(&r->tick.obs, c->cfg->n_hooks, c->cfg->n_metrics);
	gather_hooks(r, c, HOOK_POST_ROLLOUT, phase);
	memset(&r->tick.post, 0, sizeof r->tick.post);
	r->tick.post.st = c->st;
	machine_post_hook_events(c->cfg, r->tick.obs.hooks, &r->tick.post);
	for (i = 0; i < r->tick.post.n_ev; i++)
		publish_event(r, c, &r->tick.post.ev[i], now);
}

/* c cannot be driven (its configuration, or a cluster without the means
 * its provider needs): said once, as an Error event and in its reason, and
 * never acted on again; a headless run ends with it as a failure instead
 * of warning at every tick. */
static void
refuse_canary(struct runner *r, struct rcan *c, int64_t now, const char *why)
{
	char msg[ERRMSG_MAX + 64];

	if (c->ctl.refused)
		return;
	snprintf(msg, sizeof msg, "cannot drive %s: %s", c->key, why);
	pthread_mutex_lock(&r->mu);
	c->ctl.refused = true;
	c->run.reconcile = false;
	sanitize(c->ctl.err, sizeof c->ctl.err, msg, strlen(msg));
	heap_remove(r, c);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	log_error("%s", msg);
	publish_msg(r, c, SEV_ERROR, now, "%s", msg);
}

static void
execute(struct runner *r, struct rcan *c, const struct action *a, int64_t now)
{
	const struct cluster_ops *cl = r->cfg.cluster;
	char err[ERRMSG_MAX] = "";
	int rc;

	if (c->ctl.refused)
		return;		/* an earlier action found it cannot be driven */
	switch (a->kind) {
	case ACT_SET_ROUTES:
		rc = cl->set_routes(r->cfg.cluster_ctx, c->cfg, &a->routes, err);
		if (rc == ST_UNSUPPORTED)
			refuse_canary(r, c, now, err[0] ? err : status_text(rc));
		else if (rc != ST_OK)
			action_failed(r, c, now, "setting routes of", rc, err);
		break;
	case ACT_SCALE_UP:
	case ACT_SCALE_DOWN:
		rc = cl->scale(r->cfg.cluster_ctx, c->cfg, a->kind == ACT_SCALE_UP, err);
		if (rc != ST_OK) {
			/* Flagger's text (reference §7.2); retried by reconcile(). */
			publish_msg(r, c, SEV_WARNING, now, "scaling %s canary %s %s.%s failed: %s",
			    a->kind == ACT_SCALE_UP ? "up" : "down",
			    c->cfg->target_kind ? c->cfg->target_kind : "Deployment",
			    c->cfg->target ? c->cfg->target : "", c->cfg->ns ? c->cfg->ns : "",
			    err[0] ? err : status_text(rc));
			c->run.reconcile = true;
		}
		break;
	case ACT_PROMOTE:
		do_promote(r, c, now);
		break;
	case ACT_POST_HOOKS:
		post_hooks(r, c, a->hook_phase, now);
		break;
	}
}

/* Re-applies what the saved status implies (after a restart or a failed
 * action): absolute routes and the desired scale.  Idempotent. */
static void
reconcile(struct runner *r, struct rcan *c, int64_t now)
{
	struct action a;

	c->run.reconcile = false;
	if (c->st.phase == PHASE_INITIALIZING)
		return;
	memset(&a, 0, sizeof a);
	a.kind = ACT_SET_ROUTES;
	a.routes = machine_routes(&c->st);
	execute(r, c, &a, now);
	a.kind = machine_scaled_up(&c->st) ? ACT_SCALE_UP : ACT_SCALE_DOWN;
	execute(r, c, &a, now);
}

static bool
run_active(enum phase p)
{
	return p != PHASE_INITIALIZING && p != PHASE_INITIALIZED && !phase_is_terminal(p);
}

/* What the screens read of a new status, set the same way for every
 * canary so that the controller's screens and its watchers' (which read the
 * saved status) show the same: whether it is held, what it waits for, the
 * names of its revisions, when the current revision's run began and how
 * the one before ended. */
static void
for_people(const struct rcan *c, const struct tick_out *out, struct canary_status *st,
    int64_t now)
{
	const struct canary_status *was = &c->st;

	if (!out->refused) {
		st->held = out->held && !phase_is_terminal(st->phase);
		st->gate = out->gate;
	}
	if (c->run.rev_id[0] && strcmp(c->run.rev_id, st->last_applied) == 0)
		snprintf(st->applied_name, sizeof st->applied_name, "%s", c->run.rev_image);
	else if (strcmp(was->last_applied, st->last_applied) != 0)
		st->applied_name[0] = '\0';	/* a revision whose image was not read */
	if (c->run.rev_id[0] && strcmp(c->run.rev_id, st->last_promoted) == 0)
		snprintf(st->promoted_name, sizeof st->promoted_name, "%s", c->run.rev_image);
	if (run_active(st->phase) && (!run_active(was->phase) ||
	    strcmp(was->last_applied, st->last_applied) != 0))
		st->run_since_ms = now;		/* a new run: its checks start here */
	if (phase_is_terminal(st->phase) && !phase_is_terminal(was->phase)) {
		st->last_phase = st->phase;
		st->last_end_ms = now;
		snprintf(st->last_reason, sizeof st->last_reason, "%s", st->reason);
	}
}

/* Saves, publishes and executes a tick's or a command's result (see the
 * top comment for the order).  false: the status could not be saved and
 * nothing was done (err says why). */
static bool
apply(struct runner *r, struct rcan *c, struct tick_out *out, int64_t now, char *err)
{
	struct canary_status st = out->st;
	size_t i;

	grow_scratch(r, c->cfg);
	for_people(c, out, &st, now);
	if (status_changed(&c->st, &st) || out->n_acts > 0) {
		st.seq = c->st.seq + 1;
		st.last_transition_ms = now;
		if (save(r, c, &st, err) != ST_OK) {
			publish_msg(r, c, SEV_ERROR, now,
			    "cannot save state of %s: %s; the step is retried at the next interval",
			    c->key, err);
			pthread_mutex_lock(&r->mu);
			c->st.next_tick_ms = now + interval_ms(c->cfg);
			pthread_mutex_unlock(&r->mu);
			return false;
		}
	}
	pthread_mutex_lock(&r->mu);
	if (c->st.phase != st.phase || strcmp(c->st.last_applied, st.last_applied) != 0)
		c->seen.ready_known[0] = c->seen.ready_known[1] = false;
	c->st = st;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < out->n_ev; i++)
		publish_event(r, c, &out->ev[i], now);
	for (i = 0; i < out->n_checks; i++)
		publish_check(r, c, &out->checks[i], now);
	for (i = 0; i < out->n_alerts; i++)
		queue_alert(r, c, &out->alerts[i], now);
	for (i = 0; i < out->n_acts; i++)
		execute(r, c, &out->acts[i], now);
	return true;
}

/* Renews c's control lease.  false: someone else took it, and c is
 * read-only from now on (runner thread, no lock held). */
static bool
renew(struct runner *r, struct rcan *c)
{
	if (r->cfg.store == NULL || r->cfg.store->renew == NULL || !c->ctl.control)
		return c->ctl.control;
	if (r->cfg.store->renew(r->cfg.store_ctx, c->key) != ST_LOCKED)
		return true;
	pthread_mutex_lock(&r->mu);
	c->ctl.control = false;
	c->ctl.readonly = true;
	snprintf(c->ctl.holder, sizeof c->ctl.holder, "another controller");
	r->watch.observing = true;
	heap_remove(r, c);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	return false;
}

/* Leases are renewed about every RENEW_MS of clock time, whatever the
 * canaries' intervals. */
static void
renew_all(struct runner *r)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++)
		renew(r, r->tab.cs[i]);
}

/* Whether someone else waits for the engine: a command, or another
 * canary's tick that is due (c is the one running, or NULL).  Runner
 * thread; the heap only changes on this thread. */
static bool
others_waiting(struct runner *r, const struct rcan *c, int64_t now)
{
	size_t i;
	bool cmd;

	pthread_mutex_lock(&r->mu);
	cmd = r->inbox.qn > 0 || r->life.stopping;	/* stopping: the tick is abandoned */
	pthread_mutex_unlock(&r->mu);
	if (cmd)
		return true;
	/* The earliest deadline other than c's: the top, or a child of it. */
	for (i = 0; i < 3 && i < r->sched.hn; i++) {
		if (r->sched.heap[i].c != c && r->sched.heap[i].due <= now)
			return true;
		if (i == 0 && r->sched.heap[0].c != c)
			break;		/* the top is not c: its children come later */
	}
	return false;
}

/* Keeps a tick's observations to resume it later (see run_tick). */
static void
suspend(struct rcan *c, const struct obs *o, int64_t at)
{
	if (c->run.resume == NULL) {
		c->run.resume = xmalloc(sizeof *c->run.resume);
		obs_init(c->run.resume);
	}
	obs_copy(c->run.resume, o, c->cfg->n_hooks, c->cfg->n_metrics);
	c->run.resume_at = at;
	c->run.suspended = true;
}

/* The randomness of c's next tick (tick_in.entropy): the runner's seed
 * mixed with the canary's key and status sequence, so a replayed tick
 * gets the same value and every saved status moves it on. */
static uint64_t
tick_entropy(const struct runner *r, const struct rcan *c)
{
	uint64_t h = r->cfg.seed ^ 0xCBF29CE484222325ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)c->key; *p; p++)
		h = (h ^ *p) * 0x100000001B3ULL;
	return h ^ (c->st.seq * 0x9E3779B97F4A7C15ULL);
}

/* One tick of one canary (runner thread, no lock held).
 *
 * A slow backend must not stall the other canaries beyond one call: before
 * each call after the first, when this round has taken time and another
 * canary is due (or a command waits), the tick is suspended with what it
 * has gathered and resumed after them, at its own clock.  The tick is
 * deterministic in (status, observations, time), so it replays to the same
 * point; each round makes at least one call, so it always completes. */
static void
run_tick(struct runner *r, struct rcan *c, int64_t now)
{
	int64_t at = c->run.suspended ? c->run.resume_at : now;
	struct tick_in in = { .cfg = c->cfg, .st = &c->st, .obs = &r->tick.obs, .now_ms = at,
		.confirm = r->cfg.confirm, .entropy = tick_entropy(r, c) };
	bool was_idle = c->st.phase == PHASE_INITIALIZED || phase_is_terminal(c->st.phase);
	bool called = false;
	char err[ERRMSG_MAX];
	enum need need;
	int guard;

	/* The lease was renewed when the tick began; a resumed round does
	 * not renew again (with the cluster store that is an API call). */
	if (!c->run.suspended && !renew(r, c))
		return;
	if (c->run.reconcile)
		reconcile(r, c, now);
	if (c->ctl.refused)
		return;
	grow_scratch(r, c->cfg);
	if (c->run.suspended)
		obs_copy(&r->tick.obs, c->run.resume, c->cfg->n_hooks, c->cfg->n_metrics);
	else
		obs_reset(&r->tick.obs, c->cfg->n_hooks, c->cfg->n_metrics);
	c->run.suspended = false;
	for (guard = 0; guard < 32; guard++) {
		need = machine_tick(&in, &r->tick.out);
		if (need == NEED_NONE)
			break;
		if (called && now_ms(r) > now && others_waiting(r, c, now_ms(r))) {
			suspend(c, &r->tick.obs, at);
			return;
		}
		gather(r, c, need, r->tick.out.need_hook, at);
		called = true;
	}
	c->run.ticked = true;
	if (c->run.unsupported) {
		refuse_canary(r, c, at, r->tick.obs.init_err[0] ? r->tick.obs.init_err : "not supported");
		return;
	}
	if (need != NEED_NONE)
		return;
	if (apply(r, c, &r->tick.out, at, err))
		c->run.idle_checked = was_idle && c->st.phase == r->tick.out.st.phase;
}

/* ---- observing the store (watch mode, canaries held elsewhere) ---------- */

static uint64_t
tail_mark(const struct journal_rec *recs, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ n;
	const unsigned char *p;

	if (n == 0)
		return h;
	h ^= (uint64_t)recs[n - 1].time_ms;
	h *= 1099511628211ULL;
	for (p = (const unsigned char *)recs[n - 1].message; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (p = (const unsigned char *)recs[n - 1].metric; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* Rebuilds c's history from journal records.  Caller holds mu. */
static void
history_from_journal(struct rcan *c, const struct journal_rec *recs, size_t n)
{
	size_t i, m;

	hist_clear(c);
	for (i = 0; i < n; i++) {
		const struct journal_rec *rec = &recs[i];

		if (rec->kind == REC_EVENT) {
			hist_event(c, rec->time_ms, rec->severity, rec->message, rec->actor, false);
			continue;
		}
		for (m = 0; m < c->cfg->n_metrics; m++) {
			if (strcmp(c->cfg->metrics[m].name, rec->metric) == 0) {
				struct mach_check ch = { .metric = m, .result = rec->result,
					.has_value = rec->has_value, .value = rec->value };

				hist_point(c, m, rec->time_ms, &ch);
				break;
			}
		}
	}
}

static void
refresh(struct runner *r, struct rcan *c, struct journal_rec *recs)
{
	const struct store_ops *s = r->cfg.store;
	struct heartbeat hb;
	bool has_hb;
	struct canary_status st;
	char err[ERRMSG_MAX] = "", who[sizeof c->ctl.holder] = "", clean[sizeof c->ctl.holder] = "";
	size_t n = 0;
	uint64_t mark;
	int rc;

	if (s == NULL)
		return;
	memset(&st, 0, sizeof st);
	rc = s->load(r->cfg.store_ctx, c->key, &st, err);
	if (s->tail != NULL)
		n = s->tail(r->cfg.store_ctx, c->key, recs, HIST_EVENTS);
	mark = tail_mark(recs, n);
	/* An observer names who controls the canary (the snapshot's holder). */
	if (r->cfg.observer && s->holder != NULL &&
	    s->holder(r->cfg.store_ctx, c->key, who, sizeof who) == ST_OK)
		sanitize(clean, sizeof clean, who, strlen(who));
	memset(&hb, 0, sizeof hb);
	has_hb = r->cfg.observer && r->cfg.heartbeat != NULL &&
	    r->cfg.heartbeat->last(r->cfg.heartbeat_ctx, c->key, &hb) == ST_OK;
	pthread_mutex_lock(&r->mu);
	c->seen.hb = hb;
	c->seen.has_hb = has_hb;
	if (r->cfg.observer && strcmp(clean, c->ctl.holder) != 0) {
		memcpy(c->ctl.holder, clean, sizeof c->ctl.holder);
		r->pub.version++;
	}
	if (rc == ST_CORRUPT && !c->ctl.corrupt) {
		c->ctl.corrupt = true;
		sanitize(c->ctl.err, sizeof c->ctl.err, err, strlen(err));
		r->pub.version++;
	} else if (rc == ST_OK && (st.seq != c->st.seq || st.phase != c->st.phase ||
	    mark != c->run.journal_mark)) {
		c->ctl.corrupt = false;
		c->st = st;
		c->run.journal_mark = mark;
		history_from_journal(c, recs, n);
		r->pub.version++;
	}
	pthread_mutex_unlock(&r->mu);
}

static struct canary_cfg *
stub_cfg(const char *key)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);
	const char *slash = strchr(key, '/');

	c->ns = slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup("");
	c->name = xstrdup(slash ? slash + 1 : key);
	c->target = xstrdup(c->name);
	c->interval_s = 60;
	c->threshold = 1;
	c->max_weight = 100;
	return c;
}

/* Watch mode: picks up canaries that appeared in the store. */
static void
observe_list(struct runner *r)
{
	const struct store_ops *s = r->cfg.store;
	char **names = NULL;
	size_t n, i;

	if (s == NULL || s->list == NULL)
		return;
	n = s->list(r->cfg.store_ctx, &names);
	for (i = 0; i < n; i++) {
		struct canary_cfg *cfg = NULL;
		char err[ERRMSG_MAX];
		struct rcan *c;

		if (find(r, names[i]) == NULL) {
			if (s->load_spec == NULL || s->load_spec(r->cfg.store_ctx, names[i], &cfg, err) != ST_OK)
				cfg = stub_cfg(names[i]);
			c = rcan_new(cfg, names[i]);
			c->ctl.control = false;
			c->ctl.readonly = true;
			/* Shown with its status from the first snapshot on (its
			 * history comes with the next refresh). */
			if (s->load(r->cfg.store_ctx, names[i], &c->st, err) != ST_OK)
				memset(&c->st, 0, sizeof c->st);
			pthread_mutex_lock(&r->mu);
			add_canary(r, c);
			r->pub.version++;
			pthread_mutex_unlock(&r->mu);
		}
		free(names[i]);
	}
	free(names);
}

/* Whether the canaries' controllers are alive, from their heartbeats:
 * lost when any missed HEARTBEAT_MISSED beats (the longest silence is
 * shown), stopped when every one exited cleanly, live when they beat (the
 * header shows their backends' health).  Bumps the version when what the
 * screens show of it changes (the silence counts in seconds).  mu held. */
static void
liveness(struct runner *r)
{
	enum ctl_state ctl = CTL_UNKNOWN;
	int64_t silent = 0;
	bool api = true, met = true, slow = false, live = false, stopped = false;
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		if (!c->seen.has_hb)
			continue;
		if (c->seen.hb.context[0] != '\0' && strcmp(r->health.ctl_context, c->seen.hb.context) != 0) {
			snprintf(r->health.ctl_context, sizeof r->health.ctl_context, "%s", c->seen.hb.context);
			r->pub.version++;
		}
		if (c->seen.hb.stopped) {
			stopped = true;
			silent = c->seen.hb.age_ms > silent ? c->seen.hb.age_ms : silent;
		} else if (c->seen.hb.age_ms > HEARTBEAT_MISSED * c->seen.hb.every_ms) {
			if (ctl != CTL_LOST)
				silent = 0;
			ctl = CTL_LOST;
			silent = c->seen.hb.age_ms > silent ? c->seen.hb.age_ms : silent;
		} else {
			live = true;
			api = api && c->seen.hb.api_ok;
			met = met && c->seen.hb.metrics_ok;
			slow = slow || c->seen.hb.metrics_degraded;
		}
	}
	if (ctl != CTL_LOST)
		ctl = live ? CTL_LIVE : stopped ? CTL_STOPPED : CTL_UNKNOWN;
	if (ctl == CTL_LIVE || ctl == CTL_UNKNOWN)
		silent = 0;
	if (ctl != r->health.ctl || silent / 1000 != r->health.ctl_silent_ms / 1000 || api != r->health.api_ok ||
	    met != r->health.metrics_ok || slow != r->health.metrics_degraded)
		r->pub.version++;
	r->health.ctl = ctl;
	r->health.ctl_silent_ms = silent;
	r->health.api_ok = api;
	r->health.metrics_ok = met;
	r->health.metrics_degraded = slow;
}

static void first_tick(struct runner *r, struct rcan *c, int64_t now);

/* The canary's saved status, now that its lock is ours (retake): ST_OK
 * with st filled (a fresh status when there is none), or an error, the
 * lock given back. */
static int
retake_load(struct runner *r, struct rcan *c, struct canary_status *st, int64_t now, char *err)
{
	const struct store_ops *s = r->cfg.store;
	int rc = s->load(r->cfg.store_ctx, c->key, st, err);

	if (rc == ST_NOTFOUND) {
		machine_status_init(st, now);
		return ST_OK;
	}
	if (rc != ST_OK)
		s->release(r->cfg.store_ctx, c->key);
	return rc;
}

/* An interactive run left read-only by another controller tries again
 * (every RETAKE_MS): once that controller is gone (its lock dropped, its
 * lease released or expired, or its process dead on this host), the
 * canary is taken under control as at the start, from its saved status.
 * Headless runs and observers never do: they report the holder. */
static void
retake(struct runner *r, struct rcan *c, int64_t now)
{
	const struct store_ops *s = r->cfg.store;
	char holder[96] = "", err[ERRMSG_MAX] = "", msg[ERRMSG_MAX + 200];
	struct canary_status st;
	int rc;

	if (s == NULL || r->cfg.observer || r->cfg.stop_when_done || c->ctl.removed || c->ctl.corrupt ||
	    now < c->run.retake_at)
		return;
	c->run.retake_at = now + RETAKE_MS;
	rc = s->acquire(r->cfg.store_ctx, c->key, r->actor, holder, sizeof holder, err);
	if (rc == ST_OK)
		rc = retake_load(r, c, &st, now, err);
	if (rc != ST_OK) {
		if (rc != ST_LOCKED)
			log_warn("%s: still read-only: %s", c->key, err[0] ? err : status_text(rc));
		return;
	}
	snprintf(msg, sizeof msg, "%.127s: %.95s is gone; taken under control", c->key,
	    c->ctl.holder[0] ? c->ctl.holder : "its controller");
	pthread_mutex_lock(&r->mu);
	c->st = st;
	c->ctl.control = true;
	c->ctl.readonly = false;
	c->ctl.holder[0] = '\0';
	c->run.reconcile = st.phase != PHASE_INITIALIZING;	/* re-apply what it implies */
	first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (s->save_spec != NULL && s->save_spec(r->cfg.store_ctx, c->key, c->cfg, err) != ST_OK)
		log_warn("%s: %s", c->key, err);
	log_info("%s", msg);
	set_status_msg(r, c->key, msg);
}

static void
observe(struct runner *r)
{
	int64_t now = now_ms(r);
	size_t i;

	if (r->watch.tail == NULL)
		r->watch.tail = xcalloc(HIST_EVENTS, sizeof *r->watch.tail);
	if (r->cfg.observer)
		observe_list(r);
	for (i = 0; i < r->tab.n; i++) {
		if (r->tab.cs[i]->ctl.readonly)
			retake(r, r->tab.cs[i], now);
		if (r->tab.cs[i]->ctl.readonly)
			refresh(r, r->tab.cs[i], r->watch.tail);
	}
	if (r->cfg.observer) {
		pthread_mutex_lock(&r->mu);
		liveness(r);
		pthread_mutex_unlock(&r->mu);
	}
}

/* ---- commands ---------------------------------------------------------- */

/* The facts commands on c are judged on (engine/command.h): its status,
 * who controls it, the gate its last tick stopped at, and the readiness
 * last observed (or, for a command, observed just now: fresh).  The
 * strings are sanitized: they reach the screen.  mu held, or the runner
 * thread. */
static void
canary_facts(const struct runner *r, const struct rcan *c, const struct readiness *primary,
    const struct readiness *canary, const char *target_rev, struct cmd_facts *f)
{
	char tmp[sizeof f->canary_why];

	machine_facts(c->cfg, &c->st, r->cfg.confirm, primary, canary, target_rev, f);
	f->watch = r->cfg.observer;
	f->corrupt = c->ctl.corrupt;
	f->deleted = c->ctl.removed;
	f->refused = c->ctl.refused;
	sanitize(f->refused_why, sizeof f->refused_why, c->ctl.err, c->ctl.refused ? strlen(c->ctl.err) : 0);
	f->control = c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !c->ctl.refused && !r->cfg.observer;
	snprintf(f->holder, sizeof f->holder, "%s", c->ctl.readonly ? c->ctl.holder : "");
	f->traffic_gate = c->st.gate == GATE_TRAFFIC;
	memcpy(tmp, f->canary_why, sizeof tmp);
	sanitize(f->canary_why, sizeof f->canary_why, tmp, strnlen(tmp, sizeof tmp));
	memcpy(tmp, f->primary_why, sizeof tmp);
	sanitize(f->primary_why, sizeof f->primary_why, tmp, strnlen(tmp, sizeof tmp));
	memcpy(tmp, f->target_rev, sizeof f->target_rev);
	sanitize(f->target_rev, sizeof f->target_rev, tmp, strnlen(tmp, sizeof f->target_rev));
	memcpy(tmp, f->failed_rev, sizeof f->failed_rev);
	sanitize(f->failed_rev, sizeof f->failed_rev, tmp, strnlen(tmp, sizeof f->failed_rev));
}

/* The facts of the last observations (snapshots). mu held. */
static void
known_facts(const struct runner *r, const struct rcan *c, struct cmd_facts *f)
{
	canary_facts(r, c, c->seen.ready_known[0] ? &c->seen.ready[0] : NULL,
	    c->seen.ready_known[1] ? &c->seen.ready[1] : NULL, NULL, f);
}

/* Observes, now, what the preconditions of cmd ask about (readiness, the
 * target's revision for a retry) into r->tick.obs, and builds the facts. */
static void
fresh_facts(struct runner *r, struct rcan *c, enum command_kind cmd, int64_t now,
    struct cmd_facts *f)
{
	unsigned pre = command_preconds(cmd);
	bool fits = (command_phases(cmd) & (1u << c->st.phase)) != 0;
	struct obs *o = &r->tick.obs;

	grow_scratch(r, c->cfg);
	obs_reset(o, c->cfg->n_hooks, c->cfg->n_metrics);
	if (fits && (pre & PRE(FAILED_REV)))
		gather(r, c, NEED_REVISION, HOOK_ROLLOUT, now);
	if (fits && (pre & PRE(PRIMARY_READY)) && !c->cfg->skip_analysis)
		gather(r, c, NEED_PRIMARY, HOOK_ROLLOUT, now);
	if (fits && (pre & PRE(CANARY_READY)))
		gather(r, c, NEED_CANARY, HOOK_ROLLOUT, now);
	pthread_mutex_lock(&r->mu);
	canary_facts(r, c, (o->have & (1u << NEED_PRIMARY)) ? &o->primary : NULL,
	    (o->have & (1u << NEED_CANARY)) ? &o->canary : NULL,
	    (o->have & (1u << NEED_REVISION)) && o->rev_status == ST_OK ? o->rev.id : NULL, f);
	pthread_mutex_unlock(&r->mu);
}

static void
handle_command(struct runner *r, const struct command *cmd, int64_t now)
{
	struct tick_in in;
	struct rcan *c = find(r, cmd->canary);
	struct cmd_facts f;
	char msg[ERRMSG_MAX + 600], err[ERRMSG_MAX], why[400];
	enum precond failed;

	if (c == NULL) {
		snprintf(msg, sizeof msg, "%s refused: no canary %s", command_name(cmd->kind), cmd->canary);
		set_status_msg(r, cmd->canary, msg);
		return;
	}
	pthread_mutex_lock(&r->mu);
	known_facts(r, c, &f);
	pthread_mutex_unlock(&r->mu);
	if (!command_allowed(cmd->kind, &f, why, sizeof why, &failed) && failed == PRE_CONTROL) {
		/* Not ours to change: answered, never journalled. */
		if (r->cfg.observer)
			snprintf(msg, sizeof msg, "%s", why);
		else
			snprintf(msg, sizeof msg, "%s %s refused: %s", c->cfg->name,
			    command_name(cmd->kind), why);
		set_status_msg(r, c->key, msg);
		return;
	}
	/* A suspended tick was read against the old status: it starts over. */
	c->run.suspended = false;
	fresh_facts(r, c, cmd->kind, now, &f);
	in = (struct tick_in){ .cfg = c->cfg, .st = &c->st, .now_ms = now, .confirm = r->cfg.confirm,
		.entropy = tick_entropy(r, c), .obs = &r->tick.obs, .facts = &f };
	machine_command(&in, cmd->kind, cmd->actor[0] ? cmd->actor : r->actor, &r->tick.out);
	if (!apply(r, c, &r->tick.out, now, err)) {
		snprintf(msg, sizeof msg, "%s %s failed: cannot save state: %s", c->cfg->name,
		    command_name(cmd->kind), err);
		set_status_msg(r, c->key, msg);
		return;
	}
	set_status_msg(r, c->key, r->tick.out.answer);
	pthread_mutex_lock(&r->mu);
	if (c->st.phase != PHASE_INITIALIZING)
		schedule(r, c, c->st.next_tick_ms > now ? c->st.next_tick_ms : now);
	pthread_mutex_unlock(&r->mu);
}

void
runner_command(struct runner *r, const struct command *cmd)
{
	pthread_mutex_lock(&r->mu);
	if (!r->life.started || r->life.finished) {
		snprintf(r->pub.status_msg, sizeof r->pub.status_msg, "%s refused: the engine is not running",
		    command_name(cmd->kind));
		snprintf(r->pub.status_canary, sizeof r->pub.status_canary, "%s", cmd->canary);
		r->pub.status_seq++;
		r->pub.version++;
		pthread_mutex_unlock(&r->mu);
		return;
	}
	if (r->inbox.qn == r->inbox.qcap) {
		r->inbox.qcap = r->inbox.qcap ? r->inbox.qcap * 2 : 8;
		r->inbox.q = xreallocarray(r->inbox.q, r->inbox.qcap, sizeof *r->inbox.q);
	}
	r->inbox.q[r->inbox.qn++] = *cmd;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

void
runner_wake(struct runner *r, const char *canary)
{
	struct rcan *c;

	pthread_mutex_lock(&r->mu);
	/* The index changes under mu (runner_adopt). */
	if (r->life.started && !r->life.finished && (c = find(r, canary)) != NULL) {
		c->sched.wake = true;
		r->sched.wake_pending = true;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->mu);
}

void
runner_post(struct runner *r, void (*fn)(struct runner *r, void *arg), void *arg)
{
	pthread_mutex_lock(&r->mu);
	if (!r->life.started || r->life.finished) {
		pthread_mutex_unlock(&r->mu);
		fn(NULL, arg);
		return;
	}
	if (r->inbox.n_tasks == r->inbox.cap_tasks) {
		r->inbox.cap_tasks = r->inbox.cap_tasks ? r->inbox.cap_tasks * 2 : 8;
		r->inbox.tasks = xreallocarray(r->inbox.tasks, r->inbox.cap_tasks, sizeof *r->inbox.tasks);
	}
	r->inbox.tasks[r->inbox.n_tasks++] = (struct task){ fn, arg };
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

/* The canary's object is gone: held where it is, its control given back. */
static void
remove_canary(struct runner *r, struct rcan *c)
{
	char msg[200];

	pthread_mutex_lock(&r->mu);
	heap_remove(r, c);
	c->ctl.control = false;
	c->ctl.readonly = true;
	c->ctl.removed = true;
	c->run.suspended = false;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.store != NULL && r->cfg.store->release != NULL)
		r->cfg.store->release(r->cfg.store_ctx, c->key);
	snprintf(msg, sizeof msg, "%.127s: the Canary was deleted; no longer controlled", c->key);
	log_info("%s", msg);
	set_status_msg(r, c->key, msg);
}

static int take_control(struct runner *r, struct rcan *c, int64_t now, char *err,
    size_t errsz);
static void first_tick(struct runner *r, struct rcan *c, int64_t now);

/* c's configuration old is replaced (mu held, c->ctl.gen moved on so that its
 * pending hooks and alerts are dropped): true when the notifier is sending
 * a note of it, which then frees it after the call; else the caller does. */
static bool
retire_cfg(struct runner *r, struct canary_cfg *old)
{
	if (!r->nt.busy || r->nt.sending != old)
		return false;
	r->nt.retired = xreallocarray(r->nt.retired, r->nt.n_retired + 1, sizeof *r->nt.retired);
	r->nt.retired[r->nt.n_retired++] = old;
	return true;
}

/* A deleted canary's object is back (deleted and created again): taken
 * under control again as runner_adopt takes a new one (its lease, its saved
 * status), its event history kept.  The new state is built aside and
 * swapped in under mu, so snapshots never see it half made. */
static int
revive_canary(struct runner *r, struct rcan *c, struct canary_cfg *cfg)
{
	struct rcan *t = rcan_new(cfg, c->key), old;
	char err[ERRMSG_MAX + 160] = "", msg[ERRMSG_MAX + 160];
	int64_t now = now_ms(r);
	size_t i, old_metrics;
	bool retire;
	int rc;

	t->hist.max_ev = c->hist.max_ev;
	t->hist.max_pts = c->hist.max_pts;
	if ((rc = take_control(r, t, now, err, sizeof err)) != ST_OK) {
		log_error("%s", err);
		set_status_msg(r, c->key, err);
		rcan_free(t);
		return rc;
	}
	pthread_mutex_lock(&r->mu);
	old = *c;
	*c = *t;
	c->ctl.gen = old.ctl.gen + 1;		/* hooks and alerts of the old one are dropped */
	old_metrics = old.cfg->n_metrics;
	retire = retire_cfg(r, old.cfg);
	c->hist.ev = old.hist.ev;			/* the history goes on */
	c->hist.ev_n = old.hist.ev_n;
	c->hist.ev_head = old.hist.ev_head;
	c->hist.ev_cap = old.hist.ev_cap;
	if (c->ctl.control)
		first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < old_metrics; i++)
		free(old.hist.pts[i].p);
	free(old.hist.pts);
	free(old.hist.hooks);
	if (old.run.resume != NULL) {
		obs_fini(old.run.resume);
		free(old.run.resume);
	}
	if (!retire)
		canary_cfg_free(old.cfg);
	free(t);
	if (c->ctl.control)
		snprintf(msg, sizeof msg, "%.127s: the Canary was created again; taken under "
		    "control", c->key);
	else
		snprintf(msg, sizeof msg, "%.127s: the Canary was created again, controlled by "
		    "%.95s; read-only", c->key, c->ctl.holder);
	log_info("%s", msg);
	set_status_msg(r, c->key, msg);
	return ST_OK;
}

int
runner_replace(struct runner *r, const char *key, struct canary_cfg *cfg)
{
	struct rcan *c = find(r, key), old;
	char msg[ERRMSG_MAX + 200], err[ERRMSG_MAX];
	bool retire;
	size_t i, old_metrics;

	if (c != NULL && c->ctl.removed && cfg != NULL && !r->cfg.observer)
		return revive_canary(r, c, cfg);
	if (c == NULL || !c->ctl.control || c->ctl.readonly || c->ctl.corrupt || r->cfg.observer) {
		canary_cfg_free(cfg);
		return ST_NOTFOUND;
	}
	if (cfg == NULL) {
		remove_canary(r, c);
		return ST_OK;
	}
	if (machine_check_cfg(cfg, err, sizeof err) != ST_OK) {
		snprintf(msg, sizeof msg, "%.127s: the changed Canary is refused (%s); the "
		    "running spec stays", key, err);
		log_error("%s", msg);
		set_status_msg(r, key, msg);
		canary_cfg_free(cfg);
		return ST_INVALID;
	}
	cfg->order = c->cfg->order;
	pthread_mutex_lock(&r->mu);
	old = *c;
	old_metrics = old.cfg->n_metrics;	/* old.cfg may be freed once unlocked */
	c->cfg = cfg;
	c->ctl.gen++;			/* hooks and alerts of the old one are dropped */
	rcan_arrays(c, cfg);
	c->run.suspended = false;		/* a suspended tick was read for the old one */
	r->pub.version++;
	retire = retire_cfg(r, old.cfg);	/* the notifier frees it after its call */
	pthread_mutex_unlock(&r->mu);
	for (i = 0; i < old_metrics; i++)
		free(old.hist.pts[i].p);
	free(old.hist.pts);
	free(old.hist.hooks);
	if (!retire)
		canary_cfg_free(old.cfg);
	if (r->cfg.store != NULL && r->cfg.store->save_spec != NULL &&
	    r->cfg.store->save_spec(r->cfg.store_ctx, key, cfg, err) != ST_OK)
		log_warn("%s", err);
	snprintf(msg, sizeof msg, "%.127s: the Canary changed; its next tick uses the new spec", key);
	log_info("%s", msg);
	set_status_msg(r, key, msg);
	return ST_OK;
}

/* Waiting for a new revision and nothing else: a tick brought forward only
 * looks at the target (Flagger's tick, just sooner). */
static bool
idle_phase(enum phase p)
{
	return p == PHASE_INITIALIZED || p == PHASE_SUCCEEDED || p == PHASE_FAILED;
}

/* The canaries runner_wake asked for: an idle one ticks now, the others
 * keep their schedule (an analysis step never runs early).  mu held. */
static void
wake_idle(struct runner *r, int64_t now)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];

		if (!c->sched.wake)
			continue;
		c->sched.wake = false;
		if (c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !c->run.suspended &&
		    c->sched.heap != NO_HEAP && c->sched.due > now && idle_phase(c->st.phase))
			schedule(r, c, now);
	}
}

/* ---- the engine thread ------------------------------------------------- */

static bool
all_done(const struct runner *r)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		if (c->ctl.corrupt || c->ctl.readonly || c->ctl.refused)
			continue;
		/* Ended, or initialized with nothing to roll out; a tick that
		 * waits to be resumed may still start a new revision. */
		if (!c->run.ticked || c->run.suspended || !(phase_is_terminal(c->st.phase) ||
		    (c->st.phase == PHASE_INITIALIZED && c->run.idle_checked)))
			return false;
	}
	return true;
}

/* One round of the loop with mu held: returns false to stop. */
static bool
loop_once(struct runner *r)
{
	int64_t now = now_ms(r), deadline;

	r->pub.now = now;
	if (r->life.stopping)
		return false;
	if (r->inbox.qn > 0) {
		struct command cmd = r->inbox.q[0];

		memmove(r->inbox.q, r->inbox.q + 1, --r->inbox.qn * sizeof *r->inbox.q);
		pthread_mutex_unlock(&r->mu);
		handle_command(r, &cmd, now);
		pthread_mutex_lock(&r->mu);
		return true;
	}
	if (r->inbox.n_tasks > 0) {
		struct task t = r->inbox.tasks[0];

		memmove(r->inbox.tasks, r->inbox.tasks + 1, --r->inbox.n_tasks * sizeof *r->inbox.tasks);
		pthread_mutex_unlock(&r->mu);
		t.fn(r, t.arg);
		pthread_mutex_lock(&r->mu);
		return true;
	}
	if (r->sched.wake_pending) {
		r->sched.wake_pending = false;
		wake_idle(r, now);
	}
	if (r->nt.res_n > 0) {		/* the notifier's answers and failures */
		take_results(r, now);
		return true;
	}
	/* An observer looks at every wait's end, about every OBSERVE_MS of
	 * real time whatever the controller's clock does (it stops when the
	 * controller is lost: the observer goes on, and sees it come back). */
	if (r->watch.observing && (r->cfg.observer ? r->watch.observe_due : now >= r->watch.next_observe)) {
		r->watch.observe_due = false;
		r->watch.next_observe = now + OBSERVE_MS;
		pthread_mutex_unlock(&r->mu);
		observe(r);
		pthread_mutex_lock(&r->mu);
		return true;
	}
	if (r->cfg.store != NULL && r->cfg.store->renew != NULL && !r->cfg.observer &&
	    now >= r->watch.next_renew) {
		r->watch.next_renew = now + RENEW_MS;
		pthread_mutex_unlock(&r->mu);
		renew_all(r);
		pthread_mutex_lock(&r->mu);
		return true;
	}
	if (r->sched.hn > 0 && r->sched.heap[0].due <= now) {
		struct rcan *c = r->sched.heap[0].c;
		int64_t due;

		/* It stays at the top of the heap while it ticks (only this
		 * thread changes the heap), then moves to its next deadline. */
		pthread_mutex_unlock(&r->mu);
		run_tick(r, c, now);
		pthread_mutex_lock(&r->mu);
		due = c->st.next_tick_ms > now ? c->st.next_tick_ms : now + interval_ms(c->cfg);
		if (c->run.suspended)
			due = now_ms(r) + 1;	/* after those due now */
		if (c->ctl.control && !c->ctl.refused)
			schedule(r, c, due);
		else
			heap_remove(r, c);
		return true;
	}
	/* Done, notifications included (the notifier wakes us when its queue
	 * runs dry; meanwhile leases are renewed and ticks run as usual). */
	if (r->cfg.stop_when_done && !r->cfg.observer && !notes_pending(r) && all_done(r)) {
		r->life.finished = true;
		pthread_cond_broadcast(&r->life.done_cond);
		return false;
	}
	if (r->cfg.notify != NULL && r->pub.version != r->pub.notified_version && !r->pub.notify_pending) {
		r->pub.notify_pending = true;
		r->pub.notified_version = r->pub.version;
		pthread_mutex_unlock(&r->mu);
		r->cfg.notify(r->cfg.notify_arg);
		pthread_mutex_lock(&r->mu);
		return true;
	}
	deadline = r->watch.observing ? r->watch.next_observe : INT64_MAX;	/* nothing scheduled */
	if (r->cfg.store != NULL && r->cfg.store->renew != NULL && !r->cfg.observer &&
	    r->watch.next_renew < deadline && r->sched.hn > 0)
		deadline = r->watch.next_renew;
	if (r->sched.hn > 0 && r->sched.heap[0].due < deadline)
		deadline = r->sched.heap[0].due;
	if (r->cfg.observer)
		deadline = now + OBSERVE_MS;
	r->cfg.clock->wait(r->cfg.clock_ctx, &r->cond, &r->mu, deadline);
	r->watch.observe_due = r->cfg.observer;
	return true;
}

static void *
engine_main(void *arg)
{
	struct runner *r = arg;

	pthread_mutex_lock(&r->mu);
	if (!r->cfg.observer)
		r->nt.running = pthread_create(&r->nt.thread, NULL, notifier_main, r) == 0;
	if (!r->cfg.observer && !r->nt.running)
		log_error("cannot start the notifier thread: notifications are not sent");
	while (loop_once(r))
		;
	/* What is left is sent before the end, each bounded by its timeout;
	 * the answers and failures are still published. */
	while (notes_pending(r)) {
		if (r->nt.res_n > 0)
			take_results(r, now_ms(r));
		else
			pthread_cond_wait(&r->cond, &r->mu);
	}
	r->nt.stop = true;
	pthread_cond_signal(&r->nt.cond);
	pthread_mutex_unlock(&r->mu);
	if (r->nt.running)
		pthread_join(r->nt.thread, NULL);
	pthread_mutex_lock(&r->mu);
	r->nt.running = false;
	if (r->nt.dropped > 0)
		log_warn("%llu notifications were dropped (receivers too slow)",
		    (unsigned long long)r->nt.dropped);
	r->life.finished = true;
	pthread_cond_broadcast(&r->life.done_cond);
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.notify != NULL)
		r->cfg.notify(r->cfg.notify_arg);
	return NULL;
}

/* ---- start, stop ------------------------------------------------------- */

/* A configuration the engine must not drive (machine_check_cfg): c is
 * refused before any control is taken, shown with the reason.  True when
 * refused. */
static bool
refuse_cfg(struct rcan *c)
{
	char why[ERRMSG_MAX], msg[ERRMSG_MAX + 160];

	if (machine_check_cfg(c->cfg, why, sizeof why) == ST_OK)
		return false;
	snprintf(msg, sizeof msg, "cannot drive %s: %s", c->key, why);
	log_error("%s", msg);
	sanitize(c->ctl.err, sizeof c->ctl.err, msg, strlen(msg));
	machine_status_init(&c->st, 0);
	c->ctl.refused = true;
	c->ctl.control = false;
	return true;
}

/* Takes control of one canary: lock, saved status, spec for watchers.
 * c->ctl.control is set only here, and only once both the lock and the saved
 * status are ours: on every other path nothing is ever written for c (no
 * save at the stop, no journal), whatever the error was. */
static int
take_control(struct runner *r, struct rcan *c, int64_t now, char *err, size_t errsz)
{
	const struct store_ops *s = r->cfg.store;
	char holder[96] = "", lerr[ERRMSG_MAX] = "";
	int rc;

	c->ctl.control = false;
	machine_status_init(&c->st, now);
	if (s == NULL) {
		c->ctl.control = true;
		return ST_OK;
	}
	rc = s->acquire(r->cfg.store_ctx, c->key, r->actor, holder, sizeof holder, lerr);
	if (rc == ST_LOCKED) {
		c->ctl.readonly = true;
		sanitize(c->ctl.holder, sizeof c->ctl.holder, holder, strlen(holder));
		c->run.retake_at = now + RETAKE_MS;
		r->watch.observing = true;
		return ST_OK;
	}
	if (rc != ST_OK) {
		snprintf(err, errsz, "%s: cannot take control: %s", c->key,
		    lerr[0] ? lerr : status_text(rc));
		return rc;
	}
	rc = s->load(r->cfg.store_ctx, c->key, &c->st, lerr);
	if (rc == ST_NOTFOUND) {
		machine_status_init(&c->st, now);
	} else if (rc != ST_OK) {
		c->ctl.corrupt = rc == ST_CORRUPT;
		snprintf(err, errsz, "%s: %s; refusing to control it", c->key,
		    lerr[0] ? lerr : status_text(rc));
		s->release(r->cfg.store_ctx, c->key);
		machine_status_init(&c->st, now);
		return rc;
	} else {
		c->run.reconcile = true;	/* re-apply what the saved status implies */
	}
	c->ctl.control = true;
	c->ctl.readonly = false;
	if (s->save_spec != NULL && s->save_spec(r->cfg.store_ctx, c->key, c->cfg, lerr) != ST_OK)
		log_warn("%s: %s", c->key, lerr);
	return ST_OK;
}

/* History depth of a canary when there are n of them (HIST_BUDGET). */
static void
hist_depth(struct rcan *c, size_t n)
{
	size_t ev = HIST_BUDGET / n, pts = HIST_BUDGET / n;

	c->hist.max_ev = (unsigned short)(ev > HIST_EVENTS ? HIST_EVENTS : ev < HIST_MIN ? HIST_MIN : ev);
	c->hist.max_pts = (unsigned short)(pts > HIST_POINTS ? HIST_POINTS : pts < HIST_MIN ? HIST_MIN : pts);
}

/* Schedules the first tick of a controlled canary: at its saved deadline
 * when that is within one interval, else now.  Caller holds mu (or the
 * engine is not running yet). */
static void
first_tick(struct runner *r, struct rcan *c, int64_t now)
{
	int64_t due = c->st.next_tick_ms;

	if (due < now || due > now + interval_ms(c->cfg))
		due = now;
	schedule(r, c, due);
}

/* runner_adopt: a canary joins the running engine, set up as runner_start
 * sets up each one (take_control, first_tick) before anyone else can see
 * it; then, under mu, it enters the table, the index and the heap that
 * runner_wake, runner_outcome and the snapshots read. */
int
runner_adopt(struct runner *r, struct canary_cfg *cfg)
{
	char key[128], err[ERRMSG_MAX + 160] = "", msg[ERRMSG_MAX + 160];
	int64_t now = now_ms(r);
	struct rcan *c;
	int rc;

	snprintf(key, sizeof key, "%s/%s", cfg->ns ? cfg->ns : "", cfg->name ? cfg->name : "");
	if (r->cfg.observer || find(r, key) != NULL) {
		canary_cfg_free(cfg);
		return r->cfg.observer ? ST_REFUSED : ST_CONFLICT;
	}
	cfg->order = (int)r->tab.n;
	c = rcan_new(cfg, key);
	hist_depth(c, r->tab.n + 1);
	rc = refuse_cfg(c) ? ST_OK : take_control(r, c, now, err, sizeof err);
	if (rc != ST_OK && rc != ST_CORRUPT) {
		log_error("%s", err);
		rcan_free(c);
		return rc;
	}
	if (rc == ST_CORRUPT) {		/* shown with the reason, never acted on */
		log_error("%s", err);
		sanitize(c->ctl.err, sizeof c->ctl.err, err, strlen(err));
		snprintf(msg, sizeof msg, "%s", err);
	} else if (c->ctl.refused) {
		snprintf(msg, sizeof msg, "%s", c->ctl.err);
	} else if (!c->ctl.control) {
		snprintf(msg, sizeof msg, "%.127s: new Canary, controlled by %.95s; read-only", key,
		    c->ctl.holder);
	} else {
		snprintf(msg, sizeof msg, "%.127s: new Canary taken under control", key);
	}
	pthread_mutex_lock(&r->mu);
	add_canary(r, c);
	if (c->ctl.control)
		first_tick(r, c, now);
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
	log_info("%s", msg);
	set_status_msg(r, key, msg);
	return rc;
}

/* Gives back every canary we control; at the stop its status is saved
 * first (with_save), at a start that failed it is left as it was loaded. */
static void
release_all(struct runner *r, bool with_save)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];
		char err[ERRMSG_MAX];

		if (r->cfg.store == NULL || r->cfg.observer || !c->ctl.control)
			continue;
		if (with_save && save(r, c, &c->st, err) != ST_OK)
			log_error("%s: cannot save its state at the stop: %s", c->key, err);
		r->cfg.store->release(r->cfg.store_ctx, c->key);
		pthread_mutex_lock(&r->mu);	/* runner_health reads them */
		c->ctl.control = false;
		c->ctl.let_go = with_save;
		pthread_mutex_unlock(&r->mu);
	}
}

int
runner_start(struct runner *r, char *err, size_t errsz)
{
	int64_t now = now_ms(r);
	char first_err[ERRMSG_MAX + 160] = "";
	size_t i, corrupt = 0;
	int rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	r->watch.observing = r->cfg.observer;
	for (i = 0; i < r->tab.n; i++)
		hist_depth(r->tab.cs[i], r->tab.n);
	for (i = 0; i < r->tab.n && !r->cfg.observer; i++) {
		struct rcan *c = r->tab.cs[i];
		char cerr[ERRMSG_MAX + 160] = "";

		if (refuse_cfg(c))
			continue;
		rc = take_control(r, c, now, cerr, sizeof cerr);
		if (rc == ST_CORRUPT && ++corrupt < r->tab.n) {
			/* Refuse THIS canary only; the others still run. */
			log_error("%s", cerr);
			sanitize(c->ctl.err, sizeof c->ctl.err, cerr, strlen(cerr));
			if (first_err[0] == '\0')
				snprintf(first_err, sizeof first_err, "%s", cerr);
			continue;
		}
		if (rc != ST_OK) {
			/* Another failure, or every canary is corrupt. */
			if (err != NULL && errsz > 0)
				snprintf(err, errsz, "%s", rc == ST_CORRUPT && first_err[0] ?
				    first_err : cerr);
			release_all(r, false);
			return rc;
		}
		if (c->ctl.control)
			first_tick(r, c, now);
	}
	for (i = 0; i < r->tab.n && r->cfg.observer; i++) {
		r->tab.cs[i]->ctl.control = false;
		r->tab.cs[i]->ctl.readonly = true;
	}
	r->watch.next_observe = now;
	r->watch.next_renew = now + RENEW_MS;
	if (pthread_create(&r->life.thread, NULL, engine_main, r) != 0) {
		release_all(r, false);
		snprintf(err, errsz, "cannot start the engine thread");
		return ST_ERR;
	}
	pthread_mutex_lock(&r->mu);
	r->life.started = true;
	pthread_mutex_unlock(&r->mu);
	return ST_OK;
}

void
runner_wait(struct runner *r)
{
	pthread_mutex_lock(&r->mu);
	while (r->life.started && !r->life.finished && !r->life.wait_cancelled)
		pthread_cond_wait(&r->life.done_cond, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

bool
runner_done(struct runner *r)
{
	bool done;

	pthread_mutex_lock(&r->mu);
	done = !r->life.started || r->life.finished;
	pthread_mutex_unlock(&r->mu);
	return done;
}

void
runner_cancel_wait(struct runner *r)
{
	pthread_mutex_lock(&r->mu);
	r->life.wait_cancelled = true;
	pthread_cond_broadcast(&r->life.done_cond);
	pthread_mutex_unlock(&r->mu);
}

void
runner_drop_notes(struct runner *r)
{
	pthread_mutex_lock(&r->mu);
	r->nt.drop = true;
	pthread_cond_signal(&r->nt.cond);
	pthread_mutex_unlock(&r->mu);
}

void
runner_stop(struct runner *r)
{
	if (!r->life.started)
		return;
	pthread_mutex_lock(&r->mu);
	r->life.stopping = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->life.thread, NULL);
	pthread_mutex_lock(&r->mu);
	r->life.started = false;
	pthread_mutex_unlock(&r->mu);
	release_all(r, true);
}

int
runner_outcome(struct runner *r)
{
	bool failed = false, infra = false;
	size_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		if (c->ctl.removed)
			continue;	/* its Canary was deleted: nothing to judge */
		if (c->ctl.refused && !r->cfg.observer)
			failed = true;	/* its configuration: as validation errors */
		else if (c->ctl.corrupt || (c->ctl.readonly && !r->cfg.observer) || c->run.store_failed)
			infra = true;
		else if (c->st.phase == PHASE_FAILED)
			failed = true;
		else if (c->st.phase != PHASE_SUCCEEDED && c->st.phase != PHASE_INITIALIZED)
			infra = true;	/* stopped before it could end */
	}
	pthread_mutex_unlock(&r->mu);
	return infra ? 3 : failed ? 1 : 0;
}

void
runner_free(struct runner *r)
{
	size_t i;

	if (r == NULL)
		return;
	runner_stop(r);
	for (i = 0; i < r->tab.n; i++)
		rcan_free(r->tab.cs[i]);
	free(r->tab.cs);
	free(r->tab.index);
	free(r->sched.heap);
	for (i = 0; i < r->inbox.n_tasks; i++)
		r->inbox.tasks[i].fn(NULL, r->inbox.tasks[i].arg);	/* never run: their args freed */
	free(r->inbox.tasks);
	free(r->inbox.q);
	snapshot_unref(r->pub.snap);
	obs_fini(&r->tick.obs);
	free(r->tick.calls);
	free(r->tick.results);
	free(r->tick.mq);
	free(r->tick.mv);
	free(r->watch.tail);
	free(r->nt.notes);
	free(r->nt.res);
	free_retired(r);
	free(r->actor);
	free(r->context);
	free(r->ns);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	pthread_cond_destroy(&r->life.done_cond);
	pthread_cond_destroy(&r->nt.cond);
	free(r);
}

/* ---- snapshots (built on demand, under mu) ----------------------------- */

static char *
sdup(const char *s, size_t max)
{
	return sanitize_dup(s ? s : "", max);
}

static void
snap_history(struct snap_canary *sc, const struct rcan *c)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t i, j;

	sc->n_metrics = cfg->n_metrics;
	sc->metrics = cfg->n_metrics ? xcalloc(cfg->n_metrics, sizeof *sc->metrics) : NULL;
	for (i = 0; i < cfg->n_metrics; i++) {
		const struct rring_pts *ring = &c->hist.pts[i];
		struct snap_metric *m = &sc->metrics[i];

		m->name = sdup(cfg->metrics[i].name, 63);
		m->kind = cfg->metrics[i].kind;
		m->has_min = cfg->metrics[i].has_min;
		m->has_max = cfg->metrics[i].has_max;
		m->min = cfg->metrics[i].min;
		m->max = cfg->metrics[i].max;
		m->n_points = ring->n;
		m->points = ring->n ? xcalloc(ring->n, sizeof *m->points) : NULL;
		for (j = 0; j < ring->n; j++) {
			const struct rpoint *p = &ring->p[(ring->head + j) % ring->cap];

			m->points[j].t_ms = p->t_ms;
			m->points[j].value = p->value;
			m->points[j].result = (enum check_result)p->result;
		}
	}
	sc->n_hooks = cfg->n_hooks;
	sc->hooks = cfg->n_hooks ? xcalloc(cfg->n_hooks, sizeof *sc->hooks) : NULL;
	for (i = 0; i < cfg->n_hooks; i++) {
		sc->hooks[i].name = sdup(cfg->hooks[i].name, 63);
		sc->hooks[i].type = cfg->hooks[i].type;
		sc->hooks[i].last = c->hist.hooks[i].last;
		sc->hooks[i].message = xstrdup(c->hist.hooks[i].msg);
	}
	sc->n_events = c->hist.ev_n;
	sc->events = c->hist.ev_n ? xcalloc(c->hist.ev_n, sizeof *sc->events) : NULL;
	for (i = 0; i < c->hist.ev_n; i++) {
		const struct revent *e = &c->hist.ev[(c->hist.ev_head + i) % c->hist.ev_cap];

		sc->events[i].t_ms = e->t_ms;
		sc->events[i].severity = e->sev;
		sc->events[i].message = xstrdup(e->msg);
		sc->events[i].actor = xstrdup(e->actor ? e->actor : "");
	}
}

static void
snap_canary(struct runner *r, struct snap_canary *sc, const struct rcan *c)
{
	const struct canary_cfg *cfg = c->cfg;
	char rev[128];
	int ladder[128];
	char text[300];
	size_t n, i;

	sc->ns = sdup(cfg->ns, 63);
	sc->name = sdup(cfg->name, 63);
	sc->target = sdup(cfg->target, 63);
	sc->provider = sdup(cfg->provider, 63);
	sc->strategy = machine_strategy(cfg);
	sc->phase = c->st.phase;
	sc->weight = c->st.canary_weight;
	sc->max_weight = machine_max_weight(cfg);
	n = machine_ladder(cfg, ladder, 128);
	sc->ladder = n ? xcalloc(n, sizeof *sc->ladder) : NULL;
	sc->n_ladder = n;
	for (i = 0; i < n; i++) {
		sc->ladder[i] = ladder[i];
		if (ladder[i] <= c->st.canary_weight)
			sc->step = (int)i + 1;
	}
	sc->iteration = c->st.iterations;
	sc->iterations = machine_iterations(cfg);
	sc->failed_checks = c->st.failed_checks;
	sc->threshold = cfg->threshold;
	sc->interval_s = cfg->interval_s;
	/* From the status and the configuration only, as a watcher fills
	 * it from the saved ones: the same canary looks the same in both. */
	sc->order = cfg->order;
	sc->paused = c->st.paused;
	sc->held = c->st.held;
	sc->gate = c->st.gate;
	sc->can_control = c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !r->cfg.observer;
	sc->phase_since_ms = c->st.phase_since_ms;
	sc->next_check_ms = c->sched.heap != NO_HEAP || c->ctl.readonly ? c->st.next_tick_ms : 0;
	fmt_revision(rev, sizeof rev, c->st.promoted_name, c->st.last_promoted);
	sc->rev_from = sdup(rev, 127);
	fmt_revision(rev, sizeof rev, c->st.applied_name, c->st.last_applied);
	sc->rev_to = sdup(rev, 127);
	sc->run_since_ms = c->st.run_since_ms;
	sc->last_phase = c->st.last_phase;
	sc->last_end_ms = c->st.last_end_ms;
	sc->last_reason = sdup(c->st.last_reason, 255);
	sc->affinity = cfg->affinity != NULL;
	sc->refused = c->ctl.refused;
	if (c->ctl.corrupt || c->ctl.refused)
		sc->reason = sdup(c->ctl.err, 255);
	else
		sc->reason = sdup(c->st.reason, 255);
	sc->sticky = sdup(c->st.affinity_cookie, AFFINITY_COOKIE_MAX - 1);
	known_facts(r, c, &sc->facts);
	sc->last_failure = sdup(c->st.last_failure, sizeof c->st.last_failure - 1);
	sc->last_failure_ms = c->st.last_failure_ms;
	sc->override = c->st.override;
	sc->override_text = sdup(override_text(&c->st, text, sizeof text), sizeof text - 1);
	snap_history(sc, c);
}

static int
snap_cmp(const void *a, const void *b)
{
	const struct snap_canary *x = a, *y = b;
	int c;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if ((c = strcmp(x->ns, y->ns)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

/* The same order and header namespace for the controller and its watchers:
 * the order the controller was given its canaries in (saved with each
 * spec), then by name; without a namespace of its own, the header names the
 * one every canary shares. */
static void
snap_order(struct snapshot *s)
{
	size_t i;

	if (s->n_canaries == 0)
		return;
	qsort(s->canaries, s->n_canaries, sizeof *s->canaries, snap_cmp);
	if (s->ns[0] != '\0')
		return;
	for (i = 1; i < s->n_canaries; i++)
		if (strcmp(s->canaries[i].ns, s->canaries[0].ns) != 0)
			return;
	free(s->ns);
	s->ns = xstrdup(s->canaries[0].ns);
}

static struct snapshot *
build_snapshot(struct runner *r)
{
	struct snapshot *s = snapshot_new();
	size_t i, controlled = 0;
	const char *holder = "";

	s->version = r->pub.version;
	s->now_ms = r->pub.now;
	/* A watcher shows the header its controller shows (its context). */
	s->context = xstrdup(r->cfg.observer && r->health.ctl_context[0] ? r->health.ctl_context : r->context);
	s->ns = xstrdup(r->ns);
	s->api_ok = r->health.api_ok;
	s->metrics_ok = r->health.metrics_ok;
	s->ctl = r->cfg.observer ? r->health.ctl : CTL_SELF;
	s->ctl_silent_ms = r->health.ctl_silent_ms;
	s->metrics_degraded = r->health.metrics_degraded;
	s->status_msg = xstrdup(r->pub.status_msg);
	s->status_canary = xstrdup(r->pub.status_canary);
	s->status_seq = r->pub.status_seq;
	s->n_canaries = r->tab.n;
	s->canaries = r->tab.n ? xcalloc(r->tab.n, sizeof *s->canaries) : NULL;
	for (i = 0; i < r->tab.n; i++) {
		snap_canary(r, &s->canaries[i], r->tab.cs[i]);
		if (s->canaries[i].can_control)
			controlled++;
		else if (r->tab.cs[i]->ctl.holder[0] && holder[0] == '\0')
			holder = r->tab.cs[i]->ctl.holder;
	}
	s->read_only = r->cfg.observer || (r->tab.n > 0 && controlled == 0);
	s->holder = xstrdup(holder);
	snap_order(s);
	return s;
}

void
runner_health(struct runner *r, struct runner_health *h)
{
	size_t i;

	pthread_mutex_lock(&r->mu);
	h->api_ok = r->health.api_ok;
	h->metrics_ok = r->health.metrics_ok;
	h->metrics_degraded = r->health.metrics_degraded;
	h->controls = false;
	for (i = 0; i < r->tab.n && !r->cfg.observer; i++) {
		const struct rcan *c = r->tab.cs[i];

		if ((c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt) || c->ctl.let_go)
			h->controls = true;
	}
	pthread_mutex_unlock(&r->mu);
}

struct snapshot *
runner_snapshot(struct runner *r)
{
	struct snapshot *s;

	pthread_mutex_lock(&r->mu);
	/* Rebuilt after a change, and as the clock moves on (countdowns). */
	if (r->pub.snap == NULL || r->pub.snap_version != r->pub.version || r->pub.now - r->pub.snap->now_ms >= 1000) {
		snapshot_unref(r->pub.snap);
		r->pub.snap = build_snapshot(r);
		r->pub.snap_version = r->pub.version;
	}
	s = snapshot_ref(r->pub.snap);
	r->pub.notify_pending = false;
	pthread_mutex_unlock(&r->mu);
	return s;
}
