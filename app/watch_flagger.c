/*
 * watch_flagger.c — the Flagger canaries of perch watch (watch_flagger.h).
 */
#include "app/watch_flagger.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/canary_load.h"
#include "app/cluster_specs.h"
#include "app/metric_creds.h"
#include "k8s/informer.h"
#include "k8s/kjson.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

/* A Canary that perch's own canaries share the namespace with is judged
 * again (is Flagger driving it now?) at most this often, not at each of
 * perch's status writes. */
#define REJUDGE_S 5

/* A Canary the watch has seen. */
struct seen {
	char key[200];			/* "ns/name" */
	bool shown;			/* Flagger's, shown by the runner */
	bool added;			/* ever handed to the runner */
	bool own_gone;			/* perch's own, its Canary deleted */
	time_t judged;			/* when last found not Flagger's (0: never) */
};

struct watch_flagger {
	struct k8s_client *c;
	struct k8s_cluster *k;
	struct metric_backends *mb;	/* NULL: no metrics evaluated */
	char *ns;			/* NULL: every namespace */
	struct k8s_informer *inf;
	pthread_mutex_t mu;		/* r and seen */
	struct runner *r;		/* while the watch runs */
	struct seen *seen;
	size_t n, cap;
};

/* A Canary's new configuration (NULL: deleted), for the engine thread. */
struct change {
	struct watch_flagger *wf;
	char key[200];
	struct canary_cfg *cfg;
	struct spec_set *set;		/* its specs, for its metric servers (or NULL) */
	bool is_new;			/* never shown before: adopted */
	bool own;			/* perch's own canary: gone or back */
	bool gone;
};

struct watch_flagger *
watch_flagger_new(struct k8s_client *c, struct k8s_cluster *k, const char *ns,
    struct metric_backends *mb)
{
	struct watch_flagger *wf = xcalloc(1, sizeof *wf);

	wf->c = c;
	wf->k = k;
	wf->mb = mb;
	wf->ns = ns != NULL ? xstrdup(ns) : NULL;
	pthread_mutex_init(&wf->mu, NULL);
	return wf;
}

/* The entry of key, added when missing.  mu held. */
static struct seen *
seen_of(struct watch_flagger *wf, const char *key)
{
	size_t i;

	for (i = 0; i < wf->n; i++)
		if (strcmp(wf->seen[i].key, key) == 0)
			return &wf->seen[i];
	if (wf->n == wf->cap) {
		wf->cap = wf->cap ? 2 * wf->cap : 16;
		wf->seen = xreallocarray(wf->seen, wf->cap, sizeof *wf->seen);
	}
	memset(&wf->seen[wf->n], 0, sizeof wf->seen[wf->n]);
	snprintf(wf->seen[wf->n].key, sizeof wf->seen[wf->n].key, "%s", key);
	return &wf->seen[wf->n++];
}

/* cfg marked driven_by when Flagger drives it; else freed: NULL (perch's
 * own, shown from its ConfigMap). */
static struct canary_cfg *
if_driven(struct k8s_client *c, struct canary_cfg *cfg)
{
	char who[240];

	if (!k8s_flagger_driver(c, cfg, (long)time(NULL), who, sizeof who)) {
		canary_cfg_free(cfg);
		return NULL;
	}
	cfg->driven_by = xstrdup(who);
	return cfg;
}

/* The servers (and secretRef credentials) of sc's MetricTemplates, for
 * the graphs of a driven canary; an error is logged, its metrics then
 * show it.  Before the engine starts, or on the engine thread. */
static void
register_metrics(struct watch_flagger *wf, const struct spec_set *set,
    const struct spec_canary *sc)
{
	char err[ERRMSG_MAX];

	if (wf->mb == NULL)
		return;
	canary_register_servers(set, sc, wf->mb);
	if (metric_creds_register(wf->c, set, sc, wf->mb, err, sizeof err) != ST_OK)
		log_warn("watch: %s", err);
}

static void
watch_ns(struct k8s_cluster *k, const char *ns)
{
	if (k8s_cluster_watch_flagger(k, ns) != ST_OK)
		log_warn("watch: cannot watch the Canaries and Events of %s; reading them from the "
		    "API server", ns);
}

