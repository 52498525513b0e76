/* test_google_sa.c — Google's service-account sign-in: the JSON key and
 * its errors (naming fields, never values), the RS256 JWT checked with the
 * key's public half through libcrypto (header, claims, signature), the
 * token request's form body, and the token endpoint's answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/kubeconfig.h"
#include "metrics/google_sa.h"
#include "util/status.h"

static EVP_PKEY *pkey;
static char *pem;

static int
setup(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	(void)state;
	pkey = EVP_RSA_gen(1024);	/* small: fast under valgrind; RS256 all the same */
	if (pkey == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		return -1;
	n = BIO_get_mem_data(bio, &p);
	pem = strndup(p, (size_t)n);
	BIO_free(bio);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(pkey);
	free(pem);
	return 0;
}

static char *
key_json(const char *email, const char *private_key, const char *token_uri)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "type", "service_account", "private_key_id", "k1",
	    "client_email", email);
	char *s;

	if (private_key != NULL)
		json_object_set_new(o, "private_key", json_string(private_key));
	if (token_uri != NULL)
		json_object_set_new(o, "token_uri", json_string(token_uri));
	s = json_dumps(o, 0);
	json_decref(o);
	return s;
}

static void
expect_bad(const char *json, const char *why)
{
	struct google_sa_key k;
	char msg[160];

	assert_int_equal(google_sa_key_parse(json, strlen(json), &k, msg, sizeof msg), ST_INVALID);
	assert_string_equal(msg, why);
	assert_null(k.client_email);
}

static void
test_key(void **state)
{
	char *j = key_json("a@p.iam.gserviceaccount.com", pem, NULL), msg[160];
	struct google_sa_key k;

	(void)state;
	assert_int_equal(google_sa_key_parse(j, strlen(j), &k, msg, sizeof msg), ST_OK);
	assert_string_equal(k.client_email, "a@p.iam.gserviceaccount.com");
	assert_string_equal(k.private_key_id, "k1");
	assert_string_equal(k.token_uri, GOOGLE_SA_TOKEN_URI);
	google_sa_key_fini(&k);
	free(j);
	expect_bad("not json", "is not a JSON object");
	expect_bad("[1]", "is not a JSON object");
	expect_bad("{\"private_key\": \"x\"}", "has no client_email");
	expect_bad("{\"client_email\": \"a\"}", "has no private_key");
	expect_bad("{\"client_email\": 7, \"private_key\": \"x\"}", "client_email is not a string");
	expect_bad("{\"client_email\": \"a\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n"
	    "c2VjcmV0\\n-----END PRIVATE KEY-----\\n\"}",
	    "private_key is not an RSA private key in PEM");
	j = key_json("a", "-----BEGIN EC PRIVATE KEY-----", NULL);
	expect_bad(j, "private_key is not an RSA private key in PEM");
	free(j);
}

/* Part i (0..2) of jwt, base64url-decoded. */
static char *
part(const char *jwt, int i, size_t *n)
{
	const char *p = jwt;
	char *seg, *out;

	while (i-- > 0)
		p = strchr(p, '.') + 1;
	seg = strndup(p, strcspn(p, "."));
	out = k8s_b64_decode(seg, n);
	free(seg);
	assert_non_null(out);
	return out;
}

static void
test_assertion(void **state)
{
	char *j = key_json("a@p.iam.gserviceaccount.com", pem, "http://127.0.0.1:9/token");
	char msg[160], *jwt, *h, *c, *sig;
	struct google_sa_key k;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n;

	(void)state;
	assert_int_equal(google_sa_key_parse(j, strlen(j), &k, msg, sizeof msg), ST_OK);
	assert_non_null(jwt = google_sa_assertion(&k, 1700000000, msg, sizeof msg));
	h = part(jwt, 0, &n);
	assert_string_equal(h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
	c = part(jwt, 1, &n);
	assert_string_equal(c, "{\"iss\":\"a@p.iam.gserviceaccount.com\",\"scope\":"
	    "\"https://www.googleapis.com/auth/monitoring.read\",\"aud\":"
	    "\"http://127.0.0.1:9/token\",\"iat\":1700000000,\"exp\":1700003600}");
	assert_null(strchr(jwt, '='));	/* base64url without padding */
	sig = part(jwt, 2, &n);
	assert_int_equal(n, 128);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_equal(EVP_DigestVerify(ctx, (unsigned char *)sig, n, (unsigned char *)jwt,
	    (size_t)(strrchr(jwt, '.') - jwt)), 1);
	jwt[3] ^= 1;	/* another header: the signature no longer verifies */
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, (unsigned char *)sig, n, (unsigned char *)jwt,
	    (size_t)(strrchr(jwt, '.') - jwt)), 1);
	EVP_MD_CTX_free(ctx);
	free(h), free(c), free(sig), free(jwt), free(j);
	google_sa_key_fini(&k);
}

static void
test_token_request(void **state)
{
	char *body = google_sa_token_request("aa.bb-_.cc");

	(void)state;
	assert_string_equal(body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
	    "&assertion=aa.bb-_.cc");
	free(body);
}

static void
test_token_answer(void **state)
{
	static const struct { const char *body; int st; int64_t ttl; const char *why; } rows[] = {
		{ "{\"access_token\":\"ya29.x\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
		  ST_OK, 3599, NULL },
		{ "{\"access_token\":\"ya29.x\"}", ST_OK, 3600, NULL },
		{ "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
		  ST_PARSE, 0, "invalid_grant: Invalid JWT Signature." },
		{ "{\"access_token\":\"\"}", ST_PARSE, 0, "the answer has no access_token" },
		{ "{\"access_token\":\"a\\nb\"}", ST_PARSE, 0, "the answer has no access_token" },
		{ "<html>", ST_PARSE, 0, "the answer is not a JSON object" },
	};
	char why[160], *tok;
	int64_t ttl;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		assert_int_equal(google_sa_token_parse(rows[i].body, strlen(rows[i].body), &tok, &ttl,
		    why, sizeof why), rows[i].st);
		if (rows[i].st == ST_OK) {
			assert_string_equal(tok, "ya29.x");
			assert_int_equal(ttl, rows[i].ttl);
			free(tok);
		} else {
			assert_null(tok);
			assert_string_equal(why, rows[i].why);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_assertion),
		cmocka_unit_test(test_token_request),
		cmocka_unit_test(test_token_answer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
