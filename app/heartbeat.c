/* heartbeat.c — the controller's heartbeat thread (see heartbeat.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"
#include "app/clock_file.h"
#include "app/heartbeat.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

struct beat_writer {
	struct runner *r;
	struct beat_target t;
	struct heartbeat hb;		/* identity and period; the rest per beat */
	pthread_t thread;
	bool running, stop, warned;
	bool beating;			/* the last beat was ours to write */
	pthread_mutex_t mu;
	pthread_cond_t cond;
};

/* One beat (no lock held), written only while the runner controls a
 * canary: a perch that only watches (held elsewhere) or lost its canaries
 * to another controller leaves that one's heartbeat alone, and its last
 * beat too; one that takes a canary back starts beating. */
static void
beat(struct beat_writer *w, bool stopped)
{
	struct heartbeat hb = w->hb;
	struct runner_health h;
	char err[ERRMSG_MAX] = "";

	runner_health(w->r, &h);
	if (!h.controls || (stopped && !w->beating)) {
		if (w->beating)
			log_info("heartbeat: this perch controls no canary now; not beating");
		w->beating = false;
		return;
	}
	if (!w->beating && !stopped)
		log_info("heartbeat: beating every %lld ms", (long long)w->hb.every_ms);
	w->beating = true;
	hb.api_ok = h.api_ok;
	hb.metrics_ok = h.metrics_ok;
	hb.metrics_degraded = h.metrics_degraded;
	hb.stopped = stopped;
	if (w->t.write(w->t.ctx, &hb, err) == ST_OK) {
		w->warned = false;
	} else if (!w->warned) {	/* said once, tried again at every beat */
		log_warn("heartbeat: %s", err[0] ? err : "cannot be written");
		w->warned = true;
	}
}

static void *
beat_main(void *arg)
{
	struct beat_writer *w = arg;
	struct timespec until;
	int64_t next;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		next = clock_realtime_ms() + w->hb.every_ms;
		until.tv_sec = (time_t)(next / 1000);
		until.tv_nsec = (long)(next % 1000) * 1000000L;
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->mu, &until) != ETIMEDOUT)
			;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		beat(w, false);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
beat_dir_write(void *ctx, const struct heartbeat *hb, char *err)
{
	const struct beat_dir *d = ctx;
	struct clock_map m = { .real_ms = clock_realtime_ms(), .speed = d->speed };
	struct clock_beat b = { .has = true, .every_ms = hb->every_ms, .stopped = hb->stopped,
		.api_ok = hb->api_ok, .metrics_ok = hb->metrics_ok,
		.metrics_degraded = hb->metrics_degraded };

	m.virtual_ms = d->clock->now_ms(d->clock_ctx);
	snprintf(b.controller, sizeof b.controller, "%s", hb->controller);
	snprintf(b.context, sizeof b.context, "%s", hb->context);
	return clock_file_save(d->dir, &m, &b, err, ERRMSG_MAX);
}

struct beat_writer *
beat_start(struct runner *r, const struct beat_target *t, const char *controller,
    const char *context, int64_t every_ms)
{
	struct beat_writer *w = xcalloc(1, sizeof *w);

	w->r = r;
	w->t = *t;
	snprintf(w->hb.controller, sizeof w->hb.controller, "%s", controller ? controller : "");
	snprintf(w->hb.context, sizeof w->hb.context, "%s", context ? context : "");
	w->hb.every_ms = every_ms > 0 ? every_ms : BEAT_DIR_MS;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
	beat(w, false);
	w->running = pthread_create(&w->thread, NULL, beat_main, w) == 0;
	if (!w->running)
		log_warn("heartbeat: cannot start its thread; watchers will see this perch lost");
	return w;
}

void
beat_stop(struct beat_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	if (w->running)
		pthread_join(w->thread, NULL);
	beat(w, true);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
