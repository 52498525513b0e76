/*
 * prom_expo.h — what GET /metrics answers (app/metrics_http.h), in the
 * Prometheus text format 0.0.4: Flagger's own series under its names and
 * labels, so that existing dashboards work —
 *   flagger_canary_total{namespace}             canaries per namespace
 *   flagger_canary_status{name,namespace}       0 Progressing, 2 Failed, 1 other
 *   flagger_canary_weight{workload,namespace}   <target>-primary and <target>
 *   flagger_canary_duration_seconds{name,namespace}  histogram of ticks
 * (name is the target's name, as Flagger's) — and perch's own:
 *   perch_canary_failed_checks{name,namespace}
 *   perch_canary_controlled{name,namespace}     1 when this process holds it
 *   perch_canary_metric_value{name,namespace,metric}  the last check's value
 *   perch_api_requests_total{verb}              requests to the API server
 *   perch_tick_duration_seconds                 every tick, all canaries
 * Label values are escaped as the format wants.
 *
 * Threads: prom_expo_tick from the engine thread (runner on_tick), render
 * from the server's; both take the object's lock.
 */
#ifndef PERCH_APP_PROM_EXPO_H
#define PERCH_APP_PROM_EXPO_H

#include <stdint.h>

#include "engine/snapshot.h"
#include "k8s/rest.h"
#include "util/buf.h"

struct prom_expo;

struct prom_expo *prom_expo_new(void);
void prom_expo_free(struct prom_expo *e);
/* runner_config.on_tick: one tick of canary "ns/name" took ms. */
void prom_expo_tick(void *arg, const char *canary, int64_t ms);
/* The page for snap (may be NULL: no canary yet) and the API counters
 * (may be NULL). */
void prom_expo_render(struct prom_expo *e, const struct snapshot *snap,
    const struct k8s_counters *api, struct buf *out);

#endif
