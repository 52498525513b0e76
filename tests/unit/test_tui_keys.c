/*
 * test_tui_keys.c — the keymap table and the key handler: perch(1)'s KEYS
 * section lists exactly the table's keys and help texts; every action has a
 * key and Ctrl-D / Ctrl-K have none; scripted key sequences against a fixed
 * snapshot send exactly the expected command, ask first where destructive,
 * and never send anything in read-only mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/command.h"
#include "helper_snapfix.h"
#include "tui/nc.h"
#include "tui/keymap.h"
#include "tui/ui.h"
#include "util/xalloc.h"

/* Reads the .It lines of the KEYS section: "label\thelp" per key. */
static int
man_keys(char labels[][32], char helps[][128], int max)
{
	FILE *f = fopen("man/perch.1", "r");
	char line[512];
	bool in = false;
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, ".Sh ", 4) == 0)
			in = strcmp(line, ".Sh KEYS") == 0;
		if (!in || strncmp(line, ".It Sy \"\\&", 10) != 0 || n >= max)
			continue;
		snprintf(labels[n], 32, "%.*s", (int)strlen(line + 10) - 1, line + 10);
		if (fgets(line, sizeof line, f) == NULL)
			break;
		line[strcspn(line, "\n")] = '\0';
		snprintf(helps[n], 128, "%.127s", line);
		n++;
	}
	fclose(f);
	return n;
}

static void
test_man_keys_match_table(void **state)
{
	char labels[64][32], helps[64][128];
	int n = man_keys(labels, helps, 64), i;

	(void)state;
	assert_int_equal(n, KA__COUNT);
	for (i = 0; i < n; i++) {
		assert_string_equal(labels[i], keymap[i].label);
		assert_string_equal(helps[i], keymap[i].help);
	}
}

static void
test_every_action_has_a_key(void **state)
{
	bool seen[KA__COUNT] = { false };
	int c, a;

	(void)state;
	for (c = 0; c <= KEY_MAX; c++) {
		enum key_action k = keymap_lookup(c);

		if (k != KA_NONE)
			seen[k] = true;
	}
	for (a = 0; a < KA__COUNT; a++)
		if (!seen[a])
			fail_msg("%s has no key", keymap[a].label);
	assert_int_equal(keymap_lookup(4), KA_NONE);	/* Ctrl-D */
	assert_int_equal(keymap_lookup(11), KA_NONE);	/* Ctrl-K */
	assert_int_equal(keymap_lookup('x'), KA_NONE);
	for (a = 0; a < KA__COUNT; a++)
		assert_true(strlen(keymap[a].help) <= 60);
}

struct script {
	bool read_only;
	const char *keys;	/* '~' is Esc */
	int sends;		/* commands sent */
	int kind;		/* the last command, -1 = none */
	const char *canary;
	bool quit;
	enum ui_overlay overlay;
	const char *msg;	/* substring of the status line, "" = any */
};

