/*
 * world.h — one simulated cluster in virtual time, behind the engine's
 * cluster_ops and metrics_ops.
 *
 * The world holds, per canary: the target Deployment (its template revision
 * and replicas), the primary, the route weights and a short history of
 * weight changes, and the scenario it plays.  Traffic is never stored: the
 * requests of a 5-second bucket are drawn on demand from a generator keyed by
 * (seed, canary, version, bucket), so a metric is a pure function of the
 * world's state and the query, whatever order queries come in.  Memory is
 * constant per canary.
 *
 * A rollout starts the way it does on a cluster: the world changes the
 * target's template (an image tag bump) half an interval after the engine
 * first reads the revision with the primary in place.  With `new_revisions`,
 * the next revision arrives a pause after each finished rollout (the target
 * scaled back to zero, or all traffic left on the canary by a failed
 * promotion), so an interactive demo never runs dry.  A canary resumed from
 * saved state (never initialized here) gets its world on first contact.
 *
 * Time: the world reads the clock it is given (for scale, promote and
 * routes); readiness uses the engine's now_ms; metrics use at_ms.
 *
 * Threads: sim_world_new/add/free on the controlling thread before the
 * runner starts and after it stops; the ops on the runner thread only.  The
 * world is not locked.  Ownership: the ops' ctx is the struct sim_world *;
 * canary configurations are borrowed for each call (names are copied).
 */
#ifndef PERCH_SIM_WORLD_H
#define PERCH_SIM_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "sim/scenario.h"

struct sim_world;

struct sim_options {
	uint64_t seed;
	const struct clock_ops *clock;	/* the run's clock; required */
	void *clock_ctx;
	bool new_revisions;		/* a new revision after each finished rollout */
	int  first_revision_s;		/* after initialization; 0 = half the interval */
	int  revision_pause_s;		/* 0 = 30 s */
};

/* Simulated requests of one version over a window. */
struct sim_traffic {
	uint64_t requests;
	uint64_t errors;
};

/* What the world has seen, for benchmarks and tests. */
struct sim_stats {
	uint64_t ticks;		/* distinct (canary, instant) pairs with cluster calls */
	uint64_t queries;	/* metric queries answered */
	uint64_t revisions;	/* revisions rolled out (template changes) */
};

/* A peek at one canary's world, for tests. */
struct sim_view {
	int target_rev, primary_rev, canary_rev;
	int primary_replicas, canary_replicas;	/* desired */
	int primary_available, canary_available;
	struct routes routes;
};

struct sim_world *sim_world_new(const struct sim_options *opt);
void sim_world_free(struct sim_world *w);
/* Adds canary "ns/name" playing scenario s.  ST_OK, or ST_CONFLICT when the
 * name is taken (err says so). */
int  sim_world_add(struct sim_world *w, const struct canary_cfg *c, enum scenario s,
    char *err, size_t errsz);
size_t sim_world_count(const struct sim_world *w);
/* A canary resumed from saved state (perch demo --state-dir): a real
 * cluster outlives a killed perch, the simulated one is rebuilt as the saved
 * status implies during a rollout: the target at the revision being rolled
 * out, the primary at the one last promoted, the canary up and the routes at
 * the saved weight.  Between rollouts (Initialized, Waiting, Succeeded,
 * Failed) the world starts afresh, as the demo always did.  After
 * sim_world_add, before the runner starts.
 * ST_NOTFOUND for an unknown canary. */
int  sim_world_resume(struct sim_world *w, const char *canary, const struct canary_status *st);

/* The canary version's requests in [from_ms, to_ms) (to_ms - from_ms at
 * most a day), or the primary's with WL_PRIMARY.  ST_NOTFOUND for an
 * unknown canary. */
int  sim_world_traffic(struct sim_world *w, const char *canary, enum workload wl,
    int64_t from_ms, int64_t to_ms, struct sim_traffic *out);
int  sim_world_view(struct sim_world *w, const char *canary, int64_t now_ms, struct sim_view *out);
void sim_world_stats(const struct sim_world *w, struct sim_stats *out);

/* Requests per second of the whole service at a virtual time (day curve). */
double sim_rps(const struct scenario_params *p, int64_t t_ms);

/* The demo's virtual epoch: Monday 2 March 2026, 14:00:00 UTC. */
#define SIM_EPOCH_MS INT64_C(1772460000000)

extern const struct cluster_ops sim_cluster_ops;
extern const struct metrics_ops sim_metrics_ops;
/* A load tester (Flagger's flagger-loadtester): a rollout or pre-rollout
 * webhook whose metadata `cmd` is a `hey` command sends the canary that
 * load for its duration, even when no route leads to it (blue/green).
 * Any other command is refused with 400, as the load tester does.  Called
 * on the engine thread, like the cluster ops; ctx is the world. */
extern const struct webhook_ops sim_webhook_ops;

#endif
