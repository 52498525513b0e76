/*
 * headless.c — JSON lines for headless runs (see headless.h).
 *
 * jansson builds each object with its keys in the documented order
 * (JSON_PRESERVE_ORDER); numbers are rounded to three decimals and printed
 * with at most 10 significant digits, so the output is stable and readable
 * ("99.95", not "99.950000000000003").
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/clock.h"
#include "app/headless.h"
#include "util/sanitize.h"
#include "util/xalloc.h"

#define FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

static json_t *
str(const char *s)
{
	char clean[512];

	sanitize(clean, sizeof clean, s, strlen(s));
	return json_string(clean);
}

static json_t *
num(bool present, double v)
{
	if (!present || !isfinite(v))
		return json_null();
	return json_real(round(v * 1000.0) / 1000.0);
}

static json_t *
record_object(const struct journal_rec *rec)
{
	json_t *o = json_object();
	char when[40];

	clock_format_rfc3339(rec->time_ms, when, sizeof when);
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "canary", str(rec->canary));
	if (rec->kind == REC_CHECK) {
		json_object_set_new(o, "kind", json_string("check"));
		json_object_set_new(o, "metric", str(rec->metric));
		json_object_set_new(o, "value", num(rec->has_value, rec->value));
		json_object_set_new(o, "min", num(rec->has_min, rec->min));
		json_object_set_new(o, "max", num(rec->has_max, rec->max));
		json_object_set_new(o, "result", json_string(check_result_name(rec->result)));
		return o;
	}
	json_object_set_new(o, "phase", json_string(phase_name(rec->phase)));
	json_object_set_new(o, "weight", json_integer(rec->weight));
	json_object_set_new(o, "failedChecks", json_integer(rec->failed_checks));
	json_object_set_new(o, "iteration", json_integer(rec->iteration));
	json_object_set_new(o, "type", rec->type[0] != '\0' ? str(rec->type) :
	    json_string(severity_name(rec->severity)));
	json_object_set_new(o, "reason", str(rec->reason));
	json_object_set_new(o, "message", str(rec->message));
	return o;
}

char *
headless_format(const struct journal_rec *rec)
{
	json_t *o = record_object(rec);
	char *s = json_dumps(o, FLAGS);

	json_decref(o);
	if (s == NULL)
		xalloc_fatal(0);
	return s;
}

void
headless_sink(void *arg, const struct journal_rec *rec)
{
	FILE *out = arg;
	char *line = headless_format(rec);

	fputs(line, out);
	fputc('\n', out);
	fflush(out);
	free(line);
}
