/*
 * render_detail.c — one canary in detail: the traffic split, the step
 * ladder with the current position, analysis timing, gates and webhooks, the
 * failure reason, one graph per metric (block cells, the bound drawn,
 * failing points in the failure colour, inconclusive points as marked gaps)
 * and the event log, newest first, scrollable.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui/render.h"
#include "util/fmt.h"

#define LABEL_W 11
#define HISTORY_SIDE_W 100	/* from this width, checks and events side by side */

static void
detail_traffic(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	char buf[64], pw[FMT_MAX], cw[FMT_MAX], mw[FMT_MAX];
	int used = put(p, y, x, w, "traffic", ROLE_DIM), bw;

	x += LABEL_W;
	w -= LABEL_W;
	(void)used;
	fmt_weight(pw, sizeof pw, 100 - c->weight);
	fmt_weight(cw, sizeof cw, c->weight);
	fmt_weight(mw, sizeof mw, c->max_weight);
	snprintf(buf, sizeof buf, "primary %4s ", pw);
	used = put(p, y, x, w, buf, ROLE_WEIGHT_PRIMARY);
	bw = w - used - 28;
	if (bw > 60)
		bw = 60;
	draw_weight_bar(p, y, x + used, bw, c->weight, c->max_weight);
	used += bw;
	snprintf(buf, sizeof buf, " %4s canary", cw);
	used += put(p, y, x + used, w - used, buf, ROLE_WEIGHT_CANARY);
	snprintf(buf, sizeof buf, "   %s max %s", G(p, "┆", "|"), mw);
	put(p, y, x + used, w - used, buf, ROLE_WEIGHT_MAX);
}

static void
detail_ladder(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	const char *sep = G(p, " ── ", " -- ");
	int used = 0, i;
	char buf[32];

	if (c->strategy != STRATEGY_CANARY) {
		put(p, y, x, w, "iterations", ROLE_DIM);
		for (i = 0; i < c->iterations && LABEL_W + i < w - 8; i++)
			put(p, y, x + LABEL_W + i, 1, i < c->iteration ? G(p, "■", "#") : G(p, "□", "."),
			    i < c->iteration ? ROLE_WEIGHT_CANARY : ROLE_DIM);
		putf(p, y, x + LABEL_W + i + 1, w - LABEL_W - i - 1, ROLE_NORMAL, "%d/%d  (%s)",
		    c->iteration, c->iterations, strategy_name(c->strategy));
		return;
	}
	put(p, y, x, w, "steps", ROLE_DIM);
	x += LABEL_W;
	w -= LABEL_W;
	for (i = 0; i < (int)c->n_ladder && used < w; i++) {
		bool cur = i + 1 == c->step, done = i + 1 < c->step;

		if (i > 0)
			used += put(p, y, x + used, w - used, sep, ROLE_DIM);
		snprintf(buf, sizeof buf, cur ? "[%d]" : "%d", c->ladder[i]);
		used += put(p, y, x + used, w - used, buf,
		    cur ? ROLE_WEIGHT_CANARY : done ? ROLE_NORMAL : ROLE_DIM);
	}
	used += put(p, y, x + used, w - used, sep, ROLE_DIM);
	put(p, y, x + used, w - used, "promote",
	    c->phase >= PHASE_PROMOTING && c->phase != PHASE_FAILED ? ROLE_WEIGHT_CANARY : ROLE_DIM);
}

static void
detail_analysis(const struct pen *p, const struct ui *u, const struct snap_canary *c,
    int y, int x, int w)
{
	char next[64] = "", buf[256];
	const char *dot = G(p, "·", "-");

	put(p, y, x, w, "analysis", ROLE_DIM);
	/* A countdown only for a canary that moves on by itself: one ticking
	 * under a paused or idle canary would be noise (and bytes on SSH). */
	if (c->paused)
		snprintf(next, sizeof next, "PAUSED: weight held, analysis goes on");
	else if (c->phase == PHASE_INITIALIZED)
		snprintf(next, sizeof next, "waiting for a new revision");
	else if (c->phase == PHASE_INITIALIZING)
		snprintf(next, sizeof next, "setting up the primary");
	else if (c->phase == PHASE_TERMINATING)
		snprintf(next, sizeof next, "revert on deletion, no analysis");
	else if (c->next_check_ms > 0 && ui_canary_running(c))
		snprintf(next, sizeof next, "next check in %llds", (long long)
		    ((c->next_check_ms - u->now_ms > 0 ? c->next_check_ms - u->now_ms : 0) + 999) / 1000);
	else
		snprintf(next, sizeof next, "no check scheduled");
	snprintf(buf, sizeof buf, "every %ds %s %s %s failed %d of %d allowed", c->interval_s, dot,
	    next, dot, c->failed_checks, c->threshold);
	put(p, y, x + LABEL_W, w - LABEL_W, buf, c->paused ? ROLE_ATTENTION : ROLE_NORMAL);
}

