/*
 * world_impl.h — the simulated world's insides, shared by world.c (the
 * cluster side) and traffic.c (requests and metrics).  Not for other
 * modules: use world.h.
 */
#ifndef PERCH_SIM_WORLD_IMPL_H
#define PERCH_SIM_WORLD_IMPL_H

#include "sim/world.h"

#define SIM_BUCKET_MS 5000	/* traffic is drawn per 5-second bucket */
#define SIM_HISTORY 16		/* weight changes kept per canary */

struct weight_change {
	int64_t t_ms;
	int weight;		/* canary weight from t_ms on */
};

/* One load test the simulated load tester ran against the canary (a
 * `hey -z D -q Q -c C` command of a rollout webhook): Q x C requests per
 * second from from_ms to to_ms, whatever the routes say. */
struct load_run {
	int64_t from_ms, to_ms;
	double rps;
};

/* One Deployment (the primary, or the target = the canary workload). */
struct sim_deploy {
	int replicas;		/* desired */
	int rev;		/* template revision it runs (1, 2, ...) */
	int64_t changed_ms;	/* last template or scale change */
	int ready_s;		/* until every pod is available */
	bool never_ready;	/* this rollout never finishes */
};

/* The canary's last computed window: the queries of one tick (success
 * rate, duration, their volumes) share it. */
struct window_cache {
	bool valid;
	int64_t from_ms, to_ms;
	unsigned hist_gen;
	int rev;
	struct sim_traffic traffic;
	double p99_ms;
};

struct sim_app {
	char key[128];		/* "ns/name" */
	char target[64];
	uint64_t id;		/* hash of key: the canary's random streams */
	enum scenario scn;
	const struct scenario_params *p;
	int interval_s;
	int progress_deadline_s;
	int ready_threshold[2];	/* percent, by enum workload */

	bool initialized;
	int  target_rev;	/* the target's template revision */
	int64_t next_rev_ms;	/* when the next revision arrives; INT64_MAX none */
	bool waiting_first;	/* the first revision is not scheduled yet */
	bool rolling;		/* the target is scaled up for a rollout */
	struct sim_deploy dep[2];	/* by enum workload */
	struct routes routes;
	struct weight_change hist[SIM_HISTORY];	/* ring, oldest overwritten */
	unsigned n_hist;	/* changes ever recorded */
	unsigned hist_gen;	/* bumped on every change of the history */
	struct load_run load[SIM_HISTORY];	/* ring, oldest overwritten */
	unsigned n_load;	/* load tests ever started (bump hist_gen too) */
	struct window_cache cache;
	int64_t last_touch_ms;
};

#define SIM_LOOKUP_CACHE 4096	/* canary_cfg pointer -> app, direct-mapped */

struct sim_world {
	struct sim_options opt;
	struct {
		const struct canary_cfg *cfg;
		size_t idx;
	} lookup[SIM_LOOKUP_CACHE];
	struct sim_app *apps;
	size_t n, cap;
	size_t *slots;		/* open addressing: app index + 1, 0 = empty */
	size_t nslots;		/* a power of two */
	struct sim_stats stats;
};

struct sim_app *sim_find(struct sim_world *w, const char *key);
/* The app of a canary configuration (cached by pointer, checked by name). */
struct sim_app *sim_app_of(struct sim_world *w, const struct canary_cfg *c);
/* The canary weight in effect at t_ms. */
int sim_weight_at(const struct sim_app *a, int64_t t_ms);
/* The world's clock now (its sim_options clock). */
int64_t world_now(const struct sim_world *w);
/* Requests per second the load tester sends the canary at t_ms. */
double sim_load_rps_at(const struct sim_app *a, int64_t t_ms);
/* Requests of workload wl in [from_ms, to_ms); when durations is given, the
 * p99 latency in ms is stored there (NAN without requests). */
void sim_window(const struct sim_world *w, const struct sim_app *a, enum workload wl,
    int64_t from_ms, int64_t to_ms, struct sim_traffic *out, double *p99_ms);

#endif
