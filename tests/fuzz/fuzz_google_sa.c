/* fuzz_google_sa.c — the parsers of a service account's JSON key and of
 * the token endpoint's answer never crash and answer consistently: fields
 * or a token only with ST_OK, a non-empty message otherwise.  The first
 * byte picks the parser, the rest is the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/google_sa.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
key(const char *s, size_t n)
{
	struct google_sa_key k;
	char why[160] = "";
	int st = google_sa_key_parse(s, n, &k, why, sizeof why);

	if (st == ST_OK && (k.client_email == NULL || k.private_key == NULL ||
	    k.token_uri == NULL))
		abort();
	if (st != ST_OK && (st != ST_INVALID || why[0] == '\0' || k.private_key != NULL))
		abort();
	google_sa_key_fini(&k);
}

static void
token(const char *s, size_t n)
{
	char why[160] = "", *tok;
	int64_t ttl;
	int st = google_sa_token_parse(s, n, &tok, &ttl, why, sizeof why);

	if (st == ST_OK && (tok == NULL || tok[0] == '\0' || strpbrk(tok, "\r\n") || ttl <= 0))
		abort();
	if (st != ST_OK && (st != ST_PARSE || tok != NULL || why[0] == '\0'))
		abort();
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		key((const char *)data + 1, size - 1);
	else
		token((const char *)data + 1, size - 1);
	return 0;
}
