/*
 * routers.h — the registry of traffic providers (spec.provider): every name
 * Flagger knows, and what perch can do with each: whether `perch run` has a
 * router for it (k8s/router.c), whether its routes can send requests to the
 * canary by a header or cookie match (A/B testing), and whether it can pin
 * clients with a session affinity cookie.  `perch validate` and the engine
 * read the same table, so a provider the run cannot drive is refused before
 * a release starts, not warned about at every tick.
 *
 * Pure data; any thread.
 */
#ifndef PERCH_ENGINE_ROUTERS_H
#define PERCH_ENGINE_ROUTERS_H

#include <stddef.h>

enum {
	RT_DRIVEN   = 1 << 0,	/* `perch run` has a router for it */
	RT_MATCH    = 1 << 1,	/* routes by header / cookie match (A/B testing) */
	RT_AFFINITY = 1 << 2,	/* session affinity cookies */
};

struct router_info {
	const char *name;	/* as spec.provider spells it */
	unsigned caps;		/* RT_* */
};

/* The entry of a provider; NULL or "" is Flagger's default, istio.  NULL
 * when the name is not a provider.  A versioned SMI name ("smi:v1alpha1",
 * also with a suffix as Flagger accepts it) finds its entry. */
const struct router_info *router_find(const char *provider);
/* Whether provider has every capability in caps (unknown names have none). */
int router_can(const char *provider, unsigned caps);
/* "gatewayapi, gatewayapi:v1, ..., smi:v1alpha3": the providers `perch
 * run` drives, for messages, cut to n bytes (ROUTER_NAMES_MAX suffices). */
#define ROUTER_NAMES_MAX 256
void router_driven_names(char *out, size_t n);

#endif
