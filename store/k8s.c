/*
 * k8s.c — canary state in a ConfigMap and control in a Lease on the
 * cluster (see k8s.h for the layout and the rules).
 */
#include "store/k8s.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/codec.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

#define MAX_HELD 64

struct store_k8s {
	struct k8s_client *c;
	bool read_only;
	int lease_s;
	size_t journal_max;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t renewer;
	bool running, stopping;
	char id[160];			/* our holderIdentity */
	char held[MAX_HELD][200];	/* "ns/name" of held leases */
	size_t n_held;
	json_t *leases;			/* "ns/name" -> our Lease as last written */
	struct k8s_informer *cms;	/* store_k8s_watch: the perch ConfigMaps, or NULL */

	/* The journal writer (see "the journal" below). */
	pthread_mutex_t jlock;		/* jqueue and the flags */
	pthread_cond_t jcond;
	pthread_t jthread;
	bool jrunning, jstop, jbusy, jflushing;
	json_t *jqueue;			/* "ns/name" -> [records] not yet written */
	json_t *jstate;			/* writer thread: "ns/name" -> newest segment */
	json_t *jfail;			/* "ns/name" -> why its last write failed (jlock) */
	bool jwarned;			/* writer thread: a failure was logged */

	/* The heartbeat (see "the heartbeat" below), under blk. */
	pthread_mutex_t blk;
	char beat_ns[MAX_HELD][64];	/* namespaces a beat was written to */
	size_t n_beat_ns;
	struct seen_beat {		/* reader: when each controller's beat
					 * was first seen, on this clock */
		char id[160];
		int64_t beat_ms, seen_mono, age_at_seen;
	} seen[16];
	size_t n_seen;
};

#define JOURNAL_SEGS	 5	/* journal.0 .. journal.4 */
#define JOURNAL_BATCH_MS 20	/* how long the writer gathers a batch */

#define PERCH_SELECTOR "app.kubernetes.io/managed-by=perch"

/* The ConfigMap ns/name from the watch's cache: ST_OK, ST_NOTFOUND, or
 * ST_AGAIN when there is no cache for ns or it is out of step. */
static int
cached_cm(struct store_k8s *s, const char *ns, const char *name, json_t **cm)
{
	*cm = NULL;
	if (s->cms == NULL || strcmp(ns, k8s_client_namespace(s->c)) != 0)
		return ST_AGAIN;
	return k8s_informer_get(s->cms, ns, name, cm);
}

/* ---- helpers -------------------------------------------------------------- */

static int
split_key(const char *key, char *ns, char *obj, char *err)
{
	const char *slash = strchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : 0;

	if (!slash || n == 0 || n > 63 || strlen(slash + 1) == 0 || strlen(slash + 1) > 240) {
		if (err)
			snprintf(err, ERRMSG_MAX, "%.100s: not a canary name (ns/name)", key);
		return ST_INVALID;
	}
	memcpy(ns, key, n);
	ns[n] = '\0';
	snprintf(obj, 256, "perch-%s", slash + 1);
	return ST_OK;
}

static void
now_micro(char *out, size_t sz)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

static const char *
data_get(json_t *cm, const char *key)
{
	return json_string_value(json_object_get(json_object_get(cm, "data"), key));
}

static int
refuse(struct store_k8s *s)
{
	return s->read_only ? ST_REFUSED : ST_OK;
}

/* ---- the ConfigMap ---------------------------------------------------------- */

static int
cm_get(struct store_k8s *s, const char *key, json_t **cm, char *err)
{
	char ns[64], name[256];
	struct k8s_err e;
	int st;

	*cm = NULL;
	if ((st = split_key(key, ns, name, err)) != ST_OK)
		return st;
	if ((st = cached_cm(s, ns, name, cm)) != ST_AGAIN)
		return st;
	st = k8s_get(s->c, K8S_RES(CONFIGMAPS), ns, name, cm, &e);
	if (st != ST_OK && st != ST_NOTFOUND && err)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.340s", ns, name, e.msg);
	return st;
}