size_t
watch_flagger_add(struct watch_flagger *wf, struct runner *r)
{
	struct spec_set *set = spec_set_new();
	struct canary_cfg *cfg;
	struct diag_list dl;
	char err[ERRMSG_MAX + 200], key[200];
	size_t i, n = 0;

	diag_list_init(&dl, false);
	if (cluster_specs_load(wf->c, wf->ns, set, false, &dl, NULL, err, sizeof err) != ST_OK) {
		log_warn("watch: %s; Flagger's canaries are not shown", err);
	} else {
		spec_validate(set, &dl);
		for (i = 0; i < spec_set_n_canaries(set); i++) {
			if (canary_load(set, spec_set_canary(set, i), AIM_CANARY, &cfg, err,
			    sizeof err) != ST_OK) {
				log_warn("watch: %s; not shown", err);
				continue;
			}
			snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
			pthread_mutex_lock(&wf->mu);
			if ((cfg = if_driven(wf->c, cfg)) == NULL) {
				seen_of(wf, key)->judged = time(NULL);	/* perch's own */
			} else {
				seen_of(wf, key)->shown = seen_of(wf, key)->added = true;
				register_metrics(wf, set, spec_set_canary(set, i));
				watch_ns(wf->k, cfg->ns);
				runner_add(r, cfg);
				n++;
			}
			pthread_mutex_unlock(&wf->mu);
		}
	}
	diag_list_fini(&dl);
	spec_set_free(set);
	return n;
}

/* The configuration of the Canary object obj (borrowed) of namespace ns
 * when Flagger drives it, built as at the start (its namespace's
 * MetricTemplates read again); NULL (logged when it cannot be used).
 * *setp: the specs it was built from (the caller's), with it. */
static struct canary_cfg *
build(struct watch_flagger *wf, const char *ns, const char *key, json_t *obj,
    struct spec_set **setp)
{
	struct spec_set *set = spec_set_new();
	struct canary_cfg *cfg = NULL;
	struct diag_list dl;
	char err[ERRMSG_MAX + 200] = "";

	diag_list_init(&dl, false);
	if (cluster_specs_load(wf->c, ns, set, true, &dl, NULL, err, sizeof err) == ST_OK) {
		cluster_spec_object(set, K8S_RES(CANARIES), ns, obj, &dl);
		spec_validate(set, &dl);
		if (spec_set_n_canaries(set) != 1)
			snprintf(err, sizeof err, "%zu errors (see perch validate)", dl.n_errors);
		else if (canary_load(set, spec_set_canary(set, 0), AIM_CANARY, &cfg, err,
		    sizeof err) == ST_OK)
			cfg = if_driven(wf->c, cfg);	/* else err says why */
		else
			cfg = NULL;
	}
	if (cfg == NULL && err[0] != '\0')
		log_warn("watch: Canary %s: %s; not shown", key, err);
	diag_list_fini(&dl);
	if (cfg != NULL) {
		*setp = set;
	} else {
		*setp = NULL;
		spec_set_free(set);
	}
	return cfg;
}

/* Engine thread: the change applied (r NULL: the engine is not running;
 * dropped). */
static void
apply(struct runner *r, void *arg)
{
	struct change *ch = arg;

	if (r != NULL && ch->set != NULL)
		register_metrics(ch->wf, ch->set, spec_set_canary(ch->set, 0));
	spec_set_free(ch->set);
	if (ch->own) {
		if (r != NULL)
			(void)runner_observed_gone(r, ch->key, ch->gone);
	} else if (r == NULL) {
		canary_cfg_free(ch->cfg);
	} else if (ch->cfg != NULL && ch->is_new) {
		watch_ns(ch->wf->k, ch->cfg->ns);
		if (runner_adopt(r, ch->cfg) != ST_OK)
			log_warn("watch: Canary %s cannot be shown", ch->key);
	} else {
		if (ch->cfg != NULL)
			watch_ns(ch->wf->k, ch->cfg->ns);
		(void)runner_replace(r, ch->key, ch->cfg);
	}
	free(ch);
}

/* Hands key's configuration (NULL: deleted) and its specs (taken; may be
 * NULL) to the engine.  mu held. */
