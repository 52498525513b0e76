/*
 * dynatrace.h — the metric backend of MetricTemplates of type dynatrace
 * (dynatrace_backend, metrics/backend.h): Dynatrace's Metrics API v2
 * (reference §4.8).  GET <address>/api/v2/metrics/query with the
 * metricSelector, resolution=Inf and the window now − 10 × interval … now
 * in milliseconds, signed with the Secret's dynatrace_token
 * ("Authorization: Api-Token"); the probe lists one metric.
 *
 * Pure parser below; the backend's handle is used by one thread at a time.
 */
#ifndef PERCH_METRICS_DYNATRACE_H
#define PERCH_METRICS_DYNATRACE_H

#include <stddef.h>

#include "engine/providers.h"

/* A Metrics API v2 answer: the first value of the last data entry of the
 * first result.  ST_OK (a value, or no data: no result, data or values,
 * or a null value — Flagger reads null as 0, perch says "no values"), or
 * ST_PARSE with out an error.  out's message is sanitized. */
int dynatrace_parse(const char *body, size_t len, struct metric_value *out);

#endif
