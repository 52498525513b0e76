/*
 * rest.h — a small Kubernetes REST client (libcurl, loaded on the first
 * client, + jansson).
 *
 * get, list, create, update, merge / JSON / strategic patch, delete, a
 * read-modify-write helper that re-reads and retries on 409 Conflict a bounded
 * number of times, and watches that resume from the last resourceVersion and
 * relist on 410 Gone.  Every request has a timeout; responses go into capped
 * buffers.  Errors surface the API server's Status message (sanitized) in a
 * struct k8s_err.
 *
 * Retries.  What failed is tried again after an exponential backoff with
 * jitter (a Retry-After is honoured, up to K8S_RETRY_AFTER_MAX_MS), only
 * when repeating it cannot do a thing twice:
 *   - 429, and a connection that could not be made, mean the server did
 *     nothing: any request is tried again;
 *   - 5xx, a timeout, a connection reset or closed before the answer may
 *     come after the server carried the request out: reads, PUT, DELETE
 *     and merge / strategic patches (the same result however often they
 *     land) are tried again; a create (POST) and a JSON patch are not.
 *     Instead, k8s_create reads the object back: there and ours (it holds
 *     everything that was sent), the create happened and succeeded; absent,
 *     it is sent again; there and not ours, ST_CONFLICT.  An AlreadyExists
 *     (or a PUT's 409, or a DELETE's 404) that follows an attempt whose
 *     answer was lost is judged the same way, by reading the object back.
 * e->maybe_done tells a caller that a request which failed may still have
 * been carried out.
 *
 * A client may be marked read-only: it then refuses every verb but get, list
 * and watch before sending anything (what `perch watch` uses).
 *
 * Ownership: JSON results are new references the caller json_decref()s; JSON
 * arguments are borrowed.  The struct k8s_config passed to k8s_client_new()
 * must outlive the client.
 * Threads: one client may be used from several threads; up to K8S_CONNS of
 * its requests run at once, each on a connection of its own kept open
 * between requests (a further one waits for a connection to be free), and
 * watches each open their own.
 */
#ifndef PERCH_K8S_REST_H
#define PERCH_K8S_REST_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/providers.h"
#include "k8s/kubeconfig.h"
#include "util/buf.h"

/* Requests of one client on the wire at once: the engine's, its take
 * workers' (engine/runner_pool.c) and the store's Lease renewals. */
#define K8S_CONNS 4

/* Every resource perch touches: name, group, version, plural, namespaced. */
#define K8S_RESOURCES(X) \
	X(NAMESPACES,       "",                          "v1",       "namespaces",       false) \
	X(SERVICES,         "",                          "v1",       "services",         true) \
	X(CONFIGMAPS,       "",                          "v1",       "configmaps",       true) \
	X(SECRETS,          "",                          "v1",       "secrets",          true) \
	X(EVENTS,           "",                          "v1",       "events",           true) \
	X(DEPLOYMENTS,      "apps",                      "v1",       "deployments",      true) \
	X(DAEMONSETS,       "apps",                      "v1",       "daemonsets",       true) \
	X(LEASES,           "coordination.k8s.io",       "v1",       "leases",           true) \
	X(INGRESSES,        "networking.k8s.io",         "v1",       "ingresses",        true) \
	X(HTTPROUTES_V1,    "gateway.networking.k8s.io", "v1",       "httproutes",       true) \
	X(HTTPROUTES_V1B1,  "gateway.networking.k8s.io", "v1beta1",  "httproutes",       true) \
	X(TRAFFICSPLITS_A1, "split.smi-spec.io",         "v1alpha1", "trafficsplits",    true) \
	X(TRAFFICSPLITS_A2, "split.smi-spec.io",         "v1alpha2", "trafficsplits",    true) \
	X(TRAFFICSPLITS_A3, "split.smi-spec.io",         "v1alpha3", "trafficsplits",    true) \
	X(VIRTUALSERVICES,  "networking.istio.io",       "v1beta1",  "virtualservices",  true) \
	X(DESTINATIONRULES, "networking.istio.io",       "v1beta1",  "destinationrules", true) \
	X(HTTPPROXIES,      "projectcontour.io",         "v1",       "httpproxies",      true) \
	X(GLOO_UPSTREAMS,   "gloo.solo.io",              "v1",       "upstreams",        true) \
	X(ROUTETABLES,      "gateway.solo.io",           "v1",       "routetables",      true) \
	X(TRAEFIKSERVICES,  "traefik.io",                "v1alpha1", "traefikservices",  true) \
	X(TRAFFICROUTES,    "kuma.io",                   "v1alpha1", "trafficroutes",    false) \
	X(APISIXROUTES,     "apisix.apache.org",         "v2",       "apisixroutes",     true) \
	X(KNATIVE_SERVICES, "serving.knative.dev",       "v1",       "services",         true) \
	X(KNATIVE_REVISIONS, "serving.knative.dev",      "v1",       "revisions",        true) \
	X(MESH_NODES_B1,    "appmesh.k8s.aws",           "v1beta1",  "virtualnodes",     true) \
	X(MESH_SERVICES_B1, "appmesh.k8s.aws",           "v1beta1",  "virtualservices",  true) \
	X(MESH_NODES_B2,    "appmesh.k8s.aws",           "v1beta2",  "virtualnodes",     true) \
	X(MESH_ROUTERS_B2,  "appmesh.k8s.aws",           "v1beta2",  "virtualrouters",   true) \
	X(MESH_SERVICES_B2, "appmesh.k8s.aws",           "v1beta2",  "virtualservices",  true) \
	X(CANARIES,         "flagger.app",               "v1beta1",  "canaries",         true)

