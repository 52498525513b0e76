/*
 * router.h — the traffic routers of the k8s cluster backend (reference §4),
 * one file each under k8s/routers/, behind struct router_ops:
 *
 *   smi.c         SMI TrafficSplit v1alpha1-3 (linkerd, osm, smi:*)
 *   gatewayapi.c  Gateway API HTTPRoute v1 and v1beta1
 *   istio.c       Istio VirtualService + DestinationRules
 *   nginx.c       the NGINX canary Ingress
 *   skipper.c     the Skipper canary Ingress
 *   appmesh.c     AWS App Mesh v1beta2 and v1beta1 (VirtualNodes, VirtualRouters,
 *                 VirtualServices)
 *   knative.c     the traffic of the target Knative Service
 *   kubernetes.c  blue/green without traffic shifting: no route object,
 *                 the weights kept in an annotation of the canary Service
 *   contour.c     Contour HTTPProxy
 *   gloo.c        Gloo Edge Upstreams + RouteTable
 *   traefik.c     TraefikService
 *   kuma.c        Kuma TrafficRoute (cluster-scoped)
 *   apisix.c      the APISIX canary ApisixRoute copied from spec.routeRef
 *
 * and what they share: route.c (the route object's life: created at
 * 100/0, reconciled every tick keeping the live weights, read back, a
 * weighted route list's backends), match.c (request matches, A/B testing)
 * and affinity.c (session affinity cookies).
 *
 * Which router drives a provider is the provider registry's
 * (engine/routers.h: a row names `<router>_router`); k8s/router.c looks it
 * up and calls the ops.  The route object is read back on every get: it is
 * the source of truth for the current weights, as in Flagger.  Writes are
 * read-modify-write with conflict retries (k8s_modify).  Adding a router:
 * a file here defining `const struct router_ops <name>_router` (with its
 * revert on deletion), its row in the registry, its route object's
 * resource in k8s/rest.h.
 *
 * Not for use outside k8s/.  Threads: the engine thread (the ops take the
 * client of the cluster, which is safe to share).
 */
#ifndef PERCH_K8S_ROUTERS_ROUTER_H
#define PERCH_K8S_ROUTERS_ROUTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/providers.h"
#include "engine/routers.h"
#include "k8s/kjson.h"
#include "k8s/rest.h"

/* What the routers need beyond struct canary_cfg, from the Canary spec (a
 * copy of struct k8s_routing, k8s/cluster.h, for one canary). */
struct routing {
	char key[200];			/* ns/name */
	json_t *parent_refs;
	json_t *hosts, *gateways;	/* arrays of strings, or NULL */
	char *ingress;
	json_t *target_port;		/* integer or string, or NULL */
	json_t *match;			/* analysis.match (A/B), or NULL */
	json_t *service_match;		/* service.match, or NULL */
	char *route;			/* routeRef name, or NULL */
	char *upstream, *upstream_ns;	/* upstreamRef name and namespace, or NULL */
	json_t *annotations;		/* the Canary's annotations, or NULL */
	json_t *apex;			/* service.apex {labels, annotations}, or NULL */
	char *port_name, *mesh_name;	/* service.portName, service.meshName, or NULL */
	json_t *backends;		/* service.backends, or NULL */
	char *timeout;			/* service.timeout, or NULL */
	long long timeout_ms;		/* it in ms, 0: none or not a duration */
	json_t *retries;		/* service.retries, or NULL */
	long long per_try_ms;		/* retries.perTryTimeout in ms, or 0 */
};

/* A weighted route list: where a route object keeps its backends. */
struct route_shape {
	const char *list;	/* the spec's route list ("rules", "http"); NULL: the spec is one route */
	const char *field;	/* a route's backends ("backendRefs", "route"; SMI "backends") */
	const char *path;	/* a backend's Service name, a dot path ("name", "destination.host") */
};

struct rt_affinity_flavor;
struct router_ops;

/* One call of a router for one canary. */
struct route_ctx {
	struct k8s_client *c;		/* NULL for the pure object functions */
	const struct router_ops *ops;
	const struct canary_cfg *cfg;
	const struct routing *g;	/* the canary's routing, or NULL */
	json_t *owner;			/* ownerReferences of the objects written, or NULL */
	const struct routes *w;		/* the routes being written, or NULL */
	char primary[300], canary[300];	/* <svc>-primary, <svc>-canary */
	char *err;			/* ERRMSG_MAX: write's reason for ST_INVALID */
};

