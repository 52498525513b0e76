/*
 * draw.h — drawing primitives for the screens: text bounded to a column
 * width (wide characters counted by wcwidth), repeated glyphs, boxes,
 * number and duration formats.  UTF-8 glyphs are chosen with G(); without a
 * UTF-8 locale every glyph is ASCII and non-ASCII text shows as '?'.
 * UI thread only (ncurses).
 */
#ifndef PERCH_TUI_DRAW_H
#define PERCH_TUI_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "tui/nc.h"
#include "tui/theme.h"

struct pen {
	WINDOW *w;
	const attr_t *role;	/* ROLE__COUNT attributes */
	bool utf8;
	int *event_rows;	/* the event log writes how many rows it shows; may be NULL */
};

#define G(p, u, a) ((p)->utf8 ? (u) : (a))

/* Display width of s (columns). */
int  text_width(const char *s, bool utf8);
/* Draws s at (y, x) in at most maxw columns; returns the columns used.  A
 * text that does not fit is cut with "…" ("~" in ASCII) in its last column:
 * never silently. */
int  put(const struct pen *p, int y, int x, int maxw, const char *s, enum theme_role r);
int  putf(const struct pen *p, int y, int x, int maxw, enum theme_role r, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Right-aligned so that it ends just before column xend. */
int  put_right(const struct pen *p, int y, int xend, int maxw, const char *s, enum theme_role r);
/* n copies of one glyph. */
void put_rep(const struct pen *p, int y, int x, int n, const char *glyph, enum theme_role r);
/* A box with a title in its top line. */
void draw_box(const struct pen *p, int y, int x, int h, int w, const char *title);
/* Clears a rectangle (spaces, normal attributes). */
void clear_rect(const struct pen *p, int y, int x, int h, int w);
/* Word-wraps text into at most maxlines lines of width w, the last cut
 * with "…" when text remains; returns lines used. */
int  put_wrapped(const struct pen *p, int y, int x, int w, int maxlines, const char *text,
    enum theme_role r);
/* The lines put_wrapped would use (at most maxlines), drawing nothing. */
int  wrapped_lines(const struct pen *p, int w, int maxlines, const char *text);

/* The attributes of each role of theme t: colour pairs (initialised here)
 * when color, else attributes only.  Needs a started screen. */
void theme_attrs(const struct theme *t, bool color, attr_t out[ROLE__COUNT]);

/* "14:02:31" in local time */
void fmt_clock(char *out, size_t n, int64_t ms, bool seconds);
/* A metric's measured value and a bound as written, with the unit of its
 * kind, through util/fmt.h: "99.8%", "212ms", "1.25s", "0.422"; bounds
 * "99%", "500ms". */
void fmt_value(char *out, size_t n, enum metric_kind k, double v);
void fmt_bound(char *out, size_t n, enum metric_kind k, double v);

#endif
