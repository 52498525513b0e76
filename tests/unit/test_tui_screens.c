/*
 * test_tui_screens.c — golden screens: each screen rendered from a fixed
 * snapshot into a fake terminal (newterm on /dev/null) of a fixed size, its
 * text dumped cell by cell and compared with tests/data/screens/NAME.screen.
 * UPDATE_GOLDEN=1 rewrites the files instead.
 */
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

#include "helper_snapfix.h"
#include "tui/render.h"
#include "tui/ui.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct golden {
	const char *name;
	int cols, rows;
	bool utf8;
	bool read_only;
	const char *keys;	/* typed before rendering */
	bool filter_edit;	/* leave the filter being edited */
	void (*prep)(struct snapshot *s);	/* changes the fixture first, or NULL */
};

/* Where the screens' UI says the state is saved ("" = nothing saved, as in
 * a plain demo); test_quit_saved sets it. */
static const char *golden_saved_in = "";

/* Renders one screen and returns its text, one line per row, trailing
 * blanks removed. */
static char *
render_text(const struct golden *g, struct snapshot *s)
{
	static const attr_t roles[ROLE__COUNT];
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr;
	struct ui u;
	struct command cmd;
	struct buf b;
	const char *k;
	int y;

	assert_non_null(setlocale(LC_ALL, g->utf8 ? "C.UTF-8" : "C"));
	scr = newterm("xterm-256color", out, in);
	assert_non_null(scr);
	resize_term(g->rows, g->cols);
	if (g->read_only) {	/* as the runner publishes it in watch mode */
		s->read_only = true;
		free(s->holder);
		s->holder = xstrdup("alice@laptop pid 4711");
	}
	ui_init(&u, g->read_only, g->utf8);
	snprintf(u.actor, sizeof u.actor, "tester@host");
	snprintf(u.saved_in, sizeof u.saved_in, "%s", golden_saved_in);
	u.now_ms = SNAPFIX_NOW_MS;
	ui_sync(&u, s);
	for (k = g->keys; k != NULL && *k != '\0'; k++)
		ui_key(&u, s, *k == '~' ? 27 : *k, &cmd);
	render(stdscr, roles, s, &u);
	buf_init(&b, 0);
	for (y = 0; y < g->rows; y++) {
		wchar_t line[512];
		char mb[8];
		size_t i, end;

		memset(line, 0, sizeof line);
		mvwinnwstr(stdscr, y, 0, line, g->cols);
		end = wcslen(line);
		while (end > 0 && line[end - 1] == L' ')
			end--;
		for (i = 0; i < end; i++) {
			mbstate_t st;
			size_t n;

			memset(&st, 0, sizeof st);
			n = wcrtomb(mb, line[i], &st);
			buf_append(&b, n == (size_t)-1 ? "?" : mb, n == (size_t)-1 ? 1 : n);
		}
		buf_putc(&b, '\n');
	}
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
	return buf_take(&b);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

/* Every canary in progress paused: the clock shows HH:MM, the detail
 * "PAUSED" instead of a countdown. */
static void
pause_all(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++)
		if (ui_in_progress_phase(s->canaries[i].phase))
			s->canaries[i].paused = true;
}

/* Session affinity on the first canary: its detail names the cookie of the
 * run, so that an engineer can pin a client to the canary. */
static void
sticky_session(struct snapshot *s)
{
	free(s->canaries[0].provider);
	s->canaries[0].provider = xstrdup("gatewayapi:v1");
	s->canaries[0].sticky = xstrdup("canary-session=QxZtRbNwKe");
}

/* Nothing in progress: the first canary idle (waiting for a new
 * revision), every other one finished. */
static void
all_idle(struct snapshot *s)
{
	size_t i;

	s->canaries[0].phase = PHASE_INITIALIZED;
	s->canaries[0].weight = 0;
	s->canaries[0].step = 0;
	for (i = 1; i < s->n_canaries; i++) {
		struct snap_canary *c = &s->canaries[i];

		if (!phase_is_terminal(c->phase)) {
			c->phase = PHASE_SUCCEEDED;
			c->gate = GATE_NONE;
			c->held = c->paused = false;
			c->reason[0] = '\0';
		}
	}
}

/* Another perch controls every canary (perch run refused control): the
 * keys that change rollouts are not offered, and answer why. */
static void
held_elsewhere(struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->n_canaries; i++)
		s->canaries[i].can_control = false;
	s->read_only = true;
	free(s->holder);
	s->holder = xstrdup("alice@laptop pid 4711");
}

/* checkout has failed 3 of its 5 checks, the last on its p99. */
static void
failing_checkout(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[0];

	c->failed_checks = 3;
	free(c->last_failure);
	c->last_failure = xstrdup("request-duration 681ms > 500ms");
	c->last_failure_ms = SNAPFIX_NOW_MS - 30000;
}

/* profile was promoted with its analysis skipped, 3 of 5 checks failed. */
static void
skipped_profile(struct snapshot *s)
{
	struct snap_canary *c = &s->canaries[4];

	c->failed_checks = 3;
	c->override = OVR_SKIPPED;
	free(c->override_text);
	c->override_text = xstrdup("promoted with analysis skipped by alice@laptop, 3 of 5 "
	    "checks failed");
}