/* Merges `data` (keys to set, or null to remove) into the ConfigMap of key:
 * one merge patch, which touches nothing else; the ConfigMap is created
 * when it does not exist yet.  A 409 (a creation race, or an API server
 * that answers one to a patch) is tried again, a bounded number of times. */
static int
cm_patch(struct store_k8s *s, const char *key, json_t *data, char *err)
{
	char ns[64], name[256];
	struct k8s_err e = { 0 };
	json_t *patch, *obj, *d;
	const char *k;
	json_t *v;
	int st, i;

	if ((st = split_key(key, ns, name, err)) != ST_OK)
		return st;
	patch = json_pack("{s:O}", "data", data);
	for (i = 0; i < 4; i++) {
		st = k8s_patch(s->c, K8S_RES(CONFIGMAPS), ns, name, K8S_PATCH_MERGE, patch, NULL, &e);
		if (st != ST_NOTFOUND)
			goto next;
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{}}", "apiVersion", "v1",
		    "kind", "ConfigMap", "metadata", "name", name, "namespace", ns, "labels",
		    "app.kubernetes.io/managed-by", "perch", "perch.dev/canary", name + 6, "data");
		d = json_object_get(obj, "data");
		json_object_foreach(data, k, v) {
			if (!json_is_null(v))
				json_object_set(d, k, v);
		}
		st = k8s_create(s->c, K8S_RES(CONFIGMAPS), ns, obj, NULL, &e);
		json_decref(obj);
next:
		if (st != ST_CONFLICT)
			break;	/* written, or a real error; on a race, patch again */
	}
	json_decref(patch);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.340s", ns, name, e.msg);
	return st;
}

/* Sets data.<field> to value as compact JSON. */
static int
put_field(struct store_k8s *s, const char *key, const char *field, json_t *value, char *err)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *data = json_pack("{s:s}", field, text ? text : "null");
	int st = cm_patch(s, key, data, err);

	free(text);
	json_decref(data);
	return st;
}

/* Parses data.<field> of the ConfigMap; ST_NOTFOUND when absent. */
static int
get_field(struct store_k8s *s, const char *key, const char *field, json_t **out, char *err)
{
	json_error_t je;
	const char *text;
	json_t *cm;
	int st;

	*out = NULL;
	if ((st = cm_get(s, key, &cm, err)) != ST_OK)
		return st;
	text = data_get(cm, field);
	if (!text) {
		json_decref(cm);
		return ST_NOTFOUND;
	}
	*out = json_loads(text, 0, &je);
	if (!*out && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.%s is not JSON (line %d: %.80s)",
		    key, field, je.line, je.text);
	json_decref(cm);
	return *out ? ST_OK : ST_CORRUPT;
}

/* ---- status, spec, journal ------------------------------------------------- */

static int
sk_save(void *ctx, const char *key, const struct canary_status *st, char *err)
{
	struct store_k8s *s = ctx;
	json_t *j;
	int rc;

	if ((rc = refuse(s)) != ST_OK)
		return rc;
	j = status_to_json(st);
	rc = put_field(s, key, "status", j, err);
	json_decref(j);
	return rc;
}

static int
sk_load(void *ctx, const char *key, struct canary_status *out, char *err)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *j;
	int st;

	if ((st = get_field(s, key, "status", &j, err)) != ST_OK)
		return st;
	st = status_from_json(j, out, why, sizeof why);
	json_decref(j);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.status: %.120s", key, why);
	return st == ST_OK ? ST_OK : ST_CORRUPT;
}

/* The spec, and who controls the canary (data.controller: its watchers
 * find the controller's heartbeat by it), in one write. */
static int
sk_save_spec(void *ctx, const char *key, const struct canary_cfg *cfg, char *err)
{
	struct store_k8s *s = ctx;
	json_t *j, *data;
	char *text;
	int rc;

	if ((rc = refuse(s)) != ST_OK)
		return rc;
	j = spec_to_json(cfg);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	data = json_pack("{s:s}", "spec", text ? text : "null");
	pthread_mutex_lock(&s->lock);
	if (s->id[0] != '\0')
		json_object_set_new(data, "controller", json_string(s->id));
	pthread_mutex_unlock(&s->lock);
	rc = cm_patch(s, key, data, err);
	free(text);
	json_decref(data);
	json_decref(j);
	return rc;
}

