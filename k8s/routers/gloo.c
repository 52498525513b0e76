/*
 * gloo.c — Gloo Edge (reference routers §2.2): two Upstreams
 * `<ns>-<svc>-primaryupstream-<port>` and `<ns>-<svc>-canaryupstream-<port>`
 * on the Services `<svc>-primary` and `<svc>-canary` (their selectors
 * copied; with spec.upstreamRef, that Upstream's settings and labels
 * copied too, and a setting dropped from it dropped from them), and
 * a RouteTable `<svc>` whose first route sends to both with their weights;
 * the user's VirtualService delegates to it.  Labels and annotations of the
 * RouteTable from service.apex.
 *
 * A/B testing: the first route has one matcher per analysis.match element
 * (headers: exact, regex; prefix and suffix as a regex; methods), and a
 * second route sends the rest to the primary.  Flagger puts every header
 * and method of every element in one matcher (an AND of the elements),
 * turns prefix and suffix matches into an empty exact value, and has no
 * second route, so requests that do not match find no route in the table;
 * perch does as said above.  No mirroring, no session affinity (refused by
 * validation).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

/* Settings of spec.upstreamRef copied into the generated Upstreams. */
static const char *const copied[] = { "sslConfig", "circuitBreakers", "connectionConfig",
	"loadBalancerConfig", "useHttp2", "initialStreamWindowSize",
	"initialConnectionWindowSize", "httpProxyHostName" };

static void
upstream_name(const struct route_ctx *x, const char *which, char *out, size_t n)
{
	snprintf(out, n, "%s-%s-%supstream-%d", x->cfg->ns, x->cfg->service, which, x->cfg->port);
}

static json_t *
gloo_destination(const struct route_ctx *x, const char *which, int w)
{
	char name[700];

	upstream_name(x, which, name, sizeof name);
	return json_pack("{s:{s:{s:s, s:s}}, s:i}", "destination", "upstream", "name", name,
	    "namespace", x->cfg->ns, "weight", w);
}

static json_t *
gloo_route(const struct route_ctx *x, json_t *matchers, int p, int c)
{
	json_t *r = json_pack("{s:b, s:{s:{s:[o, o]}}}", "inheritablePathMatchers", 1,
	    "routeAction", "multi", "destinations", gloo_destination(x, "primary", p),
	    gloo_destination(x, "canary", c));

	if (matchers != NULL)
		json_object_set_new(r, "matchers", matchers);
	return r;
}

/* A header value as a regular expression matching it literally. */
static json_t *
quoted(const char *pre, const char *v, const char *post)
{
	char out[1100];
	size_t n = 0;

	n += (size_t)snprintf(out, sizeof out, "%s", pre);
	for (; *v && n < sizeof out - 8; v++) {
		if (strchr("\\^$.|?*+()[]{}", *v))
			out[n++] = '\\';
		out[n++] = *v;
	}
	snprintf(out + n, sizeof out - n, "%s", post);
	return json_string(out);
}

/* One header matcher from an Istio StringMatch. */
static json_t *
gloo_header(const char *h, json_t *v)
{
	const char *s;

	if ((s = jstr(v, "exact")))
		return json_pack("{s:s, s:s}", "name", h, "value", s);
	if ((s = jstr(v, "regex")))
		return json_pack("{s:s, s:s, s:b}", "name", h, "value", s, "regex", 1);
	if ((s = jstr(v, "prefix")))
		return json_pack("{s:s, s:o, s:b}", "name", h, "value", quoted("^", s, ".*"), "regex", 1);
	if ((s = jstr(v, "suffix")))
		return json_pack("{s:s, s:o, s:b}", "name", h, "value", quoted(".*", s, "$"), "regex", 1);
	return json_pack("{s:s}", "name", h);
}

