/*
 * nginx.c — the NGINX canary Ingress (reference §4.5): `<ingress>-canary`,
 * a copy of spec.ingressRef (or the Ingress named like the apex service)
 * whose backend is renamed `<svc>-canary`, with NGINX's canary
 * annotations.  The weights live in those annotations: canary-weight, or
 * with A/B testing canary-by-cookie / canary-by-header(-value, -pattern)
 * from analysis.match while the canary has traffic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define NGINX_CANARY "nginx.ingress.kubernetes.io/canary"

/* The Ingress the canary Ingress copies: ingressRef, else the service's name. */
static const char *
ingress_name(const struct route_ctx *x)
{
	const struct routing *g = x->g;

	return g && g->ingress && *g->ingress ? g->ingress : x->cfg->service;
}

static void
nginx_object_name(const struct route_ctx *x, char *out, size_t n)
{
	snprintf(out, n, "%s-canary", ingress_name(x));
}

/* The source's annotations without the canary ones and kubectl's copy of
 * the last applied configuration, with canary "true" at weight 0. */
static json_t *
canary_annotations(json_t *ing)
{
	json_t *ann = json_object(), *v;
	const char *key;

	json_object_foreach(jpath(ing, "metadata.annotations"), key, v) {
		if (!strstr(key, "/canary") && strcmp(key, "kubectl.kubernetes.io/last-applied-configuration"))
			json_object_set(ann, key, v);
	}
	json_object_set_new(ann, NGINX_CANARY, json_string("true"));
	json_object_set_new(ann, NGINX_CANARY "-weight", json_string("0"));
	return ann;
}

/* The backends of the copy named like the apex service go to <svc>-canary. */
static bool
rename_backend(const struct route_ctx *x, json_t *canary)
{
	json_t *rule, *path;
	bool found = false;
	size_t i, j;

	json_array_foreach(jpath(canary, "spec.rules"), i, rule) {
		json_array_foreach(jpath(rule, "http.paths"), j, path) {
			if (jnamed(path, "backend.service.name", x->cfg->service)) {
				json_object_set_new(jpath(path, "backend.service"), "name",
				    json_string(x->canary));
				found = true;
			}
		}
	}
	return found;
}

static int
nginx_reconcile(struct route_ctx *x, char *err)
{
	const char *src = ingress_name(x);
	json_t *ing, *canary;
	char iname[300];
	struct k8s_err e;
	int st;

	if ((st = k8s_get(x->c, K8S_RES(INGRESSES), x->cfg->ns, src, &ing, &e)) != ST_OK)
		return errf(err, st, "ingress %s.%s: %s", src, x->cfg->ns, e.msg);
	nginx_object_name(x, iname, sizeof iname);
	canary = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "networking.k8s.io/v1",
	    "kind", "Ingress", "metadata", "name", iname, "namespace", x->cfg->ns, "spec",
	    json_deep_copy(json_object_get(ing, "spec")));
	st = rename_backend(x, canary);
	json_object_set_new(json_object_get(canary, "metadata"), "annotations",
	    canary_annotations(ing));
	own(canary, x->owner);
	st = st ? route_ensure(x, K8S_RES(INGRESSES), canary, false, err) :
	    errf(err, ST_INVALID, "backend %s not found in ingress %s", x->cfg->service, src);
	json_decref(canary);
	json_decref(ing);
	return st;
}

/* The header and cookie matches of analysis.match as annotations. */
static void
match_annotations(json_t *ann, json_t *match)
{
	json_t *m, *v;
	const char *h;
	size_t i;

	json_array_foreach(match, i, m) {
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
}

/* SetRoutes (reference §4.5): the canary-* annotations rewritten.  Canary
 * strategy: canary-weight.  A/B with weight > 0: the matches; weight 0:
 * back to canary "true", canary-weight "0". */
static int
nginx_write(struct route_ctx *x, json_t *obj)
{
	bool ab = rt_ab(x->g);
	json_t *meta = json_object_get(obj, "metadata"), *ann, *v, *old;
	const char *key;
	void *tmp;
	bool same;

	if (!json_is_object(meta))
		return ST_CORRUPT;
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	old = json_deep_copy(ann);
	json_object_foreach_safe(ann, tmp, key, v)
		if (strncmp(key, NGINX_CANARY, strlen(NGINX_CANARY)) == 0)
			json_object_del(ann, key);
	json_object_set_new(ann, NGINX_CANARY, json_string("true"));
	if (!ab || x->w->canary <= 0)
		json_object_set_new(ann, NGINX_CANARY "-weight", json_sprintf("%d",
		    ab ? 0 : x->w->canary));
	if (ab && x->w->canary > 0)
		match_annotations(ann, x->g->match);
	same = json_equal(old, ann);
	json_decref(old);
	return same ? ST_AGAIN : ST_OK;
}

static int
nginx_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	json_t *ann = jpath(obj, "metadata.annotations");
	const char *cw = json_string_value(json_object_get(ann, NGINX_CANARY "-weight"));

	(void)x;
	(void)err;
	out->canary = cw ? atoi(cw) : 0;
	if (json_object_get(ann, NGINX_CANARY "-by-header") ||
	    json_object_get(ann, NGINX_CANARY "-by-cookie"))
		out->canary = 100;	/* A/B: the matching requests all go to the canary */
	out->primary = 100 - out->canary;
	return ST_OK;
}

const struct router_ops nginx_router = {
	.name = "NGINX canary Ingress",
	.caps = RT_MATCH,
	.kind = "Ingress",
	.res = K8S_RES(INGRESSES),
	.object_name = nginx_object_name,
	.reconcile = nginx_reconcile,
	.write = nginx_write,
	.read = nginx_read,
	/* Flagger's Finalize: none (the canary Ingress is collected at its
	 * last weight); perch deletes it: the user's Ingress routes to the
	 * apex Service, the target's pods again. */
	.revert = route_revert_delete,
};
