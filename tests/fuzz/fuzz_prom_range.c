/* fuzz_prom_range.c — the parser of Prometheus' range-query answers (the
 * comparison judge's samples) never crashes, and whatever it returns is
 * consistent: samples only with ST_OK, at most METRIC_SAMPLES_MAX, none
 * NaN; a non-empty sanitized message otherwise. */
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
	static struct metric_samples s;
	int st = prom_parse_range((const char *)data, size, &s);
	size_t i, n = strnlen(s.err, sizeof s.err);

	if (n == sizeof s.err || s.n > METRIC_SAMPLES_MAX)
		abort();
	if (s.result == CHECK_PASS && (st != ST_OK || s.n == 0))
		abort();
	if (s.result != CHECK_PASS && (n == 0 || s.n != 0))
		abort();
	if (st != ST_OK && s.result != CHECK_ERROR)
		abort();
	for (i = 0; i < s.n; i++)
		if (isnan(s.v[i]))
			abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)s.err[i] < 0x20 || s.err[i] == 0x7f)
			abort();
	return 0;
}
