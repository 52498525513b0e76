/*
 * graphite.h — the parts of the graphite metric backend (graphite.c) the
 * tests and the fuzz target reach.  Pure functions, any thread.
 */
#ifndef PERCH_METRICS_GRAPHITE_H
#define PERCH_METRICS_GRAPHITE_H

#include <stddef.h>

#include "engine/providers.h"

/* A render API answer (format=json) into out: the last non-null value of
 * all targets (CHECK_PASS), CHECK_NODATA, or CHECK_ERROR. */
void graphite_parse(const char *body, size_t len, struct metric_value *out);
/* The query string perch sends for a template's query: white space
 * collapsed, format=json, keys sorted, percent-encoded.  A new string, or
 * NULL with err (a bad %-escape). */
char *graphite_params(const char *query, char *err, size_t errsz);

#endif
