/*
 * cluster_int.h — what the files of the k8s cluster backend share
 * (cluster.c, cluster_cache.c, cluster_refs.c, workload.c, services.c,
 * router.c; the routers have routers/router.h).  Not for use outside k8s/.
 */
#ifndef PERCH_K8S_CLUSTER_INT_H
#define PERCH_K8S_CLUSTER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "k8s/informer.h"
#include "k8s/kjson.h"
#include "k8s/rest.h"
#include "k8s/routers/router.h"

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

#define MAX_WATCHED 24

/* A confirm-traffic-increase gate opened for one step (flagger_cmd.c):
 * closed again once the canary weight moves from `weight`. */
struct step_gate {
	char key[200];			/* ns/name */
	char hook[64];
	int weight;
};

struct k8s_cluster {
	struct k8s_client *c;
	struct k8s_client *ev;		/* for emit_event (notifier thread), or c */
	struct watched watched[MAX_WATCHED];	/* set before the runner starts */
	size_t n_watched;
	struct owner *owners;
	size_t n_owners;
	struct routing *routing;
	size_t n_routing;
	struct step_gate steps[8];	/* engine thread */
	size_t n_steps;
	/* k8s_cluster_set_webhooks: how the gates of a Flagger canary whose
	 * webhook URL names no cluster Service are called, or NULL */
	const struct webhook_ops *hooks;
	void *hooks_ctx;
};

/* cluster_cache.c: GET through the cache of k8s_cluster_watch when one is
 * in step for r and ns, else from the API server; as k8s_get. */
int  cached_get(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e);
/* Watches r in ns into a cache (once; ST_TOOBIG past MAX_WATCHED). */
int  watch_one(struct k8s_cluster *k, const struct k8s_res *r, const char *ns,
    k8s_informer_fn on_change, void *arg);
/* After a write of ns/name (r): the next reads go to the server until the
 * cache holds what the server answered. */
void written(struct k8s_cluster *k, const struct k8s_res *r, const char *ns, const char *name);
/* cluster_cache.c: one more cache (no callback), as k8s_cluster_watch's;
 * every object of a watched r in ns (ST_AGAIN when not watched or out of
 * step). */
/* A webhook URL of a cluster Service, http(s)://NAME.NS[.svc[.cluster.local]]
 * [:PORT]/PATH (flagger_cmd.c): false for any other URL. */
struct svc_url {
	char name[64], ns[64], path[256];
	int port;
};
bool parse_svc_url(const char *url, struct svc_url *u);
/* flagger_cmd.c: the keys of a canary Flagger drives (cluster_ops.
 * external_command); a step gate to close once the weight moves, and the
 * weight seen (k8s_flagger_view). */
int  k8s_flagger_command(struct k8s_cluster *k, const struct canary_cfg *cfg,
    enum command_kind kind, bool paused, const char *actor, char *answer, size_t n);
void flagger_close_after_step(struct k8s_cluster *k, const struct canary_cfg *cfg,
    const struct hook_cfg *h);
void flagger_step_moved(struct k8s_cluster *k, const struct canary_cfg *cfg, int weight);
int  cluster_watch_one(struct k8s_cluster *k, const struct k8s_res *r, const char *ns);
int  cluster_cached_list(struct k8s_cluster *k, const struct k8s_res *r, const char *ns,
    json_t **out);

/* cluster_refs.c: the routing of a canary, or NULL. */
const struct routing *routing_of(const struct k8s_cluster *k, const struct canary_cfg *cfg);
/* Looks up the Canary object of cfg (once per initialization) for the
 * ownerReferences of its generated objects: the Canary's when it exists in
 * the cluster, else none. */
void find_owner(struct k8s_cluster *k, const struct canary_cfg *cfg);
/* Whether find_owner has looked cfg up. */
bool owner_known(const struct k8s_cluster *k, const struct canary_cfg *cfg);
/* The ownerReferences (borrowed) for cfg's generated objects, or NULL. */
json_t *owner_of(const struct k8s_cluster *k, const struct canary_cfg *cfg);
/* Frees what k8s_cluster_set_routing and find_owner kept. */
void cluster_refs_free(struct k8s_cluster *k);

/* A tracked ConfigMap or Secret. */
struct tracked {
	bool secret;
	char name[254];
	char checksum[17];
};

#define MAX_TRACKED 32

/* workload.c */

/* A kind of workload target (routers-providers §3.1): one row of a table
 * in workload.c.  Static; any thread. */