static json_t *
gloo_matchers(const struct route_ctx *x)
{
	json_t *out = json_array(), *m, *v, *one, *hs;
	const char *h;
	size_t i;

	json_array_foreach(x->g->match, i, m) {
		one = json_object();
		hs = json_array();
		json_object_foreach(json_object_get(m, "headers"), h, v) {
			json_array_append_new(hs, gloo_header(h, v));
		}
		if (json_array_size(hs) > 0)
			json_object_set(one, "headers", hs);
		json_decref(hs);
		if (jstr(m, "method.exact"))
			json_object_set_new(one, "methods", json_pack("[s]", jstr(m, "method.exact")));
		json_array_append_new(out, one);
	}
	return out;
}

static json_t *
gloo_build(const struct route_ctx *x, int p, int c, char *err)
{
	json_t *routes;

	(void)err;
	if (!rt_ab(x->g))
		return json_pack("{s:[o]}", "routes", gloo_route(x, NULL, p, c));
	routes = json_pack("[o, o]", gloo_route(x, gloo_matchers(x), p, c),
	    gloo_route(x, NULL, 100, 0));
	return json_pack("{s:o}", "routes", routes);
}

static json_t *
gloo_spec(const struct route_ctx *x, char *err)
{
	return gloo_build(x, 100, 0, err);
}

/* An existing Upstream brought to the wanted one (arg): its spec when it
 * lacks something wanted, and every copied setting that upstreamRef no
 * longer has removed (a subset test alone would keep a dropped sslConfig
 * for ever); upstreamRef's labels merged into its own.  ST_AGAIN when it is
 * already right. */
static int
upstream_fn(json_t *obj, void *arg)
{
	json_t *want = arg, *spec = json_object_get(want, "spec");
	json_t *have = json_object_get(obj, "spec"), *labels = jpath(want, "metadata.labels");
	bool changed = !json_subset(spec, have);
	size_t i;

	for (i = 0; i < sizeof copied / sizeof copied[0]; i++)
		changed |= json_object_get(have, copied[i]) != NULL &&
		    json_object_get(spec, copied[i]) == NULL;
	if (json_is_object(labels) && !json_subset(labels, jpath(obj, "metadata.labels"))) {
		json_t *meta = json_object_get(obj, "metadata");

		if (!json_is_object(json_object_get(meta, "labels")))
			json_object_set_new(meta, "labels", json_object());
		json_object_update(json_object_get(meta, "labels"), labels);
		changed = true;
	}
	if (!changed)
		return ST_AGAIN;
	json_object_set_new(obj, "spec", json_deep_copy(spec));
	return ST_OK;
}

/* The Upstream of `which` (primary, canary) on its Service, with the
 * settings of the reference Upstream ref (or NULL). */
static int
gloo_upstream(struct route_ctx *x, const char *which, json_t *ref, char *err)
{
	char svc[400], name[700];
	json_t *s, *o, *spec;
	struct k8s_err e;
	size_t i;
	int st;

	snprintf(svc, sizeof svc, "%s-%s", x->cfg->service, which);
	if ((st = k8s_get(x->c, K8S_RES(SERVICES), x->cfg->ns, svc, &s, &e)) != ST_OK)
		return errf(err, st, "service %s.%s get query error: %s", svc, x->cfg->ns, e.msg);
	spec = json_pack("{s:{s:s, s:s, s:i}}", "kube", "serviceName", svc, "serviceNamespace",
	    x->cfg->ns, "servicePort", x->cfg->port);
	if (json_is_object(jpath(s, "spec.selector")))
		json_object_set(json_object_get(spec, "kube"), "selector", jpath(s, "spec.selector"));
	json_decref(s);
	for (i = 0; ref != NULL && i < sizeof copied / sizeof copied[0]; i++)
		if (jpath(ref, "spec") && json_object_get(jpath(ref, "spec"), copied[i]))
			json_object_set(spec, copied[i], json_object_get(jpath(ref, "spec"), copied[i]));
	upstream_name(x, which, name, sizeof name);
	o = route_object(x, K8S_RES(GLOO_UPSTREAMS), "Upstream", name, spec);
	if (ref != NULL && json_is_object(jpath(ref, "metadata.labels")))
		json_object_set(json_object_get(o, "metadata"), "labels", jpath(ref, "metadata.labels"));
	st = k8s_modify(x->c, K8S_RES(GLOO_UPSTREAMS), x->cfg->ns, name, upstream_fn, o, NULL, &e);
	if (st == ST_NOTFOUND)
		st = k8s_create(x->c, K8S_RES(GLOO_UPSTREAMS), x->cfg->ns, o, NULL, &e);
	json_decref(o);
	if (st != ST_OK && st != ST_AGAIN)
		return errf(err, st, "upstream %s.%s: %s", name, x->cfg->ns, e.msg);
	return ST_OK;
}

