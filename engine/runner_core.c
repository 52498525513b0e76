/*
 * runner_core.c — what every part of the engine thread uses (see
 * runner_int.h): the clock, the canary table and its index by key, a
 * canary's allocation, the status line, the backends' health and the
 * randomness of a tick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

int64_t
rn_now_ms(struct runner *r)
{
	return r->cfg.clock->now_ms(r->cfg.clock_ctx);
}

int
rn_interval_ms(const struct canary_cfg *c)
{
	return (c->interval_s > 0 ? c->interval_s : 60) * 1000;
}

static size_t
key_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)h;
}

/* sanitize() with a fast path: printable ASCII, the common case, is what
 * sanitize would give, copied as it is (bounded by dstsz). */
void
rn_clean(char *dst, size_t dstsz, const char *src)
{
	size_t i = 0;

	while (i + 1 < dstsz && (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] < 0x7f)
		i++;
	if (src[i] != '\0' && i + 1 < dstsz) {
		sanitize(dst, dstsz, src, strlen(src));
		return;
	}
	memcpy(dst, src, i);
	dst[i] = '\0';
}

struct rcan *
rn_find(struct runner *r, const char *key)
{
	size_t i;

	if (r->tab.index_cap == 0)
		return NULL;
	for (i = key_hash(key) & (r->tab.index_cap - 1); r->tab.index[i] != NULL;
	    i = (i + 1) & (r->tab.index_cap - 1))
		if (strcmp(r->tab.index[i]->key, key) == 0)
			return r->tab.index[i];
	return NULL;
}

static void
index_put(struct runner *r, struct rcan *c)
{
	size_t i = key_hash(c->key) & (r->tab.index_cap - 1);

	while (r->tab.index[i] != NULL)
		i = (i + 1) & (r->tab.index_cap - 1);
	r->tab.index[i] = c;
}

/* The answer shown in the status line, and the canary "ns/name" it is
 * about ("" when none). */
void
rn_set_status_msg(struct runner *r, const char *key, const char *msg)
{
	pthread_mutex_lock(&r->mu);
	sanitize(r->pub.status_msg, sizeof r->pub.status_msg, msg, strlen(msg));
	snprintf(r->pub.status_canary, sizeof r->pub.status_canary, "%s", key ? key : "");
	r->pub.status_seq++;
	r->pub.version++;
	pthread_mutex_unlock(&r->mu);
}

/* Backend health for the header; read by snapshots. */
void
rn_set_health(struct runner *r, bool *field, bool ok)
{
	if (*field == ok)	/* only this thread writes it: no lock to read */
		return;
	pthread_mutex_lock(&r->mu);
	if (*field != ok) {
		*field = ok;
		r->pub.version++;
	}
	pthread_mutex_unlock(&r->mu);
}

/* The randomness of c's next tick (tick_in.entropy): the runner's seed
 * mixed with the canary's key and status sequence, so a replayed tick
 * gets the same value and every saved status moves it on. */
uint64_t
rn_tick_entropy(const struct runner *r, const struct rcan *c)
{
	uint64_t h = r->cfg.seed ^ 0xCBF29CE484222325ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)c->key; *p; p++)
		h = (h ^ *p) * 0x100000001B3ULL;
	return h ^ (c->st.seq * 0x9E3779B97F4A7C15ULL);
}

/* The history arrays sized by a configuration. */
void
rn_canary_arrays(struct rcan *c, const struct canary_cfg *cfg)
{
	size_t i;

	c->hist.pts = cfg->n_metrics > 0 ? xcalloc(cfg->n_metrics, sizeof *c->hist.pts) : NULL;
	c->hist.hooks = cfg->n_hooks > 0 ? xcalloc(cfg->n_hooks, sizeof *c->hist.hooks) : NULL;
	for (i = 0; i < cfg->n_hooks; i++)
		c->hist.hooks[i].last = CHECK_NODATA;
}

struct rcan *
rn_canary_new(struct canary_cfg *cfg, const char *key)
{
	struct rcan *c = xcalloc(1, sizeof *c);

	c->cfg = cfg;
	snprintf(c->key, sizeof c->key, "%s", key);
	c->sched.heap = NO_HEAP;
	c->hist.max_ev = HIST_EVENTS;
	c->hist.max_pts = HIST_POINTS;
	rn_canary_arrays(c, cfg);
	return c;
}

void
rn_canary_free(struct rcan *c)
{
	size_t i;

	rn_hist_clear(c);
	free(c->hist.ev);
	for (i = 0; i < c->cfg->n_metrics; i++)
		free(c->hist.pts[i].p);
	free(c->hist.pts);
	free(c->hist.hooks);
	if (c->run.resume != NULL) {
		obs_fini(c->run.resume);
		free(c->run.resume);
	}
	canary_cfg_free(c->cfg);
	free(c);
}

void
rn_add_canary(struct runner *r, struct rcan *c)
{
	size_t i;

	if (r->tab.n == r->tab.cap) {
		r->tab.cap = r->tab.cap ? r->tab.cap * 2 : 16;
		r->tab.cs = xreallocarray(r->tab.cs, r->tab.cap, sizeof *r->tab.cs);
		r->sched.heap = xreallocarray(r->sched.heap, r->tab.cap, sizeof *r->sched.heap);
		free(r->tab.index);
		r->tab.index_cap = 2 * r->tab.cap;
		r->tab.index = xcalloc(r->tab.index_cap, sizeof *r->tab.index);
		for (i = 0; i < r->tab.n; i++)
			index_put(r, r->tab.cs[i]);
	}
	r->tab.cs[r->tab.n++] = c;
	index_put(r, c);
}

struct canary_cfg *
rn_stub_cfg(const char *key)
{
	struct canary_cfg *c = xcalloc(1, sizeof *c);
	const char *slash = strchr(key, '/');

	c->ns = slash ? xstrndup(key, (size_t)(slash - key)) : xstrdup("");
	c->name = xstrdup(slash ? slash + 1 : key);
	c->target = xstrdup(c->name);
	c->interval_s = 60;
	c->threshold = 1;
	c->max_weight = 100;
	return c;
}