static int
sk_load_spec(void *ctx, const char *key, struct canary_cfg **out, char *err)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *j;
	int st;

	*out = NULL;
	if ((st = get_field(s, key, "spec", &j, err)) != ST_OK)
		return st;
	st = spec_from_json(j, out, why, sizeof why);
	json_decref(j);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.spec: %.120s", key, why);
	return st == ST_OK ? ST_OK : ST_CORRUPT;
}

/* ---- the journal -------------------------------------------------------------
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
 * first, and again after a failure). */

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

	if ((text = data_get(cm, "journal")) != NULL)
		old = json_loads(text, 0, NULL);
	if (json_is_array(old))
		json_array_extend(all, old);
	json_decref(old);
	for (i = 0; i < JOURNAL_SEGS; i++) {
		snprintf(k, sizeof k, "journal.%zu", i);
		seg = (text = data_get(cm, k)) ? json_loads(text, 0, NULL) : NULL;
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

/* The writer's view of a canary's journal: the newest segment. */
static json_t *
journal_state(struct store_k8s *s, const char *key, json_t **legacy, char *err)
{
	json_t *cm, *state, *seg;
	const char *text;
	json_int_t best = -1;
	char k[32];
	size_t i;
	int st;

	*legacy = NULL;
	if ((st = cm_get(s, key, &cm, err)) != ST_OK && st != ST_NOTFOUND)
		return NULL;
	state = json_pack("{s:I, s:[]}", "seq", (json_int_t)0, "records");
	for (i = 0; i < JOURNAL_SEGS; i++) {
		snprintf(k, sizeof k, "journal.%zu", i);
		seg = (text = data_get(cm, k)) ? json_loads(text, 0, NULL) : NULL;
		if (json_is_array(json_object_get(seg, "records")) &&
		    json_integer_value(json_object_get(seg, "seq")) > best) {
			best = json_integer_value(json_object_get(seg, "seq"));
			json_object_set(state, "seq", json_object_get(seg, "seq"));
			json_object_set_new(state, "records",
			    json_deep_copy(json_object_get(seg, "records")));
		}
		json_decref(seg);
	}
	if (data_get(cm, "journal") != NULL) {
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

/* Writes one canary's queued records in one merge patch. */
static int
journal_write(struct store_k8s *s, const char *key, json_t *recs, char *err)
{
	json_t *state = json_object_get(s->jstate, key), *legacy = NULL, *data, *all;
	int st;

	if (state == NULL) {
		if ((state = journal_state(s, key, &legacy, err)) == NULL)
			return ST_NETWORK;
		json_object_set_new(s->jstate, key, state);
	}
	data = json_object();
	all = json_array();
	if (legacy != NULL) {		/* an older perch's journal, folded in */
		json_array_extend(all, legacy);
		json_object_set_new(data, "journal", json_null());
	}
	json_array_extend(all, recs);
	journal_add(s, state, all, data);
	st = cm_patch(s, key, data, err);
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

static void *
journal_writer(void *arg)
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
static int
sk_append(void *ctx, const struct journal_rec *rec, char *err)
{
	struct store_k8s *s = ctx;
	const char *why;
	json_t *q;
	int rc = ST_OK;

	if ((rc = refuse(s)) != ST_OK) {
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

static size_t
sk_tail(void *ctx, const char *key, struct journal_rec *out, size_t max)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *cm, *list, *item;
	size_t i, n = 0, total;

	if (!s->read_only)
		journal_settle(s, key);
	if (cm_get(s, key, &cm, NULL) != ST_OK)
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

static size_t
sk_list(void *ctx, char ***out)
{
	struct store_k8s *s = ctx;
	const char *ns = k8s_client_namespace(s->c), *name;
	json_t *list, *item, *items;
	struct k8s_err e;
	size_t i, n = 0;

	*out = NULL;
	if (s->cms != NULL && k8s_informer_list(s->cms, &items) == ST_OK) {
		list = json_pack("{s:o}", "items", items);
	} else if (k8s_list(s->c, K8S_RES(CONFIGMAPS), ns, PERCH_SELECTOR, &list, &e) != ST_OK) {
		return 0;
	}
	*out = xcalloc(json_array_size(json_object_get(list, "items")) + 1, sizeof **out);
	json_array_foreach(json_object_get(list, "items"), i, item) {
		name = json_string_value(json_object_get(json_object_get(json_object_get(item,
		    "metadata"), "labels"), "perch.dev/canary"));
		if (name && *name && data_get(item, "status"))
			(*out)[n++] = xasprintf("%s/%s", ns, name);
	}
	json_decref(list);
	return n;
}

/* ---- the Lease -------------------------------------------------------------- */

enum lease_op { L_ACQUIRE, L_RENEW, L_RELEASE };

struct lease_arg {
	struct store_k8s *s;
	enum lease_op op;
	char holder[160];	/* the other holder, when locked */
};

static bool
lease_live(json_t *spec, time_t now)
{
	const char *renew = json_string_value(json_object_get(spec, "renewTime"));
	json_int_t dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	time_t t;

	if (!renew || k8s_parse_time(renew, &t) != ST_OK)
		return false;
	return (json_int_t)t + (dur > 0 ? dur : STORE_K8S_LEASE_S) > (json_int_t)now;
}

/* Whether the holder ("user@host pid N") is a process of this host that
 * no longer exists: its lease is taken over at once, not when it expires
 * (a controller killed without releasing it, on this machine). */
static bool
holder_gone(const char *holder)
{
	char host[64] = "";	/* as the actor names it (cli_actor) */
	const char *at = strrchr(holder, '@'), *pid = strstr(holder, " pid ");
	char *end;
	long n;

	if (at == NULL || pid == NULL || pid < at || gethostname(host, sizeof host) != 0)
		return false;
	host[sizeof host - 1] = '\0';
	if ((size_t)(pid - at - 1) != strlen(host) || strncmp(at + 1, host, strlen(host)) != 0)
		return false;
	n = strtol(pid + 5, &end, 10);
	if (n <= 0 || *end != '\0' || n == (long)getpid())
		return false;
	return kill((pid_t)n, 0) != 0 && errno == ESRCH;
}

/* ST_OK to write, ST_AGAIN for nothing to do, ST_LOCKED when someone else has it. */
static int
lease_fn(json_t *obj, void *arg)
{
	struct lease_arg *a = arg;
	json_t *spec = json_object_get(obj, "spec");
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	bool ours = holder && strcmp(holder, a->s->id) == 0;
	char now[64];

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	if (!ours && holder && *holder && lease_live(spec, time(NULL)) && !holder_gone(holder)) {
		snprintf(a->holder, sizeof a->holder, "%s", holder);
		return a->op == L_RELEASE ? ST_AGAIN : ST_LOCKED;
	}
	if (a->op == L_RELEASE) {
		if (!ours)
			return ST_AGAIN;
		json_object_set_new(spec, "holderIdentity", json_string(""));
		return ST_OK;
	}
	if (a->op == L_RENEW && !ours && holder && *holder) {
		snprintf(a->holder, sizeof a->holder, "%s", holder);
		return ST_LOCKED;
	}
	now_micro(now, sizeof now);
	if (!ours) {
		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions", json_integer(
		    json_integer_value(json_object_get(spec, "leaseTransitions")) + (holder ? 1 : 0)));
	}
	json_object_set_new(spec, "holderIdentity", json_string(a->s->id));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(a->s->lease_s));
	json_object_set_new(spec, "renewTime", json_string(now));
	return ST_OK;
}

static int
lease_do(struct store_k8s *s, const char *key, enum lease_op op, char *holder, size_t holdersz,
    char *err)
{
	struct lease_arg a = { .s = s, .op = op };
	char ns[64], name[256];
	struct k8s_err e;
	json_t *obj, *out = NULL;
	int st, i;

	if ((st = split_key(key, ns, name, NULL)) != ST_OK)
		return st;
	json_object_del(s->leases, key);
	for (i = 0; i < 3; i++) {
		st = k8s_modify(s->c, K8S_RES(LEASES), ns, name, lease_fn, &a, &out, &e);
		if (st != ST_NOTFOUND || op == L_RELEASE)
			break;
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{}}", "apiVersion",
		    "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name, "namespace", ns,
		    "labels", "app.kubernetes.io/managed-by", "perch", "spec");
		lease_fn(obj, &a);
		st = k8s_create(s->c, K8S_RES(LEASES), ns, obj, &out, &e);
		json_decref(obj);
		if (st != ST_CONFLICT)
			break;
	}
	if (st == ST_OK && op != L_RELEASE && out != NULL)
		json_object_set(s->leases, key, out);
	json_decref(out);
	if (st == ST_NOTFOUND && op == L_RELEASE)
		st = ST_OK;
	if (st == ST_CONFLICT) {
		/* Every write lost a race: someone else is taking it right now. */
		snprintf(a.holder, sizeof a.holder, "%s", a.holder[0] ? a.holder : "another controller");
		st = ST_LOCKED;
	}
	if (st == ST_LOCKED && holder)
		sanitize(holder, holdersz, a.holder, strlen(a.holder));
	if (st != ST_OK && st != ST_LOCKED) {
		log_warn("store: lease %s/%s: %s", ns, name, e.msg);
		if (err)
			snprintf(err, ERRMSG_MAX, "lease %.60s/%.80s: %.340s", ns, name, e.msg);
	}
	return st;
}

/* Renews a held lease in one request: our Lease as last written, with a new
 * renewTime, put back under its resourceVersion.  When that fails (someone
 * else wrote it, or it is gone), the full read-modify-write decides. */
static int
lease_renew(struct store_k8s *s, const char *key)
{
	json_t *mine = json_object_get(s->leases, key), *obj, *out = NULL;
	char ns[64], name[256], now[64];
	struct k8s_err e;
	int st;

	if (mine == NULL || split_key(key, ns, name, NULL) != ST_OK)
		return lease_do(s, key, L_RENEW, NULL, 0, NULL);
	obj = json_deep_copy(mine);
	now_micro(now, sizeof now);
	json_object_set_new(json_object_get(obj, "spec"), "renewTime", json_string(now));
	st = k8s_update(s->c, K8S_RES(LEASES), ns, obj, &out, &e);
	json_decref(obj);
	if (st == ST_OK && out != NULL) {
		json_object_set_new(s->leases, key, out);
		return ST_OK;
	}
	json_decref(out);
	return lease_do(s, key, L_RENEW, NULL, 0, NULL);
}

static bool
is_held(const struct store_k8s *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->n_held; i++)
		if (strcmp(s->held[i], key) == 0)
			return true;
	return false;
}