struct router_ops {
	const char *name;		/* "Istio VirtualService": what it writes, for messages */
	/* What it implements of RT_MATCH, RT_AFFINITY, RT_MIRROR; the registry
	 * row naming it says the same (tests/unit/test_routers.c). */
	unsigned caps;
	/* The route object: its kind and resource; kind NULL: none (the
	 * router keeps its routes elsewhere: set and get below). */
	const char *kind;
	const struct k8s_res *res;
	struct route_shape shape;	/* for route.c's helpers */
	/* Session affinity rules on its route list (affinity.c), or NULL. */
	const struct rt_affinity_flavor *affinity;
	/* A weight as the route object writes it; NULL: an integer. */
	json_t *(*weight)(int w);
	/* The route object's name into out (n bytes); NULL: the apex service. */
	void (*object_name)(const struct route_ctx *x, char *out, size_t n);
	/* Creates the route objects at 100/0, or brings them back to what
	 * perch wants, the live weights kept (reference §4.7): on
	 * initialization and every tick.  NULL: nothing to create. */
	int (*reconcile)(struct route_ctx *x, char *err);
	/* The route object's spec at 100/0 (a new reference), or NULL with
	 * err set when the Canary's matches cannot be expressed. */
	json_t *(*initial_spec)(const struct route_ctx *x, char *err);
	/* What a reconcile keeps of the live object `have` in the desired
	 * spec `want`: the weights, the mirror, the affinity cookies.  NULL:
	 * nothing. */
	void (*keep)(struct route_ctx *x, json_t *have, json_t *want);
	/* Writes the routes x->w into obj (a route object as the API returns
	 * it) in place: ST_OK (to be written), ST_AGAIN (nothing changed),
	 * ST_CORRUPT (no route holds both backends), ST_INVALID (x->err). */
	int (*write)(struct route_ctx *x, json_t *obj);
	/* Reads the routes of obj into out (zeroed by the caller): ST_OK,
	 * ST_CORRUPT (no route holds both backends), or another error with
	 * err filled. */
	int (*read)(const struct route_ctx *x, json_t *obj, struct routes *out, char *err);
	/* spec.revertOnDeletion (reference §2.10, routers-providers §2.11):
	 * what the router leaves when the Canary is deleted, x->w all traffic
	 * on the target (0/100).  Every router names one (route_revert,
	 * route_revert_delete, route_revert_none, or its own). */
	int (*revert)(struct route_ctx *x, char *err);
	/* Without a route object (kind NULL): set and read the routes. */
	int (*set)(struct route_ctx *x, char *err);
	int (*get)(struct route_ctx *x, struct routes *out, char *err);
};

/* The routers (one file each under k8s/routers/), as the registry names them. */
#define X(id, name, match, caps, obs, router) extern const struct router_ops router##_router;
PROVIDER_LIST(X)
#undef X
/* What a row without a router names ("none": validation refuses it). */
extern const struct router_ops none_router;

/* ---- route.c: the life of a route object ------------------------------- */

/* Fills x for cfg (the Service names its routes point at). */
void route_ctx_init(struct route_ctx *x, const struct router_ops *ops, struct k8s_client *c,
    const struct canary_cfg *cfg, const struct routing *g, json_t *owner,
    const struct routes *w, char *err);
/* The route object's name (ops->object_name, else the apex service). */
void route_object_name(const struct route_ctx *x, char *out, size_t n);
/* A new object {apiVersion of res, kind, metadata {name, namespace}, spec}
 * (spec is stolen), owned by x->owner. */
json_t *route_object(const struct route_ctx *x, const struct k8s_res *res, const char *kind,
    const char *name, json_t *spec);
/* Sets obj's labels and annotations from spec.service.apex, with the two
 * annotations that keep Flux from reverting the object (reference §0.2). */
void route_apex_meta(const struct route_ctx *x, json_t *obj);
/* Creates obj, or brings the live object's spec back to obj's, keeping
 * what x->ops->keep keeps when `keep` (reference §4.7).  Labels and
 * annotations of the live object are left alone. */
int  route_ensure(struct route_ctx *x, const struct k8s_res *res, json_t *obj, bool keep,
    char *err);
/* A comma-separated list ("5xx,gateway-error", a retryOn) as an array of
 * its non-empty items (a new reference). */
json_t *route_split(const char *s);
/* The reconcile of a router whose route object is its initial spec. */
int  route_reconcile(struct route_ctx *x, char *err);

/* k8s_modify's mutation (arg: a struct route_write_arg): the router's
 * write of x->w, its status kept in st. */
