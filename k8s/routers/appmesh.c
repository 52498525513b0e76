/*
 * appmesh.c — AWS App Mesh (reference: routers §2.8, §2.9), two routers:
 *
 *   appmesh:v1beta2  VirtualNodes `<svc>-primary` and `<svc>-canary`, and
 *                    a VirtualRouter with its VirtualService for `<svc>`
 *                    (the weights) and for `<svc>-canary` (all to the
 *                    canary); the route object is VirtualRouter `<svc>`.
 *   appmesh          (v1beta1, needs service.meshName) VirtualNodes `<svc>`,
 *                    `<svc>-primary`, `<svc>-canary`, and VirtualServices
 *                    `<svc>.<ns>` (the weights) and `<svc>-canary.<ns>`.
 *
 * The weights are the weighted targets of the first route's action.  A/B
 * testing: the first route (`<svc>-a`, priority 10) matches the headers of
 * analysis.match and carries the weights, a second (`<svc>-b`, priority
 * 20) sends the rest to the primary.  No mirroring, no session affinity.
 * A reconcile brings every object back and keeps the live action (the
 * weights), as Flagger does.  service.timeout (when it parses) is the
 * v1beta2 routes' and primary/canary listeners' per-request timeout;
 * service.retries every route's retry policy (maxRetries = attempts or 1,
 * per-retry timeout perTryTimeout or 250 ms, events retryOn or
 * gateway-error); with service.hosts both are also the apex
 * VirtualService's gateway annotations.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define NAME_MAX_ 300

/* The version's names: where a route keeps its action, how a weighted
 * target names its node. */
static bool
is_b1(const struct route_ctx *x)
{
	return x->ops->res == K8S_RES(MESH_SERVICES_B1);
}

static const char *
route_key(const struct route_ctx *x)
{
	return is_b1(x) ? "http" : "httpRoute";
}

static json_t *
target(const struct route_ctx *x, const char *node, int w)
{
	if (is_b1(x))
		return json_pack("{s:s, s:i}", "virtualNodeName", node, "weight", w);
	return json_pack("{s:{s:s}, s:i}", "virtualNodeRef", "name", node, "weight", w);
}

static const char *
target_name(const struct route_ctx *x, json_t *t)
{
	return jstr(t, is_b1(x) ? "virtualNodeName" : "virtualNodeRef.name");
}

static json_t *
action(const struct route_ctx *x, int primary, int canary)
{
	return json_pack("{s:[o, o]}", "weightedTargets", target(x, x->canary, canary),
	    target(x, x->primary, primary));
}

/* The container port: an integer targetPort, else the service port. */
static int
mesh_port(const struct route_ctx *x)
{
	json_t *tp = x->g ? x->g->target_port : NULL;

	return json_is_integer(tp) && json_integer_value(tp) > 0 ?
	    (int)json_integer_value(tp) : x->cfg->port;
}

static json_t *
listeners(const struct route_ctx *x)
{
	const char *pn = x->g ? x->g->port_name : NULL;

	return json_pack("[{s:{s:i, s:s}}]", "portMapping", "port", mesh_port(x), "protocol",
	    pn && strstr(pn, "grpc") ? "grpc" : "http");
}

/* service.match[0].uri.prefix, else "/". */
static const char *
prefix(const struct route_ctx *x)
{
	const char *p = x->g ? jstr(json_array_get(x->g->service_match, 0), "uri.prefix") : NULL;

	return p && *p ? p : "/";
}

/* The headers of analysis.match as App Mesh header matches. */
static json_t *
headers(const struct route_ctx *x, char *err)
{
	static const char *const kinds[] = { "exact", "prefix", "regex", "suffix" };
	json_t *out = json_array(), *m, *v, *h;
	const char *name;
	size_t i, k;

	json_array_foreach(x->g->match, i, m) {
		json_object_foreach(json_object_get(m, "headers"), name, v) {
			h = NULL;
			for (k = 0; k < sizeof kinds / sizeof kinds[0] && !h; k++)
				if (json_is_string(json_object_get(v, kinds[k])))
					h = json_pack("{s:s, s:{s:O}}", "name", name, "match", kinds[k],
					    json_object_get(v, kinds[k]));
			if (!h) {
				json_decref(out);
				errf(err, ST_INVALID, "analysis.match header %s: App Mesh matches "
				    "exact, prefix, regex or suffix", name);
				return NULL;
			}
			json_array_append_new(out, h);
		}
	}
	return out;
}

/* service.timeout in ms as App Mesh writes a duration, or NULL. */
static json_t *
per_request(const struct route_ctx *x)
{
	if (x->g == NULL || x->g->timeout_ms <= 0)
		return NULL;
	return json_pack("{s:{s:s, s:I}}", "perRequest", "unit", "ms", "value",
	    (json_int_t)x->g->timeout_ms);
}

