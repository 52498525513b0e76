/*
 * backend.c — the table of metric backends and the set a command uses
 * (backend.h): a handle per backend, each query routed to the backend of
 * its metric's type, and the engine's metrics_ops on top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/backend.h"
#include "metrics/builtin.h"
#include "util/status.h"
#include "util/xalloc.h"

static const struct metric_backend_ops *const backends[] = {
#define X(type) &type##_backend,
	METRIC_BACKEND_LIST(X)
#undef X
};

#define N_BACKENDS (sizeof backends / sizeof backends[0])

struct metric_backends {
	void *h[N_BACKENDS];
};

/* The index of type's backend (NULL: the default), or -1. */
static int
index_of(const char *type)
{
	int t = metric_type_find(type);
	size_t i;

	if (type == NULL)
		return 0;
	for (i = 0; t >= 0 && i < N_BACKENDS; i++)
		if ((int)backends[i]->type == t)
			return (int)i;
	return -1;
}

const struct metric_backend_ops *
metric_backend_find(const char *type)
{
	int i = index_of(type);

	return i >= 0 ? backends[i] : NULL;
}

void
metric_backend_types(char *out, size_t n)
{
	size_t i, len = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < N_BACKENDS && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", i > 0 ? ", " : "",
		    metric_type_name(backends[i]->type));
}

void
metric_backend_not_past(const char *type, char *out, size_t n)
{
	const struct metric_backend_ops *ops = metric_backend_find(type);
	const char *why = ops != NULL ? ops->not_past_why : NULL;

	snprintf(out, n, "%s cannot query the past%s%s%s", type, why != NULL ? " (" : "",
	    why != NULL ? why : "", why != NULL ? ")" : "");
}

struct metric_backends *
metric_backends_new(const struct metric_backend_opts *o)
{
	static const struct metric_backend_opts defaults;
	struct metric_backends *s = xcalloc(1, sizeof *s);
	size_t i;

	for (i = 0; i < N_BACKENDS; i++)
		s->h[i] = backends[i]->open(o != NULL ? o : &defaults);
	return s;
}

void
metric_backends_free(struct metric_backends *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < N_BACKENDS; i++)
		backends[i]->close(s->h[i]);
	free(s);
}

void *
metric_backends_handle(struct metric_backends *s, const char *type)
{
	int i = index_of(type);

	return i >= 0 ? s->h[i] : NULL;
}

const char *
metric_backends_unusable(struct metric_backends *s, const char *type)
{
	int i = index_of(type);

	if (i < 0)
		return "no metric backend for this provider type";
	return backends[i]->unusable != NULL ? backends[i]->unusable(s->h[i]) : NULL;
}

int
metric_backends_add(struct metric_backends *s, const char *type, const struct metric_provider *p,
    char *err, size_t errsz)
{
	char types[128];
	int i = index_of(type);

	if (i < 0) {
		metric_backend_types(types, sizeof types);
		snprintf(err, errsz, "provider type %s has no metric backend (perch has: %s)", type,
		    types);
		return ST_UNSUPPORTED;
	}
	if (backends[i]->add(s->h[i], p) != ST_OK) {
		snprintf(err, errsz, "the server was refused");
		return ST_INVALID;
	}
	return ST_OK;
}

static int
type_of(const struct metric_query *q)
{
	return index_of(q->metric != NULL ? q->metric->provider : NULL);
}

/* The queries of backend b, evaluated together; out filled for them. */
static int
eval_one(struct metric_backends *s, size_t b, const struct metric_query *q, size_t n,
    struct metric_value *out)
{
	struct metric_query *sq = xcalloc(n, sizeof *sq);
	struct metric_value *sv = xcalloc(n, sizeof *sv);
	size_t i, k = 0;
	int st;