static void
held_set(struct store_k8s *s, const char *key, bool on)
{
	size_t i;

	for (i = 0; i < s->n_held; i++)
		if (strcmp(s->held[i], key) == 0)
			break;
	if (on && i == s->n_held && s->n_held < MAX_HELD)
		snprintf(s->held[s->n_held++], sizeof s->held[0], "%s", key);
	else if (!on && i < s->n_held)
		memmove(s->held[i], s->held[i + 1], (--s->n_held - i) * sizeof s->held[0]);
}

static int
sk_acquire(void *ctx, const char *key, const char *actor, char *holder, size_t holdersz,
    char *err)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = refuse(s)) != ST_OK) {
		if (err)
			snprintf(err, ERRMSG_MAX, "the store is read-only");
		return st;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->id[0])
		snprintf(s->id, sizeof s->id, "%.120s pid %ld", actor && *actor ? actor : "perch",
		    (long)getpid());
	st = lease_do(s, key, L_ACQUIRE, holder, holdersz, err);
	if (st == ST_OK)
		held_set(s, key, true);
	pthread_mutex_unlock(&s->lock);
	return st;
}

static int
sk_renew(void *ctx, const char *key)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = refuse(s)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->lock);
	/* The store's own thread keeps every held lease renewed: the engine
	 * only learns whether it still holds it, without a request. */
	if (s->running)
		st = is_held(s, key) ? ST_OK : ST_LOCKED;
	else if ((st = lease_renew(s, key)) == ST_LOCKED)
		held_set(s, key, false);
	pthread_mutex_unlock(&s->lock);
	return st;
}

