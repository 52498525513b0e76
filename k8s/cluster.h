/*
 * cluster.h — the engine's cluster_ops on a real Kubernetes API server, the
 * way Flagger drives a cluster (reference §2 and §4):
 *
 *   - Deployment targets: the selector label (app, name or
 *     app.kubernetes.io/name) is discovered from spec.selector.matchLabels;
 *     `<target>-primary` is created from the target and rewritten on
 *     promotion with a new `flagger-id` template annotation; ConfigMaps and
 *     Secrets the pod template references are tracked and copied as
 *     `<name>-primary`; the target is scaled to and from zero; readiness
 *     follows reference §2.6 with the canary's ready thresholds.
 *   - The revision id of a target is  H(template)[-H(configs)]:  H(template)
 *     is the first 16 hex digits of SHA-256 over the pod template as compact
 *     JSON with sorted keys, metadata.creationTimestamp removed; H(configs)
 *     (only when configs are tracked) is the first 16 hex digits of SHA-256
 *     over the sorted lines "configmap/NAME=CHECKSUM\n" / "secret/NAME=..."
 *     where CHECKSUM is Flagger's: the first 8 bytes of SHA-256 of the
 *     object's .data as compact sorted JSON, in hex.
 *   - Services `<svc>`, `<svc>-primary`, `<svc>-canary`, and the router of
 *     spec.provider (k8s/router.c).
 *   - Events: core/v1 Events on the target Deployment with Flagger's texts.
 *   - A Canary that a running Flagger reconciles is shown, never driven
 *     (k8s_flagger_driver, then cluster_ops.external: its status and its
 *     Events from the watches of k8s_cluster_watch_flagger).  The
 *     initialization still refuses one found only later (ST_REFUSED): a
 *     Canary object of that name, not suspended, whose status conditions were
 *     updated in the last 10 minutes, or while a Flagger Deployment (labels
 *     app.kubernetes.io/name=flagger or app=flagger) is available.
 *
 * Ownership: k8s_cluster_new() borrows the client (it must outlive the
 * cluster), and so does k8s_cluster_set_event_client.  Threads: the ops are
 * called from the engine thread, except emit_event, which the runner's
 * notifier thread calls at the same time (engine/providers.h); the watches
 * have threads of their own (k8s_cluster_watch).  A client is safe to
 * share (up to K8S_CONNS of its requests at once, k8s/rest.h), but then
 * events to a slow API server take connections from the engine's own
 * requests: give events a client of their own.
 */
#ifndef PERCH_K8S_CLUSTER_H
#define PERCH_K8S_CLUSTER_H

#include <jansson.h>

#include "engine/providers.h"
#include "k8s/informer.h"
#include "k8s/rest.h"

struct k8s_cluster;

extern const struct cluster_ops k8s_cluster_ops;

struct k8s_cluster *k8s_cluster_new(struct k8s_client *c);
void k8s_cluster_free(struct k8s_cluster *k);
/* The client emit_event uses (NULL: the cluster's own, the default).  Set
 * before the runner starts. */
void k8s_cluster_set_event_client(struct k8s_cluster *k, struct k8s_client *ev);

/* Whether the API server is degraded at now_ms (k8s_mono_ms()): it answers,
 * but a request of one of the cluster's clients had to be repeated or
 * failed (429, 5xx, a timeout, a lost connection, a dropped watch) in the
 * last K8S_DEGRADED_MS.  The ops' `degraded` asks it at the current time. */
#define K8S_DEGRADED_MS 10000
bool k8s_cluster_degraded(struct k8s_cluster *k, long long now_ms);

/* What the routers need beyond struct canary_cfg, from the Canary spec:
 * Gateway API parentRefs (spec.service.gatewayRefs) and hostnames, Istio
 * hosts and gateways, the NGINX spec.ingressRef, the Services' targetPort.
 * Used when the Services and route objects are created.  All borrowed; k8s_cluster_set_routing copies. */
struct k8s_routing {
	json_t *parent_refs;		/* array of ParentReference, or NULL */
	const char *const *hosts;	size_t n_hosts;
	const char *const *gateways;	size_t n_gateways;
	const char *ingress;		/* ingressRef name, or NULL: the service's */
	const char *target_port;	/* spec.service.targetPort (number or name), or NULL: port */
	json_t *match;			/* spec.analysis.match (A/B testing), or NULL */
	json_t *service_match;		/* spec.service.match, or NULL */
	const char *route;		/* spec.routeRef.name, or NULL */
	const char *upstream, *upstream_ns;	/* spec.upstreamRef name, namespace (NULL: none, the canary's) */
	json_t *annotations;		/* the Canary's metadata.annotations (object), or NULL */
	json_t *apex;			/* spec.service.apex {labels, annotations}, or NULL */
	const char *port_name;		/* spec.service.portName, or NULL */
	const char *mesh_name;		/* spec.service.meshName, or NULL */
	json_t *backends;		/* spec.service.backends (strings), or NULL */
	const char *timeout;		/* spec.service.timeout as written, or NULL */
	long long timeout_ms;		/* it in milliseconds, 0: none or not a duration */
	json_t *retries;		/* spec.service.retries {attempts, perTryTimeout,
					 * retryOn}, or NULL */
	long long per_try_ms;		/* retries.perTryTimeout in ms, 0: none or not a
					 * duration */
};
/* For canary ns/name; before the runner starts (not thread-safe with ops). */
void k8s_cluster_set_routing(struct k8s_cluster *k, const char *ns, const char *name,
    const struct k8s_routing *r);

