/* fuzz_graphite_answer.c — the parser of the graphite metric backend's answers
 * never crashes, and what it returns is consistent: a value (not NaN)
 * with an empty message, else a non-empty sanitized message. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/graphite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metric_value v;
	size_t i, n;

	memset(&v, 0, sizeof v);
	graphite_parse((const char *)data, size, &v);
	n = strnlen(v.err, sizeof v.err);
	if (n == sizeof v.err)
		abort();
	if (v.result == CHECK_PASS && (isnan(v.value) || n != 0))
		abort();
	if (v.result != CHECK_PASS && (n == 0 || (v.result != CHECK_NODATA &&
	    v.result != CHECK_ERROR)))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)v.err[i] < 0x20 || v.err[i] == 0x7f)
			abort();
	return 0;
}
