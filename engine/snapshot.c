/* snapshot.c — reference counting and freeing of snapshots (see snapshot.h). */
#include <stdlib.h>

#include "engine/snapshot.h"
#include "util/xalloc.h"

struct snapshot *
snapshot_new(void)
{
	struct snapshot *s = xcalloc(1, sizeof *s);

	atomic_init(&s->refs, 1);
	return s;
}

struct snapshot *
snapshot_ref(struct snapshot *s)
{
	if (s != NULL)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

static void
snap_canary_fini(struct snap_canary *c)
{
	size_t i;

	free(c->ns);
	free(c->name);
	free(c->target);
	free(c->provider);
	free(c->route);
	free(c->ladder);
	free(c->rev_from);
	free(c->rev_to);
	free(c->reason);
	free(c->driven_by);
	free(c->last_reason);
	free(c->sticky);
	free(c->last_failure);
	free(c->override_text);
	free(c->metrics_note);
	for (i = 0; i < c->n_metrics; i++) {
		free(c->metrics[i].name);
		free(c->metrics[i].query);
		free(c->metrics[i].points);
	}
	free(c->metrics);
	for (i = 0; i < c->n_hooks; i++) {
		free(c->hooks[i].name);
		free(c->hooks[i].message);
	}
	free(c->hooks);
	for (i = 0; i < c->n_events; i++) {
		free(c->events[i].message);
		free(c->events[i].actor);
	}
	free(c->events);
}

void
snapshot_unref(struct snapshot *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < s->n_canaries; i++)
		snap_canary_fini(&s->canaries[i]);
	free(s->canaries);
	free(s->context);
	free(s->ns);
	free(s->holder);
	free(s->status_msg);
	free(s->status_canary);
	free(s->startup);
	free(s);
}
