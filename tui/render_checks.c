/*
 * render_checks.c — the check history of one canary in the detail screen:
 * the most recent analysis checks of all its metrics, newest first, one per
 * line with the time, the metric, the value with its unit, the bound and the
 * result.  Failing checks are drawn in the failure colour; inconclusive ones
 * (no data, query error) say so instead of showing a value, so "no data"
 * never looks like "fine".
 */
#include <stdio.h>
#include <string.h>

#include "tui/render.h"

#define CHECKS_METRICS_MAX 32	/* metrics merged; more are not shown */
#define NAME_W_MAX 24

static int name_width(const struct pen *p, const struct snap_canary *c);
#define VALUE_W 7
#define CHECKS_ROWS_MAX 200	/* lines shown on the tallest screens */
#define BOUND_W 10	/* "≥ 99.0%" and two spaces */
#define RESULT_W 9	/* "? no data" */

/* The n most recent points of all metrics, newest first; equal times keep
 * the metrics' order.  Returns how many were stored. */
size_t
recent_checks(const struct snap_canary *c, struct check_ref *out, size_t max)
{
	size_t left[CHECKS_METRICS_MAX], nm = c->n_metrics, i, n = 0;

	if (nm > CHECKS_METRICS_MAX)
		nm = CHECKS_METRICS_MAX;
	for (i = 0; i < nm; i++)
		left[i] = c->metrics[i].n_points;
	while (n < max) {
		size_t best = nm;

		for (i = 0; i < nm; i++)
			if (left[i] > 0 && (best == nm || c->metrics[i].points[left[i] - 1].t_ms >
			    c->metrics[best].points[left[best] - 1].t_ms))
				best = i;
		if (best == nm)
			break;
		left[best]--;
		out[n].m = &c->metrics[best];
		out[n].pt = &c->metrics[best].points[left[best]];
		n++;
	}
	return n;
}

int
checks_width(const struct pen *p, const struct snap_canary *c)
{
	return 8 + 2 + name_width(p, c) + 1 + VALUE_W + 2 + BOUND_W + RESULT_W;
}

static int
name_width(const struct pen *p, const struct snap_canary *c)
{
	int w = 6, i;

	for (i = 0; i < (int)c->n_metrics; i++) {
		int tw = text_width(c->metrics[i].name, p->utf8);

		if (tw > w)
			w = tw;
	}
	return w > NAME_W_MAX ? NAME_W_MAX : w;
}

static void
check_row(const struct pen *p, const struct check_ref *ck, int y, int x, int w, int name_w)
{
	const struct snap_metric *m = ck->m;
	const struct snap_point *pt = ck->pt;
	bool measured = pt->result == CHECK_PASS || pt->result == CHECK_FAIL;
	enum theme_role r = pt->result == CHECK_PASS ? ROLE_METRIC_PASS :
	    pt->result == CHECK_FAIL ? ROLE_METRIC_FAIL : ROLE_METRIC_NODATA;
	char buf[48], v[32];
	int used;

	fmt_clock(buf, sizeof buf, pt->t_ms, true);
	used = put(p, y, x, w, buf, ROLE_DIM) + 2;
	if (used >= w)
		return;
	put(p, y, x + used, name_w < w - used ? name_w : w - used, m->name,
	    pt->result == CHECK_FAIL ? ROLE_METRIC_FAIL : ROLE_NORMAL);
	used += name_w + 1;
	if (measured)
		fmt_value(v, sizeof v, m->kind, pt->value);
	else
		snprintf(v, sizeof v, "%s", G(p, "—", "-"));
	if (used + VALUE_W > w)
		return;
	put_right(p, y, x + used + VALUE_W, VALUE_W, v, measured ? r : ROLE_METRIC_NODATA);
	used += VALUE_W + 2;
	if (m->has_min || m->has_max) {
		fmt_bound(v, sizeof v, m->kind, m->has_min ? m->min : m->max);
		snprintf(buf, sizeof buf, "%s %s", m->has_min ? G(p, "≥", ">=") : G(p, "≤", "<="), v);
		if (used < w)
			put(p, y, x + used, w - used, buf, ROLE_METRIC_BOUND);
	}
	used += BOUND_W;
	snprintf(buf, sizeof buf, "%s", pt->result == CHECK_PASS ? G(p, "✓ pass", "ok") :
	    pt->result == CHECK_FAIL ? G(p, "✗ FAIL", "FAIL") :
	    pt->result == CHECK_ERROR ? "? error" : "? no data");
	if (used < w)
		put(p, y, x + used, w - used, buf, r);
}

