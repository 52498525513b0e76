/*
 * demo.c — the demo run: canaries, world, clock, engine (see demo.h).
 *
 * The default set is six canaries in namespace "shop", one per scenario
 * worth watching, with the canonical `checkout` first; interactively the
 * `cart` canary waits at manual gates (confirm rollout and promotion) for
 * the viewer's approval.  Headless runs have nobody to approve and bring no
 * new revisions, so they end when every canary is terminal.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli_msg.h"
#include "app/clock.h"
#include "app/clock_file.h"
#include "app/heartbeat.h"
#include "app/demo.h"
#include "app/headless.h"
#include "app/interrupt.h"
#include "store/dir.h"
#include "engine/routers.h"
#include "engine/runner.h"
#include "metrics/builtin.h"
#include "metrics/render.h"
#include "tui/tui.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

static const enum scenario default_set[] = {
	SCN_HEALTHY, SCN_ERROR_SPIKE, SCN_LATENCY_REGRESSION,
	SCN_NO_TRAFFIC, SCN_SLOW_START, SCN_FLAPPING,
};

/* Headless runs with a limit follow the canaries' phases from the records
 * they print: one flag per canary (found by name in a sorted table) and a
 * count of those terminal.  Cheaper than snapshots, which cost memory and
 * time with thousands of canaries. */
struct tracker {
	struct tracked {
		char key[128];
		bool terminal;
	} *t;
	size_t n;
	atomic_size_t terminal;
	FILE *out;
};

struct demo {
	const struct demo_opts *o;
	struct perch_clock *clock;
	struct sim_world *world;
	struct runner *runner;
	struct store_dir *store;
	struct tui *tui;
	struct tracker track;
	size_t n;
	int64_t start_ms;		/* virtual time at start (resumed or the epoch) */
	/* With a state directory: the heartbeat rewrites the clock file every
	 * second, for watchers (the time, and that this demo lives) and for
	 * a restart (the newest virtual time). */
	struct beat_dir beat_dir;
	struct beat_writer *beat;
};

/* A blue/green canary gets no share of the routes while it is analysed: as
 * in Flagger's blue/green tutorial, ten iterations and a rollout webhook
 * that has the load tester send it 20 requests a second for a minute each
 * time (the simulator runs the command, sim/loadtest.c). */
static void
demo_bluegreen(struct canary_cfg *c)
{
	struct hook_cfg *h;
	char cmd[256];

	c->iterations = 10;
	c->hooks = xcalloc(1, sizeof *c->hooks);
	c->n_hooks = 1;
	h = &c->hooks[0];
	h->name = xstrdup("load-test");
	h->url = xstrdup("http://flagger-loadtester.test/");
	h->type = HOOK_ROLLOUT;
	h->timeout_ms = 5000;
	snprintf(cmd, sizeof cmd, "hey -z 1m -q 10 -c 2 http://%s-canary.%s:%d/", c->service,
	    c->ns, c->port);
	h->metadata = xcalloc(1, sizeof *h->metadata);
	h->n_metadata = 1;
	h->metadata[0] = (struct kv){ xstrdup("cmd"), xstrdup(cmd) };
}

/* The i-th canary of the run: its scenario, name and gates. */
/* --provider: the canary routes through that provider, and its built-in
 * metrics carry that provider's queries (shown in the detail screen; the
 * simulator answers them by their kind). */
static struct canary_cfg *
demo_provider(struct canary_cfg *c, const char *provider)
{
	struct render_ctx rc = { .name = c->name, .ns = c->ns, .target = c->target,
		.service = c->service, .ingress = c->target, .route = c->target };
	enum observer obs;
	char err[256];
	size_t i;

	if (provider == NULL)
		return c;
	free(c->provider);
	c->provider = xstrdup(provider);
	obs = builtin_observer(c->provider, c->target_kind);
	if (router_can(c->provider, RT_BLUEGREEN))
		demo_bluegreen(c);
	for (i = 0; i < c->n_metrics; i++) {
		struct metric_cfg *m = &c->metrics[i];

		rc.interval = m->interval != NULL ? m->interval : "1m";
		free(m->query);
		m->query = NULL;
		if (m->kind != METRIC_CUSTOM &&
		    builtin_render(obs, m->kind, false, &rc, &m->query, err, sizeof err) == ST_OK)
			collapse_space(m->query);
	}
	return c;
}

