/*
 * kube.h — the Kubernetes API as the metric backends that read the cluster
 * see it (keptn: KeptnMetric and Analysis objects; externalmetrics without
 * an address: the external metrics API): a table of requests
 * that app/ fills with its cluster client (app/metric_kube.h), since
 * metrics/ does not include k8s/.  A command without a cluster gives none
 * (struct metric_backend_opts.kube NULL), and those backends say so.
 *
 * Statuses: ST_OK; ST_NOTFOUND (404); ST_NETWORK or ST_TIMEOUT (no
 * answer); any other status with err, one line, sanitised, never a
 * secret.  JSON results are new references the caller json_decref()s;
 * arguments are borrowed.  Threads: as the client behind it (app/'s
 * clients serialise their requests; any thread).
 */
#ifndef PERCH_METRICS_KUBE_H
#define PERCH_METRICS_KUBE_H

#include <jansson.h>
#include <stddef.h>

/* A namespaced resource: its API group, version and plural. */
struct metric_kube_res {
	const char *group;
	const char *version;
	const char *plural;
};

struct metric_kube {
	void *ctx;
	int (*get)(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name,
	    json_t **out, char *err, size_t errsz);
	/* The List of r in ns, of the objects matching label_selector (NULL:
	 * all); for an aggregated API such as external metrics, r's plural
	 * is the metric (path-escaped). */
	int (*list)(void *ctx, const struct metric_kube_res *r, const char *ns,
	    const char *label_selector, json_t **out, char *err, size_t errsz);
	int (*create)(void *ctx, const struct metric_kube_res *r, const char *ns, json_t *obj,
	    char *err, size_t errsz);
	int (*del)(void *ctx, const struct metric_kube_res *r, const char *ns, const char *name,
	    char *err, size_t errsz);
};

#endif