static void
check_golden(const struct golden *g)
{
	struct snapshot *s = snapfix_new();
	char path[256], *got, *want;

	if (g->prep != NULL) {
		g->prep(s);
		snapfix_facts(s);
		if (g->prep == held_elsewhere)
			for (size_t i = 0; i < s->n_canaries; i++)
				snprintf(s->canaries[i].facts.holder,
				    sizeof s->canaries[i].facts.holder, "%s", s->holder);
	}
	got = render_text(g, s);
	snprintf(path, sizeof path, "tests/data/screens/%s.screen", g->name);
	if (getenv("UPDATE_GOLDEN") != NULL) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = slurp(path);
	if (want == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "screen %s differs from %s; got:\n%s\n", g->name, path, got);
		fail_msg("golden screen %s", g->name);
	}
	free(got);
	free(want);
	snapshot_unref(s);
}

static const struct golden goldens[] = {
	{ "overview-80x24",        80, 24, true, false, "", false, NULL },
	{ "overview-120x40",      120, 40, true, false, "", false, NULL },
	{ "overview-sel3-80x24",   80, 24, true, false, "jj", false, NULL },
	{ "detail-80x24",          80, 24, true, false, "\n", false, NULL },
	{ "detail-failed-120x40", 120, 40, true, false, "jj\n", false, NULL },
	{ "detail-bluegreen-80x24", 80, 24, true, false, "jjjjj\n", false, NULL },
	{ "detail-held-120x40",   120, 40, true, false, "jjj\n", false, NULL },
	{ "split-events-scrolled-120x40", 120, 40, true, false, "JJ", false, NULL },
	{ "help-80x24",            80, 24, true, false, "?", false, NULL },
	{ "help-120x40",          120, 40, true, false, "?", false, NULL },
	{ "confirm-rollback-80x24", 80, 24, true, false, "r", false, NULL },
	{ "confirm-rollback-120x40", 120, 40, true, false, "r", false, NULL },
	{ "confirm-approve-80x24", 80, 24, true, false, "ja", false, NULL },
	{ "confirm-quit-80x24",    80, 24, true, false, "q", false, NULL },
	{ "too-small-79x24",       79, 24, true, false, "", false, NULL },
	{ "too-small-100x20",     100, 20, true, false, "", false, NULL },
	{ "readonly-80x24",        80, 24, true, true, "r", false, NULL },
	{ "readonly-120x40",      120, 40, true, true, "j", false, NULL },
	{ "readonly-help-80x24",   80, 24, true, true, "?", false, NULL },
	{ "filter-edit-80x24",     80, 24, true, false, "/ca", true, NULL },
	{ "filter-kept-120x40",   120, 40, true, false, "/ar\n", false, NULL },
	{ "ascii-overview-80x24",  80, 24, false, false, "", false, NULL },
	{ "ascii-overview-120x40", 120, 40, false, false, "", false, NULL },
	{ "ascii-detail-80x24",    80, 24, false, false, "\n", false, NULL },
	{ "ascii-detail-failed-80x24", 80, 24, false, false, "jj\n", false, NULL },
	{ "all-paused-120x40",    120, 40, true, false, "", false, pause_all },
	{ "all-paused-detail-80x24", 80, 24, true, false, "\n", false, pause_all },
	{ "idle-detail-80x24",     80, 24, true, false, "\n", false, all_idle },
	{ "sticky-detail-80x24",   80, 24, true, false, "\n", false, sticky_session },
	{ "held-elsewhere-80x24",  80, 24, true, false, "p", false, held_elsewhere },
	{ "held-elsewhere-detail-120x40", 120, 40, true, false, "", false, held_elsewhere },
	{ "confirm-skip-failing-80x24", 80, 24, true, false, "s", false, failing_checkout },
	{ "confirm-promote-failing-120x40", 120, 40, true, false, "P", false, failing_checkout },
	{ "confirm-skip-healthy-80x24", 80, 24, true, false, "s", false, NULL },
	{ "override-120x40",      120, 40, true, false, "jjjj", false, skipped_profile },
};

static void
test_golden(void **state)
{
	check_golden((const struct golden *)*state);
}

/* The quit dialog of a run whose state is saved says where; the plain
 * demo's (confirm-quit-80x24) says that nothing is. */
static void
test_quit_saved(void **state)
{
	static const struct golden g = { "confirm-quit-saved-80x24", 80, 24, true, false, "q",
		false, NULL };

	(void)state;
	golden_saved_in = "in /var/lib/perch";
	check_golden(&g);
	golden_saved_in = "";
}

int
main(void)
{
	struct CMUnitTest tests[sizeof goldens / sizeof goldens[0] + 1];
	size_t i;

	setenv("TZ", "UTC", 1);
	for (i = 0; i < sizeof goldens / sizeof goldens[0]; i++) {
		tests[i] = (struct CMUnitTest){ goldens[i].name, test_golden, NULL, NULL,
		    (void *)&goldens[i] };
	}
	tests[i++] = (struct CMUnitTest){ "confirm-quit-saved-80x24", test_quit_saved, NULL, NULL,
	    NULL };
	return _cmocka_run_group_tests("tui_screens", tests, i, NULL, NULL);
}