static struct canary_cfg *
demo_canary(const struct demo_opts *o, size_t i, enum scenario *scn)
{
	const enum scenario *list = o->n_scenarios ? o->scenarios : default_set;
	size_t n = o->n_scenarios ? o->n_scenarios : sizeof default_set / sizeof default_set[0];
	unsigned confirm = 0;
	char name[64];
	size_t k;

	*scn = list[i % n];
	if (o->canaries > 0) {
		snprintf(name, sizeof name, "%s-%zu", scenario_app(*scn), i + 1);
	} else {
		/* A scenario listed again is numbered by its position:
		 * "healthy,error-spike,healthy" is checkout, payments,
		 * checkout-3. */
		for (k = 0; k < i && list[k] != *scn; k++)
			;
		if (k < i)
			snprintf(name, sizeof name, "%s-%zu", scenario_app(*scn), i + 1);
		else
			snprintf(name, sizeof name, "%s", scenario_app(*scn));
	}
	if (!o->headless && o->n_scenarios == 0 && o->canaries == 0 && *scn == SCN_SLOW_START)
		confirm = CONFIRM_ROLLOUT | CONFIRM_PROMOTION;
	return demo_provider(scenario_canary(*scn, DEMO_NS, name, confirm), o->provider);
}

static size_t
demo_count(const struct demo_opts *o)
{
	if (o->canaries > 0)
		return (size_t)o->canaries;
	return o->n_scenarios ? o->n_scenarios : sizeof default_set / sizeof default_set[0];
}

static int
tracked_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tracked *)a)->key, ((const struct tracked *)b)->key);
}

/* The runner's sink: prints the record, then notes the canary's phase. */
static void
tracking_sink(void *arg, const struct journal_rec *rec)
{
	struct tracker *k = arg;
	struct tracked probe = { .terminal = false }, *hit;
	bool now;

	headless_sink(k->out, rec);
	if (rec->kind != REC_EVENT)
		return;
	snprintf(probe.key, sizeof probe.key, "%s", rec->canary);
	hit = bsearch(&probe, k->t, k->n, sizeof *k->t, tracked_cmp);
	if (hit == NULL || hit->terminal == (now = phase_is_terminal(rec->phase)))
		return;
	hit->terminal = now;
	if (now)
		atomic_fetch_add(&k->terminal, 1);
	else
		atomic_fetch_sub(&k->terminal, 1);
}

/* Headless: until every canary is terminal, or the duration limit, or
 * the engine ends on its own (every canary it could take is done: those
 * held by another perch never become terminal here). */
static void
wait_headless(struct demo *d, struct demo_result *res)
{
	struct timespec nap = { 0, 5 * 1000000 };

	if (d->o->duration_ms > 0) {
		while (atomic_load(&d->track.terminal) < d->n && !runner_done(d->runner) &&
		    interrupt_signal() == 0) {
			if (clock_at_limit(d->clock)) {
				res->cut = true;
				return;
			}
			nanosleep(&nap, NULL);
		}
	}
	runner_wait(d->runner);
}

/* Why a headless run ended with exit 3 when the engine said nothing:
 * canaries held by another perch on the same state directory. */
static void
explain_infra(struct runner *r, char *err, size_t errsz)
{
	struct snapshot *s = runner_snapshot(r);

	if (s != NULL && s->holder != NULL && s->holder[0] != '\0')
		snprintf(err, errsz, "canaries on this state directory are controlled by another "
		    "perch (%s); those were not run", s->holder);
	snapshot_unref(s);
}

