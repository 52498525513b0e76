/*
 * render_overview.c — the overview: one row per canary (name, phase,
 * traffic bar with the max-weight marker, step, failed checks, success rate
 * and p99 with a trend mark, time in phase) and, under a row that needs
 * attention, a line saying why.  Columns come from one layout table so the
 * heading and the rows never drift apart.  A run over every namespace (-A:
 * no namespace of its own) that shows more than one gets a NAMESPACE
 * column first.  When it shows a canary another controller drives, a
 * column beside the name marks those: FLAGGER (FLG under 100 columns, where
 * the traffic bar gives up the room).
 */
#include <stdio.h>
#include <string.h>

#include "tui/render.h"
#include "util/fmt.h"

enum col { C_NS, C_NAME, C_MARK, C_PHASE, C_BAR, C_PCT, C_STEP, C_FAIL, C_SUCC, C_P99, C_FOR, C__COUNT };

struct layout {
	int x[C__COUNT], w[C__COUNT];
	bool wide;
};

#define NS_COL_MAX 16
#define NS_COL_NARROW 8	/* under 100 columns, headed NS */
#define MARK_COL 8	/* "FLAGGER", "EXTERNAL"; under 100 columns "FLG", "EXT" */
#define MARK_COL_NARROW 3

/* The NAMESPACE column's width: 0 unless the snapshot has no namespace of
 * its own and its canaries are in more than one. */
static int
ns_col_width(const struct snapshot *s)
{
	size_t i;
	int w = 9;	/* "NAMESPACE" */
	bool more = false;

	if (s->ns != NULL && s->ns[0] != '\0')
		return 0;
	for (i = 0; i < s->n_canaries; i++) {
		more = more || strcmp(s->canaries[i].ns, s->canaries[0].ns) != 0;
		if ((int)strlen(s->canaries[i].ns) > w)
			w = (int)strlen(s->canaries[i].ns);
	}
	return !more ? 0 : w > NS_COL_MAX ? NS_COL_MAX : w;
}

/* Whether a canary of the overview is driven by another controller: the
 * mark column is drawn then, beside the name. */
static bool
has_driven(const struct snapshot *s, const size_t *idx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (driver_mark(&s->canaries[idx[i]]) != NULL)
			return true;
	return false;
}

static void
layout_cols(struct layout *l, int x0, int width, int ns_w, bool mark)
{
	/* widths of the fixed columns; name and bar share the rest */
	int fixed[C__COUNT] = { ns_w, 0, mark ? MARK_COL : 0, 18, 0, 4, 5, 6, 8, 6, 6 };
	int i, x, rest, name;

	l->wide = width >= 100;
	if (!l->wide) {
		fixed[C_FAIL] = 5;
		fixed[C_FOR] = 0;
		fixed[C_NS] = ns_w > NS_COL_NARROW ? NS_COL_NARROW : ns_w;
		fixed[C_MARK] = mark ? MARK_COL_NARROW : 0;
	}
	rest = width - 2;
	for (i = 0; i < C__COUNT; i++)
		rest -= fixed[i] + (fixed[i] > 0 || i == C_NAME || i == C_BAR ? 1 : 0);
	/* the mark's room comes out of the bar: the name is as wide as without */
	name = (rest + (mark ? fixed[C_MARK] + 1 : 0)) * 2 / 5;
	l->w[C_NAME] = l->wide ? (name > 28 ? 28 : name) : ns_w > 0 ? 10 : 12;
	l->w[C_BAR] = rest - l->w[C_NAME];
	x = x0 + 2;
	for (i = 0; i < C__COUNT; i++) {
		if (i != C_NAME && i != C_BAR)
			l->w[i] = fixed[i];
		l->x[i] = x;
		if (l->w[i] > 0)
			x += l->w[i] + 1;
	}
}

void
display_name(const struct snapshot *s, const struct snap_canary *c, char *out, size_t n)
{
	if (s->ns != NULL && s->ns[0] != '\0' && strcmp(s->ns, c->ns) == 0)
		snprintf(out, n, "%s", c->name);
	else
		snprintf(out, n, "%s/%s", c->ns, c->name);
}

enum theme_role
phase_role(enum phase ph)
{
	switch (ph) {
	case PHASE_WAITING:
	case PHASE_WAITING_PROMOTION:
		return ROLE_PHASE_WAITING;
	case PHASE_PROGRESSING:
	case PHASE_PROMOTING:
	case PHASE_FINALISING:
	case PHASE_TERMINATING:
		return ROLE_PHASE_ACTIVE;
	case PHASE_SUCCEEDED:
		return ROLE_PHASE_SUCCEEDED;
	case PHASE_FAILED:
		return ROLE_PHASE_FAILED;
	default:
		return ROLE_PHASE_IDLE;
	}
}

