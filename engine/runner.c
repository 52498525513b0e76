/*
 * runner.c — the engine thread (see runner.h): its API, its loop, its start
 * and its stop.  The parts it drives are one file each (runner_int.h lists
 * them and how they layer).
 *
 * It owns every canary: its configuration, its durable status, a bounded
 * history for the screens (the last HIST_POINTS values per metric, the last
 * HIST_EVENTS events) and its place in a heap of deadlines
 * (runner_sched.c).  The thread sleeps through clock_ops->wait until the
 * earliest deadline or until a command signals the condition variable, so
 * a keystroke acts at once.
 *
 * The loop is a table of event sources (sources[] below), looked at in
 * order each round: stop, a command, a posted task, woken canaries, the
 * notifier's answers, observing the store, renewing the leases, the tick
 * that is due, the end of a headless run, telling the front end.  The
 * first that is ready runs and the round starts over; when none is, the
 * thread waits until the earliest deadline any source names.
 *
 * One tick (runner_tick.c): machine_tick() (engine/machine.c) asks for
 * observations one at a time; the runner gathers each through the ops
 * (runner_gather.c, outside the lock) and runs the tick again until it
 * completes.  Then its result is saved before anything is done
 * (runner_apply.c has the order and the crash safety), its events are
 * published (runner_journal.c) and notifications queued for the notifier
 * thread (runner_notify.c).  Control of each canary, its lock or lease,
 * is runner_control.c; perch watch and canaries held elsewhere are
 * runner_observe.c; manual commands runner_command.c; snapshots
 * runner_snap.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

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
	pthread_mutex_init(&r->pool.mu, NULL);
	pthread_cond_init(&r->pool.work, NULL);
	pthread_cond_init(&r->pool.done, NULL);
	obs_init(&r->tick.obs);
	r->health.api_ok = r->health.metrics_ok = true;
	r->health.ctl = cfg->observer ? CTL_UNKNOWN : CTL_SELF;
	/* The time of a snapshot taken before the engine's first round (an
	 * idle runner may not loop again for long: the header showed 00:00) */
	if (cfg->clock != NULL)
		r->pub.now = rn_now_ms(r);
	return r;
}

void
runner_add(struct runner *r, struct canary_cfg *cfg)
{
	char key[128];

	snprintf(key, sizeof key, "%s/%s", cfg->ns ? cfg->ns : "", cfg->name ? cfg->name : "");
	if (rn_find(r, key) != NULL) {
		canary_cfg_free(cfg);
		return;
	}
	cfg->order = (int)r->tab.n;
	rn_add_canary(r, rn_canary_new(cfg, key));
}

static bool
all_done(const struct runner *r)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		const struct rcan *c = r->tab.cs[i];

		if (c->ctl.corrupt || c->ctl.readonly || c->ctl.refused || c->cfg->driven_by)
			continue;
		if (c->ctl.terminating)		/* its finalisation is tried again */
			return false;
		/* Ended, or initialized with nothing to roll out; a tick that
		 * waits to be resumed may still start a new revision. */
		if (!c->run.ticked || c->run.suspended || !(phase_is_terminal(c->st.phase) ||
		    (c->st.phase == PHASE_INITIALIZED && c->run.idle_checked)))
			return false;
	}
	return true;
}

/* ---- the loop: a table of event sources --------------------------------
 *
 * Each round looks at the sources in order, with mu held; the first that
 * is ready runs, and (unless it says ROUND_NEXT) the round starts over.
 * When none is ready the thread waits on the clock until the earliest
 * deadline a source names, or until another thread signals cond (a
 * command, a task, a wake, the notifier, stop).  A source's run may
 * release mu while it calls providers; it holds it again on return. */

enum round {
	ROUND_NEXT,		/* go on with the next source */
	ROUND_AGAIN,		/* it did something: a new round */
	ROUND_STOP,		/* the loop ends */
};

struct event_source {
	const char *name;
	/* Whether it has something to do now. */
	bool (*ready)(struct runner *r, int64_t now);
	enum round (*run)(struct runner *r, int64_t now);
	/* When it next has something to do by the clock (INT64_MAX: only
	 * when signalled); NULL: never by the clock. */
	int64_t (*deadline)(const struct runner *r, int64_t now);
};

/* runner_stop. */
static bool
stop_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->life.stopping;
}

static enum round
stop_run(struct runner *r, int64_t now)
{
	(void)r, (void)now;
	return ROUND_STOP;
}

/* A command from runner_command, one per round, in order. */
static bool
command_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->inbox.qn > 0;
}

static enum round
command_run(struct runner *r, int64_t now)
{
	struct command cmd = r->inbox.q[0];

	memmove(r->inbox.q, r->inbox.q + 1, --r->inbox.qn * sizeof *r->inbox.q);
	pthread_mutex_unlock(&r->mu);
	rn_handle_command(r, &cmd, now);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

/* A task from runner_post, one per round, in order. */
static bool
task_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->inbox.n_tasks > 0;
}