struct wl_kind {
	const char *kind;		/* spec.targetRef.kind: "Deployment" */
	const char *noun;		/* in messages: "deployment" */
	const struct k8s_res *res;
	const char *const *copied;	/* spec fields the primary takes, NULL-ended */
	bool replicas;			/* has spec.replicas (else scaled by nodeSelector) */
	/* ST_OK, or why such a target cannot be driven (err). NULL: never. */
	int (*refuse)(json_t *target, char *err);
	void (*ready)(json_t *obj, int threshold, long now, struct readiness *out, char *msg,
	    size_t msgsz);
	int (*scale)(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err);
	/* A plain Service target (routers-providers §3.3): the `-canary` and
	 * `-primary` Services are copies of it (sync), perch creates no
	 * ClusterIP Services of its own, the revision is the hash of its spec
	 * and promote copies it to the primary.  NULL/false: a workload. */
	bool service;
	int (*sync)(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err);
	int (*promote)(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
	    char *err);
	/* A target whose primary and canary are no objects of res named
	 * `<target>-primary` and `<target>` (a Knative Service: revisions,
	 * routers-providers §2.7): its revision ids, the primary's, and the
	 * readiness of either, read its own way.  NULL: from those objects. */
	int (*revision)(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out,
	    char *err);
	int (*primary_revision)(struct k8s_cluster *k, const struct canary_cfg *cfg,
	    struct revision *out, char *err);
	int (*readiness)(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w,
	    struct readiness *out);
};
/* Plain Service targets (service_target.c, routers-providers §3.3). */
int  svc_target_sync(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
int  svc_target_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
void svc_target_ready(json_t *svc, int threshold, long now, struct readiness *out, char *msg,
    size_t msgsz);
int  svc_target_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err);
/* Knative Service targets (knative_target.c, routers-providers §2.7, §3.4). */
int  kn_target_sync(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
int  kn_target_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
int  kn_target_revision(struct k8s_cluster *k, const struct canary_cfg *cfg,
    struct revision *out, char *err);
int  kn_target_primary_revision(struct k8s_cluster *k, const struct canary_cfg *cfg,
    struct revision *out, char *err);
int  kn_target_readiness(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w,
    struct readiness *out);
/* The row of cfg->target_kind (NULL = Deployment), or NULL when perch does
 * not drive that kind on a cluster (wl_unsupported says so). */
const struct wl_kind *wl_kind_of(const struct canary_cfg *cfg);
int  wl_unsupported(const struct canary_cfg *cfg, char *err);
int  wl_selector(json_t *dep, const char *noun, const char **label, const char **value,
    char *err);
int  wl_tracked(struct k8s_client *c, const char *ns, const char *noun, json_t *dep,
    struct tracked *out, size_t *n, char *err);
/* owner: ownerReferences for the objects created or rewritten, or NULL. */
int  wl_sync_configs(struct k8s_client *c, const char *ns, const struct tracked *t, size_t n,
    json_t *owner, char *err);
int  wl_ensure_primary(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err);
int  wl_revision(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out,
    char *err);
/* The revision the -primary workload was made from (its annotation
 * perch.dev/revision, written when it is created or promoted); out->id ""
 * when it has none. */
int  wl_primary_revision(struct k8s_cluster *k, const struct canary_cfg *cfg,
    struct revision *out, char *err);
/* Reference §2.6 for one Deployment; msg gets the reason when not ready. */
void wl_ready(json_t *dep, int threshold, long now, struct readiness *out, char *msg,
    size_t msgsz);
int  wl_readiness(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w,
    int64_t now_ms, struct readiness *out);
int  wl_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err);
int  wl_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err);

/* services.c: the Services <svc>, <svc>-primary and <svc>-canary, the
 * selector label of the target (label=value) and its -primary value. */
int  rt_services(struct k8s_cluster *k, const struct canary_cfg *cfg, const char *label,
    const char *value, char *err);

/* router.c: the routes, by the router the provider registry names. */
int  rt_initialize(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err);
int  rt_set(struct k8s_cluster *k, const struct canary_cfg *cfg, const struct routes *r,
    char *err);
int  rt_get(struct k8s_cluster *k, const struct canary_cfg *cfg, struct routes *out, char *err);
/* The router's revert on deletion (struct router_ops.revert). */
int  rt_revert(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err);

/* ---- finalize.c: spec.revertOnDeletion (k8s/finalize.h) */
/* cluster_ops.finalize: with revert, the target, the apex Service and the
 * routes given back; then the Canary's finalizer removed. */
int  k8s_finalize(struct k8s_cluster *k, const struct canary_cfg *cfg, bool revert, char *err);

#endif
