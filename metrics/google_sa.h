/*
 * google_sa.h — Google's service-account flow (OAuth 2.0 JWT bearer grant,
 * RFC 7523) for the stackdriver backend: the JSON key of a service account,
 * the RS256-signed assertion perch posts to the key's token_uri, and the
 * token endpoint's answer.  RSA through OpenSSL's libcrypto.
 *
 * Every string here may hold a secret: the key's fields, the assertion and
 * the token are wiped when freed and never put in a message (the messages
 * name fields only).  No global state: any thread.
 */
#ifndef PERCH_METRICS_GOOGLE_SA_H
#define PERCH_METRICS_GOOGLE_SA_H

#include <stddef.h>
#include <stdint.h>

#define GOOGLE_SA_SCOPE "https://www.googleapis.com/auth/monitoring.read"
#define GOOGLE_SA_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GOOGLE_SA_LIFETIME 3600		/* seconds of an assertion (Google's maximum) */

struct google_sa_key {
	char *client_email;
	char *private_key;		/* PEM, PKCS#8 or PKCS#1 RSA */
	char *private_key_id;		/* the JWT's kid, or NULL */
	char *token_uri;		/* the key's, else GOOGLE_SA_TOKEN_URI */
};

/* A service account's JSON key: ST_OK with k filled (google_sa_key_fini),
 * or ST_INVALID with why ("is not JSON", "has no client_email", "private_key
 * is not an RSA private key in PEM", ...; no value in it). */
int google_sa_key_parse(const char *json, size_t len, struct google_sa_key *k, char *why,
    size_t whysz);
void google_sa_key_fini(struct google_sa_key *k);

/* The signed JWT "header.claims.signature" (base64url) for k issued at iat
 * (unix seconds): iss client_email, scope GOOGLE_SA_SCOPE, aud token_uri,
 * iat, exp iat + GOOGLE_SA_LIFETIME; header alg RS256, typ JWT, kid
 * private_key_id.  A new string (xfree_secret), or NULL with why. */
char *google_sa_assertion(const struct google_sa_key *k, int64_t iat, char *why, size_t whysz);

/* The form body of the token request for assertion (a new string). */
char *google_sa_token_request(const char *assertion);

/* The token endpoint's JSON answer: ST_OK with *token (a new string) and
 * *expires_in (seconds; 3600 when absent), or ST_PARSE with why (the
 * answer's "error" and "error_description" when it has them, sanitised by
 * the caller). */
int google_sa_token_parse(const char *body, size_t len, char **token, int64_t *expires_in,
    char *why, size_t whysz);

#endif