static int
sk_release(void *ctx, const char *key)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = refuse(s)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->lock);
	if (is_held(s, key))	/* nothing to give back otherwise */
		st = lease_do(s, key, L_RELEASE, NULL, 0, NULL);
	held_set(s, key, false);
	pthread_mutex_unlock(&s->lock);
	return st;
}

/* Renews every held lease each third of the lease duration. */
static void *
renewer(void *arg)
{
	struct store_k8s *s = arg;
	struct timespec until;
	size_t i;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->lease_s / 3 > 0 ? s->lease_s / 3 : 1;
		while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
			;
		for (i = 0; !s->stopping && i < s->n_held; i++)
			if (lease_renew(s, s->held[i]) == ST_LOCKED)
				held_set(s, s->held[i--], false);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct store_k8s *
store_k8s_open(struct k8s_client *c, bool read_only, int lease_s)
{
	struct store_k8s *s = xcalloc(1, sizeof *s);

	s->c = c;
	s->read_only = read_only;
	s->lease_s = lease_s > 0 ? lease_s : STORE_K8S_LEASE_S;
	s->leases = json_object();
	s->jqueue = json_object();
	s->jstate = json_object();
	s->jfail = json_object();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->jlock, NULL);
	pthread_cond_init(&s->jcond, NULL);
	pthread_mutex_init(&s->blk, NULL);
	if (!read_only) {
		s->running = pthread_create(&s->renewer, NULL, renewer, s) == 0;
		s->jrunning = pthread_create(&s->jthread, NULL, journal_writer, s) == 0;
	}
	return s;
}

