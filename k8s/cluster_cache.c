/*
 * cluster_cache.c — the watch-fed caches of the cluster backend
 * (k8s_cluster_watch): Deployments and Services of a namespace (and
 * DaemonSets where one is a target) read from
 * an informer while it is in step with the server, with read-your-writes
 * (an object this process just wrote is read from the server until the
 * cache has caught up with what the server said).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"

int
watch_one(struct k8s_cluster *k, const struct k8s_res *res, const char *ns,
    k8s_informer_fn on_change, void *arg)
{
	struct k8s_informer_opts o = { .res = res, .ns = ns, .on_change = on_change, .arg = arg };
	struct watched *w;
	size_t i;

	for (i = 0; i < k->n_watched; i++)
		if (k->watched[i].res == res && strcmp(k->watched[i].ns, ns) == 0)
			return ST_OK;
	if (k->n_watched == MAX_WATCHED || strlen(ns) >= sizeof k->watched[0].ns)
		return ST_TOOBIG;	/* reads of that namespace go to the server */
	w = &k->watched[k->n_watched];
	memset(w, 0, sizeof *w);
	w->res = res;
	snprintf(w->ns, sizeof w->ns, "%s", ns);
	w->inf = k8s_informer_new(k->c, &o);
	if (k8s_informer_start(w->inf) != ST_OK) {
		k8s_informer_free(w->inf);
		return ST_ERR;
	}
	k->n_watched++;
	return ST_OK;
}

int
k8s_cluster_watch(struct k8s_cluster *k, const char *ns, k8s_informer_fn on_change, void *arg)
{
	int st = watch_one(k, K8S_RES(DEPLOYMENTS), ns, on_change, arg);

	return st == ST_OK ? watch_one(k, K8S_RES(SERVICES), ns, NULL, NULL) : st;
}

void
k8s_cluster_unwatch(struct k8s_cluster *k)
{
	if (k == NULL)
		return;
	while (k->n_watched > 0)
		k8s_informer_free(k->watched[--k->n_watched].inf);
}

void
k8s_cluster_watch_stats(struct k8s_cluster *k, struct k8s_informer_stats *out)
{
	struct k8s_informer_stats s;
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < k->n_watched; i++) {
		k8s_informer_stats(k->watched[i].inf, &s);
		out->events += s.events;
		out->relists += s.relists;
		out->drops += s.drops;
		out->hits += s.hits;
		out->misses += s.misses;
	}
}

static struct watched *
watched_of(struct k8s_cluster *k, const struct k8s_res *r, const char *ns)
{
	size_t i;

	for (i = 0; i < k->n_watched; i++)
		if (k->watched[i].res == r && strcmp(k->watched[i].ns, ns) == 0)
			return &k->watched[i];
	return NULL;
}

static struct fresh *
fresh_of(struct watched *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->n_fresh; i++)
		if (strcmp(w->fresh[i].name, name) == 0)
			return &w->fresh[i];
	return NULL;
}

void
written(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name)
{
	struct watched *w = watched_of(k, r, ns);
	struct fresh *f;

	if (w == NULL)
		return;
	if ((f = fresh_of(w, name)) == NULL) {
		if (w->n_fresh == sizeof w->fresh / sizeof w->fresh[0])
			memmove(w->fresh, w->fresh + 1, --w->n_fresh * sizeof w->fresh[0]);
		f = &w->fresh[w->n_fresh++];
		snprintf(f->name, sizeof f->name, "%s", name);
	}
	f->min_rv[0] = '\0';
}

/* Whether the cached rv is at least min (resourceVersions are opaque, but
 * every API server gives integers; anything else never counts as caught up). */
static bool
caught_up(json_t *cached, const char *min)
{
	const char *rv = jstr(cached, "metadata.resourceVersion");
	char *end1, *end2;
	unsigned long long a, b;

	if (rv == NULL || !*min)
		return false;
	if (strcmp(rv, min) == 0)
		return true;
	a = strtoull(rv, &end1, 10);
	b = strtoull(min, &end2, 10);
	return *end1 == '\0' && *end2 == '\0' && a >= b;
}

/* ST_OK when the cache answered (or gave a reason to ask the server
 * without a decision), ST_AGAIN to ask the server; fills *fresh_out. */
static int
cache_read(struct watched *w, const char *ns, const char *name, json_t **out,
    struct fresh **fresh_out)
{
	struct fresh *f = fresh_of(w, name);
	int st = k8s_informer_get(w->inf, ns, name, out);

	*fresh_out = f;
	if (f == NULL || (st == ST_OK && caught_up(*out, f->min_rv))) {
		if (f != NULL)		/* caught up: reads from the cache again */
			*f = w->fresh[--w->n_fresh];
		*fresh_out = NULL;
		return st;
	}
	json_decref(*out);
	*out = NULL;
	return ST_AGAIN;
}

int
cached_get(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e)
{
	struct watched *w = watched_of(k, r, ns);
	struct fresh *f = NULL;
	const char *rv;
	int st;

	if (w != NULL) {
		st = cache_read(w, ns, name, out, &f);
		if (st == ST_OK)
			return ST_OK;
		if (st == ST_NOTFOUND) {
			memset(e, 0, sizeof *e);
			e->http = 404;
			snprintf(e->reason, sizeof e->reason, "NotFound");
			snprintf(e->msg, sizeof e->msg, "%s \"%.100s\" not found", r->plural, name);
			return ST_NOTFOUND;
		}
	}
	st = k8s_get(k->c, r, ns, name, out, e);
	if (f != NULL && st == ST_OK && (rv = jstr(*out, "metadata.resourceVersion")) != NULL)
		snprintf(f->min_rv, sizeof f->min_rv, "%s", rv);
	return st;
}

int
cluster_watch_one(struct k8s_cluster *k, const struct k8s_res *r, const char *ns)
{
	return watch_one(k, r, ns, NULL, NULL);
}

int
cluster_cached_list(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, json_t **out)
{
	struct watched *w = watched_of(k, r, ns);

	*out = NULL;
	return w != NULL ? k8s_informer_list(w->inf, out) : ST_AGAIN;
}
