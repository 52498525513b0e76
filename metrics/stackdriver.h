/*
 * stackdriver.h — the metric backend of MetricTemplates of type stackdriver
 * (stackdriver_backend, metrics/backend.h): Google Cloud Monitoring's
 * QueryTimeSeries (MQL, reference §4.6).  Flagger calls it over gRPC; perch
 * calls the documented REST form of the same method,
 * POST <address>/v3/projects/<project>/timeSeries:query {"query": MQL},
 * address https://monitoring.googleapis.com unless spec.provider.address
 * names another.  The project is the Secret's `project`.  With a Secret's
 * serviceAccountKey (a JSON key), the access token is its own: an RS256 JWT
 * posted to the key's token_uri (metrics/google_sa.h), kept on the provider
 * block until a minute before it expires.  Without one it comes from the
 * metadata server (Application Default Credentials on GKE with Workload
 * Identity, or on GCE): GET http://<GCE_METADATA_HOST or
 * metadata.google.internal>/computeMetadata/v1/instance/service-accounts/
 * default/token with Metadata-Flavor: Google, kept until it expires.  A
 * query answered 401 is sent once more with a new token.
 *
 * Pure parser below; the backend's handle is used by one thread at a time.
 */
#ifndef PERCH_METRICS_STACKDRIVER_H
#define PERCH_METRICS_STACKDRIVER_H

#include <stddef.h>

#include "engine/providers.h"

/* A QueryTimeSeries answer: timeSeriesData[0].pointData[0].values[0], its
 * doubleValue or int64Value (Flagger reads an int64Value as 0; perch as the
 * number).  ST_OK (a value, or no data: no series, points or values), or
 * ST_PARSE/ST_ERR (Google's error JSON) with out an error. */
int stackdriver_parse(const char *body, size_t len, struct metric_value *out);

#endif
