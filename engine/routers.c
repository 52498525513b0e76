/* routers.c — the registry of traffic providers (see routers.h). */
#include <stdio.h>
#include <string.h>

#include "engine/routers.h"

/* Flagger's providers (reference §1.1, §4); the routers of k8s/router.c
 * are the RT_DRIVEN ones. */
static const struct router_info routers[] = {
	{ "apisix",             RT_MATCH },
	{ "appmesh",            RT_MATCH },
	{ "appmesh:v1beta2",    RT_MATCH },
	{ "contour",            RT_MATCH },
	{ "gatewayapi",         RT_DRIVEN | RT_MATCH | RT_AFFINITY },
	{ "gatewayapi:v1",      RT_DRIVEN | RT_MATCH | RT_AFFINITY },
	{ "gatewayapi:v1beta1", RT_DRIVEN | RT_MATCH | RT_AFFINITY },
	{ "gloo",               RT_MATCH },
	{ "istio",              RT_DRIVEN | RT_MATCH | RT_AFFINITY },
	{ "knative",            0 },
	{ "kubernetes",         RT_DRIVEN },
	{ "kuma",               0 },
	{ "linkerd",            RT_DRIVEN },
	{ "nginx",              RT_DRIVEN | RT_MATCH },
	{ "osm",                RT_DRIVEN },
	{ "skipper",            0 },
	{ "smi:v1alpha1",       RT_DRIVEN },
	{ "smi:v1alpha2",       RT_DRIVEN },
	{ "smi:v1alpha3",       RT_DRIVEN },
	{ "traefik",            0 },
};

const struct router_info *
router_find(const char *provider)
{
	size_t i;

	if (provider == NULL || provider[0] == '\0')
		provider = "istio";
	for (i = 0; i < sizeof routers / sizeof routers[0]; i++) {
		const char *n = routers[i].name;

		if (strcmp(provider, n) == 0 ||
		    (strncmp(n, "smi:", 4) == 0 && strncmp(provider, n, strlen(n)) == 0))
			return &routers[i];
	}
	return NULL;
}

int
router_can(const char *provider, unsigned caps)
{
	const struct router_info *r = router_find(provider);

	return r != NULL && (r->caps & caps) == caps;
}

void
router_driven_names(char *out, size_t n)
{
	size_t i, len = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < sizeof routers / sizeof routers[0]; i++) {
		if (!(routers[i].caps & RT_DRIVEN))
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, "%s%s",
		    len > 0 ? ", " : "", routers[i].name);
		if (len >= n)
			return;
	}
}
