/*
 * kjson.h — small helpers over Kubernetes objects as jansson values, and
 * the error buffers of the engine's ops, shared by every file of the k8s
 * cluster backend (cluster, workloads, services, routers).  Not for use
 * outside k8s/.
 *
 * Pure functions; any thread.  Values returned are borrowed from the
 * object passed in.
 */
#ifndef PERCH_K8S_KJSON_H
#define PERCH_K8S_KJSON_H

#include <jansson.h>
#include <stdbool.h>

#include "k8s/rest.h"

/* Object at a dot-separated path (keys without dots), borrowed; NULL if absent. */
json_t *jpath(json_t *o, const char *path);
const char *jstr(json_t *o, const char *path);
/* Whether the string at path is name. */
bool jnamed(json_t *o, const char *path, const char *name);

/* True when every field of `want` is in `have` with the same value (arrays
 * element by element, same length): what the API server adds (defaults,
 * status) does not count as a difference. */
bool json_subset(json_t *want, json_t *have);

/* Sets obj's metadata.ownerReferences to a copy of refs (NULL: untouched). */
void own(json_t *obj, json_t *refs);

/* A one-line reason into an engine err buffer (ERRMSG_MAX, sanitized; err
 * may be NULL); returns st. */
int  errf(char *err, int st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copies a k8s_err into an engine err buffer (ERRMSG_MAX). */
int  kerr(char *err, int st, const struct k8s_err *e);

#endif
