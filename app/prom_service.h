/*
 * prom_service.h — `--prometheus-service NS/NAME:PORT`: the default
 * Prometheus reached through the API server's service proxy,
 * SERVER/api/v1/namespaces/NS/services/NAME:PORT/proxy/api/v1/query...,
 * as a Kubernetes API request: with the kubeconfig's credentials (its
 * client certificate, read when perch starts; its bearer token asked
 * again before each batch of queries, as the REST client does, so a
 * rotated tokenFile or an expired exec plugin token is renewed) and trust
 * (its CA, its insecure-skip-tls-verify).  Works from a laptop with no
 * route to the cluster's Services.
 *
 * Ownership: the metric backends copy what they are given (the
 * credentials are wiped there when freed) and borrow kc, which must
 * outlive them.  Threads: called before the engine starts, from the main
 * thread; the token is then asked on the querying thread.
 */
#ifndef PERCH_APP_PROM_SERVICE_H
#define PERCH_APP_PROM_SERVICE_H

#include <stddef.h>

#include "k8s/kubeconfig.h"
#include "metrics/backend.h"

/* Without --prometheus and --prometheus-service: the line shown for a
 * driven canary's metrics (struct runner_config.metrics_off). */
#define PROM_NONE_NOTE "metrics not evaluated: give --prometheus or --prometheus-service"

/* Splits "NS/NAME:PORT" (PORT a number or a port name) into its parts
 * (each a DNS label, the port at most 15 characters).  ST_OK, or
 * ST_INVALID with the reason in err. */
int prom_service_parse(const char *spec, char *ns, size_t nssz, char *name, size_t namesz,
    char *port, size_t portsz, char *err, size_t errsz);

/* The option --prometheus-service of command cmd, checked now: *out = arg
 * and EXIT_OK, or a usage error on stderr and its exit status. */
int prom_service_opt(const char *cmd, const char *arg, const char **out);

/* Makes the Service of spec the default Prometheus of mb, through kc's
 * API server.  ST_OK, or an error with a one-line reason in err (never a
 * credential). */
int prom_service_use(struct metric_backends *mb, struct k8s_config *kc, const char *spec,
    char *err, size_t errsz);

#endif
