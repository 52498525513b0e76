/*
 * builtin.h — Flagger's built-in metrics: request-success-rate (percent)
 * and request-duration (milliseconds), with the PromQL of every observer of
 * reference §3.2, chosen by the rules of §3.1; plus the request volume
 * over the window that perch's minimum-traffic guard needs.
 *
 * Queries come out rendered (render.h) and whitespace-collapsed, exactly
 * the string Flagger sends.  Pure functions, safe from any thread.
 */
#ifndef PERCH_METRICS_BUILTIN_H
#define PERCH_METRICS_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/canary.h"
#include "engine/routers.h"
#include "metrics/render.h"

/* The observers (PromQL sets) are enum observer of the provider registry
 * (engine/routers.h), with observer_name(). */

/* §3.1: the observer for spec.provider (NULL or "" = Flagger's default
 * mesh provider, istio) and spec.targetRef.kind (NULL = Deployment), as
 * the provider registry says (provider_observer). */
enum observer builtin_observer(const char *provider, const char *target_kind);

/* The metric kind of a metrics[].name: a built-in name, or METRIC_CUSTOM. */
enum metric_kind builtin_kind(const char *metric_name);

/* The raw template (before rendering) of a built-in, or of the request
 * volume when volume is true (kind is then ignored); NULL for
 * METRIC_CUSTOM.  Static strings. */
const char *builtin_template(enum observer o, enum metric_kind k, bool volume);

/* Renders a built-in query (or its volume query) for ctx and collapses
 * white space.  Skipper's names are encoded as Flagger does (\W -> _).
 * ST_OK with *out a new string, else an error status and err. */
int builtin_render(enum observer o, enum metric_kind k, bool volume,
    const struct render_ctx *ctx, char **out, char *err, size_t errsz);

/* A request-duration value as Flagger sees it: Prometheus' number to whole
 * milliseconds (truncated); the http observer's query gives seconds, so it
 * is multiplied by 1000 first. */
double builtin_duration_ms(enum observer o, double value);

/* Compares a value with a metric's thresholdRange (§3.3): below min or
 * above max fails, equality passes.  For request-duration the bounds are
 * whole milliseconds (truncated), as in Flagger.  CHECK_PASS, CHECK_FAIL,
 * or CHECK_NODATA for NaN. */
enum check_result metric_judge(const struct metric_cfg *m, double value);

#endif