static void
detail_gates(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	size_t i;
	int used = LABEL_W;
	char buf[192];

	put(p, y, x, w, "gates", ROLE_DIM);
	if (c->gate != GATE_NONE) {
		static const char *const what[] = { "", "rollout waits for approval",
			"promotion waits for approval", "traffic increase refused by its webhook" };

		used += putf(p, y, x + used, w - used, ROLE_PHASE_WAITING, "%s %s   ", G(p, "●", "*"),
		    what[c->gate]);
	}
	if (c->n_hooks == 0 && c->gate == GATE_NONE)
		put(p, y, x + used, w - used, "no webhooks, no gates", ROLE_DIM);
	for (i = 0; i < c->n_hooks && used < w; i++) {
		const struct snap_hook *h = &c->hooks[i];
		const char *mark = h->last == CHECK_PASS ? G(p, "✓", "ok") :
		    h->last == CHECK_FAIL ? G(p, "✗", "FAIL") : G(p, "…", "..");
		enum theme_role r = h->last == CHECK_PASS ? ROLE_METRIC_PASS :
		    h->last == CHECK_FAIL ? ROLE_METRIC_FAIL : ROLE_METRIC_NODATA;

		snprintf(buf, sizeof buf, "%s (%s) ", h->name, hook_type_name(h->type));
		used += put(p, y, x + used, w - used, buf, ROLE_NORMAL);
		used += put(p, y, x + used, w - used, mark, r);
		if (h->last == CHECK_FAIL && h->message && h->message[0])
			used += putf(p, y, x + used, w - used, r, " %s", h->message);
		used += put(p, y, x + used, w - used, "   ", ROLE_NORMAL);
	}
}

/* ---- graphs ----------------------------------------------------------- */

struct scale { double lo, hi; };

/* A round step of at least raw: 1, 2, 2.5 (from 25 up, or any for a custom
 * metric whose labels show three digits) or 5 times a power
 * of ten, never finer than the labels print (0.1 % or 1 ms). */
static double
nice_step(double raw, enum metric_kind k)
{
	double floor_step = k == METRIC_SUCCESS_RATE ? 0.1 : k == METRIC_DURATION ? 1 : 1e-9;
	double mag, f;

	if (!(raw > floor_step))
		return floor_step;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	if (f <= 1.000001)
		return mag;
	if (f <= 2.000001)
		return 2 * mag;
	if (f <= 2.500001 && (mag >= 10 || k == METRIC_CUSTOM))
		return 2.5 * mag;
	if (f <= 5.000001)
		return 5 * mag;
	return 10 * mag;
}

/* Row (0 = top) of value v in a plot of ph rows. */
static int
value_row(struct scale sc, double v, int ph)
{
	double f = (v - sc.lo) / (sc.hi - sc.lo) * ph;
	int r;

	if (!(f > -1e6))
		return ph - 1;		/* NaN or far below: the bottom row */
	if (f > 1e6)
		return 0;		/* +Inf or far above: the top row */
	r = ph - 1 - (int)floor(f);
	return r < 0 ? 0 : r >= ph ? ph - 1 : r;
}