	for (i = 0; i < n; i++)
		if (type_of(&q[i]) == (int)b)
			sq[k++] = q[i];
	st = backends[b]->eval(s->h[b], sq, k, sv);
	for (i = 0, k = 0; i < n; i++)
		if (type_of(&q[i]) == (int)b)
			out[i] = sv[k++];
	free(sq);
	free(sv);
	return st;
}

int
metric_backends_eval(struct metric_backends *s, const struct metric_query *q, size_t n,
    struct metric_value *out)
{
	bool used[N_BACKENDS] = { false };
	size_t i, b, n_used = 0, unknown = 0;
	int st = ST_OK, t;

	for (i = 0; i < n; i++) {
		if ((t = type_of(&q[i])) < 0) {	/* canary_load refuses these */
			memset(&out[i], 0, sizeof out[i]);
			out[i].result = CHECK_ERROR;
			snprintf(out[i].err, sizeof out[i].err, "no metric backend for provider type %s",
			    q[i].metric->provider);
			unknown++;
		} else if (!used[t]) {
			used[t] = true;
			n_used++;
		}
	}
	if (n_used <= 1 && unknown == 0) {	/* one backend: the batch as it is */
		b = n > 0 ? (size_t)type_of(&q[0]) : 0;
		return backends[b]->eval(s->h[b], q, n, out);
	}
	for (b = 0; b < N_BACKENDS; b++)
		if (used[b] && (t = eval_one(s, b, q, n, out)) != ST_OK && st == ST_OK)
			st = t;
	return st;
}

/* The samples of the queries of backend b, or "no samples from <type>"
 * when it has no range queries. */
static int
samples_one(struct metric_backends *s, size_t b, const struct metric_query *q, size_t n,
    int64_t range_ms, int64_t step_ms, struct metric_samples *out)
{
	struct metric_query *sq = xcalloc(n, sizeof *sq);
	struct metric_samples *sv = xcalloc(n, sizeof *sv);
	size_t i, k = 0;
	int st = ST_OK;

	for (i = 0; i < n; i++)
		if (type_of(&q[i]) == (int)b)
			sq[k++] = q[i];
	if (backends[b]->samples != NULL)
		st = backends[b]->samples(s->h[b], sq, k, range_ms, step_ms, sv);
	for (i = 0, k = 0; i < n; i++) {
		if (type_of(&q[i]) != (int)b)
			continue;
		out[i] = sv[k++];
		if (backends[b]->samples == NULL) {
			out[i].result = CHECK_NODATA;
			snprintf(out[i].err, sizeof out[i].err, "no samples from %s (it has no range "
			    "queries)", metric_type_name(backends[b]->type));
		}
	}
	free(sq);
	free(sv);
	return st;
}

int
metric_backends_samples(struct metric_backends *s, const struct metric_query *q, size_t n,
    int64_t range_ms, int64_t step_ms, struct metric_samples *out)
{
	size_t i, b;
	int st = ST_OK, t;

	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].result = CHECK_ERROR;
		if (type_of(&q[i]) < 0)
			snprintf(out[i].err, sizeof out[i].err, "no metric backend for provider type %s",
			    q[i].metric != NULL ? q[i].metric->provider : "?");
		else if (q[i].query == NULL)
			snprintf(out[i].err, sizeof out[i].err, "no query to send");
	}
	for (b = 0; b < N_BACKENDS; b++) {
		bool used = false;

		for (i = 0; i < n && !used; i++)
			used = type_of(&q[i]) == (int)b;
		if (used && (t = samples_one(s, b, q, n, range_ms, step_ms, out)) != ST_OK &&
		    st == ST_OK)
			st = t;
	}
	return st;
}

/* ---- the engine's provider ---------------------------------------------- */

