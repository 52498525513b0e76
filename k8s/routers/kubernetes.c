/*
 * kubernetes.c — provider kubernetes (reference §1.1): blue/green without
 * a route object.  The apex service always selects the primary, so
 * nothing routes by weight; the weights perch sets live in annotation
 * perch.dev/canary-weight of the `<svc>-canary` Service, so that a restart
 * (or another perch) reads what was set.  Absent: 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define WEIGHT_ANNOTATION "perch.dev/canary-weight"

static int
kubernetes_set(struct route_ctx *x, char *err)
{
	json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "annotations", WEIGHT_ANNOTATION,
	    json_sprintf("%d", x->w->canary));
	struct k8s_err e;
	int st;

	st = k8s_patch(x->c, K8S_RES(SERVICES), x->cfg->ns, x->canary, K8S_PATCH_MERGE, patch,
	    NULL, &e);
	json_decref(patch);
	return st == ST_OK ? ST_OK : errf(err, st, "setting weights on service %s.%s: %s",
	    x->canary, x->cfg->ns, e.msg);
}

static int
kubernetes_get(struct route_ctx *x, struct routes *out, char *err)
{
	struct k8s_err e;
	const char *v;
	json_t *svc;
	int st;

	if ((st = k8s_get(x->c, K8S_RES(SERVICES), x->cfg->ns, x->canary, &svc, &e)) != ST_OK)
		return errf(err, st, "service %s.%s: %s", x->canary, x->cfg->ns, e.msg);
	v = json_string_value(json_object_get(jpath(svc, "metadata.annotations"),
	    WEIGHT_ANNOTATION));
	out->canary = v ? atoi(v) : 0;
	out->canary = out->canary < 0 ? 0 : out->canary > 100 ? 100 : out->canary;
	out->primary = 100 - out->canary;
	json_decref(svc);
	return ST_OK;
}

const struct router_ops kubernetes_router = {
	.name = "Kubernetes blue/green",
	.set = kubernetes_set,
	.get = kubernetes_get,
	/* No route object (Flagger's NopRouter): the apex Service, given back
	 * to the target's pods (k8s/finalize.c), is all there is. */
	.revert = route_revert_none,
};