static enum round
task_run(struct runner *r, int64_t now)
{
	struct task t = r->inbox.tasks[0];

	(void)now;
	memmove(r->inbox.tasks, r->inbox.tasks + 1, --r->inbox.n_tasks * sizeof *r->inbox.tasks);
	pthread_mutex_unlock(&r->mu);
	t.fn(r, t.arg);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

/* Canaries runner_wake asked for: rescheduled, then the round goes on. */
static bool
wake_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->sched.wake_pending;
}

static enum round
wake_run(struct runner *r, int64_t now)
{
	r->sched.wake_pending = false;
	rn_wake_idle(r, now);
	return ROUND_NEXT;
}

/* The notifier's answers and failures. */
static bool
results_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->nt.res_n > 0;
}

static enum round
results_run(struct runner *r, int64_t now)
{
	rn_take_results(r, now);
	return ROUND_AGAIN;
}

/* An observer looks at every wait's end, about every OBSERVE_MS of real
 * time whatever the controller's clock does (it stops when the controller
 * is lost: the observer goes on, and sees it come back); a controller with
 * canaries held elsewhere every OBSERVE_MS of its clock. */
static bool
observe_ready(struct runner *r, int64_t now)
{
	return r->watch.observing &&
	    (r->cfg.observer ? r->watch.observe_due : now >= r->watch.next_observe);
}

