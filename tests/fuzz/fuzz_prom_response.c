/* fuzz_prom_response.c — the Prometheus answer parser never crashes, and
 * whatever it returns is consistent: a value only with ST_OK, a non-empty
 * sanitized message otherwise. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/prom.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metric_value v;
	int st = prom_parse((const char *)data, size, &v);
	size_t i, n = strnlen(v.err, sizeof v.err);

	if (n == sizeof v.err)
		abort();
	if (v.result == CHECK_PASS && (st != ST_OK || isnan(v.value)))
		abort();
	if (v.result != CHECK_PASS && n == 0)
		abort();
	if (st != ST_OK && v.result != CHECK_ERROR)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)v.err[i] < 0x20 || v.err[i] == 0x7f)
			abort();
	return 0;
}