int
store_k8s_watch(struct store_k8s *s)
{
	struct k8s_informer_opts o = { .res = K8S_RES(CONFIGMAPS),
		.ns = k8s_client_namespace(s->c), .selector = PERCH_SELECTOR };

	if (s->cms != NULL)
		return ST_OK;
	s->cms = k8s_informer_new(s->c, &o);
	if (k8s_informer_start(s->cms) != ST_OK) {
		k8s_informer_free(s->cms);
		s->cms = NULL;
		return ST_ERR;
	}
	return ST_OK;
}

void
store_k8s_watch_stats(struct store_k8s *s, struct k8s_informer_stats *out)
{
	memset(out, 0, sizeof *out);
	if (s->cms != NULL)
		k8s_informer_stats(s->cms, out);
}

void
store_k8s_set_journal_max(struct store_k8s *s, size_t n)
{
	s->journal_max = n;
}

void
store_k8s_close(struct store_k8s *s)
{
	if (!s)
		return;
	k8s_informer_free(s->cms);
	pthread_mutex_lock(&s->jlock);	/* what is queued is written first */
	s->jstop = true;
	pthread_cond_broadcast(&s->jcond);
	pthread_mutex_unlock(&s->jlock);
	if (s->jrunning)
		pthread_join(s->jthread, NULL);
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->renewer, NULL);
	while (s->n_held > 0) {
		lease_do(s, s->held[s->n_held - 1], L_RELEASE, NULL, 0, NULL);
		s->n_held--;
	}
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	json_decref(s->leases);
	json_decref(s->jqueue);
	json_decref(s->jstate);
	json_decref(s->jfail);
	pthread_cond_destroy(&s->jcond);
	pthread_mutex_destroy(&s->jlock);
	pthread_mutex_destroy(&s->blk);
	free(s);
}

