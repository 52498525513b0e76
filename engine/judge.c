/*
 * judge.c — the statistics of the comparison judge (judge.h): ranks with
 * ties, the Mann–Whitney U test, the confidence interval of the shift by
 * Brent's method, one metric's classification and the weighted score.
 *
 * The interval follows reference §5.4: for a shift mu the combined sample
 * (x - mu) u y is ranked, d(mu) = U_x(mu) - nx ny / 2, and
 * f(mu, q) = (d - 0.5 sign d) / sigma - q decreases in mu; its roots at
 * q = +z, -z and 0 are the lower bound, the upper bound and the estimate.
 */
#include "engine/judge.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/status.h"
#include "util/xalloc.h"

#define BRENT_ABS_TOL 1e-4
#define BRENT_REL_TOL (2.0 * DBL_EPSILON)
#define BRENT_MAX_ITER 1000

static const char *const direction_names[] = {
#define X(id, text) text,
	JUDGE_DIRECTION_LIST(X)
#undef X
};
static const char *const class_names[] = {
#define X(id, text) text,
	JUDGE_CLASS_LIST(X)
#undef X
};
static const char *const verdict_names[] = {
#define X(id, text) text,
	JUDGE_VERDICT_LIST(X)
#undef X
};

const char *
judge_direction_name(enum judge_direction d)
{
	return (unsigned)d < JUDGE_DIR__COUNT ? direction_names[d] : "?";
}

const char *
judge_class_name(enum judge_class c)
{
	return (unsigned)c < JUDGE_CLASS__COUNT ? class_names[c] : "?";
}

const char *
judge_verdict_name(enum judge_verdict v)
{
	return (unsigned)v < JUDGE_VERDICT__COUNT ? verdict_names[v] : "?";
}

static int __attribute__((format(printf, 4, 5)))
fail(int st, char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* ---- ranks ------------------------------------------------------------- */

struct obs {
	double v;
	int is_x;
};

static int
obs_cmp(const void *a, const void *b)
{
	double va = ((const struct obs *)a)->v, vb = ((const struct obs *)b)->v;

	return (va > vb) - (va < vb);
}

static int
double_cmp(const void *a, const void *b)
{
	double va = *(const double *)a, vb = *(const double *)b;

	return (va > vb) - (va < vb);
}

struct mw_ctx {
	const double *x, *y;
	size_t nx, ny;
	struct obs *work;	/* nx + ny entries */
	bool tied;		/* sigma was 0 somewhere */
};

/* Ranks (x - mu) u y, ties averaged: the rank sum of the x part and the
 * sum of t^3 - t over the tie groups. */
static void
rank_stats(struct mw_ctx *c, double mu, double *rank_sum_x, double *ties)
{
	size_t n = c->nx + c->ny, i, j, k, in_x;
	double t;

	for (i = 0; i < c->nx; i++)
		c->work[i] = (struct obs){ .v = c->x[i] - mu, .is_x = 1 };
	for (i = 0; i < c->ny; i++)
		c->work[c->nx + i] = (struct obs){ .v = c->y[i], .is_x = 0 };
	qsort(c->work, n, sizeof c->work[0], obs_cmp);
	*rank_sum_x = 0;
	*ties = 0;
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j + 1 < n && c->work[j + 1].v == c->work[i].v; j++)
			;
		for (in_x = 0, k = i; k <= j; k++)
			in_x += (size_t)c->work[k].is_x;
		/* ranks i+1 .. j+1 share their mean */
		*rank_sum_x += (double)in_x * ((double)(i + 1) + (double)(j + 1)) / 2.0;
		t = (double)(j - i + 1);
		*ties += t * t * t - t;
	}
}

static double
mw_sigma(size_t nx, size_t ny, double ties)
{
	double n = (double)(nx + ny);
	double var = (double)nx * (double)ny / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));

	return var > 0 ? sqrt(var) : 0.0;
}

/* d(mu) = U_x(mu) - nx ny / 2 and its sigma. */
static double
mw_d(struct mw_ctx *c, double mu, double *sigma)
{
	double rx, ties, nx = (double)c->nx, ny = (double)c->ny;

	rank_stats(c, mu, &rx, &ties);
	*sigma = mw_sigma(c->nx, c->ny, ties);
	return rx - nx * (nx + 1.0) / 2.0 - nx * ny / 2.0;
}

static double
continuity(double d)
{
	return d > 0 ? 0.5 : d < 0 ? -0.5 : 0.0;
}

