/*
 * traefik.c — Traefik TraefikService (reference routers §2.3): one
 * TraefikService `<svc>` whose weighted services are `<svc>-primary` and,
 * while it has traffic, `<svc>-canary`; the user's IngressRoute points at
 * it.  Labels and annotations from service.apex.
 *
 * Where perch differs: Flagger leaves the weight out of the primary's entry
 * when it is 0 (what Traefik then gives it is not documented) and its reconcile
 * writes 100 to both entries when the canary has one; perch always writes
 * the primary's weight and keeps the live weights when it reconciles.
 * Weights only: A/B testing, mirroring and session affinity are refused by
 * validation (Flagger ignores them and sends all traffic to the canary).
 */
#include "k8s/routers/router.h"
#include "util/status.h"

static json_t *
traefik_service(const struct route_ctx *x, const char *name, int w)
{
	return json_pack("{s:s, s:s, s:i, s:i}", "name", name, "namespace", x->cfg->ns, "port",
	    x->cfg->port, "weight", w);
}

static json_t *
traefik_build(const struct route_ctx *x, int p, int c, char *err)
{
	json_t *svcs = json_pack("[o]", traefik_service(x, x->primary, p));

	(void)err;
	if (c > 0)
		json_array_append_new(svcs, traefik_service(x, x->canary, c));
	return json_pack("{s:{s:o}}", "weighted", "services", svcs);
}

static json_t *
traefik_spec(const struct route_ctx *x, char *err)
{
	return traefik_build(x, 100, 0, err);
}

static int
traefik_reconcile(struct route_ctx *x, char *err)
{
	json_t *o = route_object(x, x->ops->res, x->ops->kind, x->cfg->service,
	    traefik_spec(x, err));
	int st;

	route_apex_meta(x, o);
	st = route_ensure(x, x->ops->res, o, true, err);
	json_decref(o);
	return st;
}

static void
traefik_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep_built(x, have, want, traefik_build);
}

static int
traefik_write(struct route_ctx *x, json_t *obj)
{
	return route_write_built(x, obj, traefik_build);
}

/* The primary's weight (missing: 0); the canary has the rest. */
static int
traefik_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	json_t *s;
	size_t i;

	(void)err;
	json_array_foreach(jpath(obj, "spec.weighted.services"), i, s) {
		if (jnamed(s, "name", x->primary)) {
			out->primary = route_weight_of(json_object_get(s, "weight"));
			out->canary = 100 - out->primary;
			return ST_OK;
		}
	}
	return ST_CORRUPT;
}

const struct router_ops traefik_router = {
	.name = "TraefikService",
	.caps = 0,
	.kind = "TraefikService",
	.res = K8S_RES(TRAEFIKSERVICES),
	.shape = { NULL, "services", "name" },
	.reconcile = traefik_reconcile,
	.initial_spec = traefik_spec,
	.keep = traefik_keep,
	.write = traefik_write,
	.read = traefik_read,
	/* Flagger's Finalize: none; perch gives all traffic to the target. */
	.revert = route_revert,
};
