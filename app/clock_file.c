/*
 * clock_file.c — the controller's clock mapping in DIR/clock.json and the
 * watcher's clock that follows it (see clock_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/clock.h"
#include "app/clock_file.h"
#include "store/state_fs.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Written like every file of the state directory (store/state_fs.h): a
 * temporary made O_EXCL (a stale one removed first), never a link. */
int
clock_file_save(const char *dir, const struct clock_map *m, const struct clock_beat *b,
    char *err, size_t errsz)
{
	char tmp[64];
	json_t *o = json_pack("{s:i, s:s, s:I, s:I}", "format", CLOCK_FILE_FORMAT, "kind", "clock",
	    "virtualMs", (json_int_t)m->virtual_ms, "realMs", (json_int_t)m->real_ms);
	char *text, *line;
	int st;

	json_object_set_new(o, "speed", m->speed > 0 ? json_real(m->speed) : json_string("max"));
	if (b != NULL && b->has) {
		json_object_set_new(o, "everyMs", json_integer(b->every_ms));
		json_object_set_new(o, "controller", json_string(b->controller));
		json_object_set_new(o, "context", json_string(b->context));
		json_object_set_new(o, "stopped", json_boolean(b->stopped));
		json_object_set_new(o, "apiOk", json_boolean(b->api_ok));
		json_object_set_new(o, "metricsOk", json_boolean(b->metrics_ok));
		json_object_set_new(o, "metricsDegraded", json_boolean(b->metrics_degraded));
	}
	text = json_dumps(o, JSON_COMPACT);
	if (text == NULL)
		xalloc_fatal(0);
	line = xasprintf("%s\n", text);
	snprintf(tmp, sizeof tmp, ".%s.tmp.%ld", CLOCK_FILE_NAME, (long)getpid());
	st = state_write_atomic(dir, CLOCK_FILE_NAME, tmp, line, strlen(line), err, errsz);
	free(line);
	free(text);
	json_decref(o);
	return st;
}

/* The fields of a parsed file; ST_CORRUPT naming the bad one. */
static int
map_from_json(json_t *o, const char *path, struct clock_map *m, char *err, size_t errsz)
{
	json_t *fmt = json_object_get(o, "format"), *kind = json_object_get(o, "kind");
	json_t *v = json_object_get(o, "virtualMs"), *r = json_object_get(o, "realMs");
	json_t *s = json_object_get(o, "speed");
	const char *bad = NULL;

	if (!json_is_integer(fmt) || json_integer_value(fmt) != CLOCK_FILE_FORMAT)
		bad = "format";
	else if (!json_is_string(kind) || strcmp(json_string_value(kind), "clock") != 0)
		bad = "kind";
	else if (!json_is_integer(v) || json_integer_value(v) < 0)
		bad = "virtualMs";
	else if (!json_is_integer(r) || json_integer_value(r) < 0)
		bad = "realMs";
	else if (json_is_string(s) && strcmp(json_string_value(s), "max") == 0)
		m->speed = 0;
	else if (json_is_number(s) && json_number_value(s) > 0 && json_number_value(s) <= 1e6)
		m->speed = json_number_value(s);
	else
		bad = "speed";
	if (bad != NULL) {
		snprintf(err, errsz, "%s: field \"%s\" is missing or invalid", path, bad);
		return ST_CORRUPT;
	}
	m->virtual_ms = (int64_t)json_integer_value(v);
	m->real_ms = (int64_t)json_integer_value(r);
	return ST_OK;
}

