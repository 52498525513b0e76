/*
 * sigv4.c — AWS Signature Version 4 (see sigv4.h): canonical request,
 * string to sign, the derived signing key, the signature.
 */
#include <stdio.h>
#include <string.h>

#include "util/sha256.h"
#include "metrics/sigv4.h"
#include "util/buf.h"

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
canonical_request(const struct sigv4_req *r, struct buf *b, char *signed_names, size_t sz)
{
	char payload[65];
	size_t i, used = 0;

	sha256_hex(r->body != NULL ? r->body : "", r->body != NULL ? r->body_len : 0, payload, 64);
	buf_printf(b, "%s\n%s\n%s\n", r->method, r->path, r->query != NULL ? r->query : "");
	signed_names[0] = '\0';
	for (i = 0; i < r->n_headers && i < SIGV4_MAX_HEADERS; i++) {
		buf_printf(b, "%s:%s\n", r->names[i], r->values[i]);
		used += (size_t)snprintf(signed_names + used, used < sz ? sz - used : 0, "%s%s",
		    i ? ";" : "", r->names[i]);
	}
	buf_printf(b, "\n%s\n%s", signed_names, payload);
}

/* HMAC("AWS4" + secret, date): the first step of the signing key. */
static void
signing_date_key(const char *secret, const char *date, unsigned char out[32])
{
	struct buf kb;

	buf_init(&kb, 0);
	buf_printf(&kb, "AWS4%s", secret);
	hmac_sha256(kb.data, kb.len, date, strlen(date), out);
	memset(kb.data, 0, kb.len);
	buf_fini(&kb);
}

void
sigv4_authorization(const struct sigv4_req *r, char *out, size_t outsz)
{
	char names[256], date[9], creq_hash[65], sig[65], scope[160];
	unsigned char k[32], k2[32];
	struct buf b;

	buf_init(&b, 0);
	canonical_request(r, &b, names, sizeof names);
	sha256_hex(buf_str(&b), b.len, creq_hash, 64);
	snprintf(date, sizeof date, "%.8s", r->amz_date);
	snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, r->region, r->service);
	buf_reset(&b);
	buf_printf(&b, "AWS4-HMAC-SHA256\n%s\n%s\n%s", r->amz_date, scope, creq_hash);
	signing_date_key(r->secret_key, date, k);
	hmac_sha256(k, 32, r->region, strlen(r->region), k2);
	hmac_sha256(k2, 32, r->service, strlen(r->service), k);
	hmac_sha256(k, 32, "aws4_request", 12, k2);
	hmac_sha256(k2, 32, buf_str(&b), b.len, k);
	hex(k, 32, sig);
	memset(k2, 0, sizeof k2);
	buf_fini(&b);
	snprintf(out, outsz, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	    r->access_key, scope, names, sig);
}
