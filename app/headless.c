/*
 * headless.c — JSON lines for headless runs (see headless.h).
 *
 * The object is the display form of journal_to_json_form (store/codec.h),
 * the builder the state directory's journal uses too: keys in the
 * documented order, strings sanitized, numbers rounded to three decimals;
 * printed here with at most 10 significant digits, so the output is stable
 * and readable ("99.95", not "99.950000000000003").
 */
#include <jansson.h>
#include <stdlib.h>

#include "app/headless.h"
#include "store/codec.h"
#include "util/xalloc.h"

#define FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))

char *
headless_format(const struct journal_rec *rec)
{
	json_t *o = journal_to_json_form(rec, JOURNAL_DISPLAY);
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
