/*
 * router.c — Services and the traffic routers of reference §4: SMI
 * TrafficSplit (linkerd, v1alpha1-3), Gateway API HTTPRoute (v1, v1beta1),
 * Istio VirtualService + DestinationRules, the NGINX canary Ingress, and
 * `kubernetes` (blue/green without traffic shifting: weights kept in an
 * annotation of the canary Service).
 *
 * Session affinity (Gateway API and Istio) adds its cookie rules around the
 * weighted one (router_affinity.c); other providers refuse it.
 *
 * The route object is read back on every get: it is the source of truth for
 * the current weights, as in Flagger.  Writes are read-modify-write with
 * conflict retries (k8s_modify).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"
#include "util/xalloc.h"

enum rkind { R_NOP, R_SMI, R_GATEWAY, R_ISTIO, R_NGINX };

struct router {
	enum rkind kind;
	const struct k8s_res *res;
	bool string_weights;	/* SMI v1alpha1: weights are Quantity strings */
};

static int
router_of(const struct canary_cfg *cfg, struct router *r, char *err)
{
	const char *p = cfg->provider && *cfg->provider ? cfg->provider : "istio";

	memset(r, 0, sizeof *r);
	if (strcmp(p, "kubernetes") == 0)
		r->kind = R_NOP;
	else if (strcmp(p, "linkerd") == 0 || strncmp(p, "smi:v1alpha1", 12) == 0)
		*r = (struct router){ R_SMI, K8S_RES(TRAFFICSPLITS_A1), true };
	else if (strncmp(p, "smi:v1alpha2", 12) == 0 || strcmp(p, "osm") == 0)
		*r = (struct router){ R_SMI, K8S_RES(TRAFFICSPLITS_A2), false };
	else if (strncmp(p, "smi:v1alpha3", 12) == 0)
		*r = (struct router){ R_SMI, K8S_RES(TRAFFICSPLITS_A3), false };
	else if (strcmp(p, "gatewayapi:v1beta1") == 0)
		*r = (struct router){ R_GATEWAY, K8S_RES(HTTPROUTES_V1B1), false };
	else if (strcmp(p, "gatewayapi") == 0 || strcmp(p, "gatewayapi:v1") == 0)
		*r = (struct router){ R_GATEWAY, K8S_RES(HTTPROUTES_V1), false };
	else if (strcmp(p, "istio") == 0)
		*r = (struct router){ R_ISTIO, K8S_RES(VIRTUALSERVICES), false };
	else if (strcmp(p, "nginx") == 0)
		*r = (struct router){ R_NGINX, K8S_RES(INGRESSES), false };
	else
		return errf(err, ST_UNSUPPORTED, "provider \"%s\" is not supported on a cluster "
		    "(kubernetes, linkerd, smi:v1alpha1-3, osm, gatewayapi:v1, gatewayapi:v1beta1, "
		    "istio, nginx)", p);
	/* spec validation refuses both first (spec/validate.c); never ignored. */
	if (cfg->strategy == STRATEGY_ABTESTING && (r->kind == R_SMI || r->kind == R_NOP))
		return errf(err, ST_UNSUPPORTED, "canary %s/%s: spec.analysis.match (A/B testing) is "
		    "not supported with provider %s (weights only)", cfg->ns, cfg->name, p);

	if (cfg->affinity != NULL && r->kind != R_GATEWAY && r->kind != R_ISTIO)
		return errf(err, ST_UNSUPPORTED, "canary %s/%s: spec.analysis.sessionAffinity is "
		    "not supported with provider %s (only istio and gatewayapi)", cfg->ns, cfg->name,
		    p);
	return ST_OK;
}

/* ---- services ---------------------------------------------------------------- */

