/*
 * canary_load.h — turns a validated spec Canary (spec/spec.h), with the
 * MetricTemplates of the same spec set, into the engine's struct
 * canary_cfg: every metric's query rendered and whitespace-collapsed
 * (built-ins by the observer of reference §3.1, templates with their
 * templateVariables), request-volume queries for the minimum-traffic guard
 * (built-ins: derived; templates: the perch.dev/volume-query annotation),
 * hooks, perch annotations and Flagger's defaults.
 *
 * Used by `perch check` and `perch run`.  Main thread (or any one thread at
 * a time per spec set); the result is owned by the caller
 * (canary_cfg_free).
 */
#ifndef PERCH_APP_CANARY_LOAD_H
#define PERCH_APP_CANARY_LOAD_H

#include <stddef.h>

#include "engine/canary.h"
#include "metrics/backend.h"
#include "spec/spec.h"

/* What canary_load renders for: the canary itself, or its primary (the
 * isolation check of `perch check`: target -> target-primary, service ->
 * service-primary, and generated "-primary-canary" names -> "-primary"). */
enum load_aim { AIM_CANARY, AIM_PRIMARY };

/* Builds *out from canary c of a validated set.  metric_cfg.server is the
 * address the spec names (spec.metricsServer for built-ins and inline
 * queries, provider.address for templates) or NULL; the caller chooses
 * the default; metric_cfg.provider the template's spec.provider.type
 * (NULL: prometheus), refused when no backend queries it.  provider is as written, "" when not given (Flagger's default
 * mesh provider is istio).  ST_OK, or an error status with a one-line
 * reason in err ("file:line:col: spec.analysis.metrics[1]: ..."). */
int canary_load(const struct spec_set *set, const struct spec_canary *c,
    enum load_aim aim, struct canary_cfg **out, char *err, size_t errsz);

/* The key of t's provider block (struct metric_provider.block): its
 * type, address, secretRef (with the template's namespace), region,
 * insecureSkipVerify and headers, so that two templates differing in any
 * of them get blocks of their own.  A new string. */
char *metric_template_block(const struct spec_metric_template *t);

/* Registers with the backends of their types the servers c's
 * MetricTemplates name, with their headers and insecureSkipVerify.
 * Credentials from a template's secretRef live on the cluster
 * (app/metric_creds.h adds them).  Returns the number of servers
 * registered. */
size_t canary_register_servers(const struct spec_set *set, const struct spec_canary *c,
    struct metric_backends *b);

#endif
