/*
 * prom_expo.c — the /metrics page (see prom_expo.h).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/prom_expo.h"
#include "util/xalloc.h"

/* Flagger's buckets (Prometheus' defaults), seconds. */
static const double buckets[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };
#define NB (sizeof buckets / sizeof buckets[0])

struct hist {
	char key[200];			/* "ns/name"; "" for all canaries */
	uint64_t le[NB], count;
	double sum;
};

struct prom_expo {
	pthread_mutex_t mu;
	struct hist all;
	struct hist *h;
	size_t n, cap;
};

struct prom_expo *
prom_expo_new(void)
{
	struct prom_expo *e = xcalloc(1, sizeof *e);

	pthread_mutex_init(&e->mu, NULL);
	return e;
}

void
prom_expo_free(struct prom_expo *e)
{
	if (e == NULL)
		return;
	pthread_mutex_destroy(&e->mu);
	free(e->h);
	free(e);
}

static void
observe(struct hist *h, double s)
{
	size_t i;

	for (i = 0; i < NB; i++)
		h->le[i] += s <= buckets[i];
	h->count++;
	h->sum += s;
}

static struct hist *
find(struct prom_expo *e, const char *key, bool add)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->h[i].key, key) == 0)
			return &e->h[i];
	if (!add)
		return NULL;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->h = xreallocarray(e->h, e->cap, sizeof *e->h);
	}
	memset(&e->h[e->n], 0, sizeof e->h[e->n]);
	snprintf(e->h[e->n].key, sizeof e->h[e->n].key, "%s", key);
	return &e->h[e->n++];
}

void
prom_expo_tick(void *arg, const char *canary, int64_t ms)
{
	struct prom_expo *e = arg;
	double s = (double)(ms > 0 ? ms : 0) / 1000.0;

	pthread_mutex_lock(&e->mu);
	observe(find(e, canary, true), s);
	observe(&e->all, s);
	pthread_mutex_unlock(&e->mu);
}

/* A label value, escaped (\\, \", \n). */
static void
put_label(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{name="<target>",namespace="<ns>"} value */
static void
canary_line(struct buf *b, const char *metric, const struct snap_canary *c, double v)
{
	buf_printf(b, "%s{name=\"", metric);
	put_label(b, c->target && *c->target ? c->target : c->name);
	buf_puts(b, "\",namespace=\"");
	put_label(b, c->ns);
	buf_printf(b, "\"} %.17g\n", v);
}

static void
render_hist(struct buf *b, const char *metric, const struct hist *h, const struct snap_canary *c)
{
	char lbl[600] = "";
	struct buf l;
	size_t i;

	buf_init(&l, sizeof lbl - 1);
	if (c != NULL) {
		buf_puts(&l, "name=\"");
		put_label(&l, c->target && *c->target ? c->target : c->name);
		buf_puts(&l, "\",namespace=\"");
		put_label(&l, c->ns);
		buf_puts(&l, "\",");
	}
	snprintf(lbl, sizeof lbl, "%s", buf_str(&l));
	buf_fini(&l);
	for (i = 0; i < NB; i++)
		buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", metric, lbl, buckets[i],
		    (unsigned long long)h->le[i]);
	buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", metric, lbl, (unsigned long long)h->count);
	if (lbl[0])
		lbl[strlen(lbl) - 1] = '\0';	/* no trailing comma */
	buf_printf(b, "%s_sum%s%s%s %.17g\n", metric, lbl[0] ? "{" : "", lbl, lbl[0] ? "}" : "",
	    h->sum);
	buf_printf(b, "%s_count%s%s%s %llu\n", metric, lbl[0] ? "{" : "", lbl, lbl[0] ? "}" : "",
	    (unsigned long long)h->count);
}

static void
render_total(struct buf *b, const struct snapshot *s)
{
	size_t i, j, n;
	bool seen;

	head(b, "flagger_canary_total", "gauge", "Total number of canary object");
	for (i = 0; s && i < s->n_canaries; i++) {
		for (j = 0, seen = false; j < i && !seen; j++)
			seen = strcmp(s->canaries[j].ns, s->canaries[i].ns) == 0;
		if (seen)
			continue;
		for (j = i, n = 0; j < s->n_canaries; j++)
			n += strcmp(s->canaries[j].ns, s->canaries[i].ns) == 0;
		buf_puts(b, "flagger_canary_total{namespace=\"");
		put_label(b, s->canaries[i].ns);
		buf_printf(b, "\"} %zu\n", n);
	}
}

