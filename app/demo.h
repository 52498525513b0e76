/*
 * demo.h — `perch demo` without the command line: builds the demo canaries,
 * the simulated world and the clock, and runs the engine over them, headless
 * (JSON lines) or in the terminal front end.  app/cmd/demo.c parses options into
 * a struct demo_opts; the benchmark driver (bench/) calls demo_run directly.
 *
 * Threads: demo_run on the main thread; it starts and stops the engine
 * thread itself.  Ownership: the options' strings and stream are borrowed.
 */
#ifndef PERCH_APP_DEMO_H
#define PERCH_APP_DEMO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"
#include "sim/world.h"

#define DEMO_NS           "shop"
#define DEMO_SPEED        3.0	/* a 270 s rollout in 90 s of wall time */
#define DEMO_SEED         7	/* its flapping canary flaps, and survives */
#define DEMO_MAX_CANARIES 100000

struct demo_opts {
	enum scenario scenarios[32];	/* --scenario LIST; none = the default set */
	size_t n_scenarios;
	long canaries;			/* --canaries N; 0 = one per scenario */
	double speed;			/* virtual seconds per real second; 0 = max */
	uint64_t seed;
	bool headless;
	const char *state_dir;		/* NULL: nothing saved */
	const char *theme;
	int64_t duration_ms;		/* virtual time limit; 0 = none */
	bool keep_revising;		/* benchmarks: new revisions even headless,
					 * so the run lasts until duration_ms */
	FILE *out;			/* headless JSON lines; NULL = stdout */
	const char *provider;		/* --provider NAME (a registry name, checked
					 * by the caller); NULL = the default */
};

struct demo_result {
	int status;			/* the exit status of the run */
	size_t n_canaries;
	bool cut;			/* stopped at duration_ms with canaries running */
	int64_t virtual_ms;		/* virtual time that passed */
	struct sim_stats stats;
};

/* Runs the demo to its end; fills res (when given) and returns the exit
 * status (0 all Succeeded, 1 any Failed, 3 infrastructure or setup
 * trouble: err says what). */
int demo_run(const struct demo_opts *o, struct demo_result *res, char *err, size_t errsz);

#endif