/* ---- the heartbeat ------------------------------------------------------------
 * One ConfigMap perch.heartbeat per namespace (a name no canary's ConfigMap
 * can have: those are perch-<name>), one key per controller,
 * beat-<hash of its identity>, each a JSON object: controller, context,
 * beatMs (the writer's clock), everyMs, stopped, apiOk, metricsOk,
 * metricsDegraded (absent in an older perch's: false).  A beat
 * is one merge patch of the controller's key in each namespace it controls
 * canaries in; a canary's ConfigMap names its controller (data.controller,
 * written with the spec).  Watchers read both from their watch's cache. */

#define BEAT_CM "perch.heartbeat"

static void
beat_key(const char *id, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(out, n, "beat-%016llx", (unsigned long long)h);
}

/* Merges data into ns's perch.heartbeat, creating it when missing. */
static int
beat_patch(struct store_k8s *s, const char *ns, json_t *data, char *err)
{
	json_t *patch = json_pack("{s:O}", "data", data), *obj;
	struct k8s_err e = { 0 };
	int st, i;

	for (i = 0; i < 4; i++) {
		st = k8s_patch(s->c, K8S_RES(CONFIGMAPS), ns, BEAT_CM, K8S_PATCH_MERGE, patch, NULL, &e);
		if (st == ST_NOTFOUND) {
			obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:O}", "apiVersion",
			    "v1", "kind", "ConfigMap", "metadata", "name", BEAT_CM, "namespace", ns,
			    "labels", "app.kubernetes.io/managed-by", "perch", "perch.dev/heartbeat",
			    "true", "data", data);
			st = k8s_create(s->c, K8S_RES(CONFIGMAPS), ns, obj, NULL, &e);
			json_decref(obj);
		}
		if (st != ST_CONFLICT)
			break;
	}
	json_decref(patch);
	if (st != ST_OK)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/" BEAT_CM ": %.100s", ns, e.msg);
	return st;
}

/* The namespaces to beat in (blk held): those of the canaries held now,
 * and every one beaten in before (so that the last beat, after the leases
 * are given back, still reaches them); the client's when there is none. */
static void
beat_namespaces(struct store_k8s *s)
{
	char ns[64], obj[256];
	size_t i, j;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n_held; i++) {
		if (split_key(s->held[i], ns, obj, NULL) != ST_OK)
			continue;
		for (j = 0; j < s->n_beat_ns && strcmp(s->beat_ns[j], ns) != 0; j++)
			;
		if (j == s->n_beat_ns && s->n_beat_ns < MAX_HELD)
			snprintf(s->beat_ns[s->n_beat_ns++], sizeof s->beat_ns[0], "%s", ns);
	}
	pthread_mutex_unlock(&s->lock);
	if (s->n_beat_ns == 0)
		snprintf(s->beat_ns[s->n_beat_ns++], sizeof s->beat_ns[0], "%s",
		    k8s_client_namespace(s->c));
}

int
store_k8s_beat(void *ctx, const struct heartbeat *hb, char *err)
{
	struct store_k8s *s = ctx;
	char key[40], id[160], *text;
	json_t *data, *o;
	int st = ST_OK, one;
	size_t i;

	if ((st = refuse(s)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->lock);
	snprintf(id, sizeof id, "%s", s->id[0] ? s->id : hb->controller);
	pthread_mutex_unlock(&s->lock);
	beat_key(id, key, sizeof key);
	o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:b, s:b}", "controller", id, "context",
	    hb->context, "beatMs", (json_int_t)clock_realtime_ms(), "everyMs",
	    (json_int_t)hb->every_ms, "stopped", hb->stopped, "apiOk", hb->api_ok, "metricsOk",
	    hb->metrics_ok, "metricsDegraded", hb->metrics_degraded);
	text = json_dumps(o, JSON_COMPACT);
	data = json_pack("{s:s}", key, text ? text : "{}");
	pthread_mutex_lock(&s->blk);
	beat_namespaces(s);
	for (i = 0; i < s->n_beat_ns; i++)
		if ((one = beat_patch(s, s->beat_ns[i], data, err)) != ST_OK)
			st = one;
	pthread_mutex_unlock(&s->blk);
	json_decref(data);
	free(text);
	json_decref(o);
	return st;
}

