/* draw.c — drawing primitives and formats for the screens (see draw.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "engine/canary.h"
#include "tui/draw.h"
#include "util/fmt.h"
#include "util/sanitize.h"

/* Width of the character at s (its byte length in *len), -1 to skip it. */
static int
char_width(const char *s, size_t avail, bool utf8, size_t *len)
{
	unsigned int cp;
	size_t n = utf8_decode((const unsigned char *)s, avail, &cp);
	int w;

	if (n == 0) {
		*len = 1;
		return -1;
	}
	*len = n;
	if (sanitize_unsafe(cp))
		return -1;	/* never drawn: the one sanitiser's rule */
	if (cp < 0x80)
		return 1;
	if (!utf8)
		return 1;	/* shown as '?' */
	w = wcwidth((wchar_t)cp);
	return w < 0 ? -1 : w;
}

/* s, or (when it holds anything but printable ASCII) its sanitize()d copy in
 * buf: whatever path a string took, the screen never gets an escape
 * sequence's remains, a control, a bidirectional override or invalid
 * UTF-8, and a long string costs no more than what fits in buf. */
static const char *
clean_text(const char *s, char *buf, size_t bufsz)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p == '\0')
		return s;
	sanitize(buf, bufsz, s, strnlen(s, 4 * bufsz));
	return buf;
}

int
text_width(const char *s, bool utf8)
{
	char buf[2048];
	size_t avail, len;
	int total = 0, w;

	s = clean_text(s, buf, sizeof buf);
	avail = strlen(s);

	while (avail > 0) {
		w = char_width(s, avail, utf8, &len);
		if (w > 0)
			total += w;
		s += len;
		avail -= len;
	}
	return total;
}

/* Draws what of s fits in maxw columns, no more. */
static int
put_fit(const struct pen *p, int y, int x, int maxw, const char *s, enum theme_role r)
{
	char out[1024], buf[2048];
	size_t avail, len, o = 0;
	int used = 0, w;

	s = clean_text(s, buf, sizeof buf);
	avail = strlen(s);

	while (avail > 0 && o + 5 < sizeof out) {
		w = char_width(s, avail, p->utf8, &len);
		if (w > 0 && used + w > maxw)
			break;
		if (w > 0 || (w == 0 && p->utf8)) {
			if (!p->utf8 && (unsigned char)*s >= 0x80) {
				out[o++] = '?';
			} else {
				memcpy(out + o, s, len);
				o += len;
			}
			used += w > 0 ? w : 0;
		}
		s += len;
		avail -= len;
	}
	if (o == 0)
		return 0;
	out[o] = '\0';
	wattrset(p->w, p->role[r]);
	mvwaddnstr(p->w, y, x, out, (int)o);
	wattrset(p->w, A_NORMAL);
	return used;
}

/* Text never loses its end silently: what does not fit ends in "…" ("~"
 * without UTF-8), so a reader knows there is more (and where to read it). */
int
put(const struct pen *p, int y, int x, int maxw, const char *s, enum theme_role r)
{
	int used;

	if (maxw <= 0)
		return 0;
	if (text_width(s, p->utf8) <= maxw)
		return put_fit(p, y, x, maxw, s, r);
	used = put_fit(p, y, x, maxw - 1, s, r);
	return used + put_fit(p, y, x + used, 1, G(p, "…", "~"), r);
}

int
putf(const struct pen *p, int y, int x, int maxw, enum theme_role r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return put(p, y, x, maxw, buf, r);
}

int
put_right(const struct pen *p, int y, int xend, int maxw, const char *s, enum theme_role r)
{
	int w = text_width(s, p->utf8);

	if (w > maxw)
		w = maxw;
	return put(p, y, xend - w, maxw, s, r);
}

void
put_rep(const struct pen *p, int y, int x, int n, const char *glyph, enum theme_role r)
{
	char buf[1024];
	size_t gl = strlen(glyph), o = 0;
	int i;

	for (i = 0; i < n && o + gl < sizeof buf; i++) {
		memcpy(buf + o, glyph, gl);
		o += gl;
	}
	if (o == 0)
		return;
	buf[o] = '\0';
	wattrset(p->w, p->role[r]);
	mvwaddnstr(p->w, y, x, buf, (int)o);
	wattrset(p->w, A_NORMAL);
}

