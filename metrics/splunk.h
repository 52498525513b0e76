/*
 * splunk.h — the metric backend of MetricTemplates of type splunk
 * (splunk_backend, metrics/backend.h): Splunk Observability Cloud
 * (SignalFx) SignalFlow (reference §4.10).  Flagger streams the program
 * over SignalFlow's WebSocket; perch runs the same program through the
 * documented REST endpoint, POST <stream>/v2/signalflow/execute (the
 * program as text/plain, start/stop of the window now − 10 × interval …
 * now in ms, immediate=true, header X-SF-Token from the Secret's
 * sf_token_key), whose answer is the same messages as Server-Sent Events.
 * <stream> is the address with its host's leading "api." label made
 * "stream." (https://api.us1.signalfx.com → https://stream.us1.signalfx.com);
 * the probe is GET <address>/v2/metric?limit=1.
 *
 * Pure parser below; the backend's handle is used by one thread at a time.
 */
#ifndef PERCH_METRICS_SPLUNK_H
#define PERCH_METRICS_SPLUNK_H

#include <stddef.h>

#include "engine/providers.h"

/* A SignalFlow SSE stream: the value of the last data point, when every
 * data point is of one time series.  ST_OK (a value, or no data), ST_ERR
 * (an error message, or data of several time series: "multiple values"),
 * ST_PARSE (a message that is not JSON). */
int splunk_parse(const char *body, size_t len, struct metric_value *out);

/* The stream URL of an address (see above), malloc'd. */
char *splunk_stream_url(const char *address);

#endif