/* The heartbeat fields (all or none); ST_CORRUPT naming a bad one. */
static int
beat_from_json(json_t *o, const char *path, struct clock_beat *b, char *err, size_t errsz)
{
	json_t *every = json_object_get(o, "everyMs"), *who = json_object_get(o, "controller");
	json_t *ctx = json_object_get(o, "context"), *stopped = json_object_get(o, "stopped");
	json_t *api = json_object_get(o, "apiOk"), *met = json_object_get(o, "metricsOk");
	json_t *slow = json_object_get(o, "metricsDegraded");
	const char *bad = NULL;

	memset(b, 0, sizeof *b);
	if (every == NULL)
		return ST_OK;		/* a perch that does not beat */
	if (!json_is_integer(every) || json_integer_value(every) < 1 ||
	    json_integer_value(every) > 3600000)
		bad = "everyMs";
	else if (!json_is_string(who))
		bad = "controller";
	else if (!json_is_string(ctx))
		bad = "context";
	else if (!json_is_boolean(stopped))
		bad = "stopped";
	else if (!json_is_boolean(api))
		bad = "apiOk";
	else if (!json_is_boolean(met))
		bad = "metricsOk";
	else if (slow != NULL && !json_is_boolean(slow))
		bad = "metricsDegraded";
	if (bad != NULL) {
		snprintf(err, errsz, "%s: field \"%s\" is missing or invalid", path, bad);
		return ST_CORRUPT;
	}
	b->has = true;
	b->every_ms = (int64_t)json_integer_value(every);
	sanitize(b->controller, sizeof b->controller, json_string_value(who),
	    json_string_length(who));
	sanitize(b->context, sizeof b->context, json_string_value(ctx), json_string_length(ctx));
	b->stopped = json_is_true(stopped);
	b->api_ok = json_is_true(api);
	b->metrics_ok = json_is_true(met);
	b->metrics_degraded = json_is_true(slow);
	return ST_OK;
}

/* A parsed document (o NULL: not JSON, je says where) into m and b. */
static int
decode(json_t *o, const json_error_t *je, const char *path, struct clock_map *m,
    struct clock_beat *b, char *err, size_t errsz)
{
	int st;

	if (o == NULL) {
		snprintf(err, errsz, "%s:%d:%d: %s", path, je->line, je->column, je->text);
		return ST_CORRUPT;
	}
	if (!json_is_object(o)) {
		snprintf(err, errsz, "%s: not a JSON object", path);
		st = ST_CORRUPT;
	} else {
		st = map_from_json(o, path, m, err, errsz);
		if (st == ST_OK && b != NULL)
			st = beat_from_json(o, path, b, err, errsz);
	}
	json_decref(o);
	return st;
}

int
clock_file_load(const char *dir, struct clock_map *m, struct clock_beat *b, char *err,
    size_t errsz)
{
	char *path = xasprintf("%s/%s", dir, CLOCK_FILE_NAME);
	json_error_t je;
	json_t *o;
	int st, fd;

	if ((st = state_open(path, O_RDONLY, 0, &fd, err, errsz)) != ST_OK) {
		if (st == ST_NOTFOUND)
			snprintf(err, errsz, "%s: no such file", path);
		free(path);
		return st == ST_NOTFOUND ? st : ST_CORRUPT;
	}
	o = json_loadfd(fd, JSON_REJECT_DUPLICATES, &je);
	close(fd);
	st = decode(o, &je, path, m, b, err, errsz);
	free(path);
	return st;
}

int
clock_file_parse(const char *data, size_t len, const char *name, struct clock_map *m,
    struct clock_beat *b, char *err, size_t errsz)
{
	json_error_t je;

	return decode(json_loadb(data, len, JSON_REJECT_DUPLICATES, &je), &je, name, m, b, err,
	    errsz);
}

int64_t
clock_map_at(const struct clock_map *m, int64_t real_ms)
{
	if (m->speed <= 0)
		return m->virtual_ms;
	return m->virtual_ms + (int64_t)((double)(real_ms - m->real_ms) * m->speed);
}

/* ---- the follow clock ---------------------------------------------------- */

struct clock_follow {
	char *dir;
	pthread_mutex_t mu;
	bool have;		/* map is valid */
	struct clock_map map;
	struct clock_beat beat;	/* of the last read */
	int64_t seen_mono;	/* monotonic ms when the current beat was first read */
	int64_t age_at_seen;	/* how old it was then */
	int64_t checked_ms;	/* real time of the last read; INT64_MIN = never */
	int64_t last;		/* newest time returned: never goes back
				 * (but for the switch from real time to
				 * the first file found) */
};

struct clock_follow *
clock_follow_new(const char *dir)
{
	struct clock_follow *f = xcalloc(1, sizeof *f);

	f->dir = xstrdup(dir);
	pthread_mutex_init(&f->mu, NULL);
	f->checked_ms = INT64_MIN;
	f->last = INT64_MIN;
	return f;
}

void
clock_follow_free(struct clock_follow *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f->dir);
	free(f);
}

/* A new read's heartbeat (mu held): a new controller's time is followed
 * even when it lies behind ours (the watcher's time goes back once, to the
 * new controller's); a new beat is timed on our own clock. */