struct k8s_res {
	const char *group;	/* "" for core */
	const char *version;
	const char *plural;
	bool namespaced;
};

enum k8s_res_id {
#define X(id, g, v, p, ns) K8S_##id,
	K8S_RESOURCES(X)
#undef X
	K8S__COUNT
};

extern const struct k8s_res k8s_resources[K8S__COUNT];
#define K8S_RES(id) (&k8s_resources[K8S_##id])

/* Why a request failed. */
struct k8s_err {
	int  http;			/* HTTP status, 0 when there was no answer */
	char reason[48];		/* Status.reason ("NotFound", "Conflict", ...) */
	char msg[ERRMSG_MAX];		/* one line, sanitized, never a secret */
	bool maybe_done;		/* failed, but an attempt may have been
					 * carried out (its answer was lost) */
};

#define K8S_RETRY_AFTER_MAX_MS 30000	/* a longer Retry-After is not waited for */

struct k8s_client_opts {
	long   timeout_ms;		/* per request (default 10000) */
	long   connect_timeout_ms;	/* default 5000 */
	size_t max_response;		/* bytes (default 16 MiB) */
	int    retries;			/* 429/5xx/network retries (0: 4; <0: none) */
	long   backoff_ms;		/* first backoff (default 200), doubled, cap 5 s,
					 * each wait drawn from [half, whole] */
	int    conflict_retries;	/* k8s_modify attempts (default 5) */
	bool   read_only;		/* only get, list, watch */
};

struct k8s_client;

/* ST_OK, or ST_INVALID (bad server URL) or ST_UNSUPPORTED (libcurl cannot
 * be loaded, net/curl_lazy.h) with a one-line reason in err (may be NULL). */
int  k8s_client_new(struct k8s_config *cfg, const struct k8s_client_opts *o,
    struct k8s_client **out, struct buf *err);
void k8s_client_free(struct k8s_client *c);
/* Gives the client's requests up: the ones in flight end within a second,
 * the ones to come are not sent (ST_IO, reason "Cancelled"); for good.
 * perch run when the user quits while it starts (app/startup.h).  Any
 * thread. */
void k8s_client_cancel(struct k8s_client *c);
const char *k8s_client_namespace(const struct k8s_client *c);

/* Statuses: ST_OK; ST_NOTFOUND (404); ST_CONFLICT (409, also AlreadyExists);
 * ST_AUTH (401, 403); ST_INVALID (400, 422); ST_REFUSED (a write on a
 * read-only client); ST_HTTP (other answers, after retries); ST_TIMEOUT;
 * ST_NETWORK; ST_TOOBIG; ST_PARSE (an answer that is not JSON). */
int k8s_get(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    json_t **out, struct k8s_err *e);
/* POSTs body (JSON) to PATH of Service svc (port) in ns through the API
 * server's service proxy (/api/v1/namespaces/NS/services/NAME:PORT/proxy/
 * PATH), once: ST_OK with *http the service's answer (any status) and its
 * body, sanitized, in answer; or the error of the exchange (*http 0, or the
 * API server's refusal).  ST_REFUSED on a read-only client. */
int k8s_service_post(struct k8s_client *c, const char *ns, const char *svc, int port,
    const char *path, const char *body, long *http, char *answer, size_t answersz,
    struct k8s_err *e);
