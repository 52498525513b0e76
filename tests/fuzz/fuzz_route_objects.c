/* fuzz_route_objects.c — a route object as the cluster returns it (any
 * JSON) never crashes a router: for every router with a route object,
 * reading its weights succeeds or fails with a message, and so does
 * writing 70/30 into it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "engine/canary.h"
#include "k8s/cluster.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const char *provider, json_t *in)
{
	struct canary_cfg c;
	struct routes r, w = { .primary = 70, .canary = 30 };
	char err[ERRMSG_MAX];
	json_t *obj = json_deep_copy(in);
	int st;

	memset(&c, 0, sizeof c);
	c.ns = (char *)"test";
	c.name = c.target = c.service = (char *)"podinfo";
	c.provider = (char *)provider;
	c.port = 80;
	err[0] = '\0';
	st = k8s_routes_from_object(&c, obj, &r, err);
	if (st != ST_OK && err[0] == '\0')
		abort();
	err[0] = '\0';
	st = k8s_routes_to_object(NULL, &c, obj, &w, err);
	if (st != ST_OK && err[0] == '\0')
		abort();
	json_decref(obj);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const providers[] = { "linkerd", "osm", "smi:v1alpha3",
		"gatewayapi:v1", "istio", "nginx", "skipper", "appmesh", "appmesh:v1beta2",
		"knative" };
	json_t *in = json_loadb((const char *)data, size, 0, NULL);
	size_t i;

	if (!in)
		return 0;
	for (i = 0; i < sizeof providers / sizeof providers[0]; i++)
		one(providers[i], in);
	json_decref(in);
	return 0;
}