void
graph_range(const struct snap_metric *m, size_t first, int rows, double *lo, double *hi)
{
	struct scale sc = { 0, 0 };
	bool any = false;
	double step;
	size_t i;

	for (i = first; i < m->n_points; i++) {
		const struct snap_point *pt = &m->points[i];

		if ((pt->result != CHECK_PASS && pt->result != CHECK_FAIL) || !isfinite(pt->value))
			continue;	/* an infinite value is drawn at the edge */
		if (!any || pt->value < sc.lo)
			sc.lo = pt->value;
		if (!any || pt->value > sc.hi)
			sc.hi = pt->value;
		any = true;
	}
	if (m->has_min || m->has_max) {
		double b = m->has_min ? m->min : m->max;

		sc.lo = !any || b < sc.lo ? b : sc.lo;
		sc.hi = !any || b > sc.hi ? b : sc.hi;
	}
	if (sc.hi - sc.lo < 1e-9) {
		double pad = fabs(sc.hi) * 0.05 + 1;

		sc.lo -= pad;
		sc.hi += pad;
	} else {
		double pad = (sc.hi - sc.lo) * 0.1;

		sc.hi += pad;
		sc.lo = sc.lo - pad < 0 && sc.lo >= 0 ? 0 : sc.lo - pad;
	}
	if (m->kind == METRIC_DURATION && sc.lo > 0)
		sc.lo = 0;		/* latency from zero: bar heights compare honestly */
	if (m->kind == METRIC_SUCCESS_RATE) {
		sc.hi = sc.hi > 100 && sc.lo < 100 ? 100 : sc.hi;
		sc.lo = sc.lo < 0 && sc.hi > 0 ? 0 : sc.lo;
	}
	step = nice_step((sc.hi - sc.lo) / (rows > 1 ? rows - 1 : 1), m->kind);
	sc.lo = floor(sc.lo / step + 1e-9) * step;
	sc.hi = ceil(sc.hi / step - 1e-9) * step;
	if (m->kind == METRIC_SUCCESS_RATE) {	/* a rate lies in 0..100 % */
		sc.hi = sc.hi > 100 ? 100 : sc.hi;
		sc.lo = sc.lo < 0 ? 0 : sc.lo;
		if (sc.hi - sc.lo < step)
			sc.lo = sc.hi - step;
	}
	if (m->kind == METRIC_DURATION && sc.lo < 0)
		sc.lo = 0;
	/* The bound gets a row of its own below the top value (a success rate
	 * cannot go above 100 %: its title names the bound then). */
	if ((m->has_min || m->has_max) && m->kind != METRIC_SUCCESS_RATE && rows > 2 &&
	    value_row(sc, m->has_min ? m->min : m->max, rows) == 0)
		sc.hi += step;
	*lo = sc.lo;
	*hi = sc.hi;
}

static struct scale
graph_scale(const struct snap_metric *m, size_t first, int rows)
{
	struct scale sc;

	graph_range(m, first, rows, &sc.lo, &sc.hi);
	return sc;
}

/* Draws part at x + *used only when it fits whole. */
static void
title_part(const struct pen *p, int y, int x, int w, int *used, const char *part,
    enum theme_role r)
{
	if (*used + text_width(part, p->utf8) <= w)
		*used += put(p, y, x + *used, w - *used, part, r);
}

static void
graph_title(const struct pen *p, const struct snap_metric *m, size_t run_first, int y, int x,
    int w)
{
	char buf[160], v[32], b[32];
	int used = put(p, y, x, w, m->name, ROLE_TITLE), pass = 0, fail = 0, nod = 0;
	size_t i;

	for (i = run_first; i < m->n_points; i++) {	/* this run's checks */
		if (m->points[i].result == CHECK_PASS)
			pass++;
		else if (m->points[i].result == CHECK_FAIL)
			fail++;
		else
			nod++;
	}
	if (m->n_points > run_first) {
		const struct snap_point *last = &m->points[m->n_points - 1];

		if (last->result == CHECK_PASS || last->result == CHECK_FAIL)
			fmt_value(v, sizeof v, m->kind, last->value);
		else
			snprintf(v, sizeof v, "%s", last->result == CHECK_ERROR ? "error" : "no data");
		snprintf(buf, sizeof buf, " %s", v);
		title_part(p, y, x, w, &used, buf, last->result == CHECK_FAIL ? ROLE_METRIC_FAIL :
		    last->result == CHECK_PASS ? ROLE_NORMAL : ROLE_METRIC_NODATA);
	}
	if (m->has_min || m->has_max) {	/* "bound" only when there is room */
		int before = used;

		fmt_bound(b, sizeof b, m->kind, m->has_min ? m->min : m->max);
		snprintf(buf, sizeof buf, "  bound %s %s", m->has_min ? G(p, "≥", ">=") : G(p, "≤", "<="), b);
		title_part(p, y, x, w, &used, buf, ROLE_METRIC_BOUND);
		snprintf(buf, sizeof buf, "  %s %s", m->has_min ? G(p, "≥", ">=") : G(p, "≤", "<="), b);
		if (used == before)
			title_part(p, y, x, w, &used, buf, ROLE_METRIC_BOUND);
	}
	snprintf(buf, sizeof buf, "  %s%d %s%d ?%d", G(p, "✓", "ok "), pass, G(p, "✗", "fail "), fail, nod);
	title_part(p, y, x, w, &used, buf, ROLE_DIM);
}