static int
ensure_service(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *name,
    const char *label, const char *value, char *err)
{
	const struct routing *g = routing_of(k, cfg);
	struct k8s_client *c = k->c;
	json_t *ports = json_pack("[{s:s, s:s, s:i, s:o}]", "name", "http", "protocol", "TCP",
	    "port", cfg->port, "targetPort", g && g->target_port ? json_deep_copy(g->target_port) :
	    json_integer(cfg->port));
	json_t *sel = json_pack("{s:s}", label, value), *cur, *obj, *patch;
	struct k8s_err e;
	int st = cached_get(k, K8S_RES(SERVICES), cfg->ns, name, &cur, &e);

	if (st == ST_NOTFOUND) {
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s, s:O, s:O}}",
		    "apiVersion", "v1", "kind", "Service", "metadata", "name", name, "namespace",
		    cfg->ns, "labels", label, name, "spec", "type", "ClusterIP", "selector", sel,
		    "ports", ports);
		own(obj, owner_of(k, cfg));
		st = k8s_create(c, K8S_RES(SERVICES), cfg->ns, obj, NULL, &e);
		json_decref(obj);
		written(k, K8S_RES(SERVICES), cfg->ns, name);
	} else if (st == ST_OK) {
		if (!json_equal(jpath(cur, "spec.selector"), sel) ||
		    json_integer_value(jpath(json_array_get(jpath(cur, "spec.ports"), 0), "port")) !=
		    cfg->port || !json_equal(jpath(json_array_get(jpath(cur, "spec.ports"), 0),
		    "targetPort"), json_object_get(json_array_get(ports, 0), "targetPort"))) {
			patch = json_pack("{s:{s:O, s:O}}", "spec", "selector", sel, "ports", ports);
			st = k8s_patch(c, K8S_RES(SERVICES), cfg->ns, name, K8S_PATCH_MERGE, patch, NULL,
			    &e);
			json_decref(patch);
			written(k, K8S_RES(SERVICES), cfg->ns, name);
		}
		json_decref(cur);
	}
	json_decref(ports);
	json_decref(sel);
	return st == ST_OK ? ST_OK : errf(err, st, "service %s.%s: %s", name, cfg->ns, e.msg);
}

int
rt_services(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *label,
    const char *value, char *err)
{
	char name[300], pvalue[300];
	int st;

	if (cfg->port <= 0 || cfg->port > 65535)
		return errf(err, ST_INVALID, "canary %s/%s: spec.service.port is required", cfg->ns,
		    cfg->name);
	snprintf(pvalue, sizeof pvalue, "%s-primary", value);
	snprintf(name, sizeof name, "%s-canary", cfg->service);
	if ((st = ensure_service(k, cfg, name, label, value, err)) != ST_OK)
		return st;
	snprintf(name, sizeof name, "%s-primary", cfg->service);
	if ((st = ensure_service(k, cfg, name, label, pvalue, err)) != ST_OK)
		return st;
	return ensure_service(k, cfg, cfg->service, label, pvalue, err);
}

/* ---- route objects ----------------------------------------------------------- */

static json_t *
weight_json(const struct router *r, int w)
{
	return r->string_weights ? json_sprintf("%d", w) : json_integer(w);
}

static int
weight_of(json_t *v)
{
	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (json_is_string(v))
		return atoi(json_string_value(v));
	return 0;
}

static json_t *
new_object(const struct router *r, const char *kind, const char *name, const char *ns,
    json_t *spec)
{
	return json_pack("{s:s++, s:s, s:{s:s, s:s}, s:o}", "apiVersion", r->res->group, "/",
	    r->res->version, "kind", kind, "metadata", "name", name, "namespace", ns, "spec", spec);
}

static json_t *
istio_hosts(const struct routing *g, const struct canary_cfg *cfg)
{
	json_t *hosts = g && g->hosts ? json_deep_copy(g->hosts) : json_array(), *h;
	bool have = false;
	size_t i;

	json_array_foreach(hosts, i, h)
		have = have || strcmp(json_string_value(h), cfg->service) == 0 ||
		    strcmp(json_string_value(h), "*") == 0;
	if (!have)
		json_array_append_new(hosts, json_string(cfg->service));
	return hosts;
}

static json_t *
backend_ref(const char *name, int port, int weight)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i}", "group", "", "kind", "Service", "name", name,
	    "port", port, "weight", weight);
}

/* Gateway API rules: the weighted rule (A/B: analysis.match × service.match),
 * and with A/B a second rule, service.match to the primary only. */
static json_t *
gateway_rules(const struct routing *g, const struct canary_cfg *cfg, const char *p,
    const char *c, char *err)
{
	json_t *dflt = json_pack("[{s:{s:s}}]", "uri", "prefix", "/"), *rules = json_array(),
	    *m, *gm;
	int i, st = ST_OK;

	for (i = 0; i < (rt_ab(g) ? 2 : 1) && st == ST_OK; i++) {
		m = rt_matches(g, i == 0, dflt);
		if ((st = rt_gateway_matches(m, &gm, err)) == ST_OK)
			json_array_append_new(rules, i == 0 ? json_pack("{s:o, s:[o, o]}", "matches", gm,
			    "backendRefs", backend_ref(p, cfg->port, 100), backend_ref(c, cfg->port, 0)) :
			    json_pack("{s:o, s:[o]}", "matches", gm, "backendRefs",
			    backend_ref(p, cfg->port, 100)));
		json_decref(m);
	}
	json_decref(dflt);
	if (st != ST_OK) {
		json_decref(rules);
		return NULL;
	}
	return rules;
}