static int
engine_eval(void *ctx, const struct metric_query *q, size_t n, struct metric_value *out)
{
	struct metric_query *rq = xcalloc(n > 0 ? n : 1, sizeof *rq);
	const struct metric_cfg *m;
	struct timespec ts;
	int64_t real_ms;
	size_t i;
	int st;

	clock_gettime(CLOCK_REALTIME, &ts);
	real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 0; i < n; i++) {
		rq[i] = q[i];
		/* A backend knows nothing of the future: an engine clock that
		 * runs ahead of real time (a scaled clock) asks at the
		 * backend's now, where the latest samples are, not past their
		 * staleness. */
		rq[i].at_ms = q[i].at_ms > real_ms ? 0 : q[i].at_ms;
	}
	st = metric_backends_eval(ctx, rq, n, out);
	for (i = 0; i < n; i++) {
		m = q[i].metric;
		if (out[i].result == CHECK_PASS && !q[i].volume && m != NULL &&
		    m->kind == METRIC_DURATION && m->template_ref == NULL && q[i].canary != NULL)
			out[i].value = builtin_duration_ms(builtin_observer(q[i].canary->provider,
			    q[i].canary->target_kind), out[i].value);
	}
	free(rq);
	return st;
}

static int64_t
real_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* As engine_eval: at the backend's now when the engine runs ahead, the
 * built-in request-duration in whole milliseconds. */
static int
engine_samples(void *ctx, const struct metric_query *q, size_t n, int64_t range_ms,
    int64_t step_ms, struct metric_samples *out)
{
	struct metric_query *rq = xcalloc(n > 0 ? n : 1, sizeof *rq);
	int64_t real_ms = real_now_ms();
	const struct metric_cfg *m;
	size_t i, j;
	int st;

	for (i = 0; i < n; i++) {
		rq[i] = q[i];
		rq[i].at_ms = q[i].at_ms > real_ms ? 0 : q[i].at_ms;
	}
	st = metric_backends_samples(ctx, rq, n, range_ms, step_ms, out);
	for (i = 0; i < n; i++) {
		m = q[i].metric;
		if (out[i].result != CHECK_PASS || m == NULL || m->kind != METRIC_DURATION ||
		    m->template_ref != NULL || q[i].canary == NULL)
			continue;
		for (j = 0; j < out[i].n; j++)
			out[i].v[j] = builtin_duration_ms(builtin_observer(q[i].canary->provider,
			    q[i].canary->target_kind), out[i].v[j]);
	}
	free(rq);
	return st;
}

/* Probes each backend the canary's metrics use, once per server;
 * ST_UNSUPPORTED when none of them has a probe (nothing to report). */
static int
engine_check(void *ctx, const struct canary_cfg *c, char *err)
{
	struct metric_backends *s = ctx;
	size_t i, j, probed = 0;
	int t, st;

	for (i = 0; i < c->n_metrics; i++) {
		const struct metric_cfg *m = &c->metrics[i];
		bool seen = false;

		if ((t = index_of(m->provider)) < 0 || backends[t]->probe == NULL)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = index_of(c->metrics[j].provider) == t && ((m->server == NULL &&
			    c->metrics[j].server == NULL) || (m->server != NULL &&
			    c->metrics[j].server != NULL && strcmp(m->server, c->metrics[j].server) == 0));
		if (seen)
			continue;
		probed++;
		if ((st = backends[t]->probe(s->h[t], m->server, err)) != ST_OK)
			return st;
	}
	if (probed == 0) {
		err[0] = '\0';
		return ST_UNSUPPORTED;
	}
	return ST_OK;
}

static const struct metrics_ops engine_ops = {
	.name = "metric backends",
	.eval = engine_eval,
	.samples = engine_samples,
};

static const struct metrics_ops probing_ops = {
	.name = "metric backends",
	.eval = engine_eval,
	.check = engine_check,
	.samples = engine_samples,
};

const struct metrics_ops *
metric_backends_engine_ops(void)
{
	size_t i;

	for (i = 0; i < N_BACKENDS; i++)
		if (backends[i]->probe != NULL)
			return &probing_ops;
	return &engine_ops;
}
