/* fuzz_sanitize.c — the terminal sanitiser never writes out of bounds and
 * always produces valid UTF-8 with no control characters or escapes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outsz = size > 0 ? (size_t)data[0] + 1 : 1;
	char *out = malloc(outsz);
	size_t n = sanitize(out, outsz, (const char *)data, size), i, len;
	unsigned int cp;

	if (n >= outsz || out[n] != '\0')
		abort();
	for (i = 0; i < n; i += len) {
		len = utf8_decode((const unsigned char *)out + i, n - i, &cp);
		if (len == 0 || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
		    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
			abort();
	}
	free(out);
	return 0;
}