/* Istio http routes, shaped like the Gateway API rules above. */
static json_t *
istio_http(const struct routing *g, const char *p, const char *c)
{
	json_t *http = json_array(), *route, *m;
	int i;

	for (i = 0; i < (rt_ab(g) ? 2 : 1); i++) {
		route = i == 0 ? json_pack("{s:[{s:{s:s}, s:i}, {s:{s:s}, s:i}]}", "route",
		    "destination", "host", p, "weight", 100, "destination", "host", c, "weight", 0) :
		    json_pack("{s:[{s:{s:s}, s:i}]}", "route", "destination", "host", p, "weight", 100);
		if ((m = rt_matches(g, i == 0, NULL)))
			json_object_set_new(route, "match", m);
		json_array_append_new(http, route);
	}
	return http;
}

/* The spec of a route object at 100/0; NULL (err set) when the Canary's
 * matches cannot be expressed. */
static json_t *
initial_spec(const struct k8s_cluster *k, const struct router *r, const struct canary_cfg *cfg,
    char *err)
{
	const struct routing *g = routing_of(k, cfg);
	char p[300], c[300];
	json_t *spec, *rules;

	snprintf(p, sizeof p, "%s-primary", cfg->service);
	snprintf(c, sizeof c, "%s-canary", cfg->service);
	switch (r->kind) {
	case R_SMI:
		return json_pack("{s:s, s:[{s:s, s:o}, {s:s, s:o}]}", "service", cfg->service,
		    "backends", "service", c, "weight", weight_json(r, 0), "service", p, "weight",
		    weight_json(r, 100));
	case R_GATEWAY:
		if (!(rules = gateway_rules(g, cfg, p, c, err)))
			return NULL;
		spec = json_pack("{s:o, s:o}", "parentRefs", g && g->parent_refs ?
		    json_deep_copy(g->parent_refs) : json_array(), "rules", rules);
		if (g && g->hosts)
			json_object_set(spec, "hostnames", g->hosts);
		return spec;
	case R_ISTIO:
		return json_pack("{s:o, s:o, s:o}", "hosts", istio_hosts(g, cfg), "gateways",
		    g && g->gateways ? json_deep_copy(g->gateways) : json_pack("[s]", "mesh"), "http",
		    istio_http(g, p, c));
	default:
		return json_object();
	}
}

const char *
rt_ingress_name(const struct k8s_cluster *k, const struct canary_cfg *cfg)
{
	const struct routing *g = routing_of(k, cfg);

	return g && g->ingress && *g->ingress ? g->ingress : cfg->service;
}

/* True when every field of `want` is in `have` with the same value (arrays
 * element by element, same length): what the API server adds (defaults,
 * status) does not count as a difference. */
static bool
json_subset(json_t *want, json_t *have)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(want)) {
		if (!json_is_object(have))
			return false;
		json_object_foreach(want, key, v)
			if (!json_subset(v, json_object_get(have, key)))
				return false;
		return true;
	}
	if (json_is_array(want)) {
		if (!json_is_array(have) || json_array_size(want) != json_array_size(have))
			return false;
		json_array_foreach(want, i, v)
			if (!json_subset(v, json_array_get(have, i)))
				return false;
		return true;
	}
	return json_equal(want, have);
}

/* How a reconcile carries the live weights into the desired spec. */
typedef void (*keep_fn)(json_t *have, json_t *want, void *arg);

struct reconcile_arg {
	json_t *want;		/* the desired object (spec, or metadata.annotations kept) */
	keep_fn keep;
	void *keep_arg;
};

static int
reconcile_fn(json_t *obj, void *arg)
{
	struct reconcile_arg *a = arg;
	json_t *spec = json_deep_copy(json_object_get(a->want, "spec"));
	int st = ST_AGAIN;

	if (a->keep)
		a->keep(obj, spec, a->keep_arg);
	if (!json_subset(spec, json_object_get(obj, "spec"))) {
		json_object_set(obj, "spec", spec);
		st = ST_OK;
	}
	json_decref(spec);
	return st;
}

/* Creates obj, or brings the live object's spec back to obj's (reference
 * §4.7: every tick, manual edits are reverted, the live weights kept by
 * `keep`).  Labels and annotations of the live object are left alone. */
static int
ensure_object(struct k8s_client *c, const struct k8s_res *res, const char *ns, json_t *obj,
    keep_fn keep, void *keep_arg, char *err)
{
	struct reconcile_arg a = { .want = obj, .keep = keep, .keep_arg = keep_arg };
	struct k8s_err e;
	const char *name = jstr(obj, "metadata.name");
	int st = k8s_modify(c, res, ns, name, reconcile_fn, &a, NULL, &e);

	if (st == ST_OK || st == ST_AGAIN)
		return ST_OK;
	if (st == ST_NOTFOUND && (st = k8s_create(c, res, ns, obj, NULL, &e)) == ST_OK)
		return ST_OK;
	return errf(err, st, "%s %s.%s: %s", res->plural, name, ns, e.msg);
}

