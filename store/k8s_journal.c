/*
 * k8s_journal.c — the journal of the cluster store (see k8s.h for the
 * layout, k8s_journal.h).
 *
 * In JOURNAL_SEGS keys journal.0 .. journal.<SEGS-1>, each
 * {"seq":N,"records":[...]}: segment N lives in key journal.<N mod SEGS> and
 * holds up to seg_size() records, so appending touches one key (two when a
 * segment fills) and overwrites the oldest segment, never the whole
 * history.  Readers put the segments in seq order (an older perch's single
 * key "journal", a plain array, comes first; the first write of this one
 * folds it into segments and removes it).
 *
 * append() only queues: the store's writer thread waits JOURNAL_BATCH_MS
 * after the first record, then writes everything queued per canary in one
 * merge patch (the records of a tick: one request).  A write that fails
 * keeps its records queued (bounded by the journal size) and is tried again
 * a second later; close writes what is left.  The writer knows the newest
 * segment of each canary from its own writes (read once from the server
 * first, and again after a failure).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/codec.h"
#include "store/k8s_journal.h"
#include "util/log.h"
#include "util/status.h"

#define JOURNAL_SEGS	 5	/* journal.0 .. journal.4 */
#define JOURNAL_BATCH_MS 20	/* how long the writer gathers a batch */

static size_t
journal_max(const struct store_k8s *s)
{
	return s->journal_max ? s->journal_max : STORE_K8S_JOURNAL;
}

static size_t
seg_size(const struct store_k8s *s)
{
	return (journal_max(s) + JOURNAL_SEGS - 2) / (JOURNAL_SEGS - 1);
}

/* Every stored record of a ConfigMap, oldest first (a new array). */
static json_t *
journal_records(json_t *cm)
{
	json_t *all = json_array(), *segs = json_array(), *v, *seg, *old = NULL;
	const char *text;
	char k[32];
	size_t i, j, n;

	if ((text = sk_data_get(cm, "journal")) != NULL)
		old = json_loads(text, 0, NULL);
	if (json_is_array(old))
		json_array_extend(all, old);
	json_decref(old);
	for (i = 0; i < JOURNAL_SEGS; i++) {
		snprintf(k, sizeof k, "journal.%zu", i);
		seg = (text = sk_data_get(cm, k)) ? json_loads(text, 0, NULL) : NULL;
		if (json_is_integer(json_object_get(seg, "seq")) &&
		    json_is_array(json_object_get(seg, "records"))) {
			for (j = 0, n = json_array_size(segs); j < n; j++)
				if (json_integer_value(json_object_get(json_array_get(segs, j), "seq")) >
				    json_integer_value(json_object_get(seg, "seq")))
					break;
			json_array_insert(segs, j, seg);
		}
		json_decref(seg);
	}
	json_array_foreach(segs, i, v) {
		json_array_extend(all, json_object_get(v, "records"));
	}
	json_decref(segs);
	return all;
}

/* The writer's view of a canary's journal: the newest segment; *stored
 * gets every record the ConfigMap holds. */
static json_t *
journal_state(struct store_k8s *s, const char *key, json_t **legacy, json_t **stored, char *err)
{
	json_t *cm, *state, *seg;
	const char *text;
	json_int_t best = -1;
	char k[32];
	size_t i;
	int st;

	*legacy = NULL;
	*stored = NULL;
	if ((st = sk_cm_get(s, key, &cm, err)) != ST_OK && st != ST_NOTFOUND)
		return NULL;
	*stored = journal_records(cm);
	state = json_pack("{s:I, s:[]}", "seq", (json_int_t)0, "records");
	for (i = 0; i < JOURNAL_SEGS; i++) {
		snprintf(k, sizeof k, "journal.%zu", i);
		seg = (text = sk_data_get(cm, k)) ? json_loads(text, 0, NULL) : NULL;
		if (json_is_array(json_object_get(seg, "records")) &&
		    json_integer_value(json_object_get(seg, "seq")) > best) {
			best = json_integer_value(json_object_get(seg, "seq"));
			json_object_set(state, "seq", json_object_get(seg, "seq"));
			json_object_set_new(state, "records",
			    json_deep_copy(json_object_get(seg, "records")));
		}
		json_decref(seg);
	}
	if (sk_data_get(cm, "journal") != NULL) {
		*legacy = journal_records(cm);	/* no segments yet: only the old key */
		json_object_set_new(state, "seq", json_integer(best + 1));
		json_object_set_new(state, "records", json_array());
	}
	json_decref(cm);
	return state;
}