/* f(mu, q); an all-tied combined sample marks the context and gives 0. */
static double
mw_f(struct mw_ctx *c, double mu, double q)
{
	double sigma, d = mw_d(c, mu, &sigma);

	if (sigma == 0) {
		c->tied = true;
		return 0;
	}
	return (d - continuity(d)) / sigma - q;
}

/* ---- the normal distribution ------------------------------------------ */

static double
normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

double
judge_normal_quantile(double p)
{
	double lo = -40, hi = 40, mid;
	int i;

	if (!(p > 0 && p < 1))
		return NAN;
	/* Phi is increasing: bisection to the last bit of a double. */
	for (i = 0; i < 200; i++) {
		mid = lo + (hi - lo) / 2;
		if (mid <= lo || mid >= hi)
			break;
		if (normal_cdf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return lo + (hi - lo) / 2;
}

/* ---- input checks ------------------------------------------------------ */

static int
check_sample(const char *name, const double *v, size_t n, char *err, size_t errsz)
{
	size_t i;

	if (n == 0 || v == NULL)
		return fail(ST_INVALID, err, errsz, "the %s sample is empty", name);
	for (i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return fail(ST_INVALID, err, errsz, "%s sample value %zu is %s", name, i,
			    isnan(v[i]) ? "NaN" : v[i] > 0 ? "+Inf" : "-Inf");
	return ST_OK;
}

static int
check_samples(const double *x, size_t nx, const double *y, size_t ny, char *err, size_t errsz)
{
	int st = check_sample("canary", x, nx, err, errsz);

	return st != ST_OK ? st : check_sample("primary", y, ny, err, errsz);
}

int
judge_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct judge_mw *out,
    char *err, size_t errsz)
{
	struct mw_ctx c = { .x = x, .y = y, .nx = nx, .ny = ny };
	double d;
	int st;

	memset(out, 0, sizeof *out);
	if ((st = check_samples(x, nx, y, ny, err, errsz)) != ST_OK)
		return st;
	c.work = xmalloc((nx + ny) * sizeof c.work[0]);
	rank_stats(&c, 0, &out->rank_sum_x, &out->ties);
	free(c.work);
	out->nx = nx;
	out->ny = ny;
	out->u_x = out->rank_sum_x - (double)nx * ((double)nx + 1.0) / 2.0;
	out->u_y = (double)nx * (double)ny - out->u_x;
	out->sigma = mw_sigma(nx, ny, out->ties);
	if (out->sigma == 0)
		return fail(ST_INVALID, err, errsz, "all observations are tied");
	d = out->u_x - (double)nx * (double)ny / 2.0;
	out->z = (d - continuity(d)) / out->sigma;
	out->p = fmin(1.0, erfc(fabs(out->z) / sqrt(2.0)));
	return ST_OK;
}

/* ---- Brent's method ---------------------------------------------------- */

/* A root of f(., q) in [a, b] where fa = f(a) and fb = f(b) differ in sign
 * (or one is 0): inverse quadratic interpolation or the secant when they
 * make progress, bisection otherwise (Brent 1973). */
static double
brent(struct mw_ctx *ctx, double q, double a, double b, double fa, double fb)
{
	double c = a, fc = fa, d = b - a, e = d, tol, m, p, r, s, t;
	int it;

	for (it = 0; it < BRENT_MAX_ITER; it++) {
		if (fabs(fc) < fabs(fb)) {
			a = b, b = c, c = a;
			fa = fb, fb = fc, fc = fa;
		}
		tol = 2 * BRENT_REL_TOL * fabs(b) + BRENT_ABS_TOL;
		m = 0.5 * (c - b);
		if (fabs(m) <= tol || fb == 0)
			break;
		if (fabs(e) < tol || fabs(fa) <= fabs(fb)) {
			d = e = m;
		} else {
			s = fb / fa;
			if (a == c) {
				p = 2 * m * s;
				t = 1 - s;
			} else {
				t = fa / fc;
				r = fb / fc;
				p = s * (2 * m * t * (t - r) - (b - a) * (r - 1));
				t = (t - 1) * (r - 1) * (s - 1);
			}
			if (p > 0)
				t = -t;
			else
				p = -p;
			s = e;
			e = d;
			if (2 * p < 3 * m * t - fabs(tol * t) && p < fabs(0.5 * s * t)) {
				d = p / t;
			} else {
				d = e = m;
			}
		}
		a = b;
		fa = fb;
		b += fabs(d) > tol ? d : (m > 0 ? tol : -tol);
		fb = mw_f(ctx, b, q);
		if ((fb > 0) == (fc > 0)) {
			c = a;
			fc = fa;
			d = e = b - a;
		}
	}
	return b;
}

/* §5.4's root(q): the end point when f does not change sign inside. */
static double
ci_root(struct mw_ctx *c, double q, double lo, double hi)
{
	double flo = mw_f(c, lo, q), fhi;

	if (flo <= 0)
		return lo;
	fhi = mw_f(c, hi, q);
	if (fhi >= 0)
		return hi;
	return brent(c, q, lo, hi, flo, fhi);
}

static void
min_max(const double *v, size_t n, double *lo, double *hi)
{
	size_t i;

	*lo = *hi = v[0];
	for (i = 1; i < n; i++) {
		*lo = fmin(*lo, v[i]);
		*hi = fmax(*hi, v[i]);
	}
}

static int
interval_search(struct mw_ctx *c, double confidence, double lo, double hi,
    struct judge_interval *out, char *err, size_t errsz)
{
	double z = judge_normal_quantile((1.0 - confidence) / 2.0), flo, fhi;

	out->lower = ci_root(c, -z, lo, hi);
	out->upper = ci_root(c, z, lo, hi);
	flo = mw_f(c, lo, 0);
	fhi = mw_f(c, hi, 0);
	if (!c->tied && ((flo > 0 && fhi > 0) || (flo < 0 && fhi < 0)))
		return fail(ST_INVALID, err, errsz, "the shift estimate is not bracketed");
	out->estimate = brent(c, 0, lo, hi, flo, fhi);
	if (c->tied)
		return fail(ST_INVALID, err, errsz,
		    "cannot compute confidence interval when all observations are tied");
	return ST_OK;
}

int
judge_shift_interval(const double *x, size_t nx, const double *y, size_t ny, double confidence,
    struct judge_interval *out, char *err, size_t errsz)
{
	struct mw_ctx c = { .x = x, .y = y, .nx = nx, .ny = ny };
	double xlo, xhi, ylo, yhi;
	int st;

	out->lower = out->upper = out->estimate = NAN;
	if ((st = check_samples(x, nx, y, ny, err, errsz)) != ST_OK)
		return st;
	if (!(confidence > 0 && confidence < 1))
		return fail(ST_INVALID, err, errsz, "confidence %g is not between 0 and 1", confidence);
	min_max(x, nx, &xlo, &xhi);
	min_max(y, ny, &ylo, &yhi);
	if (xlo == xhi && ylo == yhi) {
		/* one value each: the limit of Kayenta's jittered computation */
		out->lower = out->upper = out->estimate = xlo - ylo;
		return ST_OK;
	}
	if (!isfinite(xlo - yhi) || !isfinite(xhi - ylo))
		return fail(ST_INVALID, err, errsz, "the samples are too far apart to compare");
	c.work = xmalloc((nx + ny) * sizeof c.work[0]);
	st = interval_search(&c, confidence, xlo - yhi, xhi - ylo, out, err, errsz);
	free(c.work);
	return st;
}

/* ---- descriptive statistics -------------------------------------------- */

double
judge_median(const double *v, size_t n)
{
	double *s, m;

	if (n == 0)
		return NAN;
	s = xmalloc(n * sizeof s[0]);
	memcpy(s, v, n * sizeof s[0]);
	qsort(s, n, sizeof s[0], double_cmp);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
	free(s);
	return m;
}

static double
mean(const double *v, size_t n)
{
	double sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += v[i];
	return n > 0 ? sum / (double)n : NAN;
}

/* ---- one metric -------------------------------------------------------- */

void
judge_params_init(struct judge_params *p)
{
	*p = (struct judge_params){
		.direction = JUDGE_DIR_EITHER,
		.confidence = JUDGE_DEFAULT_CONFIDENCE,
		.tolerance = JUDGE_DEFAULT_TOLERANCE,
		.allowed_increase = 1.0,
		.allowed_decrease = 1.0,
		.min_samples = 1,
	};
}

static int
check_params(const struct judge_params *p, char *err, size_t errsz)
{
	if ((unsigned)p->direction >= JUDGE_DIR__COUNT)
		return fail(ST_INVALID, err, errsz, "unknown direction %d", (int)p->direction);
	if (!(p->confidence > 0 && p->confidence < 1))
		return fail(ST_INVALID, err, errsz, "confidence %g is not between 0 and 1", p->confidence);
	if (!(p->tolerance >= 0 && p->tolerance < 1))
		return fail(ST_INVALID, err, errsz, "tolerance %g is not in [0, 1)", p->tolerance);
	if (isnan(p->allowed_increase) || isnan(p->allowed_decrease))
		return fail(ST_INVALID, err, errsz, "an allowed effect size is NaN");
	return ST_OK;
}

/* Copies the values of v that are not NaN into a new array (*out, NULL
 * when none); an infinity is an error naming the sample and index. */
static int
drop_nan(const char *name, const double *v, size_t n, double **out, size_t *nout, char *err,
    size_t errsz)
{
	size_t i;

	*out = NULL;
	*nout = 0;
	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		if (isinf(v[i])) {
			free(*out);
			*out = NULL;
			*nout = 0;
			return fail(ST_INVALID, err, errsz, "%s sample value %zu is %s", name, i,
			    v[i] > 0 ? "+Inf" : "-Inf");
		}
		if (*out == NULL)
			*out = xmalloc(n * sizeof **out);
		(*out)[(*nout)++] = v[i];
	}
	return ST_OK;
}

static bool
all_equal(const double *v, size_t n, double to)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] != to)
			return false;
	return true;
}

