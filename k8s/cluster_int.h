/*
 * cluster_int.h — what the files of the k8s cluster backend share
 * (cluster.c, workload.c, router.c).  Not for use outside k8s/.
 */
#ifndef PERCH_K8S_CLUSTER_INT_H
#define PERCH_K8S_CLUSTER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "k8s/informer.h"
#include "k8s/rest.h"

/* A copy of struct k8s_routing for one canary. */
struct routing {
	char key[200];			/* ns/name */
	json_t *parent_refs;
	json_t *hosts, *gateways;	/* arrays of strings, or NULL */
	char *ingress;
	json_t *target_port;		/* integer or string, or NULL */
	json_t *match;			/* analysis.match (A/B), or NULL */
	json_t *service_match;		/* service.match, or NULL */
};

/* The ownerReferences of a canary's generated objects (reference §4). */
struct owner {
	char key[200];			/* ns/name */
	json_t *refs;			/* [Canary ownerReference] */
};

/* A watch-fed cache of one resource in one namespace (k8s_cluster_watch). */
struct watched {
	const struct k8s_res *res;
	char ns[64];
	struct k8s_informer *inf;
	/* Read-your-writes: objects this process just wrote, read from the
	 * server until the cache has caught up with what the server said. */
	struct fresh {
		char name[254];
		char min_rv[32];	/* "" = the next read asks the server */
	} fresh[16];
	size_t n_fresh;
};

#define MAX_WATCHED 16

struct k8s_cluster {
	struct k8s_client *c;
	struct k8s_client *ev;		/* for emit_event (notifier thread), or c */
	struct watched watched[MAX_WATCHED];	/* set before the runner starts */
	size_t n_watched;
	struct owner *owners;
	size_t n_owners;
	struct routing *routing;
	size_t n_routing;
};

/* GET through the cache of k8s_cluster_watch when one is in step for r and
 * ns, else from the API server; as k8s_get (cluster.c). */
int  cached_get(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e);

/* After a write of ns/name (r): the next reads go to the server until the
 * cache holds what the server answered (cluster.c). */
void written(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name);

/* The routing of a canary, or NULL (cluster.c). */
const struct routing *routing_of(const struct k8s_cluster *k, const struct canary_cfg *cfg);

/* The ownerReferences (borrowed) for cfg's generated objects: the Canary
 * object's when it exists in the cluster, else NULL (cluster.c). */
json_t *owner_of(const struct k8s_cluster *k, const struct canary_cfg *cfg);
/* Sets obj's metadata.ownerReferences to a copy of refs (NULL: untouched). */
void own(json_t *obj, json_t *refs);

/* A tracked ConfigMap or Secret. */
struct tracked {
	bool secret;
	char name[254];
	char checksum[17];
};

#define MAX_TRACKED 32

/* Object at a dot-separated path (keys without dots), borrowed; NULL if absent. */
json_t *jpath(json_t *o, const char *path);
const char *jstr(json_t *o, const char *path);
/* Copies a k8s_err into an engine err buffer (ERRMSG_MAX). */
int  kerr(char *err, int st, const struct k8s_err *e);
int  errf(char *err, int st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* workload.c */
int  wl_selector(json_t *dep, const char **label, const char **value, char *err);
int  wl_tracked(struct k8s_client *c, const char *ns, json_t *dep, struct tracked *out,
    size_t *n, char *err);
/* owner: ownerReferences for the objects created or rewritten, or NULL. */
int  wl_sync_configs(struct k8s_client *c, const char *ns, const struct tracked *t, size_t n,
    json_t *owner, char *err);
int  wl_ensure_primary(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
int  wl_revision(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out,
    char *err);
/* Reference §2.6 for one Deployment; msg gets the reason when not ready. */
void wl_ready(json_t *dep, int threshold, long now, struct readiness *out, char *msg,
    size_t msgsz);
int  wl_readiness(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w,
    int64_t now_ms, struct readiness *out);
int  wl_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err);
int  wl_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err);

/* router.c */
int  rt_services(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *label,
    const char *value, char *err);
/* The Ingress the NGINX router copies: ingressRef, else the service's name. */
const char *rt_ingress_name(const struct k8s_cluster *k, const struct canary_cfg *cfg);
int  rt_initialize(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err);
int  rt_set(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct routes *r,
    char *err);
int  rt_get(struct k8s_cluster *k, const struct canary_cfg *cfg, struct routes *out, char *err);

/* router_match.c */
/* A/B testing: analysis.match given. */
bool rt_ab(const struct routing *g);
/* The matches of the weighted route (Istio form; a new reference): with `ab`,
 * analysis.match × service.match; else service.match; dflt (borrowed) when
 * there is no service.match; NULL when there is nothing. */
json_t *rt_matches(const struct routing *g, bool ab, json_t *dflt);
/* Istio HTTPMatchRequests as Gateway API HTTPRouteMatches (*out: a new reference). */
int  rt_gateway_matches(json_t *istio, json_t **out, char *err);

/* router_affinity.c: session affinity on the Gateway API (is_istio false:
 * HTTPRoute rules) and Istio (VirtualService http routes) routers. */
/* Adds the sticky rules to `list` and the Set-Cookie headers to the weighted
 * entry (borrowed, in list) for the routes w and their cookies. */
void rt_affinity_apply(json_t *list, json_t *weighted, bool is_istio,
    const struct affinity_cfg *a, const struct routes *w, const char *primary,
    const char *canary);
/* The weighted entry of a list built by rt_affinity_apply (borrowed), or NULL. */
json_t *rt_affinity_weighted(json_t *list, bool is_istio, const char *primary,
    const char *canary);
/* The cookies of such a list into out->cookie, primary_cookie, previous_cookie. */
void rt_affinity_read(json_t *list, json_t *weighted, bool is_istio, const char *primary,
    const char *canary, struct routes *out);

#endif
