/*
 * runner_sched.c — the deadlines (see runner_int.h): a binary heap of
 * canaries by their next tick, so the next due one is found in O(log n)
 * without scanning; the first tick of a canary taken under control; the
 * early ticks runner_wake asks for; and whether someone else waits while
 * a tick runs.  Runner thread; `due` and the heap are written under mu.
 * Entries carry their deadline, so sifting through 10,000 canaries reads
 * the heap array and not every canary it passes.
 */
#include "engine/runner_int.h"

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

void
rn_heap_remove(struct runner *r, struct rcan *c)
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
void
rn_schedule(struct runner *r, struct rcan *c, int64_t due)
{
	struct hent e = { .due = due, .c = c };

	c->sched.due = due;
	if (c->sched.heap == NO_HEAP)
		c->sched.heap = r->sched.hn++;
	heap_place(r, c->sched.heap, e);
}

/* Schedules the first tick of a controlled canary: at its saved deadline
 * when that is within one interval, else now.  Caller holds mu (or the
 * engine is not running yet). */
void
rn_first_tick(struct runner *r, struct rcan *c, int64_t now)
{
	int64_t due = c->st.next_tick_ms;

	if (due < now || due > now + rn_interval_ms(c->cfg))
		due = now;
	rn_schedule(r, c, due);
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
void
rn_wake_idle(struct runner *r, int64_t now)
{
	size_t i;

	for (i = 0; i < r->tab.n; i++) {
		struct rcan *c = r->tab.cs[i];

		if (!c->sched.wake)
			continue;
		c->sched.wake = false;
		if (c->ctl.control && !c->ctl.readonly && !c->ctl.corrupt && !c->run.suspended &&
		    c->sched.heap != NO_HEAP && c->sched.due > now && idle_phase(c->st.phase))
			rn_schedule(r, c, now);
	}
}

/* Whether someone else waits for the engine: a command, or another
 * canary's tick that is due (c is the one running, or NULL).  Runner
 * thread; the heap only changes on this thread. */
bool
rn_others_waiting(struct runner *r, const struct rcan *c, int64_t now)
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
