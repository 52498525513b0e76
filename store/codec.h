/*
 * codec.h — JSON forms of what the state directory keeps: a
 * canary_status, a canary_cfg and a journal record (jansson).  Used by
 * store/dir.c; kept apart so the conversions can be tested and read on
 * their own.
 *
 * Encoders return a new jansson reference (json_decref it).  Decoders never
 * take ownership of the JSON they read; on bad input they return ST_CORRUPT
 * with err (errsz bytes) naming the field and what is wrong.  Pure functions,
 * safe from any thread.
 */
#ifndef PERCH_STORE_CODEC_H
#define PERCH_STORE_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/providers.h"

json_t *status_to_json(const struct canary_status *st);
int status_from_json(const json_t *o, struct canary_status *out, char *err, size_t errsz);

json_t *spec_to_json(const struct canary_cfg *c);
/* *out is allocated (canary_cfg_free) only on ST_OK. */
int spec_from_json(const json_t *o, struct canary_cfg **out, char *err, size_t errsz);

/* How a journal record is written.  One builder serves both forms, so the
 * keys and their order (DESIGN.md §4) cannot drift apart:
 *   JOURNAL_STORED   the state directory and the cluster store: every field
 *                    (also "severity" and "actor" of events, and the status
 *                    at the time of a check), numbers at full precision,
 *                    strings as they are (one that is not valid UTF-8, which
 *                    JSON cannot hold, is sanitized rather than dropped),
 *                    the time always with milliseconds;
 *   JOURNAL_DISPLAY  the headless JSON lines: the documented keys only
 *                    (an event without a type is typed by its severity),
 *                    numbers rounded to three decimals, strings sanitized
 *                    (util/sanitize.h), ".mmm" only when not zero. */
enum journal_form { JOURNAL_STORED, JOURNAL_DISPLAY };
json_t *journal_to_json_form(const struct journal_rec *r, enum journal_form form);
/* journal_to_json_form(r, JOURNAL_STORED). */
json_t *journal_to_json(const struct journal_rec *r);
int journal_from_json(const json_t *o, struct journal_rec *out, char *err, size_t errsz);

/* Parses what clock_format_rfc3339_ms and clock_format_rfc3339 write
 * (app/clock.h): "2026-11-26T12:40:18.123Z", the fraction optional;
 * ST_OK/ST_PARSE. */
int rfc3339_parse_ms(const char *s, int64_t *ms);

/* 64-bit FNV-1a of n bytes. */
uint64_t fnv1a64(const void *p, size_t n);

#endif