/* One point as a column of cells, distinguishable without colour: a pass
 * is a solid bar (eighths at its top), a failure a shaded bar topped with
 * "×" wherever its top is (also on the top row), an inconclusive point a
 * "?" on the bottom row with nothing above it.  An earlier run's points
 * are drawn dim. */
static void
graph_column(const struct pen *p, const struct snap_point *pt, struct scale sc, int y, int x,
    int ph, bool earlier)
{
	static const char *const eighths[9] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	bool fail = pt->result == CHECK_FAIL;
	enum theme_role r = earlier ? ROLE_DIM : fail ? ROLE_METRIC_FAIL : ROLE_METRIC_PASS;
	int level, row, top;

	if (pt->result != CHECK_PASS && pt->result != CHECK_FAIL) {
		put(p, y + ph - 1, x, 1, "?", earlier ? ROLE_DIM : ROLE_METRIC_NODATA);
		return;
	}
	level = (int)lround((pt->value - sc.lo) / (sc.hi - sc.lo) * ph * 8);
	if (level < 1)
		level = 1;
	if (level > ph * 8)
		level = ph * 8;
	top = ph - 1 - (level - 1) / 8;		/* the row of the bar's top cell */
	for (row = ph - 1; row > top; row--)
		put(p, y + row, x, 1, fail ? G(p, "▒", "x") : G(p, "█", "#"), r);
	if (fail)
		put(p, y + top, x, 1, G(p, "×", "X"), r);
	else if (p->utf8)
		put(p, y + top, x, 1, eighths[level - (ph - 1 - top) * 8], r);
	else
		put(p, y + top, x, 1, level - (ph - 1 - top) * 8 >= 4 ? "#" : ".", r);
}

/* The index of the first point of the current run (points before it are
 * of an earlier revision's run), m->n_points when none is. */
static size_t
run_first(const struct snap_metric *m, int64_t run_since_ms)
{
	size_t i = m->n_points;

	while (i > 0 && m->points[i - 1].t_ms >= run_since_ms)
		i--;
	return i;
}

/* The line between an earlier revision's run and the current one. */
static void
graph_boundary(const struct pen *p, int y, int x, int ph)
{
	int row;

	for (row = 0; row < ph; row++)
		put(p, y + row, x, 1, G(p, "┊", ":"), ROLE_BORDER);
}

/* The axis labels: the top and bottom values always (a bound on those rows
 * is said in the title), the bound on its own row in between. */
static void
graph_axis(const struct pen *p, const struct snap_metric *m, struct scale sc, struct rect g,
    int lw, int ph, int rb)
{
	char lab[32];
	int i;

	for (i = 0; i < ph; i++) {
		bool bound = i == rb && i != 0 && i != ph - 1;
		double v = bound ? (m->has_min ? m->min : m->max) :
		    sc.hi - (sc.hi - sc.lo) * i / (ph > 1 ? ph - 1 : 1);

		if (i == 0 || i == ph - 1 || bound) {
			fmt_bound(lab, sizeof lab, m->kind, v);
			put_right(p, g.y + 1 + i, g.x + lw - 1, lw - 1, lab,
			    bound ? ROLE_METRIC_BOUND : ROLE_DIM);
		}
		put(p, g.y + 1 + i, g.x + lw, 1, i == rb ? G(p, "┼", "+") : G(p, "┤", "|"), ROLE_BORDER);
	}
}

