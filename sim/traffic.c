/*
 * traffic.c — simulated requests and the metrics computed from them.
 *
 * Requests are never stored.  For a 5-second bucket b, the requests a
 * version received are drawn from a generator keyed by (seed, canary,
 * version, b): a Poisson count around rps(t) x share x 5 s, the errors among
 * them binomially, and the bucket's latency as a log-normal with a little
 * bucket-to-bucket jitter.  A metric over a window sums the buckets whose
 * middle falls inside it; the p99 is the 99th percentile of the mixture of
 * the buckets' log-normals, weighted by their request counts, which is what
 * a histogram_quantile over the same requests converges to (approximated by
 * moments, see sim_window).  The version of a request is that of the Deployment its
 * route led to: the canary weight at the bucket's start.  The canary also
 * gets the load tester's requests of a load test running at the bucket's
 * start (loadtest.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/world_impl.h"
#include "util/status.h"

#define DAY_MS INT64_C(86400000)
#define P99_Z  2.3263478740408408	/* standard normal quantile of 0.99 */
#define JITTER 0.06			/* sd of a bucket's log-median */
#define MAX_BUCKETS (DAY_MS / SIM_BUCKET_MS)

double
sim_rps(const struct scenario_params *p, int64_t t_ms)
{
	int64_t local = (t_ms + (int64_t)p->tz_offset_s * 1000) % DAY_MS;
	double h, f;

	if (local < 0)
		local += DAY_MS;
	h = (double)local / 3600000.0;
	switch (p->profile) {
	case PROFILE_OFFICE:
		f = h < 7.0 ? 0.0 : sin(M_PI * (h - 7.0) / 17.0);
		break;
	case PROFILE_WEB:
	default:
		f = 0.25 + 0.75 * (0.5 - 0.5 * cos(2.0 * M_PI * (h - 4.0) / 24.0));
		break;
	}
	return p->peak_rps * f;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Whether the version under test misbehaves in bucket b. */
static double
success_prob(const struct sim_world *w, const struct sim_app *a, enum workload wl,
    int rev, int64_t t_ms, int canary_weight)
{
	const struct scenario_params *p = a->p;
	double ok;
	int64_t ep;

	if (wl == WL_PRIMARY || rev <= 1)
		return p->base_success;
	ok = p->canary_success;
	if (p->spike_weight > 0 && canary_weight >= p->spike_weight)
		ok = p->spike_success;
	if (p->flap_period_s > 0) {
		struct rng r;

		ep = floor_div(t_ms, (int64_t)p->flap_period_s * 1000);
		r = rng_keyed(w->opt.seed, a->id, 0xf1a9ULL + (uint64_t)rev, (uint64_t)ep);
		if (rng_uniform(&r) < p->flap_prob)
			ok = p->flap_success;
	}
	return ok;
}

struct bucket {
	uint64_t n, errors;
	double mu;		/* log of the bucket's median latency (ms) */
};

static void
draw_bucket(const struct sim_world *w, const struct sim_app *a, enum workload wl,
    int64_t b, struct bucket *out)
{
	const struct scenario_params *p = a->p;
	int64_t t = b * SIM_BUCKET_MS;
	int cw = sim_weight_at(a, t);
	int rev = a->dep[wl].rev;
	double share = (wl == WL_CANARY ? cw : 100 - cw) / 100.0;
	double rps = sim_rps(p, t + SIM_BUCKET_MS / 2) * share +
	    (wl == WL_CANARY ? sim_load_rps_at(a, t) : 0);
	double lambda = rps * (SIM_BUCKET_MS / 1000.0);
	bool faulty = wl == WL_CANARY && rev > 1;
	struct rng r = rng_keyed(w->opt.seed, a->id, (uint64_t)wl << 32 | (uint32_t)rev, (uint64_t)b);

	out->n = rng_poisson(&r, lambda);
	out->errors = rng_binomial(&r, out->n, 1.0 - success_prob(w, a, wl, rev, t, cw));
	out->mu = log(faulty ? p->canary_median_ms : p->base_median_ms) + JITTER * rng_normal(&r);
}

void
sim_window(const struct sim_world *w, const struct sim_app *a, enum workload wl,
    int64_t from_ms, int64_t to_ms, struct sim_traffic *out, double *p99_ms)
{
	/* Buckets whose middle lies in [from, to). */
	int64_t first = floor_div(from_ms - SIM_BUCKET_MS / 2 + SIM_BUCKET_MS - 1, SIM_BUCKET_MS);
	int64_t last = floor_div(to_ms - SIM_BUCKET_MS / 2 - 1, SIM_BUCKET_MS);
	double sum_mu = 0, sum_mu2 = 0, n, mean, var;
	int64_t b;

	memset(out, 0, sizeof *out);
	if (p99_ms != NULL)
		*p99_ms = NAN;
	if (last - first >= MAX_BUCKETS)
		first = last - MAX_BUCKETS + 1;
	for (b = first; b <= last; b++) {
		struct bucket cur;

		draw_bucket(w, a, wl, b, &cur);
		out->requests += cur.n;
		out->errors += cur.errors;
		sum_mu += (double)cur.n * cur.mu;
		sum_mu2 += (double)cur.n * cur.mu * cur.mu;
	}
	if (p99_ms == NULL || out->requests == 0)
		return;
	/* The p99 of the request-weighted mixture of the buckets'
	 * log-normals.  They differ only by a small jitter of the log-median
	 * (one version, one latency model per window), so one log-normal with
	 * the weighted mean of the log-medians and the jitter's variance added
	 * to the shape's matches the mixture closely, without root finding. */
	n = (double)out->requests;
	mean = sum_mu / n;
	var = fmax(0.0, sum_mu2 / n - mean * mean);
	*p99_ms = exp(mean + P99_Z * sqrt(a->p->sigma * a->p->sigma + var));
}

int
sim_world_traffic(struct sim_world *w, const char *canary, enum workload wl,
    int64_t from_ms, int64_t to_ms, struct sim_traffic *out)
{
	struct sim_app *a = sim_find(w, canary);

	memset(out, 0, sizeof *out);
	if (a == NULL)
		return ST_NOTFOUND;
	sim_window(w, a, wl == WL_CANARY ? WL_CANARY : WL_PRIMARY, from_ms, to_ms, out, NULL);
	return ST_OK;
}

/* ---- metrics_ops -------------------------------------------------------- */

/* The canary's requests and p99 over [from, to), through the cache: a pure
 * function of the world's state, so caching changes no result. */
static void
canary_window(const struct sim_world *w, struct sim_app *a, int64_t from_ms, int64_t to_ms,
    struct sim_traffic *t, double *p99_ms)
{
	struct window_cache *k = &a->cache;

	if (!k->valid || k->from_ms != from_ms || k->to_ms != to_ms ||
	    k->hist_gen != a->hist_gen || k->rev != a->dep[WL_CANARY].rev) {
		sim_window(w, a, WL_CANARY, from_ms, to_ms, &k->traffic, &k->p99_ms);
		k->valid = true;
		k->from_ms = from_ms;
		k->to_ms = to_ms;
		k->hist_gen = a->hist_gen;
		k->rev = a->dep[WL_CANARY].rev;
	}
	*t = k->traffic;
	*p99_ms = k->p99_ms;
}

static void
eval_one(struct sim_world *w, const struct metric_query *q, struct metric_value *out)
{
	const struct metric_cfg *m = q->metric;
	const struct canary_cfg *c = q->canary;
	struct sim_traffic t;
	struct sim_app *a;
	double p99;
	int window_s;

	memset(out, 0, sizeof *out);
	if ((a = sim_app_of(w, c)) == NULL) {
		out->result = CHECK_ERROR;
		snprintf(out->err, sizeof out->err, "canary %.100s/%.100s is not in the simulated world",
		    c->ns, c->name);
		return;
	}
	if (!q->volume && m->kind == METRIC_CUSTOM) {
		out->result = CHECK_ERROR;
		snprintf(out->err, sizeof out->err,
		    "the simulator has no metric \"%.64s\" (it knows request-success-rate and request-duration)",
		    m->name);
		return;
	}
	window_s = m->interval_s > 0 ? m->interval_s : 60;
	canary_window(w, a, q->at_ms - (int64_t)window_s * 1000, q->at_ms, &t, &p99);
	out->result = CHECK_PASS;
	if (q->volume) {
		out->value = (double)t.requests;
	} else if (t.requests == 0) {
		out->result = CHECK_NODATA;
		snprintf(out->err, sizeof out->err, "no requests in the last %ds", window_s);
	} else if (m->kind == METRIC_SUCCESS_RATE) {
		out->value = 100.0 * (double)(t.requests - t.errors) / (double)t.requests;
	} else {
		out->value = p99;
	}
}

static int
op_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct sim_world *w = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		eval_one(w, &q[i], &out[i]);
		w->stats.queries++;
	}
	return ST_OK;
}

