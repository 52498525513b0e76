/*
 * smi.c — SMI TrafficSplit (reference §4.2): one object `<svc>` whose
 * backends are `<svc>-canary` and `<svc>-primary` with their weights, for
 * the service service.hosts[0] (else `<svc>`).
 * Three API versions, one router each: v1alpha1 (linkerd, smi:v1alpha1,
 * whose weights are Quantity strings), v1alpha2 (osm, smi:v1alpha2) and
 * v1alpha3.  Weights only: no request matches, no mirroring, no affinity.
 */
#include "k8s/routers/router.h"

static json_t *
quantity(int w)
{
	return json_sprintf("%d", w);
}

/* spec.service: the first of service.hosts, else the apex service. */
static const char *
smi_service(const struct route_ctx *x)
{
	const char *h = x->g ? json_string_value(json_array_get(x->g->hosts, 0)) : NULL;

	return h && *h ? h : x->cfg->service;
}

static json_t *
smi_spec(const struct route_ctx *x, char *err)
{
	(void)err;
	return json_pack("{s:s, s:[{s:s, s:o}, {s:s, s:o}]}", "service", smi_service(x),
	    "backends", "service", x->canary, "weight", route_weight(x, 0), "service", x->primary,
	    "weight", route_weight(x, 100));
}

static void
smi_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep(x, have, want, NULL);
}

static int
smi_write(struct route_ctx *x, json_t *obj)
{
	return route_write(x, obj, NULL);
}

static int
smi_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	(void)err;
	return route_read(x, obj, out, NULL);
}

#define SMI_ROUTER(resource, weights) { \
	.name = "SMI TrafficSplit", \
	.kind = "TrafficSplit", \
	.res = K8S_RES(resource), \
	.shape = { NULL, "backends", "service" }, \
	.weight = weights, \
	.reconcile = route_reconcile, \
	.initial_spec = smi_spec, \
	.keep = smi_keep, \
	.write = smi_write, \
	.read = smi_read, \
	/* Flagger's Finalize: none; perch gives all traffic to the target. */ \
	.revert = route_revert, \
}

const struct router_ops smi_v1alpha1_router = SMI_ROUTER(TRAFFICSPLITS_A1, quantity);
const struct router_ops smi_v1alpha2_router = SMI_ROUTER(TRAFFICSPLITS_A2, NULL);
const struct router_ops smi_v1alpha3_router = SMI_ROUTER(TRAFFICSPLITS_A3, NULL);