static int
istio_rules(const struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	const struct router dr = { R_ISTIO, K8S_RES(DESTINATIONRULES), false };
	const char *sfx[] = { "-primary", "-canary" };
	char name[300];
	json_t *o;
	int st, i;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "%s%s", cfg->service, sfx[i]);
		o = new_object(&dr, "DestinationRule", name, cfg->ns, json_pack("{s:s}", "host", name));
		own(o, owner_of(k, cfg));
		st = ensure_object(k->c, dr.res, cfg->ns, o, NULL, NULL, err);
		json_decref(o);
		if (st != ST_OK)
			return st;
	}
	return ST_OK;
}

/* The NGINX canary Ingress `<ingress>-canary`: a copy of spec.ingressRef (or
 * the Ingress named like the apex service), its backend renamed `<svc>-canary`, with the canary annotations. */
static int
nginx_init(const struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	struct k8s_client *c = k->c;
	const char *src = rt_ingress_name(k, cfg);
	json_t *ing, *canary, *rule, *path, *ann, *v;
	const char *key;
	char cname[300], iname[300];
	struct k8s_err e;
	bool found = false;
	size_t i, j;
	int st;

	if ((st = k8s_get(c, K8S_RES(INGRESSES), cfg->ns, src, &ing, &e)) != ST_OK)
		return errf(err, st, "ingress %s.%s: %s", src, cfg->ns, e.msg);
	snprintf(cname, sizeof cname, "%s-canary", cfg->service);
	snprintf(iname, sizeof iname, "%s-canary", src);
	canary = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "networking.k8s.io/v1",
	    "kind", "Ingress", "metadata", "name", iname, "namespace", cfg->ns, "spec",
	    json_deep_copy(json_object_get(ing, "spec")));
	json_array_foreach(jpath(canary, "spec.rules"), i, rule) {
		json_array_foreach(jpath(rule, "http.paths"), j, path) {
			if (jstr(path, "backend.service.name") &&
			    strcmp(jstr(path, "backend.service.name"), cfg->service) == 0) {
				json_object_set_new(jpath(path, "backend.service"), "name",
				    json_string(cname));
				found = true;
			}
		}
	}
	ann = json_object();
	json_object_foreach(jpath(ing, "metadata.annotations"), key, v) {
		if (!strstr(key, "/canary") && strcmp(key, "kubectl.kubernetes.io/last-applied-configuration"))
			json_object_set(ann, key, v);
	}
	json_object_set_new(ann, "nginx.ingress.kubernetes.io/canary", json_string("true"));
	json_object_set_new(ann, "nginx.ingress.kubernetes.io/canary-weight", json_string("0"));
	json_object_set_new(json_object_get(canary, "metadata"), "annotations", ann);
	own(canary, owner_of(k, cfg));
	st = found ? ensure_object(c, K8S_RES(INGRESSES), cfg->ns, canary, NULL, NULL, err) :
	    errf(err, ST_INVALID, "backend %s not found in ingress %s", cfg->service, src);
	json_decref(canary);
	json_decref(ing);
	return st;
}

/* ---- set and get ------------------------------------------------------------- */

struct set_arg {
	const struct k8s_cluster *k;
	const struct router *r;
	const struct canary_cfg *cfg;
	const struct routes *w;
	char primary[300], canary[300];
	char *err;		/* for set_fn's errors (ERRMSG_MAX) */
};

/* The router of cfg, and a set_arg for it: the Service names its routes
 * point at.  ST_OK, or the router's refusal in err. */
static int
set_arg_init(struct set_arg *a, struct router *r, const struct k8s_cluster *k,
    const struct canary_cfg *cfg, const struct routes *w, char *err)
{
	int st = router_of(cfg, r, err);

	*a = (struct set_arg){ .k = k, .r = r, .cfg = cfg, .w = w, .err = err };
	snprintf(a->primary, sizeof a->primary, "%s-primary", cfg->service);
	snprintf(a->canary, sizeof a->canary, "%s-canary", cfg->service);
	return st;
}

static bool
named(json_t *o, const char *path, const char *name)
{
	const char *s = jstr(o, path);

	return s && strcmp(s, name) == 0;
}

