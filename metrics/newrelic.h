/*
 * newrelic.h — the parser of the newrelic metric backend's answers (newrelic.c), for the
 * tests and the fuzz target.  Pure functions, any thread.
 */
#ifndef PERCH_METRICS_NEWRELIC_H
#define PERCH_METRICS_NEWRELIC_H

#include <stddef.h>

#include "engine/providers.h"

/* An answer (HTTP 2xx) into out: a value (CHECK_PASS), CHECK_NODATA or
 * CHECK_ERROR with a sanitised message. */
void newrelic_parse(const char *body, size_t len, struct metric_value *out);

#endif