void
step_text(const struct pen *p, const struct snap_canary *c, char *out, size_t n)
{
	if (phase_is_terminal(c->phase) || c->phase == PHASE_INITIALIZING ||
	    c->phase == PHASE_INITIALIZED || c->phase == PHASE_TERMINATING)
		snprintf(out, n, "%s", G(p, "—", "-"));
	else if (c->strategy == STRATEGY_CANARY)
		snprintf(out, n, "%d/%zu", c->step, c->n_ladder);
	else
		snprintf(out, n, "%d/%d", c->iteration, c->iterations);
}

void
attention_text(const struct ui *u, const struct snap_canary *c, char *out, size_t n)
{
	char when[16];

	out[0] = '\0';
	if (c->gate == GATE_ROLLOUT || c->gate == GATE_PROMOTION) {
		if (u->read_only)
			snprintf(out, n, "waiting for approval of %s",
			    c->rev_to && c->rev_to[0] ? c->rev_to : "the new revision");
		else
			snprintf(out, n, "waiting for your approval: press a");
	} else if (c->reason != NULL && c->reason[0] != '\0' &&
	    (c->phase == PHASE_FAILED || c->held || c->gate == GATE_TRAFFIC || c->refused ||
	    c->terminating)) {
		snprintf(out, n, "%s", c->reason);
	} else if (c->override_text != NULL && c->override_text[0] != '\0') {
		/* a skipped or forced promotion stays in sight */
		snprintf(out, n, "%s", c->override_text);
	} else if (c->last_phase == PHASE_FAILED && ui_in_progress_phase(c->phase)) {
		/* A new run after a failure: the failure stays in sight. */
		fmt_clock(when, sizeof when, c->last_end_ms, false);
		snprintf(out, n, "last: Failed %s%s%s", when,
		    c->last_reason != NULL && c->last_reason[0] ? ", " : "",
		    c->last_reason != NULL ? c->last_reason : "");
	}
}

/* The mark of a canary another controller drives, "FLAGGER", or NULL. */
const char *
driver_mark(const struct snap_canary *c)
{
	if (c->driven_by == NULL || c->driven_by[0] == '\0')
		return NULL;
	return strncmp(c->driven_by, "Flagger", 7) == 0 ? "FLAGGER" : "EXTERNAL";
}

/* The badge beside the phase: PAUSED, HELD, or how a promotion bypassed
 * the analysis (SKIPPED, FORCED) once it is under way or done; NULL. */
const char *
phase_badge(const struct snap_canary *c)
{
	if (c->paused)
		return "PAUSED";
	if (c->held)
		return "HELD";
	if (c->override != OVR_NONE && (c->phase == PHASE_PROMOTING ||
	    c->phase == PHASE_FINALISING || phase_is_terminal(c->phase)))
		return c->override == OVR_SKIPPED ? "SKIPPED" : "FORCED";
	return NULL;
}

const struct snap_point *
last_point(const struct snap_canary *c, enum metric_kind k, const struct snap_metric **m,
    int *trend)
{
	size_t i, j;

	*trend = 0;
	for (i = 0; i < c->n_metrics; i++) {
		const struct snap_metric *mm = &c->metrics[i];
		const struct snap_point *last = NULL;

		if (mm->kind != k)
			continue;
		*m = mm;
		/* The current run's only: a new revision starts with no value,
		 * not with the last one's. */
		if (mm->n_points == 0 || mm->points[mm->n_points - 1].t_ms < c->run_since_ms)
			return NULL;
		last = &mm->points[mm->n_points - 1];
		if (last->result != CHECK_PASS && last->result != CHECK_FAIL)
			return last;
		for (j = mm->n_points - 1; j-- > 0;) {
			const struct snap_point *pp = &mm->points[j];
			double d = last->value - pp->value, eps = 0.001 * (last->value < 0 ? -last->value : last->value);

			if (pp->t_ms < c->run_since_ms)
				break;		/* no trend across revisions */
			if (pp->result != CHECK_PASS && pp->result != CHECK_FAIL)
				continue;
			*trend = d > eps + 1e-9 ? 1 : d < -eps - 1e-9 ? -1 : 0;
			break;
		}
		return last;
	}
	*m = NULL;
	return NULL;
}