static const struct script scripts[] = {
	{ false, "p",       1, CMD_PROMOTE_STEP, "shop/checkout", false, OV_NONE, "sent" },
	{ false, "r",       0, -1, "", false, OV_CONFIRM, "" },
	{ false, "ry",      1, CMD_ROLLBACK, "shop/checkout", false, OV_NONE, "checkout rollback: sent" },
	{ false, "rn",      0, -1, "", false, OV_NONE, "cancelled" },
	{ false, "r~",      0, -1, "", false, OV_NONE, "cancelled" },
	{ false, "rr",      0, -1, "", false, OV_NONE, "cancelled" },
	{ false, "P",       0, -1, "", false, OV_CONFIRM, "" },
	{ false, "Py",      1, CMD_PROMOTE_FULL, "shop/checkout", false, OV_NONE, "" },
	{ false, "sy",      1, CMD_SKIP, "shop/checkout", false, OV_NONE, "" },
	{ false, " ",       1, CMD_PAUSE, "shop/checkout", false, OV_NONE, "" },
	{ false, "jjjjj ",  1, CMD_RESUME, "finance/ledger-blue-green-with-a-very-long-name", false, OV_NONE, "" },
	{ false, "jjR",     1, CMD_RETRY, "shop/search", false, OV_NONE, "" },
	{ false, "R",       0, -1, "", false, OV_NONE,
	    "checkout retry refused: only a failed canary can be retried (it is Progressing)" },
	{ false, "jjr",     0, -1, "", false, OV_NONE,
	    "search rollback refused: nothing to roll back (it is Failed)" },
	{ false, "a",       0, -1, "", false, OV_NONE,
	    "checkout approve refused: nothing waits for approval (it is Progressing)" },
	{ false, "jjjjjjp", 0, -1, "", false, OV_NONE,
	    "refused: no step to promote (it is Initializing)" },
	{ false, "js",      0, -1, "", false, OV_CONFIRM, "" },
	{ false, "jjjjs",   0, -1, "", false, OV_NONE,
	    "profile skip-analysis refused: no analysis to skip (it is Succeeded)" },
	{ false, "ja",      0, -1, "", false, OV_CONFIRM, "" },
	{ false, "jay",     1, CMD_APPROVE, "shop/payments", false, OV_NONE, "" },
	{ false, "/pay~r",  0, -1, "", false, OV_CONFIRM, "" },
	{ false, "/pay\nry", 1, CMD_ROLLBACK, "shop/payments", false, OV_NONE, "" },
	{ false, "\x04\x0b", 0, -1, "", false, OV_NONE, "" },
	{ false, "q",       0, -1, "", false, OV_CONFIRM, "" },
	{ false, "qn",      0, -1, "", false, OV_NONE, "cancelled" },
	{ false, "qy",      0, -1, "", true, OV_NONE, "" },
	{ false, "?r",      0, -1, "", false, OV_NONE, "" },
	{ true,  "p",       0, -1, "", false, OV_NONE, "read-only: perch watch cannot change rollouts" },
	{ true,  "ry",      0, -1, "", false, OV_NONE, "read-only" },
	{ true,  "P",       0, -1, "", false, OV_NONE, "read-only" },
	{ true,  " ",       0, -1, "", false, OV_NONE, "read-only" },
	{ true,  "jjR",     0, -1, "", false, OV_NONE, "read-only" },
	{ true,  "s",       0, -1, "", false, OV_NONE, "read-only" },
	{ true,  "jay",     0, -1, "", false, OV_NONE, "read-only" },
	{ true,  "q",       0, -1, "", true, OV_NONE, "" },
};

static void
test_scripts(void **state)
{
	struct snapshot *s = snapfix_new();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		const struct script *sc = &scripts[i];
		struct command cmd, last;
		struct ui u;
		const char *k;
		int sends = 0;
		bool quit = false;

		memset(&last, 0, sizeof last);
		ui_init(&u, sc->read_only, true);
		snprintf(u.actor, sizeof u.actor, "tester@host");
		ui_sync(&u, s);
		for (k = sc->keys; *k != '\0'; k++) {
			unsigned what = ui_key(&u, s, *k == '~' ? 27 : *k, &cmd);

			if (what & UI_SEND) {
				sends++;
				last = cmd;
			}
			quit |= (what & UI_QUIT) != 0;
		}
		if (sends != sc->sends || quit != sc->quit || u.overlay != sc->overlay ||
		    strstr(u.msg, sc->msg) == NULL)
			fail_msg("script %zu '%s': sends %d quit %d overlay %d msg '%s'", i, sc->keys,
			    sends, quit, u.overlay, u.msg);
		if (sc->kind >= 0) {
			assert_int_equal(last.kind, sc->kind);
			assert_string_equal(last.canary, sc->canary);
			assert_string_equal(last.actor, "tester@host");
		}
	}
	snapshot_unref(s);
}

/* Event scrolling: J/K and PgUp/PgDn in any view, j/k only in the detail;
 * the selection stays put and the scroll stops at both ends. */