/* Watches the Deployments and Services of namespace ns (k8s/informer.h):
 * from then on the ops read targets, primaries and the Services they
 * reconcile at each tick from those caches while they are in step with the
 * server, and from the server otherwise (and for the objects they just
 * wrote, until the cache has caught up).  on_change (may be NULL) hears of
 * every change of a Deployment, on the informer's thread.  ST_OK (also when ns is
 * watched already), or an error (the ops then keep reading the server).
 * Before the runner starts, or on its thread; k8s_cluster_unwatch stops
 * every watch (after the runner has stopped; k8s_cluster_free does it too). */
int  k8s_cluster_watch(struct k8s_cluster *k, const char *ns, k8s_informer_fn on_change,
    void *arg);
void k8s_cluster_unwatch(struct k8s_cluster *k);
/* k8s_cluster_watch of cfg's namespace, and the watch of its target's kind
 * when that is another workload kind (DaemonSets), on_change hearing of
 * its changes too.  Same threads and results as k8s_cluster_watch. */
int  k8s_cluster_watch_target(struct k8s_cluster *k, const struct canary_cfg *cfg,
    k8s_informer_fn on_change, void *arg);
/* The watches' counters, summed (for tests and logs). */
void k8s_cluster_watch_stats(struct k8s_cluster *k, struct k8s_informer_stats *out);

/* The template part of a revision id (16 hex digits + NUL). */
void k8s_template_hash(json_t *pod_template, char out[17]);
/* The hash of a workload's (Deployment's, DaemonSet's) spec.template as a
 * revision sees it: scaling a DaemonSet to or from zero by its nodeSelector
 * changes nothing.  For telling a new revision from other writes. */
void k8s_workload_template_hash(json_t *workload, char out[17]);
/* Flagger's config checksum of a ConfigMap/Secret (16 hex digits + NUL). */
void k8s_config_checksum(json_t *obj, char out[17]);

/* The weights in a route object of cfg's provider (the TrafficSplit,
 * HTTPRoute, VirtualService or canary Ingress as the API returns it), as
 * get_routes reads them.  Pure; for tests over fixtures. */
int  k8s_routes_from_object(const struct canary_cfg *cfg, json_t *obj, struct routes *out,
    char *err);

/* What set_routes makes of a route object of cfg's provider: obj (as the
 * API returns it) rewritten in place for the routes w, with the routing
 * given to k (k8s_cluster_set_routing; k's client is not used).  Pure; for
 * tests over fixtures. */
int  k8s_routes_to_object(const struct k8s_cluster *k, const struct canary_cfg *cfg, json_t *obj,
    const struct routes *w, char *err);

/* ST_REFUSED (with the reason in err) when a running Flagger reconciles
 * the Canary ns/name; ST_OK otherwise.  `now` is wall-clock seconds. */
int  k8s_flagger_check(struct k8s_client *c, const struct canary_cfg *cfg, long now,
    char *err);
/* A running Flagger Deployment anywhere in the cluster ("ns/name" into
 * out): false when none is found or listing is denied. */
bool k8s_flagger_running(struct k8s_client *c, char *out, size_t outsz);
/* A Canary created less than this long ago that no one has written a
 * status for may still be taken by a running Flagger (its first status
 * write comes within a tick of its creation). */
#define K8S_FLAGGER_CLAIM_S 30
/* Whether the Canary object obj (borrowed) is new and unclaimed while a
 * Flagger Deployment runs ("ns/name" into who): perch then waits for
 * Flagger to write its status before taking it, so that the two never
 * drive one Canary.  `now` is wall-clock seconds. */
bool k8s_flagger_may_claim(struct k8s_client *c, json_t *obj, long now, char *who,
    size_t whosz);
/* Whether a running Flagger reconciles the Canary of cfg (as
 * k8s_flagger_check refuses it): true with who = "Flagger (ns/name)", or
 * "Flagger" when its Deployment is not found. */
bool k8s_flagger_driver(struct k8s_client *c, const struct canary_cfg *cfg, long now, char *who,
    size_t whosz);
/* Watches the Canaries and the Events of ns, for the canaries Flagger
 * drives (before the runner starts, as k8s_cluster_watch). */
/* The webhook client for the load tester gates of a Flagger canary whose
 * webhook URL is not a cluster Service (http://127.0.0.1:8080/gate/check):
 * those are called directly, the others through the API server's service
 * proxy.  Without one (NULL) such a key says it cannot.  ctx is borrowed;
 * before the runner starts. */
void k8s_cluster_set_webhooks(struct k8s_cluster *k, const struct webhook_ops *ops, void *ctx);
int  k8s_cluster_watch_flagger(struct k8s_cluster *k, const char *ns);
/* Pure, for tests and fuzzing: the status and the Events (items) of the
 * Canary object as k8s_flagger_view reads them. */
void k8s_flagger_from_objects(const struct canary_cfg *cfg, json_t *canary, json_t *events,
    struct canary_status *st, struct journal_rec *ev, size_t max, size_t *n_ev);
/* What Flagger publishes of the Canary of cfg, as cluster_ops.external
 * (from the caches when in step, else from the API server). */
int  k8s_flagger_view(struct k8s_cluster *k, const struct canary_cfg *cfg,
    struct canary_status *st, struct journal_rec *ev, size_t max, size_t *n_ev);

#endif
