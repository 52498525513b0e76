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
#include "app/state_fs.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Written like every file of the state directory (app/state_fs.h): a
 * temporary made O_EXCL (a stale one removed first), never a link. */
int
clock_file_save(const char *dir, const struct clock_map *m, char *err, size_t errsz)
{
	char tmp[64];
	json_t *o = json_pack("{s:i, s:s, s:I, s:I}", "format", CLOCK_FILE_FORMAT, "kind", "clock",
	    "virtualMs", (json_int_t)m->virtual_ms, "realMs", (json_int_t)m->real_ms);
	char *text, *line;
	int st;

	json_object_set_new(o, "speed", m->speed > 0 ? json_real(m->speed) : json_string("max"));
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

int
clock_file_load(const char *dir, struct clock_map *m, char *err, size_t errsz)
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
	if (o == NULL) {
		snprintf(err, errsz, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		st = ST_CORRUPT;
	} else if (!json_is_object(o)) {
		snprintf(err, errsz, "%s: not a JSON object", path);
		st = ST_CORRUPT;
	} else {
		st = map_from_json(o, path, m, err, errsz);
	}
	json_decref(o);
	free(path);
	return st;
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

/* The current time, re-reading the file when due (mu held).  Time moves
 * in steps, one per read: an observer polling every so many virtual ms
 * then polls at most once per read, however fast the demo runs. */
static int64_t
follow_now_locked(struct clock_follow *f, int64_t real)
{
	char err[512];
	struct clock_map m;
	int64_t t;

	if (f->checked_ms != INT64_MIN && real >= f->checked_ms &&
	    real - f->checked_ms < CLOCK_FOLLOW_RELOAD_MS)
		return f->last;
	f->checked_ms = real;
	if (clock_file_load(f->dir, &m, err, sizeof err) == ST_OK) {
		if (!f->have)
			f->last = INT64_MIN;	/* real time until now */
		f->map = m;
		f->have = true;
	}
	t = f->have ? clock_map_at(&f->map, real) : real;
	if (t > f->last)
		f->last = t;		/* a watcher's time never runs backwards */
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
