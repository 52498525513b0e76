/*
 * sigv4.h — AWS Signature Version 4 (HMAC-SHA256): the Authorization header
 * of a request, for the cloudwatch metric backend.  Checked against the
 * AWS-documented test vectors (tests/unit/test_metric_saas.c).
 *
 * Pure functions, any thread.  The secret key is only read; the caller
 * wipes its copies.
 */
#ifndef PERCH_METRICS_SIGV4_H
#define PERCH_METRICS_SIGV4_H

#include <stddef.h>

#define SIGV4_MAX_HEADERS 8

struct sigv4_req {
	const char *method;		/* "POST" */
	const char *path;		/* canonical URI, already encoded ("/") */
	const char *query;		/* canonical query string (sorted, encoded), or "" */
	/* Signed headers: lower-case names in ascending order, values trimmed. */
	const char *names[SIGV4_MAX_HEADERS];
	const char *values[SIGV4_MAX_HEADERS];
	size_t n_headers;
	const char *body;		/* payload, or NULL */
	size_t body_len;
	const char *amz_date;		/* "20150830T123600Z" (also a signed x-amz-date) */
	const char *region, *service;
	const char *access_key, *secret_key;
};

/* Writes "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
 * into out (outsz >= 512 is always enough for 8 headers of short names). */
void sigv4_authorization(const struct sigv4_req *r, char *out, size_t outsz);

#endif