/* service.retries as a route's retryPolicy (reference routers §2.8, §2.9). */
static void
retry_policy(const struct route_ctx *x, json_t *http)
{
	json_t *r = x->g ? x->g->retries : NULL, *on;
	json_int_t n = json_integer_value(json_object_get(r, "attempts"));
	json_int_t ms = x->g && x->g->per_try_ms > 0 ? (json_int_t)x->g->per_try_ms : 250;

	if (r == NULL)
		return;
	on = route_split(json_string_value(json_object_get(r, "retryOn")));
	if (json_array_size(on) == 0)
		json_array_append_new(on, json_string("gateway-error"));
	if (is_b1(x))
		json_object_set_new(http, "retryPolicy", json_pack("{s:I, s:I, s:o}",
		    "perRetryTimeoutMillis", ms, "maxRetries", n > 0 ? n : 1, "httpRetryEvents", on));
	else
		json_object_set_new(http, "retryPolicy", json_pack("{s:I, s:{s:s, s:I}, s:o}",
		    "maxRetries", n > 0 ? n : 1, "perRetryTimeout", "unit", "ms", "value", ms,
		    "httpRetryEvents", on));
}

static json_t *
route(const struct route_ctx *x, const char *name, int priority, json_t *match, json_t *act)
{
	json_t *r = json_pack("{s:s, s:{s:o, s:o}}", "name", name, route_key(x), "match", match,
	    "action", act), *http = json_object_get(r, route_key(x)), *t;

	if (priority > 0)
		json_object_set_new(r, "priority", json_integer(priority));
	if (!is_b1(x) && (t = per_request(x)) != NULL)
		json_object_set_new(http, "timeout", t);
	retry_policy(x, http);
	return r;
}

/* The routes of the router `name`: all to the canary for `<svc>-canary`;
 * for `<svc>` at 100/0, with A/B testing the header route first. */
static json_t *
routes(const struct route_ctx *x, bool canary, char *err)
{
	char a[NAME_MAX_], b[NAME_MAX_];
	json_t *h;

	if (canary)
		return json_pack("[o]", route(x, x->canary, 0, json_pack("{s:s}", "prefix",
		    prefix(x)), action(x, 0, 100)));
	if (!rt_ab(x->g))
		return json_pack("[o]", route(x, x->cfg->service, 0, json_pack("{s:s}", "prefix",
		    prefix(x)), action(x, 100, 0)));
	if (!(h = headers(x, err)))
		return NULL;
	snprintf(a, sizeof a, "%s-a", x->cfg->service);
	snprintf(b, sizeof b, "%s-b", x->cfg->service);
	return json_pack("[o, o]", route(x, a, 10, json_pack("{s:s, s:o}", "prefix", prefix(x),
	    "headers", h), action(x, 100, 0)), route(x, b, 20, json_pack("{s:s}", "prefix",
	    prefix(x)), json_pack("{s:[o]}", "weightedTargets", target(x, x->primary, 100))));
}

/* The routing spec: VirtualRouter (v1beta2) or VirtualService (v1beta1). */
static json_t *
router_spec(const struct route_ctx *x, bool canary, char *err)
{
	json_t *r = routes(x, canary, err);

	if (r == NULL)
		return NULL;
	if (!is_b1(x))
		return json_pack("{s:o, s:o}", "listeners", listeners(x), "routes", r);
	return json_pack("{s:s, s:{s:s, s:o}, s:o}", "meshName", x->g->mesh_name,
	    "virtualRouter", "name", canary ? x->canary : x->cfg->service, "listeners",
	    listeners(x), "routes", r);
}

static json_t *
mesh_initial_spec(const struct route_ctx *x, char *err)
{
	return router_spec(x, false, err);
}

static void
mesh_object_name(const struct route_ctx *x, char *out, size_t n)
{
	if (is_b1(x))
		snprintf(out, n, "%s.%s", x->cfg->service, x->cfg->ns);
	else
		snprintf(out, n, "%s", x->cfg->service);
}

/* ---- the other objects ---------------------------------------------------- */

/* spec.selector.matchLabels' app, name or app.kubernetes.io/name of the
 * target: the label the pods of the primary and the canary differ by. */
