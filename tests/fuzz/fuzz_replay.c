/* fuzz_replay.c — perch replay's journal reader (app/replay_journal.c)
 * on any file: it reads the records or names a file and line, never
 * crashes or leaks; the rollouts it cuts are replayed through the engine
 * (engine/replay.c) with a fixed canary, and every replayed step judged a
 * recorded analysis that exists, in order, within the weights. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/replay_journal.h"
#include "engine/replay.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY "shop/checkout"

static char dir[256];

static void
setup(void)
{
	char path[300];

	snprintf(dir, sizeof dir, "%.200s/%s.%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	    "perch-fuzz-replay", (int)getpid());
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/shop", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/" CANARY, dir);
	mkdir(path, 0700);
}

/* shop/checkout: interval 30s, threshold 2, steps of 10 to 50, the two
 * built-in metrics, a minimum of 10 requests. */
static void
canary(struct canary_cfg *c, struct metric_cfg *m)
{
	memset(c, 0, sizeof *c);
	memset(m, 0, 2 * sizeof *m);
	c->ns = "shop";
	c->name = "checkout";
	c->target = c->service = "checkout";
	c->target_kind = "Deployment";
	c->provider = "linkerd";
	c->port = 8080;
	c->interval_s = 30;
	c->threshold = 2;
	c->max_weight = 50;
	c->step_weight = 10;
	c->primary_ready_threshold = c->canary_ready_threshold = 100;
	c->progress_deadline_s = 600;
	c->nodata = NODATA_HOLD;
	c->min_requests = 10;
	m[0].name = "request-success-rate";
	m[0].kind = METRIC_SUCCESS_RATE;
	m[0].has_min = true;
	m[0].min = 99;
	m[1].name = "request-duration";
	m[1].kind = METRIC_DURATION;
	m[1].has_max = true;
	m[1].max = 500;
	m[0].interval_s = m[1].interval_s = 60;
	c->metrics = m;
	c->n_metrics = 2;
}

static void
check(const struct recorded_rollout *ro, const struct replay_result *res)
{
	size_t i;

	if (res->used > ro->n || res->n_steps != res->used)
		abort();
	for (i = 0; i < res->n_steps; i++)
		if (res->steps[i].analysis != i || res->steps[i].weight < 0 ||
		    res->steps[i].weight > 100 || res->steps[i].n_checks > 2)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_rec *recs = NULL;
	struct canary_cfg c;
	struct metric_cfg m[2];
	struct recorded rec;
	struct replay_result res;
	char path[300], err[1024];
	size_t n = 0, i;
	FILE *f;

	if (dir[0] == '\0')
		setup();
	snprintf(path, sizeof path, "%s/" CANARY "/journal.jsonl", dir);
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (replay_journal_read_dir(dir, CANARY, &recs, &n, err, sizeof err) != ST_OK) {
		if (strstr(err, "journal.jsonl") == NULL)
			abort();
		free(recs);
		return 0;
	}
	canary(&c, m);
	replay_journal_cut(recs, n, &rec);
	for (i = 0; i < rec.n; i++) {
		if (replay_run(&c, rec.r[i].start_ms, rec.r[i].a, rec.r[i].n, &res, err,
		    sizeof err) != ST_OK)
			abort();
		check(&rec.r[i], &res);
		replay_result_fini(&res);
	}
	replay_journal_free(&rec);
	free(recs);
	return 0;
}