static void
test_event_scroll(void **state)
{
	static const struct {
		int keys[16];		/* 0-terminated */
		int page;		/* events the screen shows at once, 0 = not known */
		int scroll;
		bool detail;
		size_t selected;	/* index into s->canaries */
	} cases[] = {
		{ { 'J', 'J', 0 }, 0, 2, false, 0 },
		{ { 'J', 'J', 'K', 0 }, 0, 1, false, 0 },
		/* a page is what the log shows, less one line kept in sight */
		{ { KEY_NPAGE, 0 }, 4, 3, false, 0 },
		{ { KEY_NPAGE, KEY_NPAGE, KEY_PPAGE, 0 }, 4, 3, false, 0 },
		{ { KEY_NPAGE, KEY_NPAGE, KEY_NPAGE, KEY_NPAGE, 0 }, 4, 9, false, 0 },
		{ { KEY_NPAGE, KEY_PPAGE, KEY_PPAGE, 0 }, 4, 0, false, 0 },
		{ { KEY_NPAGE, 0 }, 0, 9, false, 0 },	/* no log on screen: 10, stops at 9 */
		{ { '\n', KEY_NPAGE, 0 }, 6, 5, true, 0 },
		{ { 'K', 'K', 0 }, 0, 0, false, 0 },
		{ { 'J', 'j', 0 }, 0, 0, false, 1 },	/* j selects the next canary, from its newest */
		{ { '\n', 'j', 'j', 'k', 0 }, 0, 1, true, 0 },
		{ { '\n', 'J', 'J', 0 }, 0, 2, true, 0 },
		{ { 'J', 'J', 'J', 'J', 'J', 'J', 'J', 'J', 'J', 'J', 'J', 0 }, 0, 9, false, 0 },	/* 10 events: stops at 9 */
	};
	struct snapshot *s = snapfix_new();
	struct command cmd;
	size_t i, k;

	(void)state;
	assert_int_equal(s->canaries[0].n_events, 10);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ui u;

		ui_init(&u, false, true);
		u.event_page = cases[i].page;
		ui_sync(&u, s);
		for (k = 0; cases[i].keys[k] != 0; k++)
			ui_key(&u, s, cases[i].keys[k], &cmd);
		if (u.event_scroll != cases[i].scroll || (u.screen == SCR_DETAIL) != cases[i].detail)
			fail_msg("case %zu: scroll %d screen %d", i, u.event_scroll, u.screen);
		assert_ptr_equal(ui_current(&u, s), &s->canaries[cases[i].selected]);
	}
	snapshot_unref(s);
}

/* The keys that send commands follow the command table: a key applies (and
 * is in the footer) exactly when its command's preconditions hold on the
 * canary's facts; a key that says "(asks)" in its help is one whose
 * command asks. */
static void
test_keys_follow_table(void **state)
{
	struct snapshot *s = snapfix_new();
	struct ui u, ro;
	size_t i;
	int a;

	(void)state;
	ui_init(&u, false, true);
	ui_init(&ro, true, true);
	for (a = 0; a < KA__COUNT; a++) {
		if (!(keymap[a].flags & KF_MUTATES))
			continue;
		assert_int_equal(strstr(keymap[a].help, "(asks)") != NULL,
		    command_asks(ui_command_of((enum key_action)a, &s->canaries[0])));
		for (i = 0; i < s->n_canaries; i++) {
			const struct snap_canary *c = &s->canaries[i];
			bool want = command_allowed(ui_command_of((enum key_action)a, c), &c->facts,
			    NULL, 0, NULL);

			if (ui_applies(&u, (enum key_action)a, c) != want)
				fail_msg("%s on %s: applies %d, table %d", keymap[a].label, c->name,
				    !want, want);
			assert_false(ui_applies(&ro, (enum key_action)a, c));
		}
	}
	/* Space toggles: resume on a paused canary */
	assert_int_equal(ui_command_of(KA_PAUSE, &s->canaries[5]), CMD_RESUME);
	assert_int_equal(ui_command_of(KA_PAUSE, &s->canaries[0]), CMD_PAUSE);
	snapshot_unref(s);
}

/* A key whose command may not run answers why in the status line, names
 * the canary, and sends nothing: pods not ready, a canary held by another
 * process; a confirmation re-judges when answered. */