/* ---- the comparison with the primary (perch.dev/compare) ---------------- */

#define STRIP_W 5	/* the distributions beside a compared metric's graph */

/* The last comparison of metric name, when it has samples to draw. */
static const struct compare_metric *
compared(const struct snap_canary *c, const char *name)
{
	size_t i;

	for (i = 0; c->compare.done && i < c->compare.n; i++)
		if (strcmp(c->compare.m[i].name, name) == 0 &&
		    (c->compare.m[i].n_canary > 0 || c->compare.m[i].n_primary > 0))
			return &c->compare.m[i];
	return NULL;
}

/* The scale grown to hold the samples too. */
static void
scale_samples(struct scale *sc, const struct compare_metric *cm)
{
	size_t i;

	for (i = 0; cm != NULL && i < cm->n_canary + cm->n_primary; i++) {
		double v = i < cm->n_canary ? cm->canary[i] : cm->primary[i - cm->n_canary];

		if (!isfinite(v))
			continue;
		sc->lo = v < sc->lo ? v : sc->lo;
		sc->hi = v > sc->hi ? v : sc->hi;
	}
}

/* One side's samples as a column: a line from the lowest to the highest,
 * its median a dot. */
static void
distribution(const struct pen *p, const double *v, size_t n, double median, struct scale sc,
    int y, int x, int ph, enum theme_role r)
{
	int top = ph - 1, bottom = 0, row;
	size_t i;

	for (i = 0; i < n; i++) {
		row = value_row(sc, v[i], ph);
		top = row < top ? row : top;
		bottom = row > bottom ? row : bottom;
	}
	for (row = top; n > 0 && row <= bottom; row++)
		put(p, y + row, x, 1, G(p, "│", "|"), r);
	if (n > 0 && isfinite(median))
		put(p, y + value_row(sc, median, ph), x, 1, G(p, "●", "o"), r);
}

/* The canary's and the primary's samples of the last analysis, side by
 * side at the right of the graph, "c" and "p" under them. */
static void
graph_strip(const struct pen *p, const struct compare_metric *cm, struct scale sc, int y, int x,
    int ph)
{
	int row;

	for (row = 0; row < ph; row++)
		put(p, y + row, x, 1, G(p, "┊", ":"), ROLE_BORDER);
	distribution(p, cm->canary, cm->n_canary, cm->canary_median, sc, y, x + 2, ph,
	    ROLE_WEIGHT_CANARY);
	distribution(p, cm->primary, cm->n_primary, cm->primary_median, sc, y, x + 4, ph,
	    ROLE_WEIGHT_PRIMARY);
	put(p, y + ph, x + 2, 1, "c", ROLE_WEIGHT_CANARY);
	put(p, y + ph, x + 4, 1, "p", ROLE_WEIGHT_PRIMARY);
}

/* The line of the comparison: the score and its result, then each
 * compared metric's classification, medians and effect size. */
static void
detail_compare(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	const struct compare_result *r = &c->compare;
	const char *dot = G(p, "·", "-");
	char line[600], m[300], cn[FMT_MAX], pn[FMT_MAX];
	enum theme_role role;
	size_t i, len;

	put(p, y, x, w, "compare", ROLE_DIM);
	if (!r->done) {
		put(p, y, x + LABEL_W, w - LABEL_W, "with the primary: no analysis yet", ROLE_DIM);
		return;
	}
	role = r->verdict == JUDGE_VERDICT_FAIL ? ROLE_PHASE_FAILED :
	    r->verdict == JUDGE_VERDICT_MARGINAL ? ROLE_ATTENTION : ROLE_NORMAL;
	snprintf(line, sizeof line, "score %g %s", r->score, judge_verdict_name(r->verdict));
	for (i = 0; i < r->n; i++) {
		const struct compare_metric *cm = &r->m[i];

		if (isnan(cm->canary_median) || isnan(cm->primary_median)) {
			snprintf(m, sizeof m, "%s %s", cm->name, judge_class_name(cm->classification));
		} else {
			fmt_number(cn, sizeof cn, cm->canary_median);
			fmt_number(pn, sizeof pn, cm->primary_median);
			snprintf(m, sizeof m, "%s %s %s vs %s x%.2f", cm->name,
			    judge_class_name(cm->classification), cn, pn, cm->effect);
		}
		len = strlen(line);
		snprintf(line + len, sizeof line - len, " %s %s", dot, m);
	}
	put(p, y, x + LABEL_W, w - LABEL_W, line, role);
}