/* The rule/route list entry holding both backends, or NULL. */
static json_t *
find_pair(json_t *list, const char *field, const char *path, const struct set_arg *a)
{
	json_t *item, *b;
	size_t i, j;
	bool p, c;

	json_array_foreach(list, i, item) {
		p = c = false;
		json_array_foreach(json_object_get(item, field), j, b) {
			p = p || named(b, path, a->primary);
			c = c || named(b, path, a->canary);
		}
		if (p && c)
			return item;
	}
	return NULL;
}

/* The rule/route list entry with the weights: with session affinity the
 * one whose backends carry the Set-Cookie headers, else the last with both
 * backends (the sticky rules come first); without it the first with both. */
static json_t *
find_weighted(json_t *list, const char *field, const char *path, const struct set_arg *a)
{
	if (a->cfg->affinity != NULL && (a->r->kind == R_GATEWAY || a->r->kind == R_ISTIO))
		return rt_affinity_weighted(list, a->r->kind == R_ISTIO, a->primary, a->canary);
	return find_pair(list, field, path, a);
}

/* Session affinity rules around the weighted entry (router_affinity.c). */
static void
affinity(json_t *spec, const char *list, json_t *entry, const struct set_arg *a)
{
	if (a->cfg->affinity != NULL && (a->r->kind == R_GATEWAY || a->r->kind == R_ISTIO))
		rt_affinity_apply(json_object_get(spec, list), entry, a->r->kind == R_ISTIO,
		    a->cfg->affinity, a->w, a->primary, a->canary);
}

static void
set_pair(json_t *entry, const char *field, const char *path, const struct set_arg *a)
{
	json_t *b;
	size_t j;

	json_array_foreach(json_object_get(entry, field), j, b) {
		if (named(b, path, a->primary))
			json_object_set_new(b, "weight", weight_json(a->r, a->w->primary));
		else if (named(b, path, a->canary))
			json_object_set_new(b, "weight", weight_json(a->r, a->w->canary));
	}
}

/* Gateway API blue/green mirroring (reference §4.3: mirrored and
 * iterations > 0): a RequestMirror filter on the weighted rule. */
static void
gateway_mirror(json_t *rule, const struct set_arg *a)
{
	if (a->w->mirrored && a->cfg->iterations > 0)
		json_object_set_new(rule, "filters", json_pack("[{s:s, s:{s:{s:s, s:s, s:s, s:i}}}]",
		    "type", "RequestMirror", "requestMirror", "backendRef", "group", "", "kind",
		    "Service", "name", a->canary, "port", a->cfg->port));
	else
		json_object_del(rule, "filters");
}

static void
istio_mirror(json_t *route, const struct set_arg *a)
{
	if (a->w->mirrored) {
		json_object_set_new(route, "mirror", json_pack("{s:s}", "host", a->canary));
		if (a->cfg->mirror_weight > 0)
			json_object_set_new(route, "mirrorPercentage", json_pack("{s:i}", "value",
			    a->cfg->mirror_weight));
	} else {
		json_object_del(route, "mirror");
		json_object_del(route, "mirrorPercentage");
	}
}

/* SetRoutes: the routes rebuilt as perch wants them, with the new weights
 * (Flagger replaces them whole). */
static int
set_fn(json_t *obj, void *arg)
{
	struct set_arg *a = arg;
	json_t *spec = json_object_get(obj, "spec"), *entry, *fresh;
	const char *list = a->r->kind == R_SMI ? "backends" : a->r->kind == R_GATEWAY ? "rules" :
	    "http";

	if (!json_is_object(spec))
		return ST_CORRUPT;
	if (a->r->kind != R_SMI && a->r->kind != R_GATEWAY && a->r->kind != R_ISTIO)
		return ST_UNSUPPORTED;
	if (!(fresh = initial_spec(a->k, a->r, a->cfg, a->err)))
		return ST_INVALID;
	json_object_set(spec, list, json_object_get(fresh, list));
	json_decref(fresh);
	switch (a->r->kind) {
	case R_SMI:
		set_pair(spec, "backends", "service", a);
		break;
	case R_GATEWAY:
		if (!(entry = find_pair(json_object_get(spec, "rules"), "backendRefs", "name", a)))
			return ST_CORRUPT;
		set_pair(entry, "backendRefs", "name", a);
		gateway_mirror(entry, a);
		affinity(spec, list, entry, a);
		break;
	default:
		if (!(entry = find_pair(json_object_get(spec, "http"), "route", "destination.host", a)))
			return ST_CORRUPT;
		set_pair(entry, "route", "destination.host", a);
		istio_mirror(entry, a);
		affinity(spec, list, entry, a);
		break;
	}
	return ST_OK;
}

/* Provider kubernetes (no route object): the weights live in annotation
 * perch.dev/canary-weight of the `<svc>-canary` Service, so that a restart
 * (or another perch) reads what was set.  Absent: 0. */