static void
post(struct watch_flagger *wf, struct seen *s, struct canary_cfg *cfg, struct spec_set *set)
{
	struct change *ch = xcalloc(1, sizeof *ch);

	*ch = (struct change){ .wf = wf, .cfg = cfg, .set = set,
	    .is_new = cfg != NULL && !s->added };
	snprintf(ch->key, sizeof ch->key, "%s", s->key);
	s->shown = cfg != NULL;
	s->added = s->added || cfg != NULL;
	if (wf->r != NULL)
		runner_post(wf->r, apply, ch);
	else
		apply(NULL, ch);
}

/* perch's own canary key (held by another controller, shown from its
 * ConfigMap) is gone from the cluster or back, for the engine.  mu held. */
static void
post_own(struct watch_flagger *wf, struct seen *s, bool gone)
{
	struct change *ch = xcalloc(1, sizeof *ch);

	*ch = (struct change){ .wf = wf, .own = true, .gone = gone };
	snprintf(ch->key, sizeof ch->key, "%s", s->key);
	s->own_gone = gone;
	if (wf->r != NULL)
		runner_post(wf->r, apply, ch);
	else
		free(ch);
}

/* Whether a Canary not shown is worth judging now: Flagger has written
 * its status, and it was not found perch's a moment ago. */
static bool
worth_judging(const struct seen *s, json_t *obj, time_t now)
{
	return json_array_size(jpath(obj, "status.conditions")) > 0 &&
	    (s->judged == 0 || now - s->judged >= REJUDGE_S);
}

/* The watch's thread: a Canary created, changed or deleted. */
static void
on_canary(void *arg, const char *type, json_t *old, json_t *obj)
{
	struct watch_flagger *wf = arg;
	const char *ns = jstr(obj, "metadata.namespace"), *name = jstr(obj, "metadata.name");
	bool deleted = strcmp(type, "DELETED") == 0, respec;
	struct canary_cfg *cfg;
	struct spec_set *set;
	struct seen *s;
	char key[200];
	time_t now = time(NULL);

	if (ns == NULL || name == NULL)
		return;
	snprintf(key, sizeof key, "%s/%s", ns, name);
	pthread_mutex_lock(&wf->mu);
	s = seen_of(wf, key);
	respec = old != NULL && !json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec"));
	if (deleted) {
		if (s->shown)
			post(wf, s, NULL, NULL);
		else
			post_own(wf, s, true);	/* perch's own: gone from watch too */
		s->judged = 0;
		pthread_mutex_unlock(&wf->mu);
		return;
	}
	if (s->own_gone)
		post_own(wf, s, false);		/* created again */
	if ((s->shown && respec) || (!s->shown && worth_judging(s, obj, now))) {
		/* built unlocked: it reads the cluster */
		pthread_mutex_unlock(&wf->mu);
		cfg = build(wf, ns, key, obj, &set);
		pthread_mutex_lock(&wf->mu);
		s = seen_of(wf, key);
		if (cfg != NULL)
			post(wf, s, cfg, set);
		else if (!s->shown)
			s->judged = now;
	}
	pthread_mutex_unlock(&wf->mu);
}

int
watch_flagger_follow(struct watch_flagger *wf, struct runner *r)
{
	struct k8s_informer_opts o = { .res = K8S_RES(CANARIES), .ns = wf->ns,
		.on_change = on_canary, .arg = wf };

	pthread_mutex_lock(&wf->mu);
	wf->r = r;
	pthread_mutex_unlock(&wf->mu);
	wf->inf = k8s_informer_new(wf->c, &o);
	if (k8s_informer_start(wf->inf) != ST_OK) {
		log_warn("watch: cannot watch the Canaries of %s; those created later are not "
		    "shown", wf->ns != NULL ? wf->ns : "every namespace");
		k8s_informer_free(wf->inf);
		wf->inf = NULL;
		return ST_ERR;
	}
	return ST_OK;
}

void
watch_flagger_stop(struct watch_flagger *wf)
{
	k8s_informer_free(wf->inf);	/* joins its thread */
	wf->inf = NULL;
	pthread_mutex_lock(&wf->mu);
	wf->r = NULL;
	pthread_mutex_unlock(&wf->mu);
}

void
watch_flagger_free(struct watch_flagger *wf)
{
	if (wf == NULL)
		return;
	watch_flagger_stop(wf);
	pthread_mutex_destroy(&wf->mu);
	free(wf->seen);
	free(wf->ns);
	free(wf);
}