static void
render_graph(const struct pen *p, const struct snap_metric *m, int64_t run_since_ms,
    const struct compare_metric *cm, struct rect g)
{
	int lw = 7, ph = g.h - 2, pw = g.w - lw - 1, rb = -1, col, strip = 0;
	size_t cur = run_first(m, run_since_ms), first, k;
	bool boundary;
	struct scale sc;
	char lab[32];

	graph_title(p, m, cur, g.y, g.x, g.w);
	if (ph < 1 || pw < 4)
		return;
	if (cm != NULL && pw >= 4 + 4 * STRIP_W) {
		strip = STRIP_W;
		pw -= strip;
	}
	/* The revision boundary takes a column when points of an earlier run
	 * are shown (after them all when the new run has none yet). */
	first = m->n_points > (size_t)pw ? m->n_points - (size_t)pw : 0;
	if (cur > first && m->n_points - first + 1 > (size_t)pw)
		first++;
	boundary = cur > first;
	sc = graph_scale(m, first, ph);
	if (strip > 0)
		scale_samples(&sc, cm);
	if (m->has_min || m->has_max) {
		rb = value_row(sc, m->has_min ? m->min : m->max, ph);
		put_rep(p, g.y + 1 + rb, g.x + lw + 1, pw, G(p, "┄", "-"), ROLE_METRIC_BOUND);
	}
	graph_axis(p, m, sc, g, lw, ph, rb);
	for (k = first, col = 0; k <= m->n_points; k++, col++) {
		if (boundary && k == cur)	/* between the runs */
			graph_boundary(p, g.y + 1, g.x + lw + 1 + col++, ph);
		if (k < m->n_points)
			graph_column(p, &m->points[k], sc, g.y + 1, g.x + lw + 1 + col, ph, k < cur);
	}
	col--;
	put(p, g.y + 1 + ph, g.x + lw, 1, G(p, "└", "+"), ROLE_BORDER);
	if (m->n_points > 0) {
		fmt_clock(lab, sizeof lab, m->points[first].t_ms, false);
		put(p, g.y + 1 + ph, g.x + lw + 2, pw - 1, lab, ROLE_DIM);
		fmt_clock(lab, sizeof lab, m->points[m->n_points - 1].t_ms, false);
		if (col > 14)
			put_right(p, g.y + 1 + ph, g.x + lw + 1 + col, 5, lab, ROLE_DIM);
	} else {
		put(p, g.y + 1 + ph, g.x + lw + 2, pw - 1, "no checks yet", ROLE_DIM);
	}
	if (strip > 0)
		graph_strip(p, cm, sc, g.y + 1, g.x + lw + 1 + pw, ph);
}

/* ---- events ----------------------------------------------------------- */

/* The events, newest first, one line each (cut with "…"); the selected
 * one (ui_event_selected: the top one while scrolling) has its time
 * highlighted, and Enter (in the detail) or e shows its full text. */