static int
selector(struct route_ctx *x, char *label, char *value, char *err)
{
	static const char *const keys[] = { "app", "name", "app.kubernetes.io/name" };
	struct k8s_err e;
	const char *v;
	json_t *dep;
	size_t i;
	int st;

	if ((st = k8s_get(x->c, K8S_RES(DEPLOYMENTS), x->cfg->ns, x->cfg->target, &dep, &e)))
		return errf(err, st, "deployment %s.%s: %s", x->cfg->target, x->cfg->ns, e.msg);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		v = json_string_value(json_object_get(jpath(dep, "spec.selector.matchLabels"), keys[i]));
		if (v && *v) {
			snprintf(label, NAME_MAX_, "%s", keys[i]);
			snprintf(value, NAME_MAX_, "%s", v);
			json_decref(dep);
			return ST_OK;
		}
	}
	json_decref(dep);
	return errf(err, ST_INVALID, "deployment %s.%s spec.selector.matchLabels must contain one "
	    "of app, name or app.kubernetes.io/name", x->cfg->target, x->cfg->ns);
}

static json_t *
backends(const struct route_ctx *x)
{
	json_t *out = json_array(), *b;
	const char *s;
	size_t i;

	json_array_foreach(x->g ? x->g->backends : NULL, i, b) {
		if (!(s = json_string_value(b)) || !*s)
			continue;
		if (is_b1(x))
			json_array_append_new(out, json_pack("{s:{s:s}}", "virtualService",
			    "virtualServiceName", s));
		else if (strncmp(s, "arn:aws", 7) == 0)
			json_array_append_new(out, json_pack("{s:{s:s}}", "virtualService",
			    "virtualServiceARN", s));
		else
			json_array_append_new(out, json_pack("{s:{s:{s:s}}}", "virtualService",
			    "virtualServiceRef", "name", s));
	}
	return out;
}

/* VirtualNode `name` for the pods labelled label=value (v1beta2), found
 * by DNS as `dns` in the namespace. */
static int
ensure_node(struct route_ctx *x, const char *name, const char *dns, const char *label,
    const char *value, char *err)
{
	json_t *spec, *o, *t;
	char host[NAME_MAX_ * 2];
	int st;

	if (is_b1(x)) {
		snprintf(host, sizeof host, "%s.%s", dns, x->cfg->ns);
		spec = json_pack("{s:s, s:o, s:{s:{s:s}}}", "meshName", x->g->mesh_name, "listeners",
		    listeners(x), "serviceDiscovery", "dns", "hostName", host);
	} else {
		snprintf(host, sizeof host, "%s.%s.svc.cluster.local.", dns, x->cfg->ns);
		spec = json_pack("{s:{s:{s:s}}, s:o, s:{s:{s:s}}}", "podSelector", "matchLabels",
		    label, value, "listeners", listeners(x), "serviceDiscovery", "dns", "hostname",
		    host);
		if ((t = per_request(x)) != NULL)
			json_object_set_new(json_array_get(json_object_get(spec, "listeners"), 0),
			    "timeout", json_pack("{s:o}", "http", t));
	}
	if (json_array_size(x->g ? x->g->backends : NULL) > 0)
		json_object_set_new(spec, "backends", backends(x));
	o = route_object(x, is_b1(x) ? K8S_RES(MESH_NODES_B1) : K8S_RES(MESH_NODES_B2),
	    "VirtualNode", name, spec);
	st = route_ensure(x, is_b1(x) ? K8S_RES(MESH_NODES_B1) : K8S_RES(MESH_NODES_B2), o, false,
	    err);
	json_decref(o);
	return st;
}

/* The gateway annotations of the apex VirtualService (service.hosts). */
static void
gateway_annotations(const struct route_ctx *x, json_t *o)
{
	char domain[1024] = "";
	json_t *h, *ann;
	json_int_t n;
	size_t i, len;

	if (json_array_size(x->g ? x->g->hosts : NULL) == 0)
		return;
	json_array_foreach(x->g->hosts, i, h) {
		len = strlen(domain);
		snprintf(domain + len, sizeof domain - len, "%s,", json_string_value(h));
	}
	ann = json_pack("{s:s, s:s}", "gateway.appmesh.k8s.aws/expose", "true",
	    "gateway.appmesh.k8s.aws/domain", domain);
	if (x->g->timeout != NULL)
		json_object_set_new(ann, "gateway.appmesh.k8s.aws/timeout",
		    json_string(x->g->timeout));
	n = json_integer_value(json_object_get(x->g->retries, "attempts"));
	if (n > 0)
		json_object_set_new(ann, "gateway.appmesh.k8s.aws/retries",
		    json_sprintf("%lld", (long long)n));
	json_object_set_new(json_object_get(o, "metadata"), "annotations", ann);
}

/* The routing object of `<svc>` (keep: its live action kept) or of
 * `<svc>-canary`; for v1beta2 with the VirtualService in front of it. */