/* spec.upstreamRef's Upstream into *ref (NULL without one). */
static int
gloo_ref(struct route_ctx *x, json_t **ref, char *err)
{
	const struct routing *g = x->g;
	const char *ns = g && g->upstream_ns ? g->upstream_ns : x->cfg->ns;
	struct k8s_err e;
	int st;

	*ref = NULL;
	if (g == NULL || g->upstream == NULL)
		return ST_OK;
	if ((st = k8s_get(x->c, K8S_RES(GLOO_UPSTREAMS), ns, g->upstream, ref, &e)) != ST_OK)
		return errf(err, st, "config upstream %s.%s get query error: %s", g->upstream, ns,
		    e.msg);
	return ST_OK;
}

/* The Upstreams (primary first), then the RouteTable. */
static int
gloo_reconcile(struct route_ctx *x, char *err)
{
	json_t *ref, *o;
	int st;

	if ((st = gloo_ref(x, &ref, err)) != ST_OK)
		return st;
	st = gloo_upstream(x, "primary", ref, err);
	if (st == ST_OK)
		st = gloo_upstream(x, "canary", ref, err);
	json_decref(ref);
	if (st != ST_OK)
		return st;
	o = route_object(x, x->ops->res, x->ops->kind, x->cfg->service, gloo_spec(x, err));
	route_apex_meta(x, o);
	st = route_ensure(x, x->ops->res, o, true, err);
	json_decref(o);
	return st;
}

static void
gloo_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep_built(x, have, want, gloo_build);
}

static int
gloo_write(struct route_ctx *x, json_t *obj)
{
	return route_write_built(x, obj, gloo_build);
}

/* The first route's destination to the primary upstream (a missing weight
 * is 0); the canary has the rest, as Flagger reads it. */
static int
gloo_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	json_t *d, *dests = jpath(json_array_get(jpath(obj, "spec.routes"), 0),
	    "routeAction.multi.destinations");
	char name[700];
	size_t i;

	upstream_name(x, "primary", name, sizeof name);
	if (json_array_size(dests) < 2)
		return errf(err, ST_CORRUPT, "RouteTable %s.%s destinations not found",
		    x->cfg->service, x->cfg->ns);
	json_array_foreach(dests, i, d) {
		if (jnamed(d, "destination.upstream.name", name)) {
			out->primary = route_weight_of(json_object_get(d, "weight"));
			out->canary = 100 - out->primary;
			return ST_OK;
		}
	}
	return ST_CORRUPT;
}

const struct router_ops gloo_router = {
	.name = "Gloo RouteTable",
	.caps = RT_MATCH,
	.kind = "RouteTable",
	.res = K8S_RES(ROUTETABLES),
	.shape = { "routes", "destinations", "destination.upstream.name" },
	.reconcile = gloo_reconcile,
	.initial_spec = gloo_spec,
	.keep = gloo_keep,
	.write = gloo_write,
	.read = gloo_read,
	/* Flagger's Finalize: none; perch gives all traffic to the target. */
	.revert = route_revert,
};
