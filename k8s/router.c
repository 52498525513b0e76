/*
 * router.c — the cluster backend's routes: which router drives a canary
 * (the provider registry, engine/routers.h, names it; the routers are
 * k8s/routers/), what is refused before anything is written (a provider
 * without a router, A/B testing or session affinity on a router that
 * cannot do them: spec validation refuses the same, from the same
 * registry), and the calls: create or reconcile the route objects, set
 * and get the routes, and the pure functions over route objects.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"

/* The router of the providers that have none (engine/routers.h). */
const struct router_ops none_router = { .name = NULL };

static const struct router_ops *const routers[PROV__COUNT] = {
#define X(id, name, match, caps, obs, router) [PROV_##id] = &router##_router,
	PROVIDER_LIST(X)
#undef X
};

/* The provider as named in messages: as written, else the default's name. */
static const char *
provider_of(const struct canary_cfg *cfg, const struct router_info *r)
{
	if (cfg->provider != NULL && cfg->provider[0] != '\0')
		return cfg->provider;
	return r != NULL ? r->name : "";
}

static int
router_of(const struct canary_cfg *cfg, const struct router_ops **out, char *err)
{
	const struct router_info *r = router_find(cfg->provider);
	const char *p = provider_of(cfg, r);
	char names[ROUTER_NAMES_MAX];

	*out = &none_router;
	if (r == NULL || !(router_caps(r) & RT_DRIVEN)) {
		router_driven_names(names, sizeof names);
		return errf(err, ST_UNSUPPORTED, "provider \"%s\" is not supported on a cluster "
		    "(%s)", p, names);
	}
	/* spec validation refuses both first (spec/validate.c); never ignored. */
	if (cfg->strategy == STRATEGY_ABTESTING && !(router_caps(r) & RT_MATCH))
		return errf(err, ST_UNSUPPORTED, "canary %s/%s: spec.analysis.match (A/B testing) is "
		    "not supported with provider %s (weights only)", cfg->ns, cfg->name, p);
	if (cfg->affinity != NULL && !(router_caps(r) & RT_AFFINITY))
		return errf(err, ST_UNSUPPORTED, "canary %s/%s: spec.analysis.sessionAffinity is "
		    "not supported with provider %s (only istio and gatewayapi)", cfg->ns, cfg->name,
		    p);
	*out = routers[r->id];
	return ST_OK;
}

/* A route_ctx for cfg's router (k: the cluster, or NULL for the pure
 * functions); ST_OK, or the router's refusal in err. */
static int
ctx_of(struct route_ctx *x, const struct k8s_cluster *k, const struct canary_cfg *cfg,
    const struct routes *w, char *err)
{
	const struct router_ops *ops;
	int st = router_of(cfg, &ops, err);

	route_ctx_init(x, ops, k != NULL ? k->c : NULL, cfg, k != NULL ? routing_of(k, cfg) : NULL,
	    k != NULL ? owner_of(k, cfg) : NULL, w, err);
	return st;
}

/* Creates the route objects at 100/0, or reconciles them (every tick). */
int
rt_initialize(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	struct route_ctx x;
	int st;

	if ((st = ctx_of(&x, k, cfg, NULL, err)) != ST_OK)
		return st;
	return x.ops->reconcile != NULL ? x.ops->reconcile(&x, err) : ST_OK;
}

static int
no_pair(const struct route_ctx *x, int st, char *err)
{
	return errf(err, st, "%s %s.%s has no route with both %s and %s", x->ops->res->plural,
	    x->cfg->service, x->cfg->ns, x->primary, x->canary);
}

int
rt_set(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct routes *w, char *err)
{
	struct route_ctx x;
	struct route_write_arg a = { .x = &x, .st = ST_OK };
	struct k8s_err e;
	char name[300];
	int st;

	if ((st = ctx_of(&x, k, cfg, w, err)) != ST_OK)
		return st;
	if (x.ops->kind == NULL)
		return x.ops->set(&x, err);
	route_object_name(&x, name, sizeof name);
	st = k8s_modify(k->c, x.ops->res, cfg->ns, name, route_write_fn, &a, NULL, &e);
	if (st == a.st && st == ST_INVALID)
		return st;	/* err says why */
	if (st == a.st && st == ST_CORRUPT)
		return no_pair(&x, st, err);
	return st == ST_OK ? ST_OK : errf(err, st, "setting weights on %s %s.%s: %s",
	    x.ops->res->plural, cfg->service, cfg->ns, e.msg);
}

/* The revert on deletion: all traffic on the target (router_ops.revert). */
int
rt_revert(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	const struct routes all_target = { .primary = 0, .canary = 100 };
	struct route_ctx x;
	int st;

	if ((st = ctx_of(&x, k, cfg, &all_target, err)) != ST_OK)
		return st;
	return x.ops->revert != NULL ? x.ops->revert(&x, err) : ST_OK;
}

static int
read_routes(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	int st = x->ops->read(x, obj, out, err);

	if (st == ST_CORRUPT)
		return no_pair(x, st, err);
	if (st != ST_OK)
		return st;
	if (out->primary == 0 && out->canary == 0)
		return errf(err, ST_CORRUPT, "%s %s.%s: both weights are 0", x->ops->res->plural,
		    x->cfg->service, x->cfg->ns);
	return ST_OK;
}

int
rt_get(struct k8s_cluster *k, const struct canary_cfg *cfg, struct routes *out, char *err)
{
	struct route_ctx x;
	struct k8s_err e;
	json_t *obj;
	char name[300];
	int st;

	memset(out, 0, sizeof *out);
	if ((st = ctx_of(&x, k, cfg, NULL, err)) != ST_OK)
		return st;
	if (x.ops->kind == NULL)
		return x.ops->get(&x, out, err);
	route_object_name(&x, name, sizeof name);
	if ((st = k8s_get(k->c, x.ops->res, cfg->ns, name, &obj, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", x.ops->res->plural, name, cfg->ns, e.msg);
	st = read_routes(&x, obj, out, err);
	json_decref(obj);
	return st;
}

static int
no_object(const struct route_ctx *x, char *err)
{
	return errf(err, ST_UNSUPPORTED, "provider %s has no route object",
	    provider_of(x->cfg, router_find(x->cfg->provider)));
}

int
k8s_routes_from_object(const struct canary_cfg *cfg, json_t *obj, struct routes *out, char *err)
{
	struct route_ctx x;
	int st;

	memset(out, 0, sizeof *out);
	if ((st = ctx_of(&x, NULL, cfg, NULL, err)) != ST_OK)
		return st;
	if (x.ops->kind == NULL)
		return no_object(&x, err);
	return read_routes(&x, obj, out, err);
}

int
k8s_routes_to_object(const struct k8s_cluster *k, const struct canary_cfg *cfg, json_t *obj,
    const struct routes *w, char *err)
{
	struct route_ctx x;
	int st;

	if ((st = ctx_of(&x, k, cfg, w, err)) != ST_OK)
		return st;
	if (x.ops->kind == NULL)
		return no_object(&x, err);
	st = x.ops->write(&x, obj);
	if (st == ST_OK || st == ST_AGAIN || st == ST_INVALID)
		return st == ST_INVALID ? st : ST_OK;	/* ST_INVALID: err says why */
	return no_pair(&x, st, err);
}
