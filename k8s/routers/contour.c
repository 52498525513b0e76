/*
 * contour.c — Contour HTTPProxy (reference routers §2.1): one HTTPProxy
 * `<svc>` without a virtualhost (the user's root HTTPProxy includes it),
 * its first route on the path prefix of service.match (default "/") with
 * the services `<svc>-primary` and `<svc>-canary`, their weights and the
 * l5d-dst-override header.  Labels and annotations from service.apex.
 * service.timeout is every route's timeoutPolicy (response, idle 5m) and
 * service.retries its retryPolicy (count, perTryTimeout, retryOn split on
 * ","; an empty retryOn is left out, where Flagger writes [""]).
 *
 * A/B testing: one route per analysis.match element, on its header
 * conditions (exact; prefix and suffix as "contains", as Flagger writes
 * them), then the route on the prefix alone to the primary.  Flagger puts
 * every header of every element in one route (Contour ANDs conditions, so
 * the elements' OR became an AND) and drops regex matches to a bare
 * header name; perch writes a route per element and refuses a regex or a
 * match without headers, which Contour's conditions cannot express.
 * No mirroring, no session affinity (refused by validation).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

static json_t *
contour_service(const struct route_ctx *x, const char *name, int w)
{
	char dst[700];

	snprintf(dst, sizeof dst, "%s.%s.svc.cluster.local:%d", name, x->cfg->ns, x->cfg->port);
	return json_pack("{s:s, s:i, s:i, s:{s:[{s:s, s:s}]}}", "name", name, "port", x->cfg->port,
	    "weight", w, "requestHeadersPolicy", "set", "name", "l5d-dst-override", "value", dst);
}

/* service.match[0].uri.prefix, else "/". */
static const char *
contour_prefix(const struct route_ctx *x)
{
	const char *p = x->g ? jstr(json_array_get(x->g->service_match, 0), "uri.prefix") : NULL;

	return p != NULL && *p ? p : "/";
}

/* service.timeout and service.retries on a route (reference routers §2.1). */
static void
contour_policies(const struct route_ctx *x, json_t *route)
{
	json_t *r = x->g ? x->g->retries : NULL, *pol, *on;
	json_int_t n = json_integer_value(json_object_get(r, "attempts"));
	const char *per_try = json_string_value(json_object_get(r, "perTryTimeout"));

	if (x->g != NULL && x->g->timeout != NULL)
		json_object_set_new(route, "timeoutPolicy", json_pack("{s:s, s:s}", "response",
		    x->g->timeout, "idle", "5m"));
	if (r == NULL)
		return;
	pol = json_object();
	if (n > 0)
		json_object_set_new(pol, "count", json_integer(n));
	if (per_try != NULL && *per_try != '\0')
		json_object_set_new(pol, "perTryTimeout", json_string(per_try));
	on = route_split(json_string_value(json_object_get(r, "retryOn")));
	if (json_array_size(on) > 0)
		json_object_set_new(pol, "retryOn", on);
	else
		json_decref(on);
	json_object_set_new(route, "retryPolicy", pol);
}

static json_t *
contour_route(const struct route_ctx *x, json_t *conds, int p, int c)
{
	json_t *route;

	json_array_insert_new(conds, 0, json_pack("{s:s}", "prefix", contour_prefix(x)));
	route = json_pack("{s:o, s:[o, o]}", "conditions", conds, "services",
	    contour_service(x, x->primary, p), contour_service(x, x->canary, c));
	contour_policies(x, route);
	return route;
}

/* The header conditions of one analysis.match element into conds. */
static int
contour_headers(json_t *m, size_t i, json_t *conds, char *err)
{
	static const char *const ops[][2] = { { "exact", "exact" }, { "prefix", "contains" },
		{ "suffix", "contains" } };
	const char *h, *op;
	json_t *v;
	size_t k;

	json_object_foreach(json_object_get(m, "headers"), h, v) {
		for (op = NULL, k = 0; k < 3 && op == NULL; k++)
			if (json_is_string(json_object_get(v, ops[k][0])))
				op = ops[k][0];
		if (op == NULL)
			return errf(err, ST_INVALID, "analysis.match[%zu].headers.%s: Contour matches a "
			    "header by exact value, prefix or suffix, not by regex", i, h);
		for (k = 0; strcmp(ops[k][0], op) != 0; k++)
			;
		json_array_append_new(conds, json_pack("{s:{s:s, s:O}}", "header", "name", h,
		    ops[k][1], json_object_get(v, op)));
	}
	if (json_array_size(conds) == 0)
		return errf(err, ST_INVALID, "analysis.match[%zu]: Contour routes A/B traffic by "
		    "header only, and this match has no headers", i);
	return ST_OK;
}

static json_t *
contour_build(const struct route_ctx *x, int p, int c, char *err)
{
	bool ab = rt_ab(x->g);
	json_t *routes = json_array(), *m, *conds;
	size_t i;

	json_array_foreach(ab ? x->g->match : NULL, i, m) {
		conds = json_array();
		if (contour_headers(m, i, conds, err) != ST_OK) {
			json_decref(conds);
			json_decref(routes);
			return NULL;
		}
		json_array_append_new(routes, contour_route(x, conds, p, c));
	}
	json_array_append_new(routes, contour_route(x, json_array(), ab ? 100 : p, ab ? 0 : c));
	return json_pack("{s:o}", "routes", routes);
}

static json_t *
contour_spec(const struct route_ctx *x, char *err)
{
	return contour_build(x, 100, 0, err);
}

static int
contour_reconcile(struct route_ctx *x, char *err)
{
	json_t *spec = contour_spec(x, err), *o;
	int st;

	if (spec == NULL)
		return ST_INVALID;
	o = route_object(x, x->ops->res, x->ops->kind, x->cfg->service, spec);
	route_apex_meta(x, o);
	st = route_ensure(x, x->ops->res, o, true, err);
	json_decref(o);
	return st;
}

static void
contour_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep_built(x, have, want, contour_build);
}

static int
contour_write(struct route_ctx *x, json_t *obj)
{
	return route_write_built(x, obj, contour_build);
}

/* The first route's primary weight (a missing weight is 0); the canary has
 * the rest, as Flagger reads it. */
static int
contour_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	json_t *svcs = jpath(json_array_get(jpath(obj, "spec.routes"), 0), "services"), *s;
	size_t i;

	json_array_foreach(svcs, i, s) {
		if (jnamed(s, "name", x->primary)) {
			out->primary = route_weight_of(json_object_get(s, "weight"));
			out->canary = 100 - out->primary;
			return ST_OK;
		}
	}
	(void)err;
	return ST_CORRUPT;
}

const struct router_ops contour_router = {
	.name = "Contour HTTPProxy",
	.caps = RT_MATCH,
	.kind = "HTTPProxy",
	.res = K8S_RES(HTTPPROXIES),
	.shape = { "routes", "services", "name" },
	.reconcile = contour_reconcile,
	.initial_spec = contour_spec,
	.keep = contour_keep,
	.write = contour_write,
	.read = contour_read,
	/* Flagger's Finalize: none; perch gives all traffic to the target. */
	.revert = route_revert,
};
