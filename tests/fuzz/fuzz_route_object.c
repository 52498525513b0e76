/* fuzz_route_object.c — the Contour, Gloo, Traefik, Kuma and APISIX routers
 * on any route object as the API server could return it and any
 * analysis.match / service.match (JSON: {"object": ..., "match": ...,
 * "service": ..., "routeRef": "..."}): building the spec at 100/0 either
 * succeeds or says why; reading, writing and keeping the live weights never
 * crash; a write that succeeds is read back with the weights it wrote. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "k8s/cluster_int.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct router_ops *const routers[] = {
	&contour_router, &gloo_router, &traefik_router, &kuma_router, &apisix_router,
};

static void
one(const struct router_ops *ops, json_t *in, const struct routing *g)
{
	struct canary_cfg cfg = { .ns = (char *)"shop", .name = (char *)"web",
		.service = (char *)"web", .target = (char *)"web", .port = 80 };
	struct routes w = { .primary = 80, .canary = 20 }, r;
	json_t *obj = json_deep_copy(json_object_get(in, "object")), *spec;
	char err[ERRMSG_MAX] = "";
	struct route_ctx x;
	int st;

	route_ctx_init(&x, ops, NULL, &cfg, g, NULL, &w, err);
	if (ops->initial_spec != NULL) {
		spec = ops->initial_spec(&x, err);
		if (spec == NULL && err[0] == '\0')
			abort();
		if (spec != NULL && obj != NULL && ops->keep != NULL)
			ops->keep(&x, obj, spec);
		json_decref(spec);
	}
	if (obj == NULL)
		return;
	memset(&r, 0, sizeof r);
	(void)ops->read(&x, obj, &r, err);
	err[0] = '\0';
	st = ops->write(&x, obj);
	if (st == ST_INVALID && err[0] == '\0')
		abort();
	if (st == ST_OK || st == ST_AGAIN) {
		memset(&r, 0, sizeof r);
		if (ops->read(&x, obj, &r, err) != ST_OK || r.primary != 80)
			abort();
	}
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, 0, NULL);
	struct routing g;
	size_t i;

	if (!in)
		return 0;
	memset(&g, 0, sizeof g);
	g.match = json_is_array(json_object_get(in, "match")) ? json_object_get(in, "match") : NULL;
	g.service_match = json_is_array(json_object_get(in, "service")) ?
	    json_object_get(in, "service") : NULL;
	g.route = (char *)json_string_value(json_object_get(in, "routeRef"));
	for (i = 0; i < sizeof routers / sizeof routers[0]; i++)
		one(routers[i], in, &g);
	json_decref(in);
	return 0;
}