#define NOP_WEIGHT "perch.dev/canary-weight"

static int
nop_set(struct k8s_cluster *k, const struct canary_cfg *cfg, int canary, char *err)
{
	json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "annotations", NOP_WEIGHT,
	    json_sprintf("%d", canary));
	struct k8s_err e;
	char name[300];
	int st;

	snprintf(name, sizeof name, "%s-canary", cfg->service);
	st = k8s_patch(k->c, K8S_RES(SERVICES), cfg->ns, name, K8S_PATCH_MERGE, patch, NULL, &e);
	json_decref(patch);
	return st == ST_OK ? ST_OK : errf(err, st, "setting weights on service %s.%s: %s", name,
	    cfg->ns, e.msg);
}

static int
nop_get(struct k8s_cluster *k, const struct canary_cfg *cfg, struct routes *out, char *err)
{
	struct k8s_err e;
	const char *v;
	char name[300];
	json_t *svc;
	int st;

	snprintf(name, sizeof name, "%s-canary", cfg->service);
	if ((st = k8s_get(k->c, K8S_RES(SERVICES), cfg->ns, name, &svc, &e)) != ST_OK)
		return errf(err, st, "service %s.%s: %s", name, cfg->ns, e.msg);
	v = json_string_value(json_object_get(jpath(svc, "metadata.annotations"), NOP_WEIGHT));
	out->canary = v ? atoi(v) : 0;
	out->canary = out->canary < 0 ? 0 : out->canary > 100 ? 100 : out->canary;
	out->primary = 100 - out->canary;
	json_decref(svc);
	return ST_OK;
}

#define NGINX_CANARY "nginx.ingress.kubernetes.io/canary"

/* NGINX SetRoutes (reference §4.5): the canary-* annotations rewritten.
 * Canary strategy: canary-weight.  A/B with weight > 0: canary-by-cookie
 * (header `cookie`) or canary-by-header/-value/-pattern from analysis.match;
 * weight 0: back to canary "true", canary-weight "0". */
static int
nginx_set_fn(json_t *obj, void *arg)
{
	struct set_arg *a = arg;
	const struct routing *g = routing_of(a->k, a->cfg);
	json_t *meta = json_object_get(obj, "metadata"), *ann, *m, *v, *old;
	const char *key, *h;
	size_t i;
	void *tmp;

	if (!json_is_object(meta))
		return ST_CORRUPT;
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	old = json_deep_copy(ann);
	json_object_foreach_safe(ann, tmp, key, v)
		if (strncmp(key, NGINX_CANARY, strlen(NGINX_CANARY)) == 0)
			json_object_del(ann, key);
	json_object_set_new(ann, NGINX_CANARY, json_string("true"));
	if (!rt_ab(g) || a->w->canary <= 0)
		json_object_set_new(ann, NGINX_CANARY "-weight", json_sprintf("%d",
		    rt_ab(g) ? 0 : a->w->canary));
	json_array_foreach(rt_ab(g) && a->w->canary > 0 ? g->match : NULL, i, m) {
		json_object_foreach(json_object_get(m, "headers"), h, v) {
			if (strcmp(h, "cookie") == 0) {
				if (json_is_string(json_object_get(v, "exact")))
					json_object_set(ann, NGINX_CANARY "-by-cookie", json_object_get(v, "exact"));
				continue;
			}
			json_object_set_new(ann, NGINX_CANARY "-by-header", json_string(h));
			if (json_is_string(json_object_get(v, "exact")))
				json_object_set(ann, NGINX_CANARY "-by-header-value", json_object_get(v, "exact"));
			if (json_is_string(json_object_get(v, "regex")))
				json_object_set(ann, NGINX_CANARY "-by-header-pattern", json_object_get(v, "regex"));
		}
	}
	i = json_equal(old, ann);
	json_decref(old);
	return i ? ST_AGAIN : ST_OK;
}

int
rt_set(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct routes *w, char *err)
{
	struct set_arg a;
	struct router r;
	struct k8s_err e;
	char name[300];
	int st;

	if ((st = set_arg_init(&a, &r, k, cfg, w, err)) != ST_OK)
		return st;
	switch (r.kind) {
	case R_NOP:
		return nop_set(k, cfg, w->canary, err);
	case R_NGINX:
		snprintf(name, sizeof name, "%s-canary", rt_ingress_name(k, cfg));
		st = k8s_modify(k->c, r.res, cfg->ns, name, nginx_set_fn, &a, NULL, &e);
		break;
	default:
		st = k8s_modify(k->c, r.res, cfg->ns, cfg->service, set_fn, &a, NULL, &e);
		if (st == ST_INVALID)
			return st;
		if (st == ST_CORRUPT)
			return errf(err, st, "%s %s.%s has no route with both %s and %s",
			    r.res->plural, cfg->service, cfg->ns, a.primary, a.canary);
		break;
	}
	return st == ST_OK ? ST_OK : errf(err, st, "setting weights on %s %s.%s: %s",
	    r.res->plural, cfg->service, cfg->ns, e.msg);
}