void
draw_weight_bar(const struct pen *p, int y, int x, int bw, int weight, int max_weight)
{
	int k, m;

	if (bw <= 0)
		return;
	if (weight < 0)
		weight = 0;
	if (weight > 100)
		weight = 100;
	k = (weight * bw + 50) / 100;
	if (weight > 0 && k == 0)
		k = 1;
	put_rep(p, y, x, bw - k, G(p, "░", "="), ROLE_WEIGHT_PRIMARY);
	put_rep(p, y, x + bw - k, k, G(p, "█", "#"), ROLE_WEIGHT_CANARY);
	if (max_weight > 0 && max_weight < 100) {
		m = bw - (max_weight * bw + 50) / 100;
		if (m > 0 && m < bw - k)
			put(p, y, x + m, 1, G(p, "┆", "|"), ROLE_WEIGHT_MAX);
	}
}

static void
metric_cell(const struct pen *p, const struct snap_canary *c, enum metric_kind k,
    int y, int x, int w)
{
	const struct snap_metric *m = NULL;
	int trend, used;
	const struct snap_point *pt = last_point(c, k, &m, &trend);
	char v[32];

	if (m == NULL || pt == NULL) {
		put(p, y, x, w, G(p, "—", "-"), ROLE_DIM);
		return;
	}
	if (pt->result != CHECK_PASS && pt->result != CHECK_FAIL) {
		put(p, y, x, w, pt->result == CHECK_ERROR ? "error" : w >= 7 ? "no data" : "nodata",
		    ROLE_METRIC_NODATA);
		return;
	}
	fmt_value(v, sizeof v, k, pt->value);
	used = put(p, y, x, w, v, pt->result == CHECK_FAIL ? ROLE_METRIC_FAIL : ROLE_NORMAL);
	if (trend != 0)
		put(p, y, x + used + 1, w - used - 1, trend > 0 ? G(p, "▲", "^") : G(p, "▼", "v"), ROLE_DIM);
}

static void
overview_heading(const struct pen *p, const struct layout *l, int y)
{
	static const char *const wide[C__COUNT] = { "NAMESPACE",
		"NAME", "", "PHASE", "TRAFFIC", "", "STEP", "FAILED", "SUCCESS", "P99", "FOR" };
	static const char *const narrow[C__COUNT] = { "NS",
		"NAME", "", "PHASE", "TRAFFIC", "", "STEP", "FAIL", "SUCC", "P99", "" };
	int i;

	for (i = 0; i < C__COUNT; i++) {
		const char *h = l->wide ? wide[i] : narrow[i];

		if (l->w[i] <= 0)
			continue;
		if (i == C_FOR)
			put_right(p, y, l->x[i] + l->w[i], l->w[i], h, ROLE_DIM);
		else
			put(p, y, l->x[i], l->w[i], h, ROLE_DIM);
	}
	if (l->w[C_BAR] >= 26)	/* "TRAFFIC" and the whole legend */
		put_right(p, y, l->x[C_BAR] + l->w[C_BAR], l->w[C_BAR] - 8,
		    G(p, "primary ░│█ canary", "primary =|# canary"), ROLE_DIM);
}

static void
overview_row(const struct pen *p, const struct snapshot *s, const struct ui *u,
    const struct layout *l, const struct snap_canary *c, int y, bool sel)
{
	char buf[192];
	int used;

	if (sel)
		put(p, y, l->x[C_NS] - 2, 1, G(p, "▶", ">"), ROLE_SELECTION);
	if (l->w[C_NS] > 0) {
		put(p, y, l->x[C_NS], l->w[C_NS], c->ns, ROLE_DIM);
		snprintf(buf, sizeof buf, "%s", c->name);
	} else {
		display_name(s, c, buf, sizeof buf);
	}
	put(p, y, l->x[C_NAME], l->w[C_NAME], buf, sel ? ROLE_SELECTION : ROLE_NORMAL);
	if (l->w[C_MARK] > 0 && driver_mark(c) != NULL)
		put(p, y, l->x[C_MARK], l->w[C_MARK], l->wide ? driver_mark(c) :
		    strcmp(driver_mark(c), "FLAGGER") == 0 ? "FLG" : "EXT", ROLE_ATTENTION);
	used = put(p, y, l->x[C_PHASE], l->w[C_PHASE], phase_name(c->phase), phase_role(c->phase));
	if (phase_badge(c) != NULL)
		put(p, y, l->x[C_PHASE] + used + 1, l->w[C_PHASE] - used - 1, phase_badge(c),
		    ROLE_ATTENTION);
	draw_weight_bar(p, y, l->x[C_BAR], l->w[C_BAR], c->weight, c->max_weight);
	fmt_weight(buf, sizeof buf, c->weight);
	put_right(p, y, l->x[C_PCT] + l->w[C_PCT], l->w[C_PCT], buf, ROLE_NORMAL);
	step_text(p, c, buf, sizeof buf);
	put(p, y, l->x[C_STEP], l->w[C_STEP], buf, ROLE_NORMAL);
	snprintf(buf, sizeof buf, "%d/%d", c->failed_checks, c->threshold);
	put(p, y, l->x[C_FAIL], l->w[C_FAIL], buf,
	    c->failed_checks > 0 ? ROLE_METRIC_FAIL : ROLE_NORMAL);
	metric_cell(p, c, METRIC_SUCCESS_RATE, y, l->x[C_SUCC], l->w[C_SUCC]);
	metric_cell(p, c, METRIC_DURATION, y, l->x[C_P99], l->w[C_P99]);
	if (l->w[C_FOR] > 0) {
		/* unknown (a Flagger canary whose status has no transition yet): — */
		if (c->phase_since_ms > 0)
			fmt_span(buf, sizeof buf, u->now_ms - c->phase_since_ms);
		else
			snprintf(buf, sizeof buf, "%s", G(p, "—", "-"));
		put_right(p, y, l->x[C_FOR] + l->w[C_FOR], l->w[C_FOR], buf, ROLE_DIM);
	}
}