static int
ensure_routing(struct route_ctx *x, bool canary, char *err)
{
	const struct k8s_res *res = x->ops->res;
	char name[NAME_MAX_ * 2];
	json_t *spec = router_spec(x, canary, err), *o;
	int st;

	if (spec == NULL)
		return ST_INVALID;
	if (canary && is_b1(x))
		snprintf(name, sizeof name, "%s.%s", x->canary, x->cfg->ns);
	else if (canary)
		snprintf(name, sizeof name, "%s", x->canary);
	else
		mesh_object_name(x, name, sizeof name);
	o = route_object(x, res, x->ops->kind, name, spec);
	if (is_b1(x) && !canary)
		gateway_annotations(x, o);
	st = route_ensure(x, res, o, !canary, err);
	json_decref(o);
	if (st != ST_OK || is_b1(x))
		return st;
	o = route_object(x, K8S_RES(MESH_SERVICES_B2), "VirtualService", name, json_pack(
	    "{s:{s:{s:{s:s}}}}", "provider", "virtualRouter", "virtualRouterRef", "name", name));
	if (!canary)
		gateway_annotations(x, o);
	st = route_ensure(x, K8S_RES(MESH_SERVICES_B2), o, false, err);
	json_decref(o);
	return st;
}

static int
mesh_reconcile(struct route_ctx *x, char *err)
{
	char label[NAME_MAX_] = "", value[NAME_MAX_] = "", primary[NAME_MAX_ + 16];
	int st;

	if (is_b1(x) && (x->g == NULL || x->g->mesh_name == NULL || !*x->g->mesh_name))
		return errf(err, ST_INVALID, "canary %s/%s: service.meshName is required with "
		    "provider %s", x->cfg->ns, x->cfg->name, x->cfg->provider);
	if (!is_b1(x) && (st = selector(x, label, value, err)) != ST_OK)
		return st;
	snprintf(primary, sizeof primary, "%s-primary", value);
	if ((is_b1(x) && (st = ensure_node(x, x->cfg->service, x->primary, NULL, NULL, err))) ||
	    (st = ensure_node(x, x->primary, x->primary, label, primary, err)) ||
	    (st = ensure_node(x, x->canary, x->canary, label, value, err)) ||
	    (st = ensure_routing(x, false, err)) || (st = ensure_routing(x, true, err)))
		return st;
	return ST_OK;
}

/* ---- weights -------------------------------------------------------------- */

/* The first route's part that holds the action, or NULL. */
static json_t *
first_route(const struct route_ctx *x, json_t *obj)
{
	return json_object_get(json_array_get(jpath(obj, "spec.routes"), 0), route_key(x));
}

static void
mesh_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	json_t *live = first_route(x, have), *mine = json_object_get(json_array_get(
	    json_object_get(want, "routes"), 0), route_key(x));

	if (mine && json_array_size(jpath(live, "action.weightedTargets")) == 2)
		json_object_set(mine, "action", json_object_get(live, "action"));
}

/* SetRoutes: the first route's action replaced. */
static int
mesh_write(struct route_ctx *x, json_t *obj)
{
	json_t *r = first_route(x, obj), *old;
	bool same;

	if (r == NULL)
		return ST_CORRUPT;
	old = json_incref(json_object_get(r, "action"));
	json_object_set_new(r, "action", action(x, x->w->primary, x->w->canary));
	same = old && json_equal(old, json_object_get(r, "action"));
	json_decref(old);
	return same ? ST_AGAIN : ST_OK;
}

static int
mesh_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	json_t *t = jpath(first_route(x, obj), "action.weightedTargets"), *v;
	const char *n;
	size_t i;

	if (json_array_size(t) != 2)
		return errf(err, ST_CORRUPT, "%s routes %s not found", x->ops->kind, x->cfg->service);
	json_array_foreach(t, i, v) {
		n = target_name(x, v);
		if (n && strcmp(n, x->primary) == 0)
			out->primary = route_weight_of(json_object_get(v, "weight"));
		else if (n && strcmp(n, x->canary) == 0)
			out->canary = route_weight_of(json_object_get(v, "weight"));
	}
	return ST_OK;
}

#define MESH_ROUTER(what, k, resource) { \
	.name = what, \
	.caps = RT_MATCH, \
	.kind = k, \
	.res = K8S_RES(resource), \
	.object_name = mesh_object_name, \
	.reconcile = mesh_reconcile, \
	.initial_spec = mesh_initial_spec, \
	.keep = mesh_keep, \
	.write = mesh_write, \
	.read = mesh_read, \
	/* Flagger's Finalize: none; perch gives all traffic to the target. */ \
	.revert = route_revert, \
}

const struct router_ops appmesh_v1beta2_router =
    MESH_ROUTER("App Mesh VirtualRouter", "VirtualRouter", MESH_ROUTERS_B2);
const struct router_ops appmesh_v1beta1_router =
    MESH_ROUTER("App Mesh VirtualService", "VirtualService", MESH_SERVICES_B1);
