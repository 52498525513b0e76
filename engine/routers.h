/*
 * routers.h — the provider registry: every traffic provider (spec.provider)
 * Flagger knows, in one X-macro list, with what perch can do with each.
 * This is the only place where provider names are written or compared:
 * spec/ (the schema's list of names, validation), engine/machine.c
 * (blue/green only), metrics/builtin.c (the observer of the built-in
 * queries) and k8s/ (which router drives it) all ask here, by capability,
 * never by name.  tests/lint_providers.sh fails on a provider name written
 * anywhere else in the code.
 *
 * A row:  X(ID, "name", match, caps, OBSERVER, router)
 *
 *   ID        PROV_<ID>, for code that must name one provider (the sim)
 *   "name"    as spec.provider spells it
 *   match     EXACT: the name itself; PREFIX: also the name followed by
 *             more (Flagger's "smi:v1alpha1:<mesh>"); ALIAS: the name
 *             itself, accepted by the engine but not offered by the schema
 *   caps      RT_* below: what its routes can do, what the Canary must give
 *   OBSERVER  the built-in queries of its metrics (OBSERVER_LIST, §3.1)
 *   router    the k8s/routers/ implementation that drives it on a cluster
 *             (the struct router_ops `<router>_router`), or none: not
 *             driven yet (perch validate and perch run refuse it)
 *
 * Adding a router: a row here (or a row's router changed from none), a
 * file under k8s/routers/ defining `<router>_router`, and the resource of
 * its route object in k8s/rest.h (K8S_RESOURCES).  docs/BACKENDS.md.
 *
 * Pure data and functions; any thread.
 */
#ifndef PERCH_ENGINE_ROUTERS_H
#define PERCH_ENGINE_ROUTERS_H

#include <stdbool.h>
#include <stddef.h>

enum {
	RT_DRIVEN      = 1 << 0,	/* `perch run` has a router for it (derived: router != none) */
	RT_MATCH       = 1 << 1,	/* routes by header / cookie match (A/B testing) */
	RT_AFFINITY    = 1 << 2,	/* session affinity cookies */
	RT_MIRROR      = 1 << 3,	/* mirrors requests to the canary (analysis.mirror) */
	RT_BLUEGREEN   = 1 << 4,	/* blue/green only: no route, no traffic shifting */
	RT_GATEWAYREFS = 1 << 5,	/* needs spec.service.gatewayRefs */
	RT_INGRESSREF  = 1 << 6,	/* needs spec.ingressRef */
	RT_ROUTEREF    = 1 << 7,	/* needs spec.routeRef */
	RT_KNATIVE     = 1 << 8,	/* routes a Knative Service: the target must be one */
	RT_OBS_PREFIX  = 1 << 9,	/* any name starting with it has its observer (§3.1) */
	RT_MESHNAME    = 1 << 10,	/* needs spec.service.meshName */
	RT_SVCTARGET   = 1 << 11,	/* `perch run` routes a plain Service target with it */
};

#define RT_GATEWAYAPI (RT_MATCH | RT_AFFINITY | RT_MIRROR | RT_GATEWAYREFS | RT_SVCTARGET)

/* Flagger's providers (reference §1.1, §4; flagger-routers-providers §1), in
 * the order of messages and of the schema's list. */
