/*
 * render.h — draws a whole screen from (snapshot, UI state, window size,
 * theme attributes), nothing else: no clock, no globals, so the golden-screen
 * tests are exact.  It only writes cells into the window; the caller
 * refreshes (ncurses then sends only the cells that changed).
 *
 * Layouts: below 80x24 a "terminal too small" line; at 120x40 and more the
 * overview on top and the selected canary's detail below; otherwise the
 * overview alone, and the detail full-screen after Enter.
 * UI thread only.
 */
#ifndef PERCH_TUI_RENDER_H
#define PERCH_TUI_RENDER_H

#include "engine/snapshot.h"
#include "tui/draw.h"
#include "tui/ui.h"

#define MIN_COLS 80
#define MIN_ROWS 24
#define SPLIT_COLS 120
#define SPLIT_ROWS 40

/* s may be NULL (nothing published yet).  Returns how many events the
 * screen's event log shows at once (a page for PgUp / PgDn), 0 when it
 * shows none. */
int  render(WINDOW *w, const attr_t *roles, const struct snapshot *s, const struct ui *u);

/* ---- shared by the render_*.c files ---- */
struct rect { int y, x, h, w; };

void render_overview(const struct pen *p, const struct snapshot *s, const struct ui *u,
    struct rect r, bool boxed);
/* Rows the overview wants for the canaries shown: two each (a row and the
 * line saying why it needs attention), so its height does not follow the
 * attention lines as they come and go. */
int  overview_rows(const struct snapshot *s, const struct ui *u);
void render_detail(const struct pen *p, const struct snapshot *s, const struct ui *u,
    const struct snap_canary *c, struct rect r);
void draw_weight_bar(const struct pen *p, int y, int x, int bw, int weight, int max_weight);
enum theme_role phase_role(enum phase ph);
/* The check history (render_checks.c): the most recent checks of all of
 * c's metrics, newest first, in r (a title line, then one check a line). */
void render_checks(const struct pen *p, const struct snap_canary *c, struct rect r);
/* The columns one check line needs (it depends on the metric names). */
int  checks_width(const struct pen *p, const struct snap_canary *c);
struct check_ref { const struct snap_metric *m; const struct snap_point *pt; };
/* The max most recent points of c's metrics, newest first (equal times in
 * metric order); returns how many were stored in out. */
size_t recent_checks(const struct snap_canary *c, struct check_ref *out, size_t max);
/* The y range of a graph of rows rows for m's points from first on: the
 * points and the bound with a margin, rounded to a readable step; a success
 * rate stays within 0..100 %, a latency starts at 0. */
void graph_range(const struct snap_metric *m, size_t first, int rows, double *lo, double *hi);
/* "3/5", "2/10" or a dash. */
void step_text(const struct pen *p, const struct snap_canary *c, char *out, size_t n);
/* The line under a row that needs attention, "" when none. */
void attention_text(const struct ui *u, const struct snap_canary *c, char *out, size_t n);
const char *phase_badge(const struct snap_canary *c);
/* "FLAGGER" for a canary Flagger drives (another controller: "EXTERNAL"), else NULL. */
const char *driver_mark(const struct snap_canary *c);
/* The last point of the first metric of kind k in the current run (since
 * c->run_since_ms), or NULL; *trend compares it with the run's previous
 * measured point. */
const struct snap_point *last_point(const struct snap_canary *c, enum metric_kind k,
    const struct snap_metric **m, int *trend);
/* "ns/name", or "name" when ns is the header's namespace. */
void display_name(const struct snapshot *s, const struct snap_canary *c, char *out, size_t n);

#endif
