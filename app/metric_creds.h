/*
 * metric_creds.h — MetricTemplate secretRef credentials (reference §1.2) read
 * from the cluster and handed to the Prometheus client: Secret
 * `spec.provider.secretRef.name` in the template's namespace, key `token`
 * (Authorization: Bearer) or else `username` and `password` (basic auth,
 * both required).
 *
 * Ownership: metric_creds_register() borrows everything; the credentials
 * are copied into the prom client and wiped from memory here.  They are
 * never printed or logged: errors name the template, the Secret and the key
 * only.  Threads: call before the engine starts (prom_set_server is not
 * safe against queries in flight).
 */
#ifndef PERCH_APP_METRIC_CREDS_H
#define PERCH_APP_METRIC_CREDS_H

#include <stddef.h>

#include "k8s/rest.h"
#include "metrics/prom.h"
#include "spec/spec.h"

/* For every metric of canary c whose MetricTemplate (found in set) has an
 * address and a secretRef: reads the Secret and registers the template's
 * server (with its headers and insecureSkipVerify) with the credentials.
 * ST_OK (also when there is nothing to do), or the first error with a
 * one-line reason in err ("MetricTemplate shop/latency: secret prom-auth:
 * ..."). */
int metric_creds_register(struct k8s_client *kc, const struct spec_set *set,
    const struct spec_canary *c, struct prom *p, char *err, size_t errsz);

/* Registers `server` (borrowed; its credentials ignored) with the
 * credentials of t's secretRef (t->secret_ref must be set), the Secret read
 * in namespace ns (NULL: the template's).  ST_OK, or an error with a
 * one-line reason in err. */
int metric_creds_set(struct k8s_client *kc, const struct spec_metric_template *t,
    const char *ns, struct prom *p, const struct prom_server_cfg *server, char *err,
    size_t errsz);

#endif