/* Saved canaries: the simulated cluster as their status implies, so the
 * engine resumes the rollout where it was (a real cluster outlives perch). */
static void
resume_world(struct demo *d)
{
	struct canary_status st;
	char err[ERRMSG_MAX];
	size_t i;

	for (i = 0; i < d->track.n; i++)
		if (store_dir_ops.load(d->store, d->track.t[i].key, &st, err) == ST_OK)
			sim_world_resume(d->world, d->track.t[i].key, &st);
}

/* Where a demo on a state directory starts its virtual time: the newest
 * time the directory has seen (saved clock, statuses, journals), so a
 * restarted demo continues forward; the epoch for a fresh directory. */
static int64_t
resume_time(struct store_dir *sd)
{
	int64_t t = SIM_EPOCH_MS;
	struct canary_status st;
	struct journal_rec rec;
	struct clock_map m;
	char err[ERRMSG_MAX], **names = NULL;
	size_t n, i;
	int rc;

	if (sd == NULL)
		return t;
	rc = clock_file_load(store_dir_path(sd), &m, NULL, err, sizeof err);
	if (rc == ST_OK && m.virtual_ms > t)
		t = m.virtual_ms;
	else if (rc == ST_CORRUPT)
		log_warn("%s (ignored: the demo writes a new one)", err);
	n = store_dir_ops.list(sd, &names);
	for (i = 0; i < n; i++) {
		if (store_dir_ops.load(sd, names[i], &st, err) == ST_OK && st.last_transition_ms > t)
			t = st.last_transition_ms;
		if (store_dir_ops.tail(sd, names[i], &rec, 1) == 1 && rec.time_ms > t)
			t = rec.time_ms;
		free(names[i]);
	}
	free(names);
	return t;
}

/* After runner_start, on a state directory: the heartbeat, which writes
 * the clock file now and every second while this demo controls canaries
 * (a refused second demo leaves the first one's clock and heartbeat
 * alone; an interactive one that takes them over once the first is gone
 * beats from then on). */
static void
saver_start(struct demo *d)
{
	char who[160], actor[IDENTITY_MAX];

	if (d->store == NULL)
		return;
	d->beat_dir = (struct beat_dir){ .dir = store_dir_path(d->store), .clock = &perch_clock_ops,
		.clock_ctx = d->clock, .speed = d->o->speed };
	/* As the lock names its holder ("user@host pid N"). */
	snprintf(who, sizeof who, "%s pid %ld", identity_get(actor, sizeof actor), (long)getpid());
	d->beat = beat_start(d->runner, &(struct beat_target){ beat_dir_write, &d->beat_dir }, who,
	    "DEMO", BEAT_DIR_MS);
}

/* The last beat, saying this demo stopped, with the final virtual time
 * (the runner has stopped). */
static void
saver_stop(struct demo *d)
{
	beat_stop(d->beat);
	d->beat = NULL;
}