static enum round
observe_run(struct runner *r, int64_t now)
{
	r->watch.observe_due = false;
	r->watch.next_observe = now + OBSERVE_MS;
	pthread_mutex_unlock(&r->mu);
	rn_observe(r);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

static int64_t
observe_deadline(const struct runner *r, int64_t now)
{
	if (r->cfg.observer)
		return now + OBSERVE_MS;
	return r->watch.observing ? r->watch.next_observe : INT64_MAX;
}

/* Leases are renewed about every RENEW_MS of clock time, whatever the
 * canaries' intervals. */
static bool
renews(const struct runner *r)
{
	return r->cfg.store != NULL && r->cfg.store->renew != NULL && !r->cfg.observer;
}

static bool
renew_ready(struct runner *r, int64_t now)
{
	return renews(r) && now >= r->watch.next_renew;
}

static enum round
renew_run(struct runner *r, int64_t now)
{
	r->watch.next_renew = now + RENEW_MS;
	pthread_mutex_unlock(&r->mu);
	rn_renew_all(r);
	rn_rebalance(r, now);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

/* Requests to and answers from the holders of canaries (runner_request.c),
 * about every REQUEST_POLL_MS of clock time. */
static bool
request_ready(struct runner *r, int64_t now)
{
	return rn_requests(r) && now >= r->watch.next_request;
}

static enum round
request_run(struct runner *r, int64_t now)
{
	r->watch.next_request = now + REQUEST_POLL_MS;
	pthread_mutex_unlock(&r->mu);
	rn_requests_poll(r, now);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

static int64_t
request_deadline(const struct runner *r, int64_t now)
{
	(void)now;
	return rn_requests(r) ? r->watch.next_request : INT64_MAX;
}

/* Waited for only while some canary is scheduled. */
static int64_t
renew_deadline(const struct runner *r, int64_t now)
{
	(void)now;
	return renews(r) && r->sched.hn > 0 ? r->watch.next_renew : INT64_MAX;
}

/* The canary whose tick is due (an observer never schedules one). */
static bool
tick_ready(struct runner *r, int64_t now)
{
	return r->sched.hn > 0 && r->sched.heap[0].due <= now;
}

static enum round
tick_run(struct runner *r, int64_t now)
{
	struct rcan *c = r->sched.heap[0].c;
	int64_t due;

	/* It stays at the top of the heap while it ticks (only this thread
	 * changes the heap), then moves to its next deadline. */
	pthread_mutex_unlock(&r->mu);
	if (c->ctl.terminating)
		rn_finalize_try(r, c, now);
	else
		rn_run_tick(r, c, now);
	if (r->cfg.on_tick != NULL)
		r->cfg.on_tick(r->cfg.tick_arg, c->key, rn_now_ms(r) - now);
	pthread_mutex_lock(&r->mu);
	due = c->st.next_tick_ms > now ? c->st.next_tick_ms : now + rn_interval_ms(c->cfg);
	if (c->run.suspended)
		due = rn_now_ms(r) + 1;	/* after those due now */
	if (c->ctl.control && !c->ctl.refused)
		rn_schedule(r, c, due);
	else
		rn_heap_remove(r, c);
	return ROUND_AGAIN;
}

static int64_t
tick_deadline(const struct runner *r, int64_t now)
{
	(void)now;
	return r->sched.hn > 0 ? r->sched.heap[0].due : INT64_MAX;
}

/* A headless run is done, notifications included (the notifier wakes us
 * when its queue runs dry; meanwhile leases are renewed and ticks run as
 * usual). */
static bool
done_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->cfg.stop_when_done && !r->cfg.observer && !rn_notes_pending(r) && all_done(r);
}

static enum round
done_run(struct runner *r, int64_t now)
{
	(void)now;
	r->life.finished = true;
	pthread_cond_broadcast(&r->life.done_cond);
	return ROUND_STOP;
}

/* Something changed since the front end last took a snapshot. */
static bool
notify_ready(struct runner *r, int64_t now)
{
	(void)now;
	return r->cfg.notify != NULL && r->pub.version != r->pub.notified_version &&
	    !r->pub.notify_pending;
}

static enum round
notify_run(struct runner *r, int64_t now)
{
	(void)now;
	r->pub.notify_pending = true;
	r->pub.notified_version = r->pub.version;
	pthread_mutex_unlock(&r->mu);
	r->cfg.notify(r->cfg.notify_arg);
	pthread_mutex_lock(&r->mu);
	return ROUND_AGAIN;
}

/* In the order they are looked at: what changes the engine's state before
 * what reads it, a due tick after the commands and answers that may change
 * its canary, the end of a run only once nothing else is left. */
static const struct event_source sources[] = {
	{ .name = "stop",     .ready = stop_ready,     .run = stop_run },
	{ .name = "command",  .ready = command_ready,  .run = command_run },
	{ .name = "task",     .ready = task_ready,     .run = task_run },
	{ .name = "wake",     .ready = wake_ready,     .run = wake_run },
	{ .name = "results",  .ready = results_ready,  .run = results_run },
	{ .name = "observe",  .ready = observe_ready,  .run = observe_run,
	  .deadline = observe_deadline },
	{ .name = "renew",    .ready = renew_ready,    .run = renew_run,
	  .deadline = renew_deadline },
	{ .name = "request",  .ready = request_ready,  .run = request_run,
	  .deadline = request_deadline },
	{ .name = "tick",     .ready = tick_ready,     .run = tick_run,
	  .deadline = tick_deadline },
	{ .name = "done",     .ready = done_ready,     .run = done_run },
	{ .name = "notify",   .ready = notify_ready,   .run = notify_run },
};

#define N_SOURCES (sizeof sources / sizeof sources[0])

/* One round of the loop with mu held: returns false to stop. */
static bool
loop_once(struct runner *r)
{
	int64_t now = rn_now_ms(r), deadline = INT64_MAX, d;
	size_t i;

	r->pub.now = now;
	for (i = 0; i < N_SOURCES; i++) {
		if (!sources[i].ready(r, now))
			continue;
		switch (sources[i].run(r, now)) {
		case ROUND_NEXT:
			continue;
		case ROUND_AGAIN:
			return true;
		case ROUND_STOP:
			return false;
		}
	}
	for (i = 0; i < N_SOURCES; i++)
		if (sources[i].deadline != NULL && (d = sources[i].deadline(r, now)) < deadline)
			deadline = d;
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
		r->nt.running = pthread_create(&r->nt.thread, NULL, rn_notifier_main, r) == 0;
	if (!r->cfg.observer && !r->nt.running)
		log_error("cannot start the notifier thread: notifications are not sent");
	while (loop_once(r))
		;
	/* What is left is sent before the end, each bounded by its timeout;
	 * the answers and failures are still published. */
	while (rn_notes_pending(r)) {
		if (r->nt.res_n > 0)
			rn_take_results(r, rn_now_ms(r));
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

int
runner_start(struct runner *r, char *err, size_t errsz)
{
	int64_t now = rn_now_ms(r);
	char first_err[ERRMSG_MAX + 160] = "";
	size_t i, corrupt = 0;
	int rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	r->watch.observing = r->cfg.observer;
	for (i = 0; i < r->tab.n; i++)
		rn_hist_depth(r->tab.cs[i], r->tab.n);
	for (i = 0; i < r->tab.n && !r->cfg.observer; i++) {
		struct rcan *c = r->tab.cs[i];
		char cerr[ERRMSG_MAX + 160] = "";

		if (rn_refuse_cfg(c))
			continue;
		rc = rn_take_control(r, c, now, cerr, sizeof cerr);
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
			rn_release_all(r, false);
			return rc;
		}
		if (c->ctl.control)
			rn_first_tick(r, c, now);
	}
	for (i = 0; i < r->tab.n && r->cfg.observer; i++) {
		r->tab.cs[i]->ctl.control = false;
		r->tab.cs[i]->ctl.readonly = true;
	}
	r->watch.next_observe = now;
	r->watch.next_renew = now + RENEW_MS;
	pthread_mutex_lock(&r->mu);
	r->pub.now = now;
	pthread_mutex_unlock(&r->mu);
	if (pthread_create(&r->life.thread, NULL, engine_main, r) != 0) {
		rn_release_all(r, false);
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
	rn_release_all(r, true);
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
	rn_pool_stop(r);
	for (i = 0; i < r->tab.n; i++)
		rn_canary_free(r->tab.cs[i]);
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
	rn_free_retired(r);
	free(r->actor);
	free(r->context);
	free(r->ns);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cond);
	pthread_cond_destroy(&r->life.done_cond);
	pthread_cond_destroy(&r->nt.cond);
	pthread_mutex_destroy(&r->pool.mu);
	pthread_cond_destroy(&r->pool.work);
	pthread_cond_destroy(&r->pool.done);
	free(r);
}

