/*
 * metric_creds.h — MetricTemplate secretRef credentials (reference §1.2) read
 * from the cluster and handed to the template's metric backend: Secret
 * `spec.provider.secretRef.name` in the template's namespace, the keys the
 * backend of spec.provider.type reads (metrics/backend.h: Prometheus'
 * `token`, else `username` and `password`), each from data (base64) or
 * else stringData, checked by the backend.
 *
 * Ownership: metric_creds_register() borrows everything; the credentials
 * are copied into the backend and wiped from memory here.  They are never
 * printed or logged: errors name the template, the Secret and the key
 * only.  Threads: call before the engine starts (a backend's add is not
 * safe against queries in flight).
 */
#ifndef PERCH_APP_METRIC_CREDS_H
#define PERCH_APP_METRIC_CREDS_H

#include <stddef.h>

#include "k8s/rest.h"
#include "metrics/backend.h"
#include "spec/spec.h"

/* For every metric of canary c whose MetricTemplate (found in set) has an
 * address and a secretRef: reads the Secret and registers the template's
 * server (with its headers and insecureSkipVerify) with the credentials.
 * ST_OK (also when there is nothing to do), or the first error with a
 * one-line reason in err ("MetricTemplate shop/latency: secret prom-auth:
 * ..."). */
int metric_creds_register(struct k8s_client *kc, const struct spec_set *set,
    const struct spec_canary *c, struct metric_backends *b, char *err, size_t errsz);

/* Registers `p` (borrowed; its secret ignored) with the backend of t's
 * type and the credentials of t's secretRef (t->secret_ref must be set),
 * the Secret read in namespace ns (NULL: the template's).  ST_OK, or an
 * error with a one-line reason in err. */
int metric_creds_set(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct metric_backends *b, const struct metric_provider *p, char *err,
    size_t errsz);

/* Registers t's own provider block (address, headers, insecureSkipVerify,
 * region) with the credentials of its secretRef, read in namespace ns
 * (NULL: the template's).  ST_OK, or an error with a one-line reason. */
int metric_creds_template(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct metric_backends *b, char *err, size_t errsz);

#endif
