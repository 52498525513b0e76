/* fuzz_judge_annotations.c — the perch.dev/compare* annotation parser
 * never crashes, leaks or overruns: the first input byte picks the key
 * (one of the four, a typo in the family, or a key that is not the
 * judge's), the rest is the value.  Success leaves a config within its
 * bounds; failure leaves it as it was, with a sanitised message naming
 * the annotation. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/judge.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = {
	"perch.dev/compare", "perch.dev/compare-confidence", "perch.dev/compare-tolerance",
	"perch.dev/compare-scores", "perch.dev/compare-typo", "flagger.app/other",
};

static void
check_config(const struct judge_config *c)
{
	size_t i, j, k;

	if (!(c->confidence > 0 && c->confidence < 1) || !(c->tolerance >= 0 && c->tolerance < 1) ||
	    !(c->scores.marginal >= 0 && c->scores.marginal <= c->scores.pass &&
	    c->scores.pass <= 100))
		abort();
	for (i = 0; i < c->n_metrics; i++) {
		if (c->metrics[i].metric[0] == '\0' || c->metrics[i].direction >= JUDGE_DIR__COUNT)
			abort();
		for (k = 0; c->metrics[i].metric[k] != '\0'; k++)
			if ((unsigned char)c->metrics[i].metric[k] < 0x20)
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(c->metrics[i].metric, c->metrics[j].metric) == 0)
				abort();
	}
}

static void
check_message(const char *err)
{
	size_t i;

	if (strncmp(err, "annotation ", 11) != 0)
		abort();
	for (i = 0; err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7F)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct judge_config c;
	char *value, err[256];
	size_t before;
	double conf;
	int st;

	if (size == 0)
		return 0;
	value = malloc(size);
	memcpy(value, data + 1, size - 1);
	value[size - 1] = '\0';
	judge_config_init(&c);
	judge_config_apply(&c, "perch.dev/compare", "a=increase", NULL, 0);
	before = c.n_metrics;
	conf = c.confidence;
	err[0] = '\0';
	st = judge_config_apply(&c, keys[data[0] % (sizeof keys / sizeof keys[0])], value, err,
	    sizeof err);
	if (st == ST_OK) {
		check_config(&c);
	} else {
		check_message(err);
		if (c.n_metrics != before || strcmp(c.metrics[0].metric, "a") != 0 || c.confidence != conf)
			abort();
	}
	judge_config_fini(&c);
	free(value);
	return 0;
}
