/*
 * kuma.c — Kuma TrafficRoute (reference routers §2.4): the legacy policy
 * kuma.io/v1alpha1, cluster-scoped, named `<svc>`, in the mesh of the
 * Canary's annotation kuma.io/mesh (default "default", set at creation).
 * Its destination is the apex service's Kuma tag `<svc>_<ns>_svc_<port>`
 * and its split the primary's and the canary's tags with their weights.
 * Being cluster-scoped it has no owner reference and outlives the Canary,
 * as in Flagger.  Labels and annotations from service.apex.
 *
 * Where perch differs: two canaries of the same service name in two
 * namespaces would share the object (Flagger overwrites one with the
 * other); perch refuses to take over a TrafficRoute that routes another
 * namespace's service, and keeps the live weights when it reconciles.
 * Weights only: A/B testing, mirroring and session affinity are refused by
 * validation (Flagger ignores them and sends all traffic to the canary).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define KUMA_TAG "kuma.io/service"

/* The tag of a source, destination or split entry (its field `at`). */
static const char *
kuma_tag_of(json_t *entry, const char *at)
{
	return json_string_value(json_object_get(json_object_get(entry, at), KUMA_TAG));
}

static json_t *
kuma_tag(const struct route_ctx *x, const char *svc)
{
	return json_sprintf("%s_%s_svc_%d", svc, x->cfg->ns, x->cfg->port);
}

static json_t *
kuma_build(const struct route_ctx *x, int p, int c, char *err)
{
	(void)err;
	return json_pack("{s:[{s:{s:s}}], s:[{s:{s:o}}], s:{s:[{s:i, s:{s:o}}, {s:i, s:{s:o}}]}}",
	    "sources", "match", KUMA_TAG, "*", "destinations", "match", KUMA_TAG,
	    kuma_tag(x, x->cfg->service), "conf", "split", "weight", p, "destination", KUMA_TAG,
	    kuma_tag(x, x->primary), "weight", c, "destination", KUMA_TAG, kuma_tag(x, x->canary));
}

static json_t *
kuma_spec(const struct route_ctx *x, char *err)
{
	return kuma_build(x, 100, 0, err);
}

static const char *
kuma_mesh(const struct route_ctx *x)
{
	const char *m = x->g ? json_string_value(json_object_get(x->g->annotations,
	    "kuma.io/mesh")) : NULL;

	return m != NULL && *m ? m : "default";
}

/* A live TrafficRoute of this name routing another service is another
 * canary's. */
static int
kuma_owned(struct route_ctx *x, json_t *want, char *err)
{
	json_t *live;
	struct k8s_err e;
	const char *have, *mine = kuma_tag_of(json_array_get(jpath(want, "spec.destinations"), 0),
	    "match");
	int st = k8s_get(x->c, x->ops->res, NULL, x->cfg->service, &live, &e);

	if (st == ST_NOTFOUND)
		return ST_OK;
	if (st != ST_OK)
		return errf(err, st, "TrafficRoute %s: %s", x->cfg->service, e.msg);
	have = kuma_tag_of(json_array_get(jpath(live, "spec.destinations"), 0), "match");
	st = have != NULL && mine != NULL && strcmp(have, mine) != 0 ? errf(err, ST_INVALID,
	    "TrafficRoute %s routes %s, not %s: it belongs to another canary (TrafficRoutes are "
	    "cluster-wide)", x->cfg->service, have, mine) : ST_OK;
	json_decref(live);
	return st;
}

static int
kuma_reconcile(struct route_ctx *x, char *err)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "apiVersion", "kuma.io/v1alpha1",
	    "kind", x->ops->kind, "mesh", kuma_mesh(x), "metadata", "name", x->cfg->service, "spec",
	    kuma_spec(x, err));
	int st;

	route_apex_meta(x, o);
	st = kuma_owned(x, o, err);
	if (st == ST_OK)
		st = route_ensure(x, x->ops->res, o, true, err);
	json_decref(o);
	return st;
}

static void
kuma_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep_built(x, have, want, kuma_build);
}

static int
kuma_write(struct route_ctx *x, json_t *obj)
{
	return route_write_built(x, obj, kuma_build);
}

/* The split entry whose tag, cut at its first '_', is the primary; the
 * canary has the rest (Flagger's reading). */
static int
kuma_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	size_t i, n = strlen(x->primary);
	const char *tag;
	json_t *s;

	json_array_foreach(jpath(obj, "spec.conf.split"), i, s) {
		tag = kuma_tag_of(s, "destination");
		if (tag != NULL && strncmp(tag, x->primary, n) == 0 && tag[n] == '_') {
			out->primary = route_weight_of(json_object_get(s, "weight"));
			out->canary = 100 - out->primary;
			return ST_OK;
		}
	}
	return errf(err, ST_CORRUPT, "TrafficRoute %s does not contain routes for %s and %s",
	    x->cfg->service, x->primary, x->canary);
}

const struct router_ops kuma_router = {
	.name = "Kuma TrafficRoute",
	.caps = 0,
	.kind = "TrafficRoute",
	.res = K8S_RES(TRAFFICROUTES),
	.shape = { NULL, "split", "destination" },
	.reconcile = kuma_reconcile,
	.initial_spec = kuma_spec,
	.keep = kuma_keep,
	.write = kuma_write,
	.read = kuma_read,
	/* Flagger's Finalize: none, and its cluster-scoped TrafficRoute is
	 * never collected; perch gives all traffic to the target. */
	.revert = route_revert,
};
