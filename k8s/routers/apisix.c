/*
 * apisix.c — Apache APISIX (reference routers §2.5): the user's
 * ApisixRoute spec.routeRef is read, never written; perch writes
 * `<routeRef>-<svc>-canary`, a copy of it whose http list is the first
 * route with a backend `<svc>` (its only backend), at priority 10000,
 * with the backends `<svc>-primary` and `<svc>-canary` and their weights.
 * The copy carries the user route's labels and annotations.  A write sets
 * the two weights in place; a reconcile brings the copy back to the user
 * route keeping the live weights (Flagger resets them to 100/0).
 * Weights only: A/B testing, mirroring and session affinity are refused by
 * validation (Flagger ignores them and sends all traffic to the canary).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

static const char *
apisix_ref(const struct route_ctx *x)
{
	return x->g && x->g->route ? x->g->route : NULL;
}

static void
apisix_object_name(const struct route_ctx *x, char *out, size_t n)
{
	snprintf(out, n, "%s-%s-canary", apisix_ref(x) ? apisix_ref(x) : "", x->cfg->service);
}

/* The http route of the user's route that goes to <svc>, or NULL. */
static json_t *
apisix_find(const struct route_ctx *x, json_t *http)
{
	json_t *h, *b;
	size_t i, j;

	json_array_foreach(http, i, h) {
		json_array_foreach(json_object_get(h, "backends"), j, b) {
			if (jnamed(b, "serviceName", x->cfg->service))
				return h;
		}
	}
	return NULL;
}

static json_t *
apisix_backend(json_t *orig, const char *name, int w)
{
	static const char *const kept[] = { "servicePort", "resolveGranularity", "subset" };
	json_t *b = json_pack("{s:s, s:i}", "serviceName", name, "weight", w);
	size_t i;

	for (i = 0; i < 3; i++)
		if (json_object_get(orig, kept[i]))
			json_object_set(b, kept[i], json_object_get(orig, kept[i]));
	return b;
}

/* The canary route's spec from the user's route `user` (err on a route it
 * cannot use). */
static json_t *
apisix_canary_spec(const struct route_ctx *x, json_t *user, char *err)
{
	const char *r = apisix_ref(x);
	json_t *spec = json_deep_copy(json_object_get(user, "spec")), *h, *orig;

	if (json_array_size(json_object_get(spec, "http")) == 0) {
		errf(err, ST_INVALID, "APISIX route %s.%s's spec.http is empty", r, x->cfg->ns);
	} else if (!(h = apisix_find(x, json_object_get(spec, "http")))) {
		errf(err, ST_INVALID, "Can not find %s backend on apisix route %s.%s",
		    x->cfg->service, r, x->cfg->ns);
	} else if (json_array_size(json_object_get(h, "backends")) != 1) {
		errf(err, ST_INVALID, "APISIX route %s.%s's http route %s only one http backend is "
		    "supported", r, x->cfg->ns, jstr(h, "name") ? jstr(h, "name") : "");
	} else {
		h = json_deep_copy(h);
		orig = json_array_get(json_object_get(h, "backends"), 0);
		json_object_set_new(h, "priority", json_integer(10000));
		json_object_set_new(h, "backends", json_pack("[o, o]", apisix_backend(orig,
		    x->primary, 100), apisix_backend(orig, x->canary, 0)));
		json_object_set_new(spec, "http", json_pack("[o]", h));
		return spec;
	}
	json_decref(spec);
	return NULL;
}

static json_t *
apisix_meta(json_t *user, const char *field)
{
	json_t *v = json_deep_copy(jpath(user, field));

	if (json_is_object(v))
		json_object_del(v, "kubectl.kubernetes.io/last-applied-configuration");
	return v;
}

static int
apisix_reconcile(struct route_ctx *x, char *err)
{
	const char *r = apisix_ref(x);
	json_t *user, *spec, *o;
	char name[600];
	struct k8s_err e;
	int st;

	if (r == NULL)
		return errf(err, ST_INVALID, "spec.routeRef is required: the ApisixRoute to copy");
	if ((st = k8s_get(x->c, x->ops->res, x->cfg->ns, r, &user, &e)) != ST_OK)
		return errf(err, st, "APISIX route %s.%s get query error: %s", r, x->cfg->ns, e.msg);
	spec = apisix_canary_spec(x, user, err);
	if (spec != NULL) {
		apisix_object_name(x, name, sizeof name);
		o = route_object(x, x->ops->res, x->ops->kind, name, spec);
		json_object_set_new(json_object_get(o, "metadata"), "labels",
		    apisix_meta(user, "metadata.labels"));
		json_object_set_new(json_object_get(o, "metadata"), "annotations",
		    apisix_meta(user, "metadata.annotations"));
		st = route_ensure(x, x->ops->res, o, true, err);
		json_decref(o);
	}
	json_decref(user);
	return spec != NULL ? st : ST_INVALID;
}

static void
apisix_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep(x, have, want, NULL);
}

/* The two weights set in place on the http route holding both backends. */
static int
apisix_write(struct route_ctx *x, json_t *obj)
{
	json_t *route = route_find_pair(x, jpath(obj, "spec.http")), *old;
	bool same;

	if (route == NULL)
		return ST_CORRUPT;
	old = json_deep_copy(route);
	route_set_pair(x, route);
	same = json_equal(old, route);
	json_decref(old);
	return same ? ST_AGAIN : ST_OK;
}

static int
apisix_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	(void)err;
	return route_read(x, obj, out, NULL);
}

const struct router_ops apisix_router = {
	.name = "ApisixRoute",
	.caps = 0,
	.kind = "ApisixRoute",
	.res = K8S_RES(APISIXROUTES),
	.shape = { "http", "backends", "serviceName" },
	.object_name = apisix_object_name,
	.reconcile = apisix_reconcile,
	.keep = apisix_keep,
	.write = apisix_write,
	.read = apisix_read,
	/* Flagger's Finalize: none; perch gives all traffic to the target
	 * on its canary route. */
	.revert = route_revert,
};
