/*
 * gatewayapi.c — Gateway API HTTPRoute (reference §4.3), v1 and v1beta1:
 * one HTTPRoute `<svc>` attached to spec.service.gatewayRefs, hostnames
 * from spec.service.hosts.  The weighted rule matches service.match (or
 * every path); with A/B testing its matches are analysis.match ×
 * service.match and a second rule sends service.match to the primary.
 * Blue/green mirroring is a RequestMirror filter on the weighted rule;
 * session affinity adds its cookie rules around it (affinity.c).  A read
 * waits until every parent has accepted the route's current generation.
 */
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

static json_t *
backend_ref(const char *name, int port, int weight)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i}", "group", "", "kind", "Service", "name", name,
	    "port", port, "weight", weight);
}

/* The weighted rule (A/B: analysis.match × service.match), and with A/B a
 * second rule, service.match to the primary only. */
static json_t *
gateway_rules(const struct route_ctx *x, char *err)
{
	json_t *dflt = json_pack("[{s:{s:s}}]", "uri", "prefix", "/"), *rules = json_array(),
	    *m, *gm;
	int i, port = x->cfg->port, st = ST_OK;

	for (i = 0; i < (rt_ab(x->g) ? 2 : 1) && st == ST_OK; i++) {
		m = rt_matches(x->g, i == 0, dflt);
		if ((st = rt_gateway_matches(m, &gm, err)) == ST_OK)
			json_array_append_new(rules, i == 0 ? json_pack("{s:o, s:[o, o]}", "matches", gm,
			    "backendRefs", backend_ref(x->primary, port, 100), backend_ref(x->canary,
			    port, 0)) : json_pack("{s:o, s:[o]}", "matches", gm, "backendRefs",
			    backend_ref(x->primary, port, 100)));
		json_decref(m);
	}
	json_decref(dflt);
	if (st != ST_OK) {
		json_decref(rules);
		return NULL;
	}
	return rules;
}

static json_t *
gateway_spec(const struct route_ctx *x, char *err)
{
	const struct routing *g = x->g;
	json_t *spec, *rules;

	if (!(rules = gateway_rules(x, err)))
		return NULL;
	spec = json_pack("{s:o, s:o}", "parentRefs", g && g->parent_refs ?
	    json_deep_copy(g->parent_refs) : json_array(), "rules", rules);
	if (g && g->hosts)
		json_object_set(spec, "hostnames", g->hosts);
	return spec;
}

/* Blue/green mirroring (reference §4.3: mirrored and iterations > 0): a
 * RequestMirror filter on the weighted rule. */
static void
gateway_mirror(const struct route_ctx *x, json_t *rule)
{
	if (x->w->mirrored && x->cfg->iterations > 0)
		json_object_set_new(rule, "filters", json_pack("[{s:s, s:{s:{s:s, s:s, s:s, s:i}}}]",
		    "type", "RequestMirror", "requestMirror", "backendRef", "group", "", "kind",
		    "Service", "name", x->canary, "port", x->cfg->port));
	else
		json_object_del(rule, "filters");
}

/* A RequestMirror filter to the canary on a rule. */
static bool
gateway_mirrored(const struct route_ctx *x, json_t *rule)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(rule, "filters"), i, f)
		if (jnamed(f, "type", "RequestMirror") &&
		    jnamed(f, "requestMirror.backendRef.name", x->canary))
			return true;
	return false;
}

static void
gateway_keep_mirror(const struct route_ctx *x, json_t *live, json_t *mine)
{
	if (gateway_mirrored(x, live))
		json_object_set(mine, "filters", json_object_get(live, "filters"));
}

static void
gateway_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep(x, have, want, gateway_keep_mirror);
}

static int
gateway_write(struct route_ctx *x, json_t *obj)
{
	return route_write(x, obj, gateway_mirror);
}

/* Every parent in status must have accepted the current generation. */
static int
gateway_accepted(json_t *obj, const struct canary_cfg *cfg, char *err)
{
	json_int_t gen = json_integer_value(jpath(obj, "metadata.generation"));
	json_t *parent, *cond;
	size_t i, j;

	json_array_foreach(jpath(obj, "status.parents"), i, parent) {
		json_array_foreach(json_object_get(parent, "conditions"), j, cond) {
			if (!jnamed(cond, "type", "Accepted"))
				continue;
			if (!jnamed(cond, "status", "True") ||
			    json_integer_value(json_object_get(cond, "observedGeneration")) < gen)
				return errf(err, ST_AGAIN, "HTTPRoute %s.%s parent %s is not ready "
				    "(status: %s, observed generation: %lld, current generation: %lld)",
				    cfg->service, cfg->ns, jstr(parent, "parentRef.name") ?
				    jstr(parent, "parentRef.name") : "", jstr(cond, "status") ?
				    jstr(cond, "status") : "", (long long)json_integer_value(
				    json_object_get(cond, "observedGeneration")), (long long)gen);
		}
	}
	return ST_OK;
}

static int
gateway_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	int st = gateway_accepted(obj, x->cfg, err);

	return st != ST_OK ? st : route_read(x, obj, out, gateway_mirrored);
}

#define GATEWAY_ROUTER(resource) { \
	.name = "Gateway API HTTPRoute", \
	.caps = RT_MATCH | RT_AFFINITY | RT_MIRROR, \
	.kind = "HTTPRoute", \
	.res = K8S_RES(resource), \
	.shape = { "rules", "backendRefs", "name" }, \
	.affinity = &rt_affinity_gateway, \
	.reconcile = route_reconcile, \
	.initial_spec = gateway_spec, \
	.keep = gateway_keep, \
	.write = gateway_write, \
	.read = gateway_read, \
	/* Flagger's Finalize: none (garbage collection takes the route at \
	 * its last weights); perch gives all traffic to the target first. */ \
	.revert = route_revert, \
}

const struct router_ops gatewayapi_v1_router = GATEWAY_ROUTER(HTTPROUTES_V1);
const struct router_ops gatewayapi_v1beta1_router = GATEWAY_ROUTER(HTTPROUTES_V1B1);