static void
render_weights(struct buf *b, const struct snapshot *s)
{
	const struct snap_canary *c;
	size_t i;

	head(b, "flagger_canary_weight", "gauge", "The virtual service destination weight current value");
	for (i = 0; s && i < s->n_canaries; i++) {
		c = &s->canaries[i];
		buf_puts(b, "flagger_canary_weight{workload=\"");
		put_label(b, c->target);
		buf_puts(b, "-primary\",namespace=\"");
		put_label(b, c->ns);
		buf_printf(b, "\"} %d\n", 100 - c->weight);
		buf_puts(b, "flagger_canary_weight{workload=\"");
		put_label(b, c->target);
		buf_puts(b, "\",namespace=\"");
		put_label(b, c->ns);
		buf_printf(b, "\"} %d\n", c->weight);
	}
}

static void
render_canaries(struct buf *b, const struct snapshot *s)
{
	size_t i;

	head(b, "flagger_canary_status", "gauge", "Last canary analysis result");
	for (i = 0; s && i < s->n_canaries; i++)
		canary_line(b, "flagger_canary_status", &s->canaries[i],
		    s->canaries[i].phase == PHASE_PROGRESSING ? 0 :
		    s->canaries[i].phase == PHASE_FAILED ? 2 : 1);
	head(b, "perch_canary_failed_checks", "gauge", "Failed checks of the current analysis");
	for (i = 0; s && i < s->n_canaries; i++)
		canary_line(b, "perch_canary_failed_checks", &s->canaries[i],
		    s->canaries[i].failed_checks);
	head(b, "perch_canary_controlled", "gauge", "1 when this process controls the canary");
	for (i = 0; s && i < s->n_canaries; i++)
		canary_line(b, "perch_canary_controlled", &s->canaries[i], s->canaries[i].can_control);
}

static void
render_values(struct buf *b, const struct snapshot *s)
{
	const struct snap_canary *c;
	const struct snap_point *p;
	size_t i, k;

	head(b, "perch_canary_metric_value", "gauge", "The value of the last check of each metric");
	for (i = 0; s && i < s->n_canaries; i++) {
		c = &s->canaries[i];
		for (k = 0; k < c->n_metrics; k++) {
			if (c->metrics[k].n_points == 0)
				continue;
			p = &c->metrics[k].points[c->metrics[k].n_points - 1];
			if (p->result != CHECK_PASS && p->result != CHECK_FAIL)
				continue;
			buf_puts(b, "perch_canary_metric_value{name=\"");
			put_label(b, c->target && *c->target ? c->target : c->name);
			buf_puts(b, "\",namespace=\"");
			put_label(b, c->ns);
			buf_puts(b, "\",metric=\"");
			put_label(b, c->metrics[k].name);
			buf_printf(b, "\"} %.17g\n", p->value);
		}
	}
}

static void
render_api(struct buf *b, const struct k8s_counters *a)
{
	const struct { const char *verb; unsigned long n; } v[] = {
		{ "get", a->get }, { "list", a->list }, { "watch", a->watch }, { "create", a->create },
		{ "update", a->update }, { "patch", a->patch }, { "delete", a->del },
	};
	size_t i;

	head(b, "perch_api_requests_total", "counter", "Requests sent to the Kubernetes API server");
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		buf_printf(b, "perch_api_requests_total{verb=\"%s\"} %lu\n", v[i].verb, v[i].n);
	head(b, "perch_api_retries_total", "counter", "Requests to the API server sent again");
	buf_printf(b, "perch_api_retries_total %lu\n", a->retries);
}

void
prom_expo_render(struct prom_expo *e, const struct snapshot *s, const struct k8s_counters *api,
    struct buf *out)
{
	const struct hist *h;
	size_t i;

	render_total(out, s);
	render_canaries(out, s);
	render_weights(out, s);
	render_values(out, s);
	pthread_mutex_lock(&e->mu);
	head(out, "flagger_canary_duration_seconds", "histogram",
	    "Seconds spent performing canary analysis.");
	for (i = 0; s && i < s->n_canaries; i++) {
		char key[200];

		snprintf(key, sizeof key, "%s/%s", s->canaries[i].ns, s->canaries[i].name);
		if ((h = find(e, key, false)) != NULL)
			render_hist(out, "flagger_canary_duration_seconds", h, &s->canaries[i]);
	}
	head(out, "perch_tick_duration_seconds", "histogram", "Seconds each tick took, all canaries");
	render_hist(out, "perch_tick_duration_seconds", &e->all, NULL);
	pthread_mutex_unlock(&e->mu);
	if (api != NULL)
		render_api(out, api);
}