static void
follow_beat(struct clock_follow *f, const struct clock_map *m, const struct clock_beat *b,
    int64_t real)
{
	if (b->has && (!f->beat.has || strcmp(b->controller, f->beat.controller) != 0))
		f->last = INT64_MIN;	/* ... but for a new controller */
	if (b->has && (!f->beat.has || m->real_ms != f->map.real_ms ||
	    strcmp(b->controller, f->beat.controller) != 0)) {
		f->seen_mono = clock_monotonic_ms();
		f->age_at_seen = real > m->real_ms ? real - m->real_ms : 0;
	}
	f->beat = *b;
}

/* The real instant the mapping is read at: now, or where the controller
 * stopped when it beats no more (two beats after its last, or its last
 * when it said it stopped). */
static int64_t
follow_until(const struct clock_follow *f, int64_t real)
{
	int64_t end;

	if (!f->beat.has)
		return real;
	end = f->map.real_ms + (f->beat.stopped ? 0 : 2 * f->beat.every_ms);
	return real < end ? real : end;
}

/* The current time, re-reading the file when due (mu held).  Time moves
 * in steps, one per read: an observer polling every so many virtual ms
 * then polls at most once per read, however fast the demo runs. */
static int64_t
follow_now_locked(struct clock_follow *f, int64_t real)
{
	char err[512];
	struct clock_map m;
	struct clock_beat b;
	int64_t t;

	if (f->checked_ms != INT64_MIN && real >= f->checked_ms &&
	    real - f->checked_ms < CLOCK_FOLLOW_RELOAD_MS)
		return f->last;
	f->checked_ms = real;
	if (clock_file_load(f->dir, &m, &b, err, sizeof err) == ST_OK) {
		follow_beat(f, &m, &b, real);
		if (!f->have)
			f->last = INT64_MIN;	/* real time until now */
		f->map = m;
		f->have = true;
	}
	t = f->have ? clock_map_at(&f->map, follow_until(f, real)) : real;
	if (t > f->last)
		f->last = t;		/* a watcher's time never runs backwards ... */
	return f->last;
}

static int64_t
follow_now(void *ctx)
{
	struct clock_follow *f = ctx;
	int64_t t;

	pthread_mutex_lock(&f->mu);
	t = follow_now_locked(f, clock_realtime_ms());
	pthread_mutex_unlock(&f->mu);
	return t;
}

/* Time only moves at the next read of the file: wait for it (or the
 * signal). */
static void
follow_wait(void *ctx, pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
	struct clock_follow *f = ctx;
	int64_t now, real = clock_realtime_ms(), abs_ms;
	struct timespec ts;

	pthread_mutex_lock(&f->mu);
	now = follow_now_locked(f, real);
	abs_ms = f->checked_ms + CLOCK_FOLLOW_RELOAD_MS + 1;
	pthread_mutex_unlock(&f->mu);
	if (deadline_ms <= now)
		return;
	ts.tv_sec = (time_t)(abs_ms / 1000);
	ts.tv_nsec = (long)(abs_ms % 1000) * 1000000;
	while (pthread_cond_timedwait(cond, mutex, &ts) == EINTR)
		;
}

const struct clock_ops clock_follow_ops = {
	.now_ms = follow_now,
	.wait = follow_wait,
};

static int
follow_heartbeat(void *ctx, const char *canary, struct heartbeat *out)
{
	struct clock_follow *f = ctx;
	int st = ST_NOTFOUND;

	(void)canary;
	pthread_mutex_lock(&f->mu);
	follow_now_locked(f, clock_realtime_ms());
	if (f->beat.has) {
		memset(out, 0, sizeof *out);
		snprintf(out->controller, sizeof out->controller, "%s", f->beat.controller);
		snprintf(out->context, sizeof out->context, "%s", f->beat.context);
		out->age_ms = f->age_at_seen + (clock_monotonic_ms() - f->seen_mono);
		out->every_ms = f->beat.every_ms;
		out->stopped = f->beat.stopped;
		out->api_ok = f->beat.api_ok;
		out->metrics_ok = f->beat.metrics_ok;
		out->metrics_degraded = f->beat.metrics_degraded;
		st = ST_OK;
	}
	pthread_mutex_unlock(&f->mu);
	return st;
}

const struct heartbeat_ops clock_follow_heartbeat_ops = {
	.last = follow_heartbeat,
};