struct route_write_arg {
	struct route_ctx *x;
	int st;
};
int  route_write_fn(json_t *obj, void *arg);

/* Reverts on deletion (router_ops.revert).  route_revert: the route
 * objects write x->w (all traffic on the target, no mirror) as a weight
 * change writes it, where Flagger's Finalize does nothing and leaves the
 * last weights to garbage collection; a missing object is fine.
 * route_revert_delete: the route object is deleted (the user's own
 * object, which perch only copied, routes to the apex Service again).
 * route_revert_none: nothing to give back. */
int  route_revert(struct route_ctx *x, char *err);
int  route_revert_delete(struct route_ctx *x, char *err);
int  route_revert_none(struct route_ctx *x, char *err);

/* Weights in a route list (x->ops->shape). */
json_t *route_weight(const struct route_ctx *x, int w);
int  route_weight_of(json_t *v);
/* The route of the list holding both backends, or NULL. */
json_t *route_find_pair(const struct route_ctx *x, json_t *list);
/* The route with the weights: with session affinity the one whose backends
 * carry the Set-Cookie headers, else the last with both backends (the
 * sticky rules come first); without it the first with both. */
json_t *route_find_weighted(const struct route_ctx *x, json_t *list);
void route_set_pair(const struct route_ctx *x, json_t *route);
void route_read_pair(const struct route_ctx *x, json_t *route, struct routes *out);
/* Session affinity rules around the weighted route, for x->w. */
void route_affinity(const struct route_ctx *x, json_t *spec, json_t *route);

/* A weighted route list's write, keep and read, shared by the list
 * routers.  The mirror hooks (may be NULL) are the router's: write
 * x->w->mirrored on the weighted route; keep the live route's mirror in
 * mine; say whether a route mirrors. */
int  route_write(struct route_ctx *x, json_t *obj,
    void (*mirror)(const struct route_ctx *x, json_t *route));
void route_keep(struct route_ctx *x, json_t *have, json_t *want,
    void (*keep_mirror)(const struct route_ctx *x, json_t *live, json_t *mine));
int  route_read(const struct route_ctx *x, json_t *obj, struct routes *out,
    bool (*mirrored)(const struct route_ctx *x, json_t *route));

/* A router whose route object's spec is a function of the two weights,
 * build(x, primary, canary, err) (NULL with err set when the Canary cannot
 * be expressed): its write rebuilds the spec with x->w, its keep rebuilds
 * the desired spec with the live weights (read by x->ops->read). */
typedef json_t *route_build_fn(const struct route_ctx *x, int primary, int canary, char *err);
int  route_write_built(struct route_ctx *x, json_t *obj, route_build_fn *build);
void route_keep_built(struct route_ctx *x, json_t *have, json_t *want, route_build_fn *build);

/* ---- match.c: request matches (reference §4.3-§4.5) --------------------- */

/* A/B testing: analysis.match given. */
bool rt_ab(const struct routing *g);
/* The matches of the weighted route (Istio form; a new reference): with `ab`,
 * analysis.match × service.match; else service.match; dflt (borrowed) when
 * there is no service.match; NULL when there is nothing. */
json_t *rt_matches(const struct routing *g, bool ab, json_t *dflt);
/* Istio HTTPMatchRequests as Gateway API HTTPRouteMatches (*out: a new reference). */
int  rt_gateway_matches(json_t *istio, json_t **out, char *err);

/* ---- affinity.c: session affinity cookies ------------------------------- */

/* The two shapes of route lists that carry cookies. */
extern const struct rt_affinity_flavor rt_affinity_gateway;	/* HTTPRoute rules */
extern const struct rt_affinity_flavor rt_affinity_istio;	/* VirtualService http routes */
/* Adds the sticky rules to `list` and the Set-Cookie headers to the weighted
 * entry (borrowed, in list) for the routes w and their cookies. */
void rt_affinity_apply(json_t *list, json_t *weighted, const struct rt_affinity_flavor *f,
    const struct affinity_cfg *a, const struct routes *w, const char *primary,
    const char *canary);
/* The weighted entry of a list built by rt_affinity_apply (borrowed), or NULL. */
json_t *rt_affinity_weighted(json_t *list, const struct rt_affinity_flavor *f,
    const char *primary, const char *canary);
/* The cookies of such a list into out->cookie, primary_cookie, previous_cookie. */
void rt_affinity_read(json_t *list, json_t *weighted, const struct rt_affinity_flavor *f,
    const char *primary, const char *canary, struct routes *out);

#endif