/* Appends recs to the state, recording in data the segments touched. */
static void
journal_add(struct store_k8s *s, json_t *state, json_t *recs, json_t *data)
{
	json_t *cur = json_object_get(state, "records"), *r;
	json_int_t seq = json_integer_value(json_object_get(state, "seq"));
	char k[32], *text;
	size_t i;

	json_array_foreach(recs, i, r) {
		if (json_array_size(cur) >= seg_size(s)) {
			seq++;
			cur = json_array();
			json_object_set_new(state, "records", cur);
			json_object_set_new(state, "seq", json_integer(seq));
		}
		json_array_append(cur, r);
		snprintf(k, sizeof k, "journal.%lld", (long long)(seq % JOURNAL_SEGS));
		json_object_set_new(data, k, json_null());	/* placeholder: filled below */
		if (i + 1 == json_array_size(recs) || json_array_size(cur) >= seg_size(s)) {
			text = json_dumps(state, JSON_COMPACT);
			json_object_set_new(data, k, json_string(text ? text : "{}"));
			free(text);
		}
	}
}

/* Drops from the head of recs the records the journal already ends with:
 * those of a write that was carried out though its answer was lost (the
 * writer kept them and tries them again).  Records carry their time to the
 * millisecond, so two different ones are never equal. */
static void
drop_written(json_t *stored, json_t *recs)
{
	size_t ns = json_array_size(stored), nr = json_array_size(recs), k, i;

	for (k = ns < nr ? ns : nr; k > 0; k--) {
		for (i = 0; i < k; i++)
			if (!json_equal(json_array_get(stored, ns - k + i), json_array_get(recs, i)))
				break;
		if (i == k)
			break;
	}
	if (k > 0)
		log_info("store: journal: %zu record(s) were written though the answer was lost", k);
	while (k-- > 0)
		json_array_remove(recs, 0);
}

/* Writes one canary's queued records in one merge patch.  The writer's
 * state is read from the server first, and again after a failed write
 * (the write may have been carried out): recs already there are dropped. */
static int
journal_write(struct store_k8s *s, const char *key, json_t *recs, char *err)
{
	json_t *state = json_object_get(s->jstate, key), *legacy = NULL, *data, *all, *stored;
	int st;

	if (state == NULL) {
		if ((state = journal_state(s, key, &legacy, &stored, err)) == NULL)
			return ST_NETWORK;
		json_object_set_new(s->jstate, key, state);
		drop_written(stored, recs);
		json_decref(stored);
		if (json_array_size(recs) == 0 && legacy == NULL)
			return ST_OK;
	}
	data = json_object();
	all = json_array();
	if (legacy != NULL) {		/* an older perch's journal, folded in */
		json_array_extend(all, legacy);
		json_object_set_new(data, "journal", json_null());
	}
	json_array_extend(all, recs);
	journal_add(s, state, all, data);
	st = sk_cm_patch(s, key, data, err);
	if (st != ST_OK)	/* what the server holds is not known: read it again */
		json_object_del(s->jstate, key);
	json_decref(legacy);
	json_decref(all);
	json_decref(data);
	return st;
}

/* Puts records back at the head of a canary's queue (after a failed write). */
static void
requeue(struct store_k8s *s, const char *key, json_t *recs)
{
	json_t *q = json_object_get(s->jqueue, key);

	if (q != NULL)
		json_array_extend(recs, q);
	while (json_array_size(recs) > journal_max(s))
		json_array_remove(recs, 0);
	json_object_set(s->jqueue, key, recs);
}

/* Writes everything queued; false when some write failed.  jlock held
 * on entry and exit, released around the requests. */