/* The line between the current run's checks and an earlier run's. */
static void
run_separator(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	char when[16], line[96];
	int used;

	fmt_clock(when, sizeof when, c->run_since_ms, true);
	snprintf(line, sizeof line, "%s earlier run, before %s ", G(p, "┄┄", "--"), when);
	used = put(p, y, x, w, line, ROLE_DIM);
	if (used < w)
		put_rep(p, y, x + used, w - used, G(p, "┄", "-"), ROLE_DIM);
}

/* Why there are no checks (snap_canary.metrics_note), "WHAT: HOW": WHAT
 * on the title line and HOW under it, so both fit a half-width column.
 * Returns the row after it. */
static int
metrics_note(const struct pen *p, const char *note, struct rect r)
{
	const char *how = strstr(note, ": ");

	if (how == NULL) {
		put(p, r.y, r.x + 8, r.w - 8, note, ROLE_DIM);
		return r.y + 1;
	}
	putf(p, r.y, r.x + 8, r.w - 8, ROLE_DIM, "%.*s", (int)(how - note), note);
	put(p, r.y + 1, r.x, r.w, how + 2, ROLE_DIM);
	return r.y + 2;
}

void
render_checks(const struct pen *p, const struct snap_canary *c, struct rect r)
{
	struct check_ref ck[CHECKS_ROWS_MAX];
	int rows = r.h - 1 < 0 ? 0 : r.h - 1 > CHECKS_ROWS_MAX ? CHECKS_ROWS_MAX : r.h - 1;
	size_t n = recent_checks(c, ck, (size_t)rows), i, total = 0, now = 0;
	int name_w = name_width(p, c), y = r.y + 1;
	bool sep = false;

	for (i = 0; i < c->n_metrics; i++) {
		size_t j;

		total += c->metrics[i].n_points;
		for (j = 0; j < c->metrics[i].n_points; j++)
			now += c->metrics[i].points[j].t_ms >= c->run_since_ms;
	}
	put(p, r.y, r.x, r.w, "checks", ROLE_TITLE);
	if (total == 0 && c->metrics_note != NULL && c->metrics_note[0] != '\0' && rows > 0)
		y = metrics_note(p, c->metrics_note, r);
	else if (total == 0)
		put(p, r.y, r.x + 8, r.w - 8, "none yet", ROLE_DIM);
	else if (now == total)
		putf(p, r.y, r.x + 8, r.w - 8, ROLE_DIM, "last %zu of %zu, newest first", n, total);
	else
		putf(p, r.y, r.x + 8, r.w - 8, ROLE_DIM, "%zu this run, %zu earlier; newest first",
		    now, total - now);
	for (i = 0; i < n && y < r.y + 1 + rows; i++, y++) {
		if (!sep && ck[i].pt->t_ms < c->run_since_ms) {
			run_separator(p, c, y++, r.x, r.w);
			sep = true;
			if (y >= r.y + 1 + rows)
				break;
		}
		check_row(p, &ck[i], y, r.x, r.w, name_w);
	}
	/* The rows the checks leave: the query of each metric, as sent. */
	for (i = 0; i < c->n_metrics && y < r.y + 1 + rows; i++) {
		const struct snap_metric *m = &c->metrics[i];

		if (m->query == NULL || m->query[0] == '\0')
			continue;
		put(p, y, r.x, name_w, m->name, ROLE_DIM);
		put(p, y++, r.x + name_w + 2, r.w - name_w - 2, m->query, ROLE_DIM);
	}
}