/* The comparison judge's samples: the metric over its window ending at
 * each step of (at - range, at], for the canary's or the primary's pods
 * (q->primary).  Steps without requests give no sample. */
static void
samples_one(struct sim_world *w, const struct metric_query *q, int64_t range_ms, int64_t step_ms,
    struct metric_samples *out)
{
	const struct metric_cfg *m = q->metric;
	enum workload wl = q->primary ? WL_PRIMARY : WL_CANARY;
	struct sim_traffic t;
	struct sim_app *a;
	int64_t window_ms, at;
	double p99;

	memset(out, 0, sizeof *out);
	out->result = CHECK_ERROR;
	if (m == NULL || (a = sim_app_of(w, q->canary)) == NULL) {
		snprintf(out->err, sizeof out->err, "the canary is not in the simulated world");
		return;
	}
	if (m->kind == METRIC_CUSTOM) {
		snprintf(out->err, sizeof out->err, "the simulator has no metric \"%.64s\"", m->name);
		return;
	}
	window_ms = (int64_t)(m->interval_s > 0 ? m->interval_s : 60) * 1000;
	for (at = q->at_ms - range_ms + step_ms; at <= q->at_ms && out->n < METRIC_SAMPLES_MAX;
	    at += step_ms) {
		sim_window(w, a, wl, at - window_ms, at, &t, &p99);
		if (t.requests == 0)
			continue;
		out->v[out->n++] = m->kind == METRIC_SUCCESS_RATE ?
		    100.0 * (double)(t.requests - t.errors) / (double)t.requests : p99;
	}
	out->result = out->n > 0 ? CHECK_PASS : CHECK_NODATA;
	if (out->n == 0)
		snprintf(out->err, sizeof out->err, "no requests in the window");
}

static int
op_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms, int64_t step_ms,
    struct metric_samples *out)
{
	struct sim_world *w = ctx;
	size_t i;

	for (i = 0; i < n; i++) {
		samples_one(w, &q[i], range_ms, step_ms, &out[i]);
		w->stats.queries++;
	}
	return ST_OK;
}

const struct metrics_ops sim_metrics_ops = {
	.name = "sim",
	.eval = op_eval,
	.samples = op_samples,
};