static int
demo_setup(struct demo *d, char *err, size_t errsz)
{
	char actor[IDENTITY_MAX];
	const struct demo_opts *o = d->o;
	struct sim_options so = { .seed = o->seed, .new_revisions = !o->headless || o->keep_revising };
	struct runner_config rc = {
		.cluster = &sim_cluster_ops,
		.metrics = &sim_metrics_ops,
		.webhook = &sim_webhook_ops,
		.clock = &perch_clock_ops,
		.actor = identity_get(actor, sizeof actor),
		.context = "DEMO",
		.ns = DEMO_NS,
		.stop_when_done = o->headless,
	};
	size_t i;

	if (o->state_dir != NULL) {
		if ((d->store = store_dir_open(o->state_dir, false, err, errsz)) == NULL)
			return EXIT_INFRA;
		rc.store = &store_dir_ops;
		rc.store_ctx = d->store;
	}
	d->start_ms = resume_time(d->store);
	d->clock = clock_new(o->speed > 0 ? CLOCK_KIND_SCALED : CLOCK_KIND_INSTANT,
	    d->start_ms, o->speed);
	if (o->duration_ms > 0)
		clock_set_limit(d->clock, d->start_ms + o->duration_ms);
	so.clock = &perch_clock_ops;
	so.clock_ctx = d->clock;
	d->world = sim_world_new(&so);
	rc.cluster_ctx = d->world;
	rc.metrics_ctx = d->world;
	rc.webhook_ctx = d->world;
	rc.clock_ctx = d->clock;
	if (o->headless) {
		rc.sink = tracking_sink;
		rc.sink_arg = &d->track;
	} else {
		char saved_in[300];

		snprintf(saved_in, sizeof saved_in, "in %s", o->state_dir ? o->state_dir : "");
		d->tui = tui_new(&(struct tui_config){ .theme = o->theme, .context = "DEMO",
			.saved_in = o->state_dir != NULL ? saved_in : NULL, .released = "lock" });
		if (d->tui == NULL) {
			snprintf(err, errsz, "cannot start the terminal front end (no wake pipe)");
			return EXIT_INFRA;
		}
		rc.notify = tui_notify;
		rc.notify_arg = d->tui;
	}
	d->runner = runner_new(&rc);
	d->n = demo_count(o);
	d->track.t = xcalloc(d->n, sizeof *d->track.t);
	for (i = 0; i < d->n; i++) {
		enum scenario scn;
		struct canary_cfg *c = demo_canary(o, i, &scn);

		if (sim_world_add(d->world, c, scn, err, errsz) != ST_OK) {
			canary_cfg_free(c);
			return EXIT_INFRA;
		}
		snprintf(d->track.t[i].key, sizeof d->track.t[i].key, "%s/%s", c->ns, c->name);
		runner_add(d->runner, c);
	}
	d->track.n = d->n;
	qsort(d->track.t, d->track.n, sizeof *d->track.t, tracked_cmp);
	if (d->store != NULL)
		resume_world(d);
	return EXIT_OK;
}

static void
demo_teardown(struct demo *d)
{
	if (d->runner != NULL)
		runner_free(d->runner);
	tui_free(d->tui);
	store_dir_close(d->store);
	sim_world_free(d->world);
	clock_free(d->clock);
	free(d->track.t);
}

int
demo_run(const struct demo_opts *o, struct demo_result *res, char *err, size_t errsz)
{
	struct demo d = { .o = o, .track = { .out = o->out != NULL ? o->out : stdout } };
	struct demo_result local;
	int status;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof *res);
	atomic_init(&d.track.terminal, 0);
	err[0] = '\0';
	status = demo_setup(&d, err, errsz);
	if (status == EXIT_OK && runner_start(d.runner, err, errsz) != ST_OK)
		status = EXIT_INFRA;
	if (status == EXIT_OK) {
		saver_start(&d);
		interrupt_attach(d.runner, d.tui);
		if (o->headless) {
			wait_headless(&d, res);
			runner_stop(d.runner);
			saver_stop(&d);
			status = runner_outcome(d.runner);
			if (status == EXIT_INFRA && !res->cut && interrupt_signal() == 0)
				explain_infra(d.runner, err, errsz);
		} else {
			/* Interactive: the viewer decides when it ends. */
			status = tui_run(d.tui, d.runner);
			runner_stop(d.runner);
			saver_stop(&d);
		}
		interrupt_detach();
	}
	res->status = status;
	res->n_canaries = d.n;
	if (d.clock != NULL)		/* NULL when the state directory failed */
		res->virtual_ms = perch_clock_ops.now_ms(d.clock) - d.start_ms;
	if (d.world != NULL)
		sim_world_stats(d.world, &res->stats);
	demo_teardown(&d);
	return status;
}
