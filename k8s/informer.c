/*
 * informer.c — a watch-fed cache of one kind of object (see informer.h).
 *
 * The cache is a JSON object keyed "ns/name" ("/name" when cluster-scoped)
 * holding the newest object seen.  A relist fills a second map and swaps
 * it in whole once complete, reporting what changed against the old one.
 */
#include "k8s/informer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

struct k8s_informer {
	struct k8s_client *c;
	const struct k8s_res *res;
	char *ns, *selector;
	k8s_informer_fn on_change;
	void *arg;

	pthread_mutex_t mu;		/* everything below */
	json_t *cache;			/* "ns/name" -> object */
	json_t *pending;		/* a relist in progress, or NULL */
	bool listed;			/* a complete list was seen */
	bool synced;			/* reads are answered from the cache */
	bool dropped;			/* a drop was logged, not yet recovered */
	struct k8s_informer_stats st;

	pthread_t thread;
	bool running;
	atomic_bool stop;
};

/* One change to report after the lock is released. */
struct change {
	const char *type;
	json_t *old, *obj;		/* references held */
};

struct changes {
	struct change *v;
	size_t n, cap;
};

static void
changes_add(struct changes *cs, const char *type, json_t *old, json_t *obj)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 8;
		cs->v = xreallocarray(cs->v, cs->cap, sizeof *cs->v);
	}
	cs->v[cs->n++] = (struct change){ type, json_incref(old), json_incref(obj) };
}

/* Calls on_change for each (no lock held) and frees them. */
static void
changes_send(struct k8s_informer *inf, struct changes *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++) {
		if (inf->on_change)
			inf->on_change(inf->arg, cs->v[i].type, cs->v[i].old, cs->v[i].obj);
		json_decref(cs->v[i].old);
		json_decref(cs->v[i].obj);
	}
	free(cs->v);
}

static void
obj_key(json_t *obj, char *out, size_t sz)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));

	snprintf(out, sz, "%s/%s", ns ? ns : "", name ? name : "");
}

static const char *
rv_of(json_t *obj)
{
	const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
	    "resourceVersion"));

	return rv ? rv : "";
}

/* The relist is complete: it replaces the cache; what differs is reported. */
static void
relisted(struct k8s_informer *inf, struct changes *cs)
{
	json_t *fresh = inf->pending ? inf->pending : json_object(), *obj, *old;
	const char *key;

	json_object_foreach(fresh, key, obj) {
		old = json_object_get(inf->cache, key);
		if (old == NULL)
			changes_add(cs, "ADDED", NULL, obj);
		else if (strcmp(rv_of(old), rv_of(obj)) != 0)
			changes_add(cs, "MODIFIED", old, obj);
	}
	json_object_foreach(inf->cache, key, old) {
		if (json_object_get(fresh, key) == NULL)
			changes_add(cs, "DELETED", old, old);
	}
	json_decref(inf->cache);
	inf->cache = fresh;
	inf->pending = NULL;
	inf->st.relists++;
	inf->listed = true;
	inf->synced = true;
	if (inf->dropped)
		log_info("k8s: watch %s in %s: relisted, in step again", inf->res->plural,
		    inf->ns ? inf->ns : "all namespaces");
	inf->dropped = false;
}

/* An ADDED, MODIFIED or DELETED event. */
static void
apply_event(struct k8s_informer *inf, const char *type, json_t *obj, struct changes *cs)
{
	char key[600];
	json_t *old;

	obj_key(obj, key, sizeof key);
	old = json_object_get(inf->cache, key);
	inf->st.events++;
	if (strcmp(type, "DELETED") == 0) {
		changes_add(cs, type, old, obj);
		json_object_del(inf->cache, key);
	} else {
		changes_add(cs, old ? "MODIFIED" : "ADDED", old, obj);
		json_object_set(inf->cache, key, obj);
	}
}

