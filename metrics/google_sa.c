/*
 * google_sa.c — a service account's JSON key, its RS256 JWT assertion and
 * the token endpoint's answer (google_sa.h).
 */
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "metrics/google_sa.h"
#include "metrics/http_backend.h"
#include "util/status.h"
#include "util/xalloc.h"

/* The key's fields as in its JSON, the first two required. */
static const char *const field_names[] = { "client_email", "private_key", "private_key_id",
	"token_uri" };
#define N_FIELDS (sizeof field_names / sizeof field_names[0])

static char **
field_at(struct google_sa_key *k, size_t i)
{
	char **f[N_FIELDS] = { &k->client_email, &k->private_key, &k->private_key_id,
		&k->token_uri };

	return f[i];
}

void
google_sa_key_fini(struct google_sa_key *k)
{
	size_t i;

	for (i = 0; i < N_FIELDS; i++)
		xfree_secret(*field_at(k, i));
	memset(k, 0, sizeof *k);
}

/* The RSA private key of a PEM text, or NULL. */
static EVP_PKEY *
load_key(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (pk != NULL && EVP_PKEY_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	ERR_clear_error();
	return pk;
}

/* Field name of o as a new string: NULL when absent; *bad when present and
 * not a non-empty string. */
static char *
field(json_t *o, const char *name, bool *bad)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = true;
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

static int
key_fields(json_t *o, struct google_sa_key *k, char *why, size_t whysz)
{
	bool bad = false;
	size_t i;

	for (i = 0; i < N_FIELDS; i++) {
		*field_at(k, i) = field(o, field_names[i], &bad);
		if (bad)
			return snprintf(why, whysz, "%s is not a string", field_names[i]), ST_INVALID;
		if (*field_at(k, i) == NULL && i < 2)
			return snprintf(why, whysz, "has no %s", field_names[i]), ST_INVALID;
	}
	if (k->token_uri == NULL)
		k->token_uri = xstrdup(GOOGLE_SA_TOKEN_URI);
	return ST_OK;
}

int
google_sa_key_parse(const char *json, size_t len, struct google_sa_key *k, char *why,
    size_t whysz)
{
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	EVP_PKEY *pk;
	int st;

	memset(k, 0, sizeof *k);
	if (!json_is_object(o))
		st = (snprintf(why, whysz, "is not a JSON object"), ST_INVALID);
	else
		st = key_fields(o, k, why, whysz);
	json_decref(o);
	if (st == ST_OK && (pk = load_key(k->private_key)) == NULL)
		st = (snprintf(why, whysz, "private_key is not an RSA private key in PEM"), ST_INVALID);
	else if (st == ST_OK)
		EVP_PKEY_free(pk);
	if (st != ST_OK)
		google_sa_key_fini(k);
	return st;
}

/* n bytes of p in base64url without padding, appended at out (which has
 * room for 4 * (n + 2) / 3 + 1 bytes); returns the end. */
static char *
b64url(char *out, const unsigned char *p, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i + 2 < n; i += 3, out += 4) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];

		out[0] = a[v >> 18], out[1] = a[v >> 12 & 63], out[2] = a[v >> 6 & 63];
		out[3] = a[v & 63];
	}
	if (n - i == 1) {
		out[0] = a[p[i] >> 2], out[1] = a[(p[i] & 3) << 4];
		out += 2;
	} else if (n - i == 2) {
		out[0] = a[p[i] >> 2], out[1] = a[((p[i] & 3) << 4) | p[i + 1] >> 4];
		out[2] = a[(p[i + 1] & 15) << 2];
		out += 3;
	}
	*out = '\0';
	return out;
}

/* The RS256 signature of the n bytes at data into sig (room for sigsz):
 * its length, or 0. */
static size_t
rs256(EVP_PKEY *pk, const char *data, size_t n, unsigned char *sig, size_t sigsz)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = sigsz;

	if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, n) != 1)
		len = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return len;
}

/* "base64url(header).base64url(claims)" in a buffer with room for the
 * signature after it; *cap its size. */
static char *
signing_input(const struct google_sa_key *k, int64_t iat, size_t *cap)
{
	json_t *h = json_pack("{s:s,s:s}", "alg", "RS256", "typ", "JWT");
	json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", k->client_email, "scope",
	    GOOGLE_SA_SCOPE, "aud", k->token_uri, "iat", (json_int_t)iat, "exp",
	    (json_int_t)(iat + GOOGLE_SA_LIFETIME));
	char *hs, *cs, *out, *p;

	if (k->private_key_id != NULL)
		json_object_set_new(h, "kid", json_string(k->private_key_id));
	hs = json_dumps(h, JSON_COMPACT);
	cs = json_dumps(c, JSON_COMPACT);
	*cap = (strlen(hs) + strlen(cs)) * 4 / 3 + 1400;	/* + an 8192-bit signature */
	out = xmalloc(*cap);
	p = b64url(out, (const unsigned char *)hs, strlen(hs));
	*p++ = '.';
	b64url(p, (const unsigned char *)cs, strlen(cs));
	free(hs);
	xfree_secret(cs);
	json_decref(h);
	json_decref(c);
	return out;
}

char *
google_sa_assertion(const struct google_sa_key *k, int64_t iat, char *why, size_t whysz)
{
	EVP_PKEY *pk = load_key(k->private_key);
	unsigned char sig[1024];
	size_t cap, n = 0, len;
	char *out;

	if (pk == NULL) {
		snprintf(why, whysz, "private_key is not an RSA private key in PEM");
		return NULL;
	}
	out = signing_input(k, iat, &cap);
	len = strlen(out);
	if (EVP_PKEY_get_size(pk) <= (int)sizeof sig)
		n = rs256(pk, out, len, sig, sizeof sig);
	EVP_PKEY_free(pk);
	if (n == 0 || len + 2 + (n + 2) / 3 * 4 > cap) {
		snprintf(why, whysz, "cannot sign with private_key (RS256)");
		xfree_secret(out);
		return NULL;
	}
	out[len] = '.';
	b64url(out + len + 1, sig, n);
	return out;
}

char *
google_sa_token_request(const char *assertion)
{
	struct kv kv[2] = {
		{ .key = (char *)"grant_type",
		  .value = (char *)"urn:ietf:params:oauth:grant-type:jwt-bearer" },
		{ .key = (char *)"assertion", .value = (char *)assertion },
	};

	return hb_form_encode(kv, 2);
}

int
google_sa_token_parse(const char *body, size_t len, char **token, int64_t *expires_in,
    char *why, size_t whysz)
{
	json_t *o = json_loadb(body, len, 0, NULL), *e = json_object_get(o, "expires_in");
	const char *t = json_string_value(json_object_get(o, "access_token"));
	const char *err = json_string_value(json_object_get(o, "error"));
	const char *desc = json_string_value(json_object_get(o, "error_description"));
	int st = ST_OK;

	*token = NULL;
	*expires_in = 3600;
	if (!json_is_object(o)) {
		snprintf(why, whysz, "the answer is not a JSON object");
		st = ST_PARSE;
	} else if (t == NULL || t[0] == '\0' || strlen(t) != json_string_length(
	    json_object_get(o, "access_token")) || strpbrk(t, "\r\n") != NULL) {
		snprintf(why, whysz, "%s%s%s", err != NULL ? err : "the answer has no access_token",
		    desc != NULL ? ": " : "", desc != NULL ? desc : "");
		st = ST_PARSE;
	} else {
		*token = xstrdup(t);
		if (json_is_integer(e) && json_integer_value(e) > 0)
			*expires_in = json_integer_value(e);
	}
	json_decref(o);
	return st;
}
