/*
 * store_codec.h — JSON forms of what the state directory keeps: a
 * canary_status, a canary_cfg and a journal record (jansson).  Used by
 * app/store_dir.c; kept apart so the conversions can be tested and read on
 * their own.
 *
 * Encoders return a new jansson reference (json_decref it).  Decoders never
 * take ownership of the JSON they read; on bad input they return ST_CORRUPT
 * with err (errsz bytes) naming the field and what is wrong.  Pure functions,
 * safe from any thread.
 */
#ifndef PERCH_APP_STORE_CODEC_H
#define PERCH_APP_STORE_CODEC_H

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

json_t *journal_to_json(const struct journal_rec *r);
int journal_from_json(const json_t *o, struct journal_rec *out, char *err, size_t errsz);

/* "2026-11-26T12:40:18.123Z" (UTC, milliseconds); sz >= 32. */
void rfc3339_ms(int64_t ms, char *out, size_t sz);
/* Parses what rfc3339_ms writes (also without the fraction); ST_OK/ST_PARSE. */
int rfc3339_parse_ms(const char *s, int64_t *ms);

/* 64-bit FNV-1a of n bytes. */
uint64_t fnv1a64(const void *p, size_t n);

#endif