/* §5.3 rules 2 and 3: identical sorted samples, or one value everywhere.
 * Sorts x and y in place. */
static bool
trivially_same(double *x, size_t nx, double *y, size_t ny)
{
	qsort(x, nx, sizeof x[0], double_cmp);
	qsort(y, ny, sizeof y[0], double_cmp);
	if (nx == ny && memcmp(x, y, nx * sizeof x[0]) == 0)
		return true;
	return all_equal(x, nx, x[0]) && all_equal(y, ny, x[0]);
}

/* §5.5: the whole interval beyond +/- tolerance * |estimate|. */
static enum judge_class
verdict(const struct judge_params *p, const struct judge_metric *m)
{
	bool up = p->direction != JUDGE_DIR_DECREASE, down = p->direction != JUDGE_DIR_INCREASE;

	if (up && m->lower > m->bound && (isnan(m->ratio) || m->ratio >= p->allowed_increase))
		return JUDGE_HIGH;
	if (down && m->upper < -m->bound && (isnan(m->ratio) || m->ratio <= p->allowed_decrease))
		return JUDGE_LOW;
	return JUDGE_PASS;
}

static void
describe(struct judge_metric *out, const double *x, size_t nx, const double *y, size_t ny)
{
	double mx = mean(x, nx), my = mean(y, ny);

	out->n_canary = nx;
	out->n_primary = ny;
	out->canary_median = judge_median(x, nx);
	out->primary_median = judge_median(y, ny);
	out->ratio = (nx == 0 || ny == 0 || mx == 0 || my == 0) ? NAN : mx / my;
}

