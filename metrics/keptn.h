/*
 * keptn.h — the metric backend of MetricTemplates of type keptn
 * (keptn_backend, metrics/backend.h): Keptn's metrics.keptn.sh/v1beta1
 * objects read through the Kubernetes API (reference §4.9), with the
 * cluster connection app/ gives (struct metric_backend_opts.kube,
 * metrics/kube.h).  The query, lower-cased and trimmed, is
 * <kind>/<namespace>/<name>[/<timeframe>[/<k=v;k=v>]]:
 *   keptnmetric(s)/NS/NAME  the KeptnMetric's status.value (a string);
 *   analysis/analyses/NS/NAME[/TIMEFRAME[/ARGS]]  a new Analysis of the
 *     AnalysisDefinition NAME over the recent TIMEFRAME (default 1m) with
 *     ARGS, read every second until it is Completed (status.pass: 1, else
 *     0; Flagger also waits for status.pass, which Keptn omits when
 *     false), for at most KEPTN_ANALYSIS_WAIT_MS, then deleted.
 *
 * Pure functions below (the parsers, for the tests and the fuzz target);
 * any thread.  The backend's handle is used by one thread at a time.
 */
#ifndef PERCH_METRICS_KEPTN_H
#define PERCH_METRICS_KEPTN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/providers.h"

#define KEPTN_ANALYSIS_WAIT_MS 10000	/* Flagger's wait for an Analysis */
#define KEPTN_POLL_MS          1000	/* between two reads of it */

enum keptn_kind { KEPTN_METRIC, KEPTN_ANALYSIS };

struct keptn_query {
	enum keptn_kind kind;
	char *ns, *name;
	char *timeframe;		/* analyses: "1m" unless given */
	json_t *args;			/* analyses: {"k":"v"}, owned */
};

/* Reads a query: ST_OK with q filled (keptn_query_fini), or ST_INVALID
 * with err. */
int keptn_query_parse(const char *query, struct keptn_query *q, char *err, size_t errsz);
void keptn_query_fini(struct keptn_query *q);

/* A KeptnMetric object: its status.value into out (CHECK_PASS), or
 * CHECK_ERROR saying why there is none (naming status.errMsg if set). */
void keptn_metric_value(const json_t *obj, struct metric_value *out);
/* An Analysis object: true when it is Completed (out: 1 when status.pass
 * is true, else 0: Keptn omits a false pass); false while it is not. */
bool keptn_analysis_done(const json_t *obj, struct metric_value *out);

#endif
