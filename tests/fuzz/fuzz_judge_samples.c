/* fuzz_judge_samples.c — the judge's statistics take whatever a metric
 * provider returns (NaN, infinities, huge and tiny values, ties, empty
 * windows) without crashing, hanging or leaking.  Byte 0 picks the
 * direction and the tolerance, byte 1 where the canary's values end; the
 * rest are doubles.  A verdict must agree with the interval it reports. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/judge.h"
#include "util/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct judge_params *p, const struct judge_metric *m)
{
	switch (m->classification) {
	case JUDGE_HIGH:
		if (p->direction == JUDGE_DIR_DECREASE || !(m->lower > m->bound))
			abort();
		break;
	case JUDGE_LOW:
		if (p->direction == JUDGE_DIR_INCREASE || !(m->upper < -m->bound))
			abort();
		break;
	case JUDGE_PASS:
	case JUDGE_NODATA:
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct judge_params p;
	struct judge_metric m;
	struct judge_mw mw;
	double *v;
	size_t n, nx;
	char err[128];
	int st;

	if (size < 2 || size > 2 + 8 * 512)
		return 0;
	n = (size - 2) / 8;
	v = malloc((n > 0 ? n : 1) * sizeof *v);
	memcpy(v, data + 2, n * sizeof *v);
	nx = n > 0 ? data[1] % (n + 1) : 0;
	judge_params_init(&p);
	p.direction = (enum judge_direction)(data[0] % JUDGE_DIR__COUNT);
	p.tolerance = (double)(data[0] / JUDGE_DIR__COUNT) / 100.0;
	st = judge_classify(&p, "m", v, nx, v + nx, n - nx, &m, err, sizeof err);
	if (st == ST_OK)
		check(&p, &m);
	else if (st != ST_INVALID || m.classification != JUDGE_ERROR || err[0] == '\0')
		abort();
	st = judge_mann_whitney(v, nx, v + nx, n - nx, &mw, err, sizeof err);
	if (st == ST_OK && !(mw.p >= 0 && mw.p <= 1))
		abort();
	free(v);
	return 0;
}