void
clear_rect(const struct pen *p, int y, int x, int h, int w)
{
	int i;

	for (i = 0; i < h; i++)
		put_rep(p, y + i, x, w, " ", ROLE_NORMAL);
}

void
draw_box(const struct pen *p, int y, int x, int h, int w, const char *title)
{
	int i;

	put(p, y, x, 1, G(p, "┌", "+"), ROLE_BORDER);
	put_rep(p, y, x + 1, w - 2, G(p, "─", "-"), ROLE_BORDER);
	put(p, y, x + w - 1, 1, G(p, "┐", "+"), ROLE_BORDER);
	for (i = 1; i < h - 1; i++) {
		put(p, y + i, x, 1, G(p, "│", "|"), ROLE_BORDER);
		put(p, y + i, x + w - 1, 1, G(p, "│", "|"), ROLE_BORDER);
	}
	put(p, y + h - 1, x, 1, G(p, "└", "+"), ROLE_BORDER);
	put_rep(p, y + h - 1, x + 1, w - 2, G(p, "─", "-"), ROLE_BORDER);
	put(p, y + h - 1, x + w - 1, 1, G(p, "┘", "+"), ROLE_BORDER);
	if (title != NULL && title[0] != '\0') {
		int used = put(p, y, x + 2, w - 6, " ", ROLE_TITLE);

		used += put(p, y, x + 2 + used, w - 6 - used, title, ROLE_TITLE);
		put(p, y, x + 2 + used, 1, " ", ROLE_TITLE);
	}
}

/* Word-wraps text (drawing it when draw is set); returns the lines. */
static int
wrap(const struct pen *p, bool draw, int y, int x, int w, int maxlines, const char *text,
    enum theme_role r)
{
	char line[512], buf[8192];
	size_t avail;
	int lines = 0;

	text = clean_text(text, buf, sizeof buf);
	avail = strlen(text);
	while (*text != '\0' && lines < maxlines) {
		size_t take = 0, last_space = 0, len;
		int used = 0, cw;

		while (text[take] != '\0') {
			cw = char_width(text + take, avail - take, p->utf8, &len);
			if (cw > 0 && used + cw > w && take > 0)
				break;
			if (text[take] == ' ')
				last_space = take;
			used += cw > 0 ? cw : 0;
			take += len;
		}
		if (text[take] != '\0' && lines == maxlines - 1) {
			if (draw)
				put(p, y + lines, x, w, text, r);	/* the rest, cut with "…" */
			return lines + 1;
		}
		if (text[take] != '\0' && last_space > 0)
			take = last_space;
		if (take >= sizeof line)
			take = sizeof line - 1;
		memcpy(line, text, take);
		line[take] = '\0';
		if (draw)
			put(p, y + lines, x, w, line, r);
		lines++;
		text += take;
		avail -= take;
		while (*text == ' ') {
			text++;
			avail--;
		}
	}
	return lines;
}

int
put_wrapped(const struct pen *p, int y, int x, int w, int maxlines, const char *text,
    enum theme_role r)
{
	return wrap(p, true, y, x, w, maxlines, text, r);
}

int
wrapped_lines(const struct pen *p, int w, int maxlines, const char *text)
{
	return wrap(p, false, 0, 0, w, maxlines, text, ROLE_NORMAL);
}

void
fmt_clock(char *out, size_t n, int64_t ms, bool seconds)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, n, "--:--");
		return;
	}
	if (seconds)
		snprintf(out, n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

void
fmt_value(char *out, size_t n, enum metric_kind k, double v)
{
	fmt_quantity(out, n, fmt_unit_of(metric_kind_unit(k)), FMT_MEASURED, v);
}

void
fmt_bound(char *out, size_t n, enum metric_kind k, double v)
{
	fmt_quantity(out, n, fmt_unit_of(metric_kind_unit(k)), FMT_EXACT, v);
}