int
overview_rows(const struct snapshot *s, const struct ui *u)
{
	size_t idx[512], n = ui_visible(u, s, idx, 512);

	/* Room for every canary's second line, whether it has one now or not:
	 * a row that gains or loses one never moves the screen below. */
	return n > 0 ? (int)n * 2 : 1;
}

/* The first visible canary to draw so that the selected one fits. */
static size_t
first_shown(const struct snapshot *s, const struct ui *u, const size_t *idx, size_t n,
    const struct snap_canary *cur, int avail)
{
	size_t start = 0, sel = 0, i;
	char att[320];

	for (i = 0; i < n; i++)
		if (&s->canaries[idx[i]] == cur)
			sel = i;
	for (;;) {
		int rows = 0;

		for (i = start; i <= sel; i++) {
			attention_text(u, &s->canaries[idx[i]], att, sizeof att);
			rows += att[0] != '\0' ? 2 : 1;
		}
		if (rows <= avail || start >= sel)
			return start;
		start++;
	}
}

void
render_overview(const struct pen *p, const struct snapshot *s, const struct ui *u, struct rect r,
    bool boxed)
{
	size_t idx[512], n = ui_visible(u, s, idx, 512), i, start;
	const struct snap_canary *cur = ui_current(u, s);
	struct layout l;
	char att[320], title[64];
	int y, bottom;

	if (boxed) {
		snprintf(title, sizeof title, "canaries %zu", n);
		draw_box(p, r.y, r.x, r.h, r.w, title);
		r = (struct rect){ r.y + 1, r.x + 1, r.h - 2, r.w - 2 };
	}
	layout_cols(&l, r.x, r.w, ns_col_width(s), has_driven(s, idx, n));
	overview_heading(p, &l, r.y);
	if (n == 0) {
		/* wrapped: a long hint (perch watch's) is read whole at 80 columns */
		put_wrapped(p, r.y + 1, l.x[C_NAME], r.w - 4, r.h > 4 ? 3 : 1, s->n_canaries > 0 ?
		    "no canary matches the filter" : s->startup != NULL ? "no canaries yet" :
		    u->empty_hint[0] != '\0' ? u->empty_hint : "no canaries", ROLE_DIM);
		return;
	}
	bottom = r.y + r.h;
	start = first_shown(s, u, idx, n, cur, r.h - 1);
	for (i = start, y = r.y + 1; i < n && y < bottom; i++, y++) {
		const struct snap_canary *c = &s->canaries[idx[i]];

		overview_row(p, s, u, &l, c, y, c == cur);
		attention_text(u, c, att, sizeof att);
		if (att[0] != '\0' && y + 1 < bottom) {
			y++;
			putf(p, y, l.x[C_PHASE], r.x + r.w - l.x[C_PHASE] - 1,
			    c->phase == PHASE_FAILED ? ROLE_PHASE_FAILED : ROLE_ATTENTION,
			    "%s %s", G(p, "└", "`-"), att);
		}
	}
	if (i < n && boxed)
		putf(p, r.y + r.h, r.x + r.w - 14, 12, ROLE_DIM, " %zu more ", n - i);
}
