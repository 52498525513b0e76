/* fuzz_aws_ini.c — the parser of the AWS shared credentials and config
 * files never crashes, and answers consistently: values only with ST_OK,
 * a message naming the file and a line otherwise.  The first byte picks
 * the section looked for. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/aws_creds.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const sections[] = { "default", "profile dev", "a" };
static const char *const keys[] = { "aws_access_key_id", "aws_secret_access_key",
	"aws_session_token" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[3], err[256];
	size_t i;
	int st;

	if (size == 0)
		return 0;
	err[0] = '\0';
	st = aws_ini_get((const char *)data + 1, size - 1, "f", sections[data[0] % 3], keys, v,
	    3, err, sizeof err);
	if (st != ST_OK && (strncmp(err, "f:", 2) != 0 || v[0] != NULL || v[1] != NULL ||
	    v[2] != NULL))
		abort();
	if (st != ST_OK && st != ST_PARSE)
		abort();
	for (i = 0; i < 3; i++) {
		if (v[i] != NULL && strchr(v[i], '\n') != NULL)
			abort();
		free(v[i]);
	}
	return 0;
}
