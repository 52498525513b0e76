/* bench/engine.c — the engine benchmark: N canaries (default 10,000)
 * progressing at once on the simulator with an instant clock, for one
 * virtual hour.  Prints canary-ticks per second of wall time and the peak
 * RSS.  Target (issue 4): under 10 s of wall time and under 64 MB on two
 * cores.
 *
 *   engine [CANARIES [VIRTUAL-SECONDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app/clock.h"
#include "engine/runner.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "util/status.h"

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, secs = argc > 2 ? atol(argv[2]) : 3600;
	struct perch_clock *clk = clock_new(CLOCK_KIND_INSTANT, SIM_EPOCH_MS, 0);
	struct sim_options o = { .seed = 1, .clock = &perch_clock_ops, .clock_ctx = clk,
	    .new_revisions = true };
	struct sim_world *w = sim_world_new(&o);
	struct runner_config rc = {
		.cluster = &sim_cluster_ops, .cluster_ctx = w,
		.metrics = &sim_metrics_ops, .metrics_ctx = w,
		.clock = &perch_clock_ops, .clock_ctx = clk,
		.actor = "bench@perch", .context = "BENCH",
	};
	struct runner *r = runner_new(&rc);
	struct sim_stats stats;
	struct rusage ru;
	char err[256], name[64];
	double t0, t1;
	long i;

	if (n <= 0 || secs <= 0) {
		fprintf(stderr, "usage: engine [CANARIES [VIRTUAL-SECONDS]]\n");
		return 2;
	}
	clock_set_limit(clk, SIM_EPOCH_MS + secs * 1000);
	for (i = 0; i < n; i++) {
		/* The scenarios that keep rolling (new revisions after each). */
		enum scenario s = (enum scenario)(i % SCN__COUNT);
		struct canary_cfg *c;

		snprintf(name, sizeof name, "%s-%ld", scenario_app(s), i);
		c = scenario_canary(s, "bench", name, 0);
		if (sim_world_add(w, c, s, err, sizeof err) != ST_OK) {
			fprintf(stderr, "engine: %s\n", err);
			return 3;
		}
		runner_add(r, c);
	}
	t0 = wall_s();
	if (runner_start(r, err, sizeof err) != ST_OK) {
		fprintf(stderr, "engine: %s\n", err);
		return 3;
	}
	while (!clock_at_limit(clk)) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	runner_stop(r);
	t1 = wall_s();
	sim_world_stats(w, &stats);
	getrusage(RUSAGE_SELF, &ru);
	/* CPU time too: on a shared machine the wall time says more about the
	 * neighbours than about the engine. */
	printf("engine: %ld canaries, %ld virtual s, %.2f s wall, %.2f s cpu, %llu canary-ticks, "
	    "%.0f canary-ticks/s, %llu revisions, peak RSS %.1f MB\n",
	    n, secs, t1 - t0,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    (unsigned long long)stats.ticks,
	    (double)stats.ticks / (t1 - t0), (unsigned long long)stats.revisions,
	    ru.ru_maxrss / 1024.0);
	runner_free(r);
	sim_world_free(w);
	clock_free(clk);
	return 0;
}
