/*
 * sha256.h — SHA-256 (FIPS 180-4), for revision ids and config checksums,
 * and HMAC-SHA256 (RFC 2104), for AWS Signature Version 4.
 * Pure functions, any thread.
 */
#ifndef PERCH_UTIL_SHA256_H
#define PERCH_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* The first `hexlen` hex digits (<= 64) of sha256(p, n) into out (hexlen+1 bytes). */
void sha256_hex(const void *p, size_t n, char *out, size_t hexlen);

/* HMAC-SHA256 of msg under key (RFC 2104). */
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32]);

#endif
