/*
 * externalmetrics.h — the parser of the externalmetrics metric backend's answers (externalmetrics.c), for the
 * tests and the fuzz target.  Pure functions, any thread.
 */
#ifndef PERCH_METRICS_EXTERNALMETRICS_H
#define PERCH_METRICS_EXTERNALMETRICS_H

#include <stddef.h>

#include "engine/providers.h"

/* An answer (HTTP 2xx) into out: a value (CHECK_PASS), CHECK_NODATA or
 * CHECK_ERROR with a sanitised message. */
void externalmetrics_parse(const char *body, size_t len, struct metric_value *out);
/* A Kubernetes quantity ("1500m", "2Ki", "1e3") into *out: ST_OK or ST_PARSE. */
int quantity_parse(const char *s, double *out);
/* The request path of a query [<ns>/]<metric>[?labelSelector=...]: ST_OK
 * with *path new, or ST_INVALID with err. */
int externalmetrics_path(const char *query, char **path, char *err, size_t errsz);

#endif