static void
test_refusals(void **state)
{
	struct snapshot *s = snapfix_new();
	struct snap_canary *c = &s->canaries[0];
	struct command cmd;
	struct ui u;

	(void)state;
	c->facts.canary = READY_NO;
	snprintf(c->facts.canary_why, sizeof c->facts.canary_why, "canary deployment "
	    "checkout.shop not ready: waiting for rollout to finish: 2 of 3 (readyThreshold "
	    "100%%) updated replicas are available");
	ui_init(&u, false, true);
	ui_sync(&u, s);
	assert_int_equal(ui_key(&u, s, 'p', &cmd) & UI_SEND, 0);
	assert_string_equal(u.msg, "checkout promote-step refused: canary deployment checkout.shop "
	    "not ready: waiting for rollout to finish: 2 of 3 (readyThreshold 100%) updated "
	    "replicas are available");
	assert_string_equal(u.msg_canary, "shop/checkout");
	assert_int_equal(ui_key(&u, s, 'P', &cmd) & UI_SEND, 0);
	assert_int_equal(u.overlay, OV_NONE);
	assert_non_null(strstr(u.msg, "checkout promote-full refused: canary deployment"));
	/* skipping promotes once ready: it asks */
	ui_key(&u, s, 's', &cmd);
	assert_int_equal(u.overlay, OV_CONFIRM);
	/* ... and the canary moves on while the question is open */
	c->facts.skip_requested = true;
	assert_int_equal(ui_key(&u, s, 'y', &cmd) & UI_SEND, 0);
	assert_non_null(strstr(u.msg, "skip-analysis refused: skipping analysis was already requested"));
	assert_false(ui_applies(&u, KA_STEP, c));
	assert_true(ui_applies(&u, KA_PAUSE, c));

	/* held by another process: nothing that changes it applies */
	c->facts.control = false;
	snprintf(c->facts.holder, sizeof c->facts.holder, "alice@laptop pid 4711");
	assert_int_equal(ui_key(&u, s, ' ', &cmd) & UI_SEND, 0);
	assert_string_equal(u.msg, "checkout pause refused: read-only: controlled by alice@laptop "
	    "pid 4711");
	assert_int_equal(ui_key(&u, s, 'r', &cmd) & UI_SEND, 0);
	assert_int_equal(u.overlay, OV_NONE);
	for (int a = 0; a < KA__COUNT; a++)
		if (keymap[a].flags & KF_MUTATES)
			assert_false(ui_applies(&u, (enum key_action)a, c));
	snapshot_unref(s);
}

/* The engine's status message msg about canary, in s, synced into u. */
static void
engine_says(struct ui *u, struct snapshot *s, const char *canary, const char *msg)
{
	free(s->status_msg);
	free(s->status_canary);
	s->status_msg = xstrdup(msg);
	s->status_canary = xstrdup(canary);
	s->status_seq++;
	ui_sync(u, s);
}

/* The detail of a canary that is no longer shown (its Canary deleted, in
 * perch watch) goes back to the overview with a message: the engine's
 * when it names the canary, else its own; never another canary's detail. */
static void
test_detail_gone(void **state)
{
	struct snapshot *s = snapfix_new();
	struct command cmd;
	struct ui u;

	(void)state;
	ui_init(&u, true, true);
	u.mono_ms = 1000;
	ui_sync(&u, s);
	ui_key(&u, s, '\n', &cmd);
	assert_int_equal(u.screen, SCR_DETAIL);
	assert_string_equal(u.selected, "shop/checkout");
	free(s->canaries[0].name);
	s->canaries[0].name = xstrdup("checkout-next");
	engine_says(&u, s, "shop/checkout", "shop/checkout: the Canary was deleted; no longer shown");
	assert_int_equal(u.screen, SCR_OVERVIEW);
	assert_string_equal(ui_status_line(&u, s, NULL),
	    "shop/checkout: the Canary was deleted; no longer shown");
	assert_string_not_equal(u.selected, "shop/checkout");

	/* no word from the engine: perch's own */
	ui_key(&u, s, 'j', &cmd);
	ui_key(&u, s, 'j', &cmd);
	ui_key(&u, s, '\n', &cmd);
	assert_int_equal(u.screen, SCR_DETAIL);
	assert_string_equal(u.selected, "shop/search");
	free(s->canaries[2].name);
	s->canaries[2].name = xstrdup("search-next");
	ui_sync(&u, s);
	assert_int_equal(u.screen, SCR_OVERVIEW);
	assert_string_equal(ui_status_line(&u, s, NULL),
	    "shop/search is no longer shown; back to the overview");
	snapshot_unref(s);
}

/* Status-line messages expire, and one about a canary never stands under
 * another canary's detail. */
