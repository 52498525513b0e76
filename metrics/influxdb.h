/*
 * influxdb.h — the parser of the influxdb metric backend's answers (influxdb.c), for the
 * tests and the fuzz target.  Pure functions, any thread.
 */
#ifndef PERCH_METRICS_INFLUXDB_H
#define PERCH_METRICS_INFLUXDB_H

#include <stddef.h>

#include "engine/providers.h"

/* An answer (HTTP 2xx) into out: a value (CHECK_PASS), CHECK_NODATA or
 * CHECK_ERROR with a sanitised message. */
void influxdb_parse(const char *body, size_t len, struct metric_value *out);

#endif
