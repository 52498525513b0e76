/*
 * services.c — the Services of a canary (reference §2.3, §4.1): `<svc>`
 * and `<svc>-primary` select the primary's pods, `<svc>-canary` the
 * target's, on spec.service.port (and targetPort).  Created when missing,
 * their selector and port brought back when changed; labels and
 * annotations of live Services are left alone.
 */
#include <stdio.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"

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