static void
test_status_messages(void **state)
{
	struct snapshot *s = snapfix_new();
	struct command cmd;
	int64_t expires;
	struct ui u;

	(void)state;
	ui_init(&u, false, true);
	u.mono_ms = 1000;
	ui_sync(&u, s);
	ui_key(&u, s, 'R', &cmd);		/* refused: about checkout */
	assert_non_null(ui_status_line(&u, s, &expires));
	assert_int_equal(expires, 1000 + UI_MSG_TTL_MS);
	u.mono_ms = 1000 + UI_MSG_TTL_MS - 1;
	assert_non_null(ui_status_line(&u, s, NULL));
	u.mono_ms = 1000 + UI_MSG_TTL_MS;
	assert_null(ui_status_line(&u, s, &expires));
	assert_int_equal(expires, 0);

	/* in the overview it stays with another canary selected (it names
	 * checkout); in search's detail it does not */
	u.mono_ms = 5000;
	ui_key(&u, s, 'R', &cmd);
	ui_key(&u, s, 'j', &cmd);
	ui_key(&u, s, 'j', &cmd);
	assert_non_null(ui_status_line(&u, s, NULL));
	ui_key(&u, s, '\n', &cmd);
	assert_int_equal(u.screen, SCR_DETAIL);
	assert_null(ui_status_line(&u, s, NULL));
	ui_key(&u, s, 27, &cmd);
	ui_key(&u, s, 'k', &cmd);
	ui_key(&u, s, 'k', &cmd);
	ui_key(&u, s, '\n', &cmd);
	assert_non_null(ui_status_line(&u, s, NULL));	/* checkout's own detail */

	/* the engine's answers carry their canary too */
	engine_says(&u, s, "shop/search", "search retrying revision v2");
	assert_string_equal(u.msg_canary, "shop/search");
	assert_null(ui_status_line(&u, s, NULL));	/* checkout's detail is on screen */
	ui_key(&u, s, 27, &cmd);
	assert_string_equal(ui_status_line(&u, s, NULL), "search retrying revision v2");
	/* messages about no canary (a theme, a filter) show anywhere */
	ui_key(&u, s, '\n', &cmd);
	ui_message(&u, "theme: light");
	assert_string_equal(ui_status_line(&u, s, NULL), "theme: light");
	snapshot_unref(s);
}

/* While perch run starts, what it does stands on the status line without
 * expiring, under a message that comes and goes; q quits at once. */
static void
test_startup_line(void **state)
{
	struct snapshot *s = snapshot_new();
	struct command cmd;
	int64_t expires;
	struct ui u;

	(void)state;
	ui_init(&u, false, true);
	u.mono_ms = 1000;
	assert_null(ui_status_line(&u, s, NULL));
	s->startup = xstrdup("connecting to https://127.0.0.1:6443 (context kind)...");
	assert_string_equal(ui_status_line(&u, s, &expires), s->startup);
	assert_true(expires > u.mono_ms + 86400000);
	ui_message(&u, "theme: light");
	assert_string_equal(ui_status_line(&u, s, NULL), "theme: light");
	u.mono_ms += UI_MSG_TTL_MS;
	assert_string_equal(ui_status_line(&u, s, NULL), s->startup);
	assert_int_equal(ui_key(&u, s, 'q', &cmd) & UI_QUIT, UI_QUIT);
	snapshot_unref(s);
}

/* Which canaries count as running (seconds on the clock, a countdown in
 * the detail): in progress and not paused; and the snapshot as a whole. */
static void
test_running(void **state)
{
	static const struct {
		enum phase phase;
		bool paused;
		bool running;
	} cases[] = {
		{ PHASE_PROGRESSING, false, true },
		{ PHASE_PROGRESSING, true, false },
		{ PHASE_WAITING, false, true },
		{ PHASE_WAITING_PROMOTION, false, true },
		{ PHASE_WAITING_PROMOTION, true, false },
		{ PHASE_PROMOTING, false, true },
		{ PHASE_FINALISING, false, true },
		{ PHASE_INITIALIZING, false, false },
		{ PHASE_INITIALIZED, false, false },
		{ PHASE_SUCCEEDED, false, false },
		{ PHASE_FAILED, false, false },
	};
	struct snapshot *s = snapfix_new();
	size_t i, k;

	(void)state;
	assert_false(ui_canary_running(NULL));
	assert_false(ui_any_running(NULL));
	assert_true(ui_any_running(s));
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct snap_canary *c = &s->canaries[0];

		c->phase = cases[i].phase;
		c->paused = cases[i].paused;
		if (ui_canary_running(c) != cases[i].running)
			fail_msg("case %zu: phase %s paused %d", i, phase_name(c->phase), c->paused);
	}
	/* the snapshot runs while any canary runs, and stops with the last */
	for (k = 0; k < s->n_canaries; k++)
		if (ui_in_progress_phase(s->canaries[k].phase))
			s->canaries[k].paused = true;
	assert_false(ui_any_running(s));
	s->canaries[s->n_canaries - 1].phase = PHASE_PROMOTING;
	s->canaries[s->n_canaries - 1].paused = false;
	assert_true(ui_any_running(s));
	snapshot_unref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_keys_match_table),
		cmocka_unit_test(test_every_action_has_a_key),
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_event_scroll),
		cmocka_unit_test(test_keys_follow_table),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_status_messages),
		cmocka_unit_test(test_detail_gone),
		cmocka_unit_test(test_startup_line),
		cmocka_unit_test(test_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
