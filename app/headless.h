/*
 * headless.h — the runner's sink for headless runs: one JSON object per
 * line on a stream (stdout), flushed per line, as DESIGN.md §4:
 *
 *   {"time","canary":"ns/name","phase","weight","failedChecks","iteration",
 *    "type","reason","message"}                                  (events)
 *   {"time","canary","kind":"check","metric","value","min","max","result"}
 *
 * "time" is RFC 3339 UTC from the record's (virtual) time; "value", "min"
 * and "max" are null when absent.  Strings are sanitized again on the way
 * out (they may come from the cluster).
 *
 * Threads: headless_sink runs on the runner thread (the runner's sink
 * callback); one stream per sink.  Ownership: the stream is borrowed.
 */
#ifndef PERCH_APP_HEADLESS_H
#define PERCH_APP_HEADLESS_H

#include <stdio.h>

#include "engine/providers.h"

/* A new JSON line (no newline) for rec; the caller frees it. */
char *headless_format(const struct journal_rec *rec);
/* The runner's sink: arg is the FILE * to write to. */
void headless_sink(void *arg, const struct journal_rec *rec);

#endif