static int
classify_clean(const struct judge_params *p, const char *metric, double *x, size_t nx, double *y,
    size_t ny, struct judge_metric *out, char *err, size_t errsz)
{
	size_t min = p->min_samples > 0 ? p->min_samples : 1;
	struct judge_interval ci;
	int st;

	describe(out, x, nx, y, ny);
	if (nx < min || ny < min) {
		out->classification = JUDGE_NODATA;
		snprintf(out->reason, sizeof out->reason, "Missing data for %s", metric);
		return ST_OK;
	}
	if (trivially_same(x, nx, y, ny)) {
		out->classification = JUDGE_PASS;
		snprintf(out->reason, sizeof out->reason, "The Canary and Baseline data are identical");
		return ST_OK;
	}
	if ((st = judge_shift_interval(x, nx, y, ny, p->confidence, &ci, err, errsz)) != ST_OK) {
		out->classification = JUDGE_ERROR;
		snprintf(out->reason, sizeof out->reason, "Metric Classification Failed");
		return st;
	}
	out->lower = ci.lower;
	out->upper = ci.upper;
	out->estimate = ci.estimate;
	out->bound = p->tolerance * fabs(ci.estimate);
	out->classification = verdict(p, out);
	if (out->classification != JUDGE_PASS)
		snprintf(out->reason, sizeof out->reason, "%s was classified as %s", metric,
		    judge_class_name(out->classification));
	return ST_OK;
}

