/*
 * cloudwatch.h — the metric backend of MetricTemplates of type cloudwatch
 * (cloudwatch_backend, metrics/backend.h): CloudWatch GetMetricData
 * (reference §4.3) over its JSON protocol (POST /, X-Amz-Target
 * GraniteServiceVersion20100801.GetMetricData, application/x-amz-json-1.0),
 * signed with AWS Signature Version 4 (metrics/sigv4.h).  The query is a
 * JSON array of MetricDataQuery; the window is now − 10 × interval … now,
 * MaxDatapoints 20.  Credentials as the AWS SDK finds them in the
 * environment or the shared credentials and config files, read at each
 * request (metrics/aws_creds.h).  The endpoint is https://monitoring.<region>.amazonaws.com
 * unless spec.provider.address names another.
 *
 * Pure parser below; the backend's handle is used by one thread at a time.
 */
#ifndef PERCH_METRICS_CLOUDWATCH_H
#define PERCH_METRICS_CLOUDWATCH_H

#include <stddef.h>

#include "engine/providers.h"

/* A GetMetricData JSON answer: MetricDataResults[0].Values[0].  ST_OK (a
 * value, or no data: no results or no values), or ST_PARSE/ST_ERR (an AWS
 * error answer, {"__type", "message"}) with out an error. */
int cloudwatch_parse(const char *body, size_t len, struct metric_value *out);

#endif
