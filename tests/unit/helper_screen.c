/* helper_screen.c — see helper_screen.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "helper_screen.h"
#include "helper_snapfix.h"
#include "tui/render.h"
#include "tui/theme.h"
#include "tui/ui.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* One row of the screen, as UTF-8 without trailing blanks. */
static void
row_text(int y, int cols, struct buf *b)
{
	wchar_t line[512];
	char mb[8];
	size_t i, end;

	memset(line, 0, sizeof line);
	mvwinnwstr(stdscr, y, 0, line, cols < 511 ? cols : 511);
	end = wcslen(line);
	while (end > 0 && line[end - 1] == L' ')
		end--;
	for (i = 0; i < end; i++) {
		mbstate_t st;
		size_t n;

		memset(&st, 0, sizeof st);
		n = wcrtomb(mb, line[i], &st);
		buf_append(b, n == (size_t)-1 ? "?" : mb, n == (size_t)-1 ? 1 : n);
	}
	buf_putc(b, '\n');
}

/* One letter per cell for its attributes: r reverse, b bold, u underline,
 * d dim, ' ' none (the strongest one when several). */
static char
attr_letter(int y, int x)
{
	cchar_t cc;
	wchar_t wch[CCHARW_MAX + 1];
	attr_t a = 0;
	short pair = 0;

	if (mvwin_wch(stdscr, y, x, &cc) == ERR || getcchar(&cc, wch, &a, &pair, NULL) == ERR)
		return '?';
	return (a & A_REVERSE) ? 'r' : (a & A_BOLD) ? 'b' : (a & A_UNDERLINE) ? 'u' :
	    (a & A_DIM) ? 'd' : ' ';
}

static void
dump_attrs(int rows, int cols, struct buf *b)
{
	static const char head[] = "--- NO_COLOR attributes: r reverse, b bold, u underline, d dim\n";
	char line[512];
	int y, x, end;

	buf_append(b, head, sizeof head - 1);
	for (y = 0; y < rows; y++) {
		for (x = end = 0; x < cols && x < (int)sizeof line - 1; x++) {
			line[x] = attr_letter(y, x);
			if (line[x] != ' ')
				end = x + 1;
		}
		buf_append(b, line, (size_t)end);
		buf_putc(b, '\n');
	}
}

char *
screen_text(const struct screen_spec *sp, struct snapshot *s)
{
	static const attr_t plain[ROLE__COUNT];
	attr_t nocolor[ROLE__COUNT];
	const attr_t *roles = plain;
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	struct ui u;
	struct command cmd;
	struct buf b;
	const char *k;
	int y;

	assert_non_null(setlocale(LC_ALL, sp->utf8 ? "C.UTF-8" : "C"));
	scr = newterm("xterm-256color", out, in);
	assert_non_null(scr);
	resize_term(sp->rows, sp->cols);
	if (sp->nocolor) {	/* as perch draws under NO_COLOR */
		struct theme t;

		theme_default(&t);
		theme_attrs(&t, false, nocolor);
		roles = nocolor;
	}
	if (sp->read_only) {	/* as the runner publishes it in watch mode */
		s->read_only = true;
		free(s->holder);
		s->holder = xstrdup("alice@laptop pid 4711");
	}
	ui_init(&u, sp->read_only, sp->utf8);
	snprintf(u.actor, sizeof u.actor, "tester@host");
	snprintf(u.saved_in, sizeof u.saved_in, "%s", sp->saved_in ? sp->saved_in : "");
	snprintf(u.released, sizeof u.released, "%s", sp->released ? sp->released : "control");
	u.now_ms = SNAPFIX_NOW_MS;
	ui_sync(&u, s);
	for (k = sp->keys; k != NULL && *k != '\0'; k++)
		ui_key(&u, s, *k == '~' ? 27 : *k, &cmd);
	render(stdscr, roles, s, &u);
	buf_init(&b, 0);
	for (y = 0; y < sp->rows; y++)
		row_text(y, sp->cols, &b);
	if (sp->nocolor)
		dump_attrs(sp->rows, sp->cols, &b);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return buf_take(&b);
}

int
screen_golden(const struct screen_spec *sp, const char *text)
{
	char path[256], chunk[4096];
	struct buf want;
	FILE *f;
	size_t n;
	int rc;

	snprintf(path, sizeof path, "tests/data/screens/%s.screen", sp->name);
	if (getenv("UPDATE_GOLDEN") != NULL && (f = fopen(path, "w")) != NULL) {
		fputs(text, f);
		fclose(f);
	}
	buf_init(&want, 0);
	if ((f = fopen(path, "rb")) != NULL) {
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&want, chunk, n);
		fclose(f);
	}
	rc = want.len == strlen(text) && memcmp(want.data, text, want.len) == 0 ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "screen %s differs from %s; got:\n%s\n", sp->name, path, text);
	buf_fini(&want);
	return rc;
}