/* The age of a beat on this process's clock (blk held): how old it was
 * when first seen, plus the time since (the writer's clock only dates its
 * first sight, so clocks that disagree do not make a live controller
 * look lost). */
static int64_t
beat_age(struct store_k8s *s, const char *id, int64_t beat_ms)
{
	int64_t mono = clock_monotonic_ms(), real = clock_realtime_ms();
	struct seen_beat *b = NULL;
	size_t i;

	for (i = 0; i < s->n_seen && b == NULL; i++)
		if (strcmp(s->seen[i].id, id) == 0)
			b = &s->seen[i];
	if (b == NULL) {
		b = &s->seen[s->n_seen < 16 ? s->n_seen++ : 15];
		snprintf(b->id, sizeof b->id, "%s", id);
		b->beat_ms = beat_ms - 1;
	}
	if (b->beat_ms != beat_ms) {
		b->beat_ms = beat_ms;
		b->seen_mono = mono;
		b->age_at_seen = real > beat_ms ? real - beat_ms : 0;
	}
	return b->age_at_seen + (mono - b->seen_mono);
}

/* heartbeat_ops.last: the beat of the controller the canary's ConfigMap
 * names, from the watch's cache (nothing is read from the server). */
static int
sk_heartbeat(void *ctx, const char *canary, struct heartbeat *out)
{
	struct store_k8s *s = ctx;
	char ns[64], name[256], key[40];
	json_t *cm = NULL, *hcm = NULL, *o = NULL;
	const char *id, *text;
	int st = ST_NOTFOUND;

	if (split_key(canary, ns, name, NULL) != ST_OK || cached_cm(s, ns, name, &cm) != ST_OK)
		return ST_NOTFOUND;
	if ((id = data_get(cm, "controller")) != NULL && cached_cm(s, ns, BEAT_CM, &hcm) == ST_OK) {
		beat_key(id, key, sizeof key);
		if ((text = data_get(hcm, key)) != NULL)
			o = json_loads(text, 0, NULL);
	}
	if (json_is_integer(json_object_get(o, "beatMs")) &&
	    json_integer_value(json_object_get(o, "everyMs")) > 0) {
		memset(out, 0, sizeof *out);
		sanitize(out->controller, sizeof out->controller, id, strlen(id));
		text = json_string_value(json_object_get(o, "context"));
		sanitize(out->context, sizeof out->context, text ? text : "", text ? strlen(text) : 0);
		out->every_ms = (int64_t)json_integer_value(json_object_get(o, "everyMs"));
		out->stopped = json_is_true(json_object_get(o, "stopped"));
		out->api_ok = json_is_true(json_object_get(o, "apiOk"));
		out->metrics_ok = json_is_true(json_object_get(o, "metricsOk"));
		out->metrics_degraded = json_is_true(json_object_get(o, "metricsDegraded"));
		pthread_mutex_lock(&s->blk);
		out->age_ms = beat_age(s, id, (int64_t)json_integer_value(json_object_get(o, "beatMs")));
		pthread_mutex_unlock(&s->blk);
		st = ST_OK;
	}
	json_decref(o);
	json_decref(hcm);
	json_decref(cm);
	return st;
}

const struct heartbeat_ops store_k8s_heartbeat_ops = {
	.last = sk_heartbeat,
};

const struct store_ops store_k8s_ops = {
	.name = "k8s",
	.acquire = sk_acquire,
	.renew = sk_renew,
	.release = sk_release,
	.load = sk_load,
	.save = sk_save,
	.append = sk_append,
	.save_spec = sk_save_spec,
	.load_spec = sk_load_spec,
	.tail = sk_tail,
	.list = sk_list,
};