/* label_selector may be NULL.  *out is the List object. */
int k8s_list(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    const char *label_selector, json_t **out, struct k8s_err *e);
int k8s_create(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    json_t **out, struct k8s_err *e);
/* PUT: obj carries metadata.resourceVersion for optimistic concurrency. */
int k8s_update(struct k8s_client *c, const struct k8s_res *r, const char *ns, json_t *obj,
    json_t **out, struct k8s_err *e);
/* PUT to the /status subresource. */
int k8s_update_status(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    json_t *obj, json_t **out, struct k8s_err *e);

enum k8s_patch { K8S_PATCH_MERGE, K8S_PATCH_JSON, K8S_PATCH_STRATEGIC };
int k8s_patch(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    enum k8s_patch type, json_t *patch, json_t **out, struct k8s_err *e);
int k8s_delete(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    struct k8s_err *e);

/* Read-modify-write: GET, fn(obj, arg) edits obj in place (returning ST_OK to
 * write, ST_NOTFOUND/other to stop with that status, or ST_AGAIN meaning "no
 * change needed": nothing is written), PUT; on 409 re-read and try again, up
 * to conflict_retries times.  out (may be NULL) gets the written object. */
typedef int (*k8s_mutate_fn)(json_t *obj, void *arg);
int k8s_modify(struct k8s_client *c, const struct k8s_res *r, const char *ns, const char *name,
    k8s_mutate_fn fn, void *arg, json_t **out, struct k8s_err *e);

/* Watch.  fn gets every event: type "ADDED", "MODIFIED", "DELETED", or
 * "SYNC" for each object of a (re)list (after a 410 or at the start when
 * resource_version is NULL), and "RELISTED" (obj = the List) once a relist
 * is complete; and about the stream itself: "OPENED" (obj = {}) each time a
 * stream is answered 200 (events missed while it was down follow), and
 * "DROPPED" (obj = {"status","message"}) each time one ends in an error
 * before the watch tries again.  fn returns true to go on, false to stop.
 * The watch resumes
 * from the last resourceVersion after a dropped stream or a server timeout,
 * backs off while the server is unreachable, and returns ST_OK when fn
 * stops it, or when *stop becomes true (checked about once a second).
 * obj is borrowed for the call. */
typedef bool (*k8s_watch_fn)(const char *type, json_t *obj, void *arg);
int k8s_watch(struct k8s_client *c, const struct k8s_res *r, const char *ns,
    const char *label_selector, const char *resource_version, k8s_watch_fn fn, void *arg,
    atomic_bool *stop, struct k8s_err *e);

/* Reads the body of a watch answer (JSON event lines) the way k8s_watch
 * does, handed over in pieces of `piece` bytes (0: whole), each line capped
 * at max_line bytes: fn gets each event; the rest is as k8s_watch (BOOKMARK
 * skipped, a line that is no event logged and skipped).  Stops at an ERROR
 * event, at a line too long, or when fn returns false.  Returns ST_OK,
 * ST_AGAIN (410 Gone: relist), ST_HTTP (another ERROR) or ST_TOOBIG.  For
 * the fuzzer and tests: the parser of the stream, without a connection. */
int k8s_watch_parse(const char *data, size_t len, size_t piece, size_t max_line,
    k8s_watch_fn fn, void *arg);

/* Sets *stop and ends at once the streams of the watches running with that
 * stop flag (their sockets are shut down), so a k8s_watch returns without
 * waiting for its next check of *stop.  Any thread. */
void k8s_watch_interrupt(struct k8s_client *c, atomic_bool *stop);

/* How many requests of each kind the client sent (for tests and `status`);
 * retries: attempts repeated; throttled: 429 answers; verified: writes whose
 * answer was lost, read back to learn what happened; troubled_ms: when a
 * request last failed or had to be repeated (CLOCK_MONOTONIC ms, 0: never). */
struct k8s_counters {
	unsigned long get, list, watch, create, update, patch, del, retries, refused;
	unsigned long throttled, verified;
	long long troubled_ms;
};
void k8s_client_counters(struct k8s_client *c, struct k8s_counters *out);
/* CLOCK_MONOTONIC in ms, the clock of troubled_ms. */
long long k8s_mono_ms(void);

/* Parses an HTTP answer body into e (Status message, reason) and returns the
 * status code for `http`.  Exposed for unit tests over JSON fixtures. */
int k8s_status_from_answer(int http, const char *body, size_t len, struct k8s_err *e);

#endif
