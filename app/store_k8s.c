/*
 * store_k8s.c — canary state in a ConfigMap and control in a Lease on the
 * cluster (see store_k8s.h for the layout and the rules).
 */
#include "app/store_k8s.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/store_codec.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
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
};

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

typedef void (*cm_edit)(json_t *data, void *arg);

struct cm_arg {
	cm_edit edit;
	void *arg;
};

static int
cm_fn(json_t *obj, void *arg)
{
	struct cm_arg *a = arg;
	json_t *data = json_object_get(obj, "data");

	if (!json_is_object(data)) {
		data = json_object();
		json_object_set_new(obj, "data", data);
	}
	a->edit(data, a->arg);
	return ST_OK;
}

static int
cm_update(struct store_k8s *s, const char *key, cm_edit edit, void *arg, char *err)
{
	struct cm_arg a = { edit, arg };
	char ns[64], name[256];
	struct k8s_err e;
	json_t *obj;
	int st, i;

	if ((st = split_key(key, ns, name, err)) != ST_OK)
		return st;
	for (i = 0; i < 3; i++) {
		st = k8s_modify(s->c, K8S_RES(CONFIGMAPS), ns, name, cm_fn, &a, NULL, &e);
		if (st != ST_NOTFOUND)
			break;
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{}}", "apiVersion", "v1",
		    "kind", "ConfigMap", "metadata", "name", name, "namespace", ns, "labels",
		    "app.kubernetes.io/managed-by", "perch", "perch.dev/canary", name + 6, "data");
		cm_fn(obj, &a);
		st = k8s_create(s->c, K8S_RES(CONFIGMAPS), ns, obj, NULL, &e);
		json_decref(obj);
		if (st != ST_CONFLICT)
			break;	/* created, or a real error; on a race, modify again */
	}
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.100s", ns, name, e.msg);
	return st;
}

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
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.100s", ns, name, e.msg);
	return st;
}

static void
edit_set(json_t *data, void *arg)
{
	json_t **kv = arg;

	json_object_set(data, json_string_value(kv[0]), kv[1]);
}

static int
put_field(struct store_k8s *s, const char *key, const char *field, json_t *value, char *err)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *kv[2] = { json_string(field), json_string(text ? text : "null") };
	int st = cm_update(s, key, edit_set, kv, err);

	free(text);
	json_decref(kv[0]);
	json_decref(kv[1]);
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

static int
sk_save_spec(void *ctx, const char *key, const struct canary_cfg *cfg, char *err)
{
	struct store_k8s *s = ctx;
	json_t *j;
	int rc;

	if ((rc = refuse(s)) != ST_OK)
		return rc;
	j = spec_to_json(cfg);
	rc = put_field(s, key, "spec", j, err);
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

struct append_arg {
	json_t *rec;
	size_t max;
};

static void
edit_append(json_t *data, void *arg)
{
	struct append_arg *a = arg;
	json_t *rec = a->rec, *list;
	const char *text = json_string_value(json_object_get(data, "journal"));
	char *out;

	list = text ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_array(list)) {
		json_decref(list);
		list = json_array();
	}
	json_array_append(list, rec);
	while (json_array_size(list) > a->max)
		json_array_remove(list, 0);
	out = json_dumps(list, JSON_COMPACT);
	json_object_set_new(data, "journal", json_string(out ? out : "[]"));
	free(out);
	json_decref(list);
}

static int
sk_append(void *ctx, const struct journal_rec *rec)
{
	struct store_k8s *s = ctx;
	char err[ERRMSG_MAX];
	json_t *j;
	struct append_arg a;
	int rc;

	if ((rc = refuse(s)) != ST_OK)
		return rc;

	j = journal_to_json(rec);
	a = (struct append_arg){ j, s->journal_max ? s->journal_max : STORE_K8S_JOURNAL };
	rc = cm_update(s, rec->canary, edit_append, &a, err);
	json_decref(j);
	if (rc != ST_OK)
		log_warn("store: journal of %s: %s", rec->canary, err);
	return rc;
}

static size_t
sk_tail(void *ctx, const char *key, struct journal_rec *out, size_t max)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *list, *item;
	size_t i, n = 0, total;

	if (get_field(s, key, "journal", &list, NULL) != ST_OK)
		return 0;
	total = json_array_size(list);
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
	if (!ours && holder && *holder && lease_live(spec, time(NULL))) {
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
lease_do(struct store_k8s *s, const char *key, enum lease_op op, char *holder, size_t holdersz)
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
	if (st != ST_OK && st != ST_LOCKED)
		log_warn("store: lease %s/%s: %s", ns, name, e.msg);
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
		return lease_do(s, key, L_RENEW, NULL, 0);
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
	return lease_do(s, key, L_RENEW, NULL, 0);
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
sk_acquire(void *ctx, const char *key, const char *actor, char *holder, size_t holdersz)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = refuse(s)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->lock);
	if (!s->id[0])
		snprintf(s->id, sizeof s->id, "%.120s pid %ld", actor && *actor ? actor : "perch",
		    (long)getpid());
	st = lease_do(s, key, L_ACQUIRE, holder, holdersz);
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
		st = lease_do(s, key, L_RELEASE, NULL, 0);
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
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (!read_only)
		s->running = pthread_create(&s->renewer, NULL, renewer, s) == 0;
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
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->renewer, NULL);
	while (s->n_held > 0) {
		lease_do(s, s->held[s->n_held - 1], L_RELEASE, NULL, 0);
		s->n_held--;
	}
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	json_decref(s->leases);
	free(s);
}

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
