/* fuzz_saas_response.c — the answer parsers of the SaaS metric backends
 * never crash, and what they return is consistent: a value only with
 * ST_OK, a non-empty sanitized message otherwise.  The first byte picks
 * the parser, the rest is the answer. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/cloudwatch.h"
#include "metrics/dynatrace.h"
#include "metrics/splunk.h"
#include "metrics/stackdriver.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*parser)(const char *, size_t, struct metric_value *);

static const parser parsers[] = {
	dynatrace_parse,
	cloudwatch_parse,
	splunk_parse,
	stackdriver_parse,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metric_value v;
	size_t i, n;
	int st;

	if (size == 0)
		return 0;
	memset(&v, 0x55, sizeof v);
	st = parsers[data[0] % (sizeof parsers / sizeof parsers[0])]((const char *)data + 1,
	    size - 1, &v);
	n = strnlen(v.err, sizeof v.err);
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
