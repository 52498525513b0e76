/*
 * theme_nc.c — turns a theme into ncurses attributes: one colour pair per
 * role, each colour mapped to the nearest the terminal has (8 or 16 colour
 * fallback), or attributes alone without colour (NO_COLOR, mono terminals).
 * UI thread only.
 */
#include "tui/draw.h"
#include "tui/theme.h"

static attr_t
ta_to_attr(unsigned ta)
{
	attr_t a = A_NORMAL;

	if (ta & TA_BOLD)
		a |= A_BOLD;
	if (ta & TA_DIM)
		a |= A_DIM;
	if (ta & TA_REVERSE)
		a |= A_REVERSE;
	if (ta & TA_UNDERLINE)
		a |= A_UNDERLINE;
#ifdef A_ITALIC
	if (ta & TA_ITALIC)
		a |= A_ITALIC;
#endif
	return a;
}

void
theme_attrs(const struct theme *t, bool color, attr_t out[ROLE__COUNT])
{
	int i, n = COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : 8;

	for (i = 0; i < ROLE__COUNT; i++) {
		const struct theme_style *st = &t->style[i];

		out[i] = ta_to_attr(st->attrs);
		if (!color || i + 1 >= COLOR_PAIRS)
			continue;
		init_pair((short)(i + 1), theme_nearest(st->fg, n), theme_nearest(st->bg, n));
		out[i] |= COLOR_PAIR(i + 1);
	}
}