static void
render_events(const struct pen *p, const struct ui *u, const struct snap_canary *c, struct rect r)
{
	int row, skip = u->event_scroll, n = (int)c->n_events, sel = ui_event_selected(u, c);
	static const enum theme_role sev_role[SEV__COUNT] = {
		ROLE_EVENT_NORMAL, ROLE_EVENT_WARNING, ROLE_EVENT_ERROR };
	static const char *const sev_mark[SEV__COUNT] = { " ", "!", "E" };
	const char *full = u->screen == SCR_DETAIL ? G(p, "↵", "Enter") : "e";

	if (skip > n - (r.h - 1))	/* the last page stays full */
		skip = n - (r.h - 1) > 0 ? n - (r.h - 1) : 0;
	if (p->event_rows != NULL)
		*p->event_rows = r.h - 1;
	put(p, r.y, r.x, r.w, "events", ROLE_TITLE);
	if (n == 0)
		put(p, r.y, r.x + 8, r.w - 8, "none yet", ROLE_DIM);
	else if (skip > 0 || n > r.h - 1)
		putf(p, r.y, r.x + 8, r.w - 8, ROLE_DIM, "%d-%d of %d (%s scroll %s %s full text)",
		    skip + 1, skip + r.h - 1 < n ? skip + r.h - 1 : n, n,
		    u->screen == SCR_DETAIL ? "j/k" : "J/K", G(p, "·", "-"), full);
	else
		putf(p, r.y, r.x + 8, r.w - 8, ROLE_DIM, "newest first (%s full text)", full);
	for (row = 1; row < r.h && skip + row - 1 < n; row++) {
		const struct snap_event *e = &c->events[n - skip - row];
		char t[16];
		int used;
		enum severity sv = e->severity < SEV__COUNT ? e->severity : SEV_ERROR;

		fmt_clock(t, sizeof t, e->t_ms, true);
		used = put(p, r.y + row, r.x, r.w, t, n - skip - row == sel ? ROLE_SELECTION : ROLE_DIM);
		used += put(p, r.y + row, r.x + used + 1, 1, sev_mark[sv], sev_role[sv]) + 2;
		used += put(p, r.y + row, r.x + used, r.w - used, e->message, sev_role[sv]);
		if (e->actor != NULL && e->actor[0] != '\0')
			putf(p, r.y + row, r.x + used, r.w - used, ROLE_DIM, " (by %s)", e->actor);
	}
}

/* The check history and the event log share the rows under the graphs:
 * side by side when wide, else the checks above with about half the rows. */
static void
render_history(const struct pen *p, const struct ui *u, const struct snap_canary *c,
    struct rect r)
{
	int ch;

	if (r.h < 2)
		return;
	if (r.w >= HISTORY_SIDE_W) {
		int cw = checks_width(p, c);

		cw = cw < r.w / 2 ? r.w / 2 : cw > r.w * 3 / 5 ? r.w * 3 / 5 : cw;

		render_checks(p, c, (struct rect){ r.y, r.x, r.h, cw });
		render_events(p, u, c, (struct rect){ r.y, r.x + cw + 3, r.h, r.w - cw - 3 });
		return;
	}
	if (r.h < 5) {
		render_events(p, u, c, r);
		return;
	}
	ch = 1 + (r.h - 2) / 2;
	render_checks(p, c, (struct rect){ r.y, r.x, ch, r.w });
	render_events(p, u, c, (struct rect){ r.y + ch, r.x, r.h - ch, r.w });
}

static void
detail_title(const struct pen *p, const struct snapshot *s, const struct snap_canary *c,
    char *out, size_t n)
{
	char name[192];
	const char *dot = G(p, "·", "-");

	const char *from = c->rev_from && c->rev_from[0] ? c->rev_from : "?";
	const char *to = c->rev_to && c->rev_to[0] ? c->rev_to : "?";
	const char *how = c->provider && c->provider[0] ? c->provider : strategy_name(c->strategy);

	display_name(s, c, name, sizeof name);
	if (c->driven_by != NULL && c->driven_by[0] != '\0') {
		snprintf(out, n, "%s %s %s %s driven by %s", name, dot, how, dot, c->driven_by);
		return;
	}
	/* Once promoted the primary runs what was rolled out: one image, not
	 * "v2 → v2", which would read as a rollout still to come. */
	if (strcmp(from, to) == 0 && strcmp(to, "?") != 0)
		snprintf(out, n, "%s %s %s %s %s", name, dot, how, dot, to);
	else
		snprintf(out, n, "%s %s %s %s %s %s %s", name, dot, how, dot, from,
		    G(p, "→", "->"), to);
}

/* The line under the gates, always kept (the graphs never move): the
 * reason of a failure or a hold, else how the previous run ended, else
 * nothing. */