int
judge_classify(const struct judge_params *p, const char *metric, const double *canary,
    size_t n_canary, const double *primary, size_t n_primary, struct judge_metric *out, char *err,
    size_t errsz)
{
	double *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int st;

	*out = (struct judge_metric){ .classification = JUDGE_ERROR, .canary_median = NAN,
		.primary_median = NAN, .ratio = NAN, .lower = NAN, .upper = NAN, .estimate = NAN,
		.bound = NAN };
	snprintf(out->reason, sizeof out->reason, "Metric Classification Failed");
	if ((st = check_params(p, err, errsz)) != ST_OK)
		return st;
	if ((st = drop_nan("canary", canary, n_canary, &x, &nx, err, errsz)) == ST_OK &&
	    (st = drop_nan("primary", primary, n_primary, &y, &ny, err, errsz)) == ST_OK) {
		out->reason[0] = '\0';
		st = classify_clean(p, metric != NULL ? metric : "metric", x, nx, y, ny, out, err, errsz);
	}
	free(x);
	free(y);
	return st;
}

/* ---- the score --------------------------------------------------------- */

struct group {
	const char *name;
	size_t pass, counted;	/* P and D of §5.6 */
};

static size_t
collect_groups(const struct judge_scored *r, size_t n, struct group **out)
{
	size_t total = 0, ng = 0, i, j, k;
	struct group *g;

	for (i = 0; i < n; i++)
		total += r[i].n_groups;
	g = *out = xcalloc(total > 0 ? total : 1, sizeof *g);
	for (i = 0; i < n; i++) {
		for (j = 0; j < r[i].n_groups; j++) {
			for (k = 0; k < ng && strcmp(g[k].name, r[i].groups[j]) != 0; k++)
				;
			if (k == ng)
				g[ng++].name = r[i].groups[j];
			if (r[i].classification == JUDGE_PASS)
				g[k].pass++;
			if (r[i].classification == JUDGE_PASS || r[i].classification == JUDGE_HIGH ||
			    r[i].classification == JUDGE_LOW)
				g[k].counted++;
		}
	}
	return ng;
}

static const struct judge_weight *
find_weight(const struct judge_weight *w, size_t nw, const char *group)
{
	size_t i;

	for (i = 0; i < nw; i++)
		if (w[i].group != NULL && strcmp(w[i].group, group) == 0)
			return &w[i];
	return NULL;
}

static double
weighted_sum(const struct group *g, size_t ng, const struct judge_weight *w, size_t nw)
{
	double listed = 0, share, sum = 0, eff;
	size_t unlisted = 0, i;
	const struct judge_weight *gw;

	for (i = 0; i < nw; i++)
		listed += w[i].weight;
	for (i = 0; i < ng; i++)
		unlisted += find_weight(w, nw, g[i].name) == NULL;
	share = unlisted > 0 ? (100.0 - listed) / (double)unlisted : 0;
	for (i = 0; i < ng; i++) {
		eff = g[i].counted == 0 ? 100.0 : 100.0 * (double)g[i].pass / (double)g[i].counted;
		gw = find_weight(w, nw, g[i].name);
		sum += eff * (gw != NULL ? gw->weight : share) / 100.0;
	}
	return sum;
}

static double
round_half_up_2(double v)
{
	return floor(v * 100.0 + 0.5) / 100.0;
}

/* §5.6 steps 2 and 3: whether the score is forced to 0, and why. */
static bool
forced_zero(const struct judge_scored *r, size_t n, char *reason, size_t reasonsz)
{
	size_t i, nodata = 0;

	for (i = 0; i < n; i++) {
		if (r[i].critical && r[i].classification != JUDGE_PASS) {
			snprintf(reason, reasonsz, "Canary Failed: %s",
			    r[i].reason != NULL ? r[i].reason : judge_class_name(r[i].classification));
			return true;
		}
		nodata += r[i].classification == JUDGE_NODATA;
	}
	if (n > 0 && (double)nodata / (double)n * 100.0 >= 50.0) {
		snprintf(reason, reasonsz, "Canary Failed: 50%% or more metrics returned NODATA");
		return true;
	}
	return false;
}

void
judge_score(const struct judge_scored *r, size_t n, const struct judge_weight *w, size_t nw,
    const struct judge_thresholds *t, struct judge_score *out)
{
	struct group *g;
	size_t ng;

	memset(out, 0, sizeof *out);
	if (!forced_zero(r, n, out->reason, sizeof out->reason)) {
		ng = collect_groups(r, n, &g);
		out->score = ng > 0 ? round_half_up_2(weighted_sum(g, ng, w, nw)) : 0;
		free(g);
	}
	out->verdict = out->score >= t->pass ? JUDGE_VERDICT_PASS :
	    out->score >= t->marginal ? JUDGE_VERDICT_MARGINAL : JUDGE_VERDICT_FAIL;
}