void
k8s_informer_feed(struct k8s_informer *inf, const char *type, json_t *obj)
{
	struct changes cs = { 0 };
	char key[600];
	const char *where = inf->ns ? inf->ns : "all namespaces";

	pthread_mutex_lock(&inf->mu);
	if (strcmp(type, "SYNC") == 0) {
		if (inf->pending == NULL)
			inf->pending = json_object();
		obj_key(obj, key, sizeof key);
		json_object_set(inf->pending, key, obj);
	} else if (strcmp(type, "RELISTED") == 0) {
		relisted(inf, &cs);
	} else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
	    strcmp(type, "DELETED") == 0) {
		apply_event(inf, type, obj, &cs);
	} else if (strcmp(type, "OPENED") == 0) {
		if (inf->listed && !inf->synced) {
			inf->synced = true;
			if (inf->dropped)
				log_info("k8s: watch %s in %s: resumed, in step again",
				    inf->res->plural, where);
			inf->dropped = false;
		}
	} else if (strcmp(type, "DROPPED") == 0) {
		inf->synced = false;
		inf->st.drops++;
		json_decref(inf->pending);
		inf->pending = NULL;
		if (!inf->dropped)
			log_warn("k8s: watch %s in %s dropped (%s); reading from the API server until "
			    "it is back", inf->res->plural, where,
			    json_string_value(json_object_get(obj, "message")) ?
			    json_string_value(json_object_get(obj, "message")) : "no reason");
		inf->dropped = true;
	}
	pthread_mutex_unlock(&inf->mu);
	changes_send(inf, &cs);
}

static bool
on_event(const char *type, json_t *obj, void *arg)
{
	struct k8s_informer *inf = arg;

	k8s_informer_feed(inf, type, obj);
	return !atomic_load(&inf->stop);
}

static void *
informer_main(void *arg)
{
	struct k8s_informer *inf = arg;
	struct k8s_err e = { 0 };
	int st;

	st = k8s_watch(inf->c, inf->res, inf->ns, inf->selector, NULL, on_event, inf, &inf->stop,
	    &e);
	pthread_mutex_lock(&inf->mu);
	inf->synced = false;
	pthread_mutex_unlock(&inf->mu);
	if (!atomic_load(&inf->stop))
		log_warn("k8s: watch %s in %s: %s (%s); reading from the API server instead",
		    inf->res->plural, inf->ns ? inf->ns : "all namespaces", e.msg, status_name(st));
	return NULL;
}

struct k8s_informer *
k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *o)
{
	struct k8s_informer *inf = xcalloc(1, sizeof *inf);

	inf->c = c;
	inf->res = o->res;
	inf->ns = o->ns ? xstrdup(o->ns) : NULL;
	inf->selector = o->selector ? xstrdup(o->selector) : NULL;
	inf->on_change = o->on_change;
	inf->arg = o->arg;
	inf->cache = json_object();
	pthread_mutex_init(&inf->mu, NULL);
	atomic_init(&inf->stop, false);
	return inf;
}

int
k8s_informer_start(struct k8s_informer *inf)
{
	if (inf->running)
		return ST_OK;
	inf->running = pthread_create(&inf->thread, NULL, informer_main, inf) == 0;
	return inf->running ? ST_OK : ST_ERR;
}

void
k8s_informer_free(struct k8s_informer *inf)
{
	if (inf == NULL)
		return;
	if (inf->running) {
		k8s_watch_interrupt(inf->c, &inf->stop);
		pthread_join(inf->thread, NULL);
	}
	json_decref(inf->cache);
	json_decref(inf->pending);
	pthread_mutex_destroy(&inf->mu);
	free(inf->ns);
	free(inf->selector);
	free(inf);
}

int
k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name, json_t **out)
{
	char key[600];
	json_t *obj;
	int st;

	*out = NULL;
	snprintf(key, sizeof key, "%s/%s", ns ? ns : "", name);
	pthread_mutex_lock(&inf->mu);
	if (!inf->synced) {
		inf->st.misses++;
		st = ST_AGAIN;
	} else {
		inf->st.hits++;
		obj = json_object_get(inf->cache, key);
		*out = obj ? json_deep_copy(obj) : NULL;
		st = obj ? ST_OK : ST_NOTFOUND;
	}
	pthread_mutex_unlock(&inf->mu);
	return st;
}

int
k8s_informer_list(struct k8s_informer *inf, json_t **out)
{
	const char *key;
	json_t *obj;
	int st = ST_OK;

	*out = NULL;
	pthread_mutex_lock(&inf->mu);
	if (!inf->synced) {
		inf->st.misses++;
		st = ST_AGAIN;
	} else {
		inf->st.hits++;
		*out = json_array();
		json_object_foreach(inf->cache, key, obj) {
			json_array_append_new(*out, json_deep_copy(obj));
		}
	}
	pthread_mutex_unlock(&inf->mu);
	return st;
}

bool
k8s_informer_synced(struct k8s_informer *inf)
{
	bool s;

	pthread_mutex_lock(&inf->mu);
	s = inf->synced;
	pthread_mutex_unlock(&inf->mu);
	return s;
}

void
k8s_informer_stats(struct k8s_informer *inf, struct k8s_informer_stats *out)
{
	pthread_mutex_lock(&inf->mu);
	*out = inf->st;
	pthread_mutex_unlock(&inf->mu);
}
