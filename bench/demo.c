/*
 * demo.c — the demo benchmark: what `perch demo --headless --canaries
 * 10000 --speed max --duration 1h` does, through demo_run, with its JSON
 * lines written to /dev/null: 10,000 canaries cycling through every
 * scenario on the instant clock, until all have ended or one virtual hour
 * has passed.  Unlike bench/engine.c it includes the headless output path.
 * Prints canary-ticks per second, wall time and peak RSS; asserts nothing
 * (the targets are < 10 s wall and < 64 MB RSS).
 *
 * With --sustained a finished canary gets a new revision after a pause (as
 * in the interactive demo), so every canary keeps working for the whole
 * hour: a harder load than the headless demo, whose canaries all end within
 * minutes.
 *
 * With --state-dir DIR the state is saved there, as `perch demo
 * --state-dir` does (status fsynced on every save, the journal in batches):
 * the cost of durable state.  DIR is created if missing (its parent must
 * exist) and should be empty: saved canaries resume.
 *
 * Usage: demo [--sustained] [--state-dir DIR] [CANARIES [VIRTUAL-SECONDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app/demo.h"

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak resident set in kB, from /proc (VmHWM), else getrusage. */
static long
peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	struct rusage ru;

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	if (kb < 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		kb = ru.ru_maxrss;
	return kb;
}

int
main(int argc, char **argv)
{
	struct demo_opts o = { .speed = 0, .seed = 1, .headless = true };
	struct demo_result res;
	char err[256];
	double t0, secs;
	long seconds;

	if (argc > 1 && strcmp(argv[1], "--sustained") == 0) {
		o.keep_revising = true;
		argc--;
		argv++;
	}
	if (argc > 2 && strcmp(argv[1], "--state-dir") == 0) {
		o.state_dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	seconds = argc > 2 ? atol(argv[2]) : 3600;
	o.canaries = argc > 1 ? atol(argv[1]) : 10000;
	o.duration_ms = (int64_t)seconds * 1000;
	if (o.canaries < 1 || seconds < 1) {
		fprintf(stderr, "usage: demo [--sustained] [--state-dir DIR] [CANARIES [VIRTUAL-SECONDS]]\n");
		return 2;
	}
	o.out = fopen("/dev/null", "w");
	if (o.out == NULL) {
		perror("/dev/null");
		return 3;
	}
	t0 = wall_s();
	demo_run(&o, &res, err, sizeof err);
	secs = wall_s() - t0;
	fclose(o.out);
	if (err[0] != '\0')
		fprintf(stderr, "demo bench: %s\n", err);
	printf("demo%s%s: %zu canaries, %.0f virtual s%s, exit %d\n",
	    o.keep_revising ? " (sustained)" : "", o.state_dir ? " (state dir)" : "", res.n_canaries,
	    (double)res.virtual_ms / 1000.0, res.cut ? " (cut at the limit)" : "", res.status);
	printf("demo: %llu canary-ticks, %llu metric queries in %.2f s wall: %.0f canary-ticks/s\n",
	    (unsigned long long)res.stats.ticks, (unsigned long long)res.stats.queries, secs,
	    secs > 0 ? (double)res.stats.ticks / secs : 0.0);
	printf("demo: peak RSS %.1f MB\n", (double)peak_rss_kb() / 1024.0);
	return 0;
}
