/* fuzz_keptn_answer.c — the keptn metric backend's readers of outside
 * input never crash, and what they return is consistent: the input as a
 * query (its grammar), and as a KeptnMetric or Analysis object read from
 * the cluster (a value, not NaN, with an empty message, else an error
 * with a non-empty sanitized message). */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/keptn.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
consistent(const struct metric_value *v)
{
	size_t i, n = strnlen(v->err, sizeof v->err);

	if (n == sizeof v->err)
		abort();
	if (v->result == CHECK_PASS && (isnan(v->value) || n != 0))
		abort();
	if (v->result != CHECK_PASS && (n == 0 || v->result != CHECK_ERROR))
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)v->err[i] < 0x20 || v->err[i] == 0x7f)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[512];
	struct keptn_query q;
	struct metric_value v;
	json_t *obj;

	memcpy(s, data, size);
	s[size] = '\0';
	if (keptn_query_parse(s, &q, err, sizeof err) == ST_OK) {
		if (q.ns[0] == '\0' || q.name[0] == '\0' || q.timeframe == NULL || q.args == NULL)
			abort();
		keptn_query_fini(&q);
	}
	free(s);
	obj = json_loadb((const char *)data, size, 0, NULL);
	memset(&v, 0, sizeof v);
	keptn_metric_value(obj, &v);
	consistent(&v);
	memset(&v, 0, sizeof v);
	if (keptn_analysis_done(obj, &v))
		consistent(&v);
	json_decref(obj);
	return 0;
}