static bool
journal_flush(struct store_k8s *s)
{
	json_t *batch = s->jqueue, *recs;
	char err[ERRMSG_MAX];
	const char *key;
	void *tmp;
	bool ok = true;

	s->jqueue = json_object();
	s->jbusy = true;
	pthread_mutex_unlock(&s->jlock);
	json_object_foreach_safe(batch, tmp, key, recs) {
		if (journal_write(s, key, recs, err) == ST_OK) {
			pthread_mutex_lock(&s->jlock);
			json_object_del(s->jfail, key);
			pthread_mutex_unlock(&s->jlock);
			continue;
		}
		ok = false;
		if (!s->jwarned)
			log_warn("store: journal of %s: %s (kept, tried again)", key, err);
		s->jwarned = true;
		pthread_mutex_lock(&s->jlock);
		json_object_set_new(s->jfail, key, json_string(err));
		requeue(s, key, recs);
		pthread_mutex_unlock(&s->jlock);
	}
	if (ok && s->jwarned)
		log_info("store: journal written again");
	s->jwarned = s->jwarned && !ok;
	json_decref(batch);
	pthread_mutex_lock(&s->jlock);
	s->jbusy = false;
	pthread_cond_broadcast(&s->jcond);
	return ok;
}

static void
wait_ms(struct store_k8s *s, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!s->jstop && pthread_cond_timedwait(&s->jcond, &s->jlock, &until) != ETIMEDOUT)
		;
}

void *
sk_journal_writer(void *arg)
{
	struct store_k8s *s = arg;

	pthread_mutex_lock(&s->jlock);
	for (;;) {
		while (!s->jstop && json_object_size(s->jqueue) == 0)
			pthread_cond_wait(&s->jcond, &s->jlock);
		if (json_object_size(s->jqueue) == 0)
			break;		/* stopping, nothing left */
		if (!s->jstop)
			wait_ms(s, JOURNAL_BATCH_MS);	/* the rest of the tick's records */
		if (!journal_flush(s) && !s->jstop)
			wait_ms(s, 1000);
		if (s->jstop && !s->jflushing)
			s->jflushing = true;	/* one last attempt, then out */
		else if (s->jstop)
			break;
	}
	pthread_mutex_unlock(&s->jlock);
	return NULL;
}

/* Until everything queued for key has been tried once (tail after append
 * reads what was appended). */
static void
journal_settle(struct store_k8s *s, const char *key)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;		/* an API server that is down: not longer */
	pthread_mutex_lock(&s->jlock);
	while (s->jrunning && !s->jstop &&
	    (json_object_get(s->jqueue, key) != NULL || s->jbusy)) {
		pthread_cond_broadcast(&s->jcond);
		if (pthread_cond_timedwait(&s->jcond, &s->jlock, &until) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->jlock);
}

/* Queues the record for the writer thread.  When the writer's last write
 * of this canary failed, the answer says so (its records are kept and
 * tried again, up to the journal's size): the runner shows it. */
int
sk_append(void *ctx, const struct journal_rec *rec, char *err)
{
	struct store_k8s *s = ctx;
	const char *why;
	json_t *q;
	int rc = ST_OK;

	if ((rc = sk_refuse(s)) != ST_OK) {
		if (err)
			snprintf(err, ERRMSG_MAX, "the store is read-only");
		return rc;
	}
	pthread_mutex_lock(&s->jlock);
	if ((why = json_string_value(json_object_get(s->jfail, rec->canary))) != NULL) {
		rc = ST_AGAIN;		/* kept: not lost (providers.h) */
		if (err)
			snprintf(err, ERRMSG_MAX, "%.400s", why);
	}
	if ((q = json_object_get(s->jqueue, rec->canary)) == NULL) {
		q = json_array();
		json_object_set_new(s->jqueue, rec->canary, q);
	}
	json_array_append_new(q, journal_to_json(rec));
	while (json_array_size(q) > journal_max(s))
		json_array_remove(q, 0);
	pthread_cond_broadcast(&s->jcond);
	pthread_mutex_unlock(&s->jlock);
	if (!s->jrunning) {
		if (err)
			snprintf(err, ERRMSG_MAX, "the journal writer thread is not running");
		return ST_ERR;
	}
	return rc;
}

size_t
sk_tail(void *ctx, const char *key, struct journal_rec *out, size_t max)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *cm, *list, *item;
	size_t i, n = 0, total;

	if (!s->read_only)
		journal_settle(s, key);
	if (sk_cm_get(s, key, &cm, NULL) != ST_OK)
		return 0;
	list = journal_records(cm);
	json_decref(cm);
	total = json_array_size(list);
	if (max > journal_max(s))
		max = journal_max(s);
	json_array_foreach(list, i, item) {
		if (i + max < total)
			continue;
		if (journal_from_json(item, &out[n], why, sizeof why) == ST_OK)
			n++;
	}
	json_decref(list);
	return n;
}