#define PROVIDER_LIST(X) \
	X(APISIX,             "apisix",             EXACT,  RT_ROUTEREF,               APISIX,  apisix) \
	X(APPMESH,            "appmesh",            EXACT,  RT_MATCH | RT_MESHNAME | RT_OBS_PREFIX, APPMESH, appmesh_v1beta1) \
	X(APPMESH_V1BETA2,    "appmesh:v1beta2",    PREFIX, RT_MATCH,                  APPMESH, appmesh_v1beta2) \
	X(CONTOUR,            "contour",            EXACT,  RT_MATCH,                  CONTOUR, contour) \
	X(GATEWAYAPI,         "gatewayapi",         ALIAS,  RT_GATEWAYAPI | RT_OBS_PREFIX, HTTP, gatewayapi_v1) \
	X(GATEWAYAPI_V1,      "gatewayapi:v1",      EXACT,  RT_GATEWAYAPI,             HTTP,    gatewayapi_v1) \
	X(GATEWAYAPI_V1BETA1, "gatewayapi:v1beta1", EXACT,  RT_GATEWAYAPI,             HTTP,    gatewayapi_v1beta1) \
	X(GLOO,               "gloo",               EXACT,  RT_MATCH | RT_OBS_PREFIX,  GLOO,    gloo) \
	X(ISTIO,              "istio",              EXACT,  RT_MATCH | RT_AFFINITY | RT_MIRROR, ISTIO, istio) \
	X(KNATIVE,            "knative",            EXACT,  RT_KNATIVE,                KNATIVE, knative) \
	X(KUBERNETES,         "kubernetes",         EXACT,  RT_BLUEGREEN | RT_SVCTARGET, HTTP,    kubernetes) \
	X(KUMA,               "kuma",               EXACT,  0,                         KUMA,    kuma) \
	X(LINKERD,            "linkerd",            EXACT,  0,                         LINKERD, smi_v1alpha1) \
	X(NGINX,              "nginx",              EXACT,  RT_MATCH | RT_INGRESSREF,  NGINX,   nginx) \
	X(OSM,                "osm",                EXACT,  0,                         OSM,     smi_v1alpha2) \
	X(SKIPPER,            "skipper",            EXACT,  RT_INGRESSREF,             SKIPPER, skipper) \
	X(SMI_V1ALPHA1,       "smi:v1alpha1",       PREFIX, 0,                         ISTIO,   smi_v1alpha1) \
	X(SMI_V1ALPHA2,       "smi:v1alpha2",       PREFIX, 0,                         ISTIO,   smi_v1alpha2) \
	X(SMI_V1ALPHA3,       "smi:v1alpha3",       PREFIX, 0,                         ISTIO,   smi_v1alpha3) \
	X(TRAEFIK,            "traefik",            EXACT,  0,                         TRAEFIK, traefik)

enum provider {
#define X(id, name, match, caps, obs, router) PROV_##id,
	PROVIDER_LIST(X)
#undef X
	PROV__COUNT
};

/* The observers (PromQL sets of the built-in metrics), in the order of
 * reference §3.2; their queries are in metrics/builtin.c. */
#define OBSERVER_LIST(X) \
	X(ISTIO,   "istio") \
	X(LINKERD, "linkerd") \
	X(NGINX,   "nginx") \
	X(HTTP,    "http") \
	X(CONTOUR, "contour") \
	X(GLOO,    "gloo") \
	X(TRAEFIK, "traefik") \
	X(KUMA,    "kuma") \
	X(APPMESH, "appmesh") \
	X(SKIPPER, "skipper") \
	X(OSM,     "osm") \
	X(APISIX,  "apisix") \
	X(KNATIVE, "knative")

enum observer {
#define X(id, text) OBS_##id,
	OBSERVER_LIST(X)
#undef X
	OBS__COUNT
};

struct router_info {
	enum provider id;
	const char *name;	/* as spec.provider spells it */
	unsigned caps;		/* RT_* as listed (router_caps adds RT_DRIVEN) */
	enum observer observer;
	const char *router;	/* the k8s/routers/ implementation, "none" when not driven */
};

/* The entry of a provider; NULL or "" is Flagger's default, istio.  NULL
 * when the name is not a provider.  A versioned SMI name ("smi:v1alpha1",
 * also with a suffix as Flagger accepts it) finds its entry. */
const struct router_info *router_find(const char *provider);
/* The entry of the longest provider name that begins `provider` (for the
 * checks Flagger makes by prefix, "gatewayapi..."), or NULL. */
const struct router_info *router_find_prefix(const char *provider);
/* The entry of a provider by its id (PROV_*). */
const struct router_info *router_by_id(enum provider id);
const char *provider_name(enum provider id);
/* r's capabilities, RT_DRIVEN included when it has a router. */
unsigned router_caps(const struct router_info *r);
/* Whether provider has every capability in caps (unknown names have none). */
int router_can(const char *provider, unsigned caps);
/* "gatewayapi, gatewayapi:v1, ..., smi:v1alpha3": the providers `perch
 * run` drives, for messages, cut to n bytes (ROUTER_NAMES_MAX suffices). */
#define ROUTER_NAMES_MAX 256
void router_driven_names(char *out, size_t n);
/* Likewise the providers that have every capability in caps. */
void router_names_can(unsigned caps, char *out, size_t n);
/* The names a Canary may write in spec.provider (not the aliases), in
 * list order, NULL-ended: the schema's enumeration (spec/load.c). */
extern const char *const router_schema_names[];

/* Reference §3.1: the observer for spec.provider (NULL or "" = istio) and
 * spec.targetRef.kind (NULL = Deployment): a Service target (not Knative)
 * keeps only the observers matched by prefix; anything else is istio's. */
enum observer provider_observer(const char *provider, const char *target_kind);
const char *observer_name(enum observer o);

#endif