/* Gateway API: every parent in status must have accepted the current generation. */
static int
gateway_accepted(json_t *obj, const struct canary_cfg *cfg, char *err)
{
	json_int_t gen = json_integer_value(jpath(obj, "metadata.generation"));
	json_t *parent, *cond;
	size_t i, j;

	json_array_foreach(jpath(obj, "status.parents"), i, parent) {
		json_array_foreach(json_object_get(parent, "conditions"), j, cond) {
			if (!named(cond, "type", "Accepted"))
				continue;
			if (!named(cond, "status", "True") ||
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

static void
read_pair(json_t *entry, const char *field, const char *path, const struct set_arg *a,
    struct routes *out)
{
	json_t *b;
	size_t j;

	json_array_foreach(json_object_get(entry, field), j, b) {
		if (named(b, path, a->primary))
			out->primary = weight_of(json_object_get(b, "weight"));
		else if (named(b, path, a->canary))
			out->canary = weight_of(json_object_get(b, "weight"));
	}
}

/* A RequestMirror filter to the canary on a Gateway API rule. */
static bool
gateway_mirrored(json_t *rule, const struct set_arg *a)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(rule, "filters"), i, f)
		if (named(f, "type", "RequestMirror") &&
		    named(f, "requestMirror.backendRef.name", a->canary))
			return true;
	return false;
}

/* The live weights (and Istio mirror, and session affinity cookies)
 * carried into a desired spec, so that a reconcile reverts everything but
 * them (reference §4.7). */
static void
keep_weights(json_t *have, json_t *want, void *arg)
{
	struct set_arg *a = arg;
	struct routes w = { .primary = 100 };
	const char *list = a->r->kind == R_GATEWAY ? "rules" : "http";
	const char *field = a->r->kind == R_SMI ? "backends" : a->r->kind == R_GATEWAY ?
	    "backendRefs" : "route";
	const char *path = a->r->kind == R_SMI ? "service" : a->r->kind == R_GATEWAY ? "name" :
	    "destination.host";
	json_t *live = json_object_get(have, "spec"), *mine = want;
	const char *const mirror[] = { "mirror", "mirrorPercentage" };
	size_t i;

	if (a->r->kind != R_SMI) {
		live = find_weighted(json_object_get(live, list), field, path, a);
		mine = find_pair(json_object_get(want, list), field, path, a);
	}
	if (!live || !mine)
		return;
	read_pair(live, field, path, a, &w);
	if (w.primary == 0 && w.canary == 0)
		return;
	if (a->cfg->affinity != NULL && a->r->kind != R_SMI)
		rt_affinity_read(json_object_get(json_object_get(have, "spec"), list), live,
		    a->r->kind == R_ISTIO, a->primary, a->canary, &w);
	a->w = &w;
	set_pair(mine, field, path, a);
	for (i = 0; a->r->kind == R_ISTIO && i < 2; i++)
		if (json_object_get(live, mirror[i]))
			json_object_set(mine, mirror[i], json_object_get(live, mirror[i]));
	if (a->r->kind == R_GATEWAY && gateway_mirrored(live, a))
		json_object_set(mine, "filters", json_object_get(live, "filters"));
	affinity(want, list, mine, a);
	a->w = NULL;
}

/* Creates the route objects at 100/0, or reconciles them (every tick). */
int
rt_initialize(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	static const char *const kinds[] = { [R_SMI] = "TrafficSplit", [R_GATEWAY] = "HTTPRoute",
		[R_ISTIO] = "VirtualService" };
	struct set_arg a;
	struct router r;
	json_t *o, *spec;
	int st;

	if ((st = set_arg_init(&a, &r, k, cfg, NULL, err)) != ST_OK)
		return st;
	if (r.kind == R_NOP)
		return ST_OK;
	if (r.kind == R_NGINX)
		return nginx_init(k, cfg, err);
	if (r.kind == R_ISTIO && (st = istio_rules(k, cfg, err)) != ST_OK)
		return st;
	if (!(spec = initial_spec(k, &r, cfg, err)))
		return ST_INVALID;
	o = new_object(&r, kinds[r.kind], cfg->service, cfg->ns, spec);
	own(o, owner_of(k, cfg));
	st = ensure_object(k->c, r.res, cfg->ns, o, keep_weights, &a, err);
	json_decref(o);
	return st;
}

static int
read_routes(json_t *obj, const struct router *r, const struct set_arg *a, struct routes *out,
    char *err)
{
	json_t *spec = json_object_get(obj, "spec"), *entry = NULL, *ann;
	const char *cw;
	int st;

	switch (r->kind) {
	case R_SMI:
		entry = spec;
		read_pair(spec, "backends", "service", a, out);
		break;
	case R_GATEWAY:
		if ((st = gateway_accepted(obj, a->cfg, err)) != ST_OK)
			return st;
		if ((entry = find_weighted(json_object_get(spec, "rules"), "backendRefs", "name",
		    a))) {
			read_pair(entry, "backendRefs", "name", a, out);
			out->mirrored = gateway_mirrored(entry, a);
			if (a->cfg->affinity)
				rt_affinity_read(json_object_get(spec, "rules"), entry, false,
				    a->primary, a->canary, out);
		}
		break;
	case R_ISTIO:
		if ((entry = find_weighted(json_object_get(spec, "http"), "route", "destination.host",
		    a))) {
			read_pair(entry, "route", "destination.host", a, out);
			out->mirrored = jstr(entry, "mirror.host") && *jstr(entry, "mirror.host");
			if (a->cfg->affinity)
				rt_affinity_read(json_object_get(spec, "http"), entry, true,
				    a->primary, a->canary, out);
		}
		break;
	case R_NGINX:
		ann = jpath(obj, "metadata.annotations");
		cw = json_string_value(json_object_get(ann, NGINX_CANARY "-weight"));
		entry = obj;
		out->canary = cw ? atoi(cw) : 0;
		if (json_object_get(ann, NGINX_CANARY "-by-header") ||
		    json_object_get(ann, NGINX_CANARY "-by-cookie"))
			out->canary = 100;	/* A/B: the matching requests all go to the canary */
		out->primary = 100 - out->canary;
		break;
	default:
		break;
	}
	if (!entry)
		return errf(err, ST_CORRUPT, "%s %s.%s has no route with both %s and %s",
		    r->res->plural, a->cfg->service, a->cfg->ns, a->primary, a->canary);
	if (out->primary == 0 && out->canary == 0)
		return errf(err, ST_CORRUPT, "%s %s.%s: both weights are 0", r->res->plural,
		    a->cfg->service, a->cfg->ns);
	return ST_OK;
}

int
rt_get(struct k8s_cluster *k, const struct canary_cfg *cfg, struct routes *out, char *err)
{
	struct set_arg a;
	struct router r;
	struct k8s_err e;
	json_t *obj;
	char name[300];
	int st;

	memset(out, 0, sizeof *out);
	if ((st = set_arg_init(&a, &r, k, cfg, NULL, err)) != ST_OK)
		return st;
	if (r.kind == R_NOP)
		return nop_get(k, cfg, out, err);
	if (r.kind == R_NGINX)
		snprintf(name, sizeof name, "%s-canary", rt_ingress_name(k, cfg));
	else
		snprintf(name, sizeof name, "%s", cfg->service);
	if ((st = k8s_get(k->c, r.res, cfg->ns, name, &obj, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", r.res->plural, name, cfg->ns, e.msg);
	st = read_routes(obj, &r, &a, out, err);
	json_decref(obj);
	return st;
}

int
k8s_routes_from_object(const struct canary_cfg *cfg, json_t *obj, struct routes *out, char *err)
{
	struct set_arg a;
	struct router r;
	int st;

	memset(out, 0, sizeof *out);
	if ((st = set_arg_init(&a, &r, NULL, cfg, NULL, err)) != ST_OK)
		return st;
	if (r.kind == R_NOP)
		return errf(err, ST_UNSUPPORTED, "provider kubernetes has no route object");
	return read_routes(obj, &r, &a, out, err);
}

int
k8s_routes_to_object(const struct k8s_cluster *k, const struct canary_cfg *cfg, json_t *obj,
    const struct routes *w, char *err)
{
	struct set_arg a;
	struct router r;
	int st;

	if ((st = set_arg_init(&a, &r, k, cfg, w, err)) != ST_OK)
		return st;
	if (r.kind == R_NOP)
		return errf(err, ST_UNSUPPORTED, "provider kubernetes has no route object");
	st = r.kind == R_NGINX ? nginx_set_fn(obj, &a) : set_fn(obj, &a);
	if (st == ST_OK || st == ST_AGAIN || st == ST_INVALID)
		return st == ST_INVALID ? st : ST_OK;	/* ST_INVALID: err says why */
	return errf(err, st, "%s %s.%s has no route with both %s and %s", r.res->plural,
	    cfg->service, cfg->ns, a.primary, a.canary);
}
