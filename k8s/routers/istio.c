/*
 * istio.c — Istio (reference §4.4): DestinationRules `<svc>-primary` and
 * `<svc>-canary`, and a VirtualService `<svc>` on spec.service.hosts (the
 * service itself always among them) and gateways (default: mesh).  Its
 * http routes are shaped like the Gateway API rules (gatewayapi.c): the
 * weighted route, and with A/B testing a second one to the primary.
 * Mirroring is the weighted route's mirror (and mirrorPercentage with
 * analysis.mirrorWeight); session affinity adds its cookie routes
 * (affinity.c).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

static json_t *
istio_hosts(const struct route_ctx *x)
{
	const struct routing *g = x->g;
	json_t *hosts = g && g->hosts ? json_deep_copy(g->hosts) : json_array(), *h;
	bool have = false;
	size_t i;

	json_array_foreach(hosts, i, h)
		have = have || strcmp(json_string_value(h), x->cfg->service) == 0 ||
		    strcmp(json_string_value(h), "*") == 0;
	if (!have)
		json_array_append_new(hosts, json_string(x->cfg->service));
	return hosts;
}

static json_t *
istio_http(const struct route_ctx *x)
{
	json_t *http = json_array(), *route, *m;
	int i;

	for (i = 0; i < (rt_ab(x->g) ? 2 : 1); i++) {
		route = i == 0 ? json_pack("{s:[{s:{s:s}, s:i}, {s:{s:s}, s:i}]}", "route",
		    "destination", "host", x->primary, "weight", 100, "destination", "host", x->canary,
		    "weight", 0) : json_pack("{s:[{s:{s:s}, s:i}]}", "route", "destination", "host",
		    x->primary, "weight", 100);
		if ((m = rt_matches(x->g, i == 0, NULL)))
			json_object_set_new(route, "match", m);
		json_array_append_new(http, route);
	}
	return http;
}

static json_t *
istio_spec(const struct route_ctx *x, char *err)
{
	const struct routing *g = x->g;

	(void)err;
	return json_pack("{s:o, s:o, s:o}", "hosts", istio_hosts(x), "gateways",
	    g && g->gateways ? json_deep_copy(g->gateways) : json_pack("[s]", "mesh"), "http",
	    istio_http(x));
}

/* The DestinationRules, then the VirtualService. */
static int
istio_reconcile(struct route_ctx *x, char *err)
{
	const char *sfx[] = { "-primary", "-canary" };
	char name[300];
	json_t *o;
	int st, i;

	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof name, "%s%s", x->cfg->service, sfx[i]);
		o = route_object(x, K8S_RES(DESTINATIONRULES), "DestinationRule", name,
		    json_pack("{s:s}", "host", name));
		st = route_ensure(x, K8S_RES(DESTINATIONRULES), o, false, err);
		json_decref(o);
		if (st != ST_OK)
			return st;
	}
	return route_reconcile(x, err);
}

static void
istio_mirror(const struct route_ctx *x, json_t *route)
{
	if (x->w->mirrored) {
		json_object_set_new(route, "mirror", json_pack("{s:s}", "host", x->canary));
		if (x->cfg->mirror_weight > 0)
			json_object_set_new(route, "mirrorPercentage", json_pack("{s:i}", "value",
			    x->cfg->mirror_weight));
	} else {
		json_object_del(route, "mirror");
		json_object_del(route, "mirrorPercentage");
	}
}

static bool
istio_mirrored(const struct route_ctx *x, json_t *route)
{
	(void)x;
	return jstr(route, "mirror.host") && *jstr(route, "mirror.host");
}

static void
istio_keep_mirror(const struct route_ctx *x, json_t *live, json_t *mine)
{
	static const char *const fields[] = { "mirror", "mirrorPercentage" };
	size_t i;

	(void)x;
	for (i = 0; i < 2; i++)
		if (json_object_get(live, fields[i]))
			json_object_set(mine, fields[i], json_object_get(live, fields[i]));
}

static void
istio_keep(struct route_ctx *x, json_t *have, json_t *want)
{
	route_keep(x, have, want, istio_keep_mirror);
}

static int
istio_write(struct route_ctx *x, json_t *obj)
{
	return route_write(x, obj, istio_mirror);
}

static int
istio_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	(void)err;
	return route_read(x, obj, out, istio_mirrored);
}

/* Revert on deletion: the VirtualService perch took over gets back the
 * spec its kubectl.kubernetes.io/last-applied-configuration holds
 * (Flagger's Finalize); one perch made sends all traffic to the target
 * (Flagger leaves its last weights to garbage collection). */
static int
restore_fn(json_t *obj, void *arg)
{
	json_t *spec = arg;

	if (json_equal(json_object_get(obj, "spec"), spec))
		return ST_AGAIN;
	json_object_set(obj, "spec", spec);
	return ST_OK;
}

static int
istio_revert(struct route_ctx *x, char *err)
{
	const char *last = NULL;
	json_t *obj = NULL, *applied = NULL, *spec;
	struct k8s_err e;
	int st = k8s_get(x->c, x->ops->res, x->cfg->ns, x->cfg->service, &obj, &e);

	if (st == ST_OK)
		last = json_string_value(json_object_get(jpath(obj, "metadata.annotations"),
		    "kubectl.kubernetes.io/last-applied-configuration"));
	if (last != NULL)
		applied = json_loads(last, 0, NULL);
	json_decref(obj);
	if (!json_is_object(spec = json_object_get(applied, "spec"))) {
		json_decref(applied);
		return route_revert(x, err);
	}
	st = k8s_modify(x->c, x->ops->res, x->cfg->ns, x->cfg->service, restore_fn, spec, NULL, &e);
	json_decref(applied);
	if (st == ST_OK || st == ST_AGAIN || st == ST_NOTFOUND)
		return ST_OK;
	return errf(err, st, "restoring VirtualService %s.%s: %s", x->cfg->service, x->cfg->ns,
	    e.msg);
}

const struct router_ops istio_router = {
	.name = "Istio VirtualService",
	.caps = RT_MATCH | RT_AFFINITY | RT_MIRROR,
	.kind = "VirtualService",
	.res = K8S_RES(VIRTUALSERVICES),
	.shape = { "http", "route", "destination.host" },
	.affinity = &rt_affinity_istio,
	.reconcile = istio_reconcile,
	.initial_spec = istio_spec,
	.keep = istio_keep,
	.write = istio_write,
	.read = istio_read,
	.revert = istio_revert,
};