static void
detail_note(const struct pen *p, const struct snap_canary *c, int y, int x, int w)
{
	char line[400], when[16];

	if (c->reason != NULL && c->reason[0] != '\0') {
		put(p, y, x, w, c->phase == PHASE_FAILED ? "failed" : "reason", ROLE_DIM);
		put(p, y, x + LABEL_W, w - LABEL_W, c->reason,
		    c->phase == PHASE_FAILED ? ROLE_PHASE_FAILED : ROLE_ATTENTION);
		return;
	}
	if (c->override_text != NULL && c->override_text[0] != '\0') {
		/* a skipped or forced promotion stays in sight */
		put(p, y, x, w, "promotion", ROLE_DIM);
		put(p, y, x + LABEL_W, w - LABEL_W, c->override_text, ROLE_ATTENTION);
		return;
	}
	if (!phase_is_terminal(c->last_phase) || phase_is_terminal(c->phase))
		return;
	fmt_clock(when, sizeof when, c->last_end_ms, false);
	snprintf(line, sizeof line, "%s %s%s%s", phase_name(c->last_phase), when,
	    c->last_reason != NULL && c->last_reason[0] ? ", " : "",
	    c->last_reason != NULL ? c->last_reason : "");
	put(p, y, x, w, "last run", ROLE_DIM);
	put(p, y, x + LABEL_W, w - LABEL_W, line,
	    c->last_phase == PHASE_FAILED ? ROLE_PHASE_FAILED : ROLE_DIM);
}

/* The graphs' height: from the screen size and the number of metrics only,
 * so the layout never jumps as checks and events come in. */
static int
graph_height(const struct snap_canary *c, int avail, int per_row)
{
	int graph_rows = ((int)c->n_metrics + per_row - 1) / per_row;
	int gh = avail - graph_rows * 9 >= 10 ? 8 : 6;

	while (graph_rows > 0 && gh > 4 && avail - graph_rows * (gh + 1) < 4)
		gh--;
	return gh;
}

void
render_detail(const struct pen *p, const struct snapshot *s, const struct ui *u,
    const struct snap_canary *c, struct rect r)
{
	char title[400];
	int y, per_row, gh, graph_rows, i, ev_h;

	detail_title(p, s, c, title, sizeof title);
	draw_box(p, r.y, r.x, r.h, r.w, title);
	r = (struct rect){ r.y + 1, r.x + 2, r.h - 2, r.w - 4 };
	y = r.y;
	detail_traffic(p, c, y++, r.x, r.w);
	detail_ladder(p, c, y++, r.x, r.w);
	detail_analysis(p, u, c, y++, r.x, r.w);
	detail_gates(p, c, y++, r.x, r.w);
	if (c->route != NULL && c->route[0] != '\0') {
		put(p, y, r.x, r.w, "route", ROLE_DIM);
		put(p, y++, r.x + LABEL_W, r.w - LABEL_W, c->route, ROLE_NORMAL);
	}
	if (c->affinity || (c->sticky != NULL && c->sticky[0] != '\0')) {	/* session affinity */
		char line[AFFINITY_COOKIE_MAX + 64];

		if (c->sticky != NULL && c->sticky[0] != '\0')
			snprintf(line, sizeof line, "cookie %s keeps a client on the canary", c->sticky);
		else
			snprintf(line, sizeof line, "no cookie yet: made when the canary first gets traffic");
		put(p, y, r.x, r.w, "sticky", ROLE_DIM);
		put(p, y++, r.x + LABEL_W, r.w - LABEL_W, line, ROLE_NORMAL);
	}
	detail_note(p, c, y++, r.x, r.w);
	if (c->compares)
		detail_compare(p, c, y++, r.x, r.w);
	if (r.h >= 30)
		y++;		/* room to breathe, on tall screens only */
	per_row = r.w >= 76 ? 2 : 1;
	graph_rows = ((int)c->n_metrics + per_row - 1) / per_row;
	gh = graph_height(c, (r.y + r.h) - y, per_row);
	for (i = 0; i < (int)c->n_metrics; i++) {
		int gw = (r.w - (per_row - 1) * 3) / per_row;
		struct rect g = { y + (i / per_row) * (gh + 1), r.x + (i % per_row) * (gw + 3), gh, gw };

		if (g.y + gh > r.y + r.h - 2)
			break;
		render_graph(p, &c->metrics[i], c->run_since_ms, compared(c, c->metrics[i].name), g);
	}
	y += graph_rows * (gh + 1);
	ev_h = r.y + r.h - y;
	render_history(p, u, c, (struct rect){ y, r.x, ev_h, r.w });
}
