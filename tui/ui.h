/*
 * ui.h — the front end's state (which screen, which canary, dialogs, the
 * filter, the status line) and the key handler.  No ncurses calls here: the
 * handler maps (state, snapshot, key) to a new state and, at most, one
 * command for the engine, so tests drive it with plain key codes.
 *
 * Rendering (render.h) is a pure function of (snapshot, struct ui, size,
 * theme attributes).  A struct ui is embedded (ui_init); UI thread only.
 */
#ifndef PERCH_TUI_UI_H
#define PERCH_TUI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/runner.h"
#include "engine/snapshot.h"
#include "tui/keymap.h"

enum ui_screen { SCR_OVERVIEW, SCR_DETAIL };
enum ui_overlay { OV_NONE, OV_HELP, OV_CONFIRM, OV_FILTER, OV_TEXT };

#define UI_MSG_MAX 512
/* How long a status-line message stays (real time). */
#define UI_MSG_TTL_MS 6000
/* Events a PgUp / PgDn moves when the screen shows no event log. */
#define UI_PAGE_DEFAULT 10
#define UI_TEXT_MAX 1024
/* The empty overview's text (tui_config.empty_hint). */
#define UI_HINT_MAX 200

struct ui {
	bool read_only;		/* perch watch: mutating keys only answer */
	bool utf8;		/* the locale is UTF-8: box, block and braille glyphs */
	enum ui_screen screen;
	enum ui_overlay overlay;
	char selected[160];	/* "ns/name" of the selected canary, "" = first */
	char filter[64];	/* substring of "ns/name"; "" = all */
	enum key_action confirm;	/* the action a confirmation asks for */
	char confirm_canary[160];
	int event_scroll;	/* detail: events skipped from the newest */
	int event_page;		/* events the log shows at once (PgUp / PgDn); 0 = default */
	char msg[UI_MSG_MAX];	/* the status line */
	char msg_canary[160];	/* the canary "ns/name" it is about, "" = none */
	int64_t msg_at;		/* when it was set (mono_ms); it expires after UI_MSG_TTL_MS */
	uint64_t status_seq;	/* last snapshot status_msg shown */
	char context[96];	/* header context override, "" = the snapshot's */
	char actor[96];		/* "user@host" sent with commands */
	/* Where quitting leaves the rollouts' state, for the quit dialog:
	 * "" = nothing is saved (a demo without a state directory). */
	char saved_in[200];
	char empty_hint[UI_HINT_MAX];	/* the empty overview's text, "" = "no canaries" */
	char released[16];	/* "Lease", "lock" or "control" (tui_config.released) */
	int64_t now_ms;		/* the time the screen shows */
	int64_t mono_ms;	/* real (monotonic) time, for the message's expiry */
	/* OV_TEXT: a full text, copied when opened (new events do not move
	 * it): the event's title line and text, and the canary's reason. */
	char text_title[192];
	char text[UI_TEXT_MAX];
	char text_reason[UI_TEXT_MAX];
};

/* What the caller must do after a key. */
enum {
	UI_REDRAW   = 1 << 0,	/* draw again */
	UI_SEND     = 1 << 1,	/* send *cmd to the runner */
	UI_QUIT     = 1 << 2,
	UI_THEME    = 1 << 3,	/* switch to the next theme */
	UI_REPAINT  = 1 << 4,	/* repaint every cell (Ctrl-L) */
};

void ui_init(struct ui *u, bool read_only, bool utf8);

/* Takes in a new snapshot: a new status message, the selection kept on the
 * same canary (or the first visible one). */
void ui_sync(struct ui *u, const struct snapshot *s);

/* Handles one key code; returns UI_* bits.  With UI_SEND, *cmd holds the
 * command (never in read-only mode). */
unsigned ui_key(struct ui *u, const struct snapshot *s, int code, struct command *cmd);

/* Sets the status line (about no canary in particular). */
void ui_message(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the status line with a message about the canary "ns/name": shown
 * while the overview or that canary's detail is on screen. */
void ui_canary_message(struct ui *u, const char *canary, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The status line's message now: NULL when there is none, it expired
 * (UI_MSG_TTL_MS after it was set), or it is about another canary than
 * the detail on screen; without one, while perch run starts, what it
 * does (snapshot.startup, never expiring).  *expires (may be NULL) gets
 * when it goes, or 0. */
const char *ui_status_line(const struct ui *u, const struct snapshot *s, int64_t *expires);

/* The canaries the filter lets through: fills idx (capacity n) with indexes
 * into s->canaries, returns how many. */
size_t ui_visible(const struct ui *u, const struct snapshot *s, size_t *idx, size_t n);
/* The selected canary, or NULL when none is visible. */
const struct snap_canary *ui_current(const struct ui *u, const struct snapshot *s);

/* Whether an action applies now to canary c (NULL: none selected), for the
 * footer and the key handler: for a key that sends a command, whether the
 * command's preconditions hold on c's facts (engine/command.h); why, when
 * not (may be NULL). */
bool ui_applies(const struct ui *u, enum key_action a, const struct snap_canary *c);
bool ui_allowed(const struct ui *u, enum key_action a, const struct snap_canary *c, char *why,
    size_t whysz);
/* The command a key sends for canary c (Space: pause or resume). */
enum command_kind ui_command_of(enum key_action a, const struct snap_canary *c);
/* Canaries in progress (not terminal and not merely initialized); whether a
 * phase is one of those. */
int ui_in_progress(const struct snapshot *s);
/* Of those, the ones this process controls (what quitting leaves). */
int ui_in_progress_controlled(const struct snapshot *s);
bool ui_in_progress_phase(enum phase p);
/* Whether canary c is in progress and not paused: it moves on by itself at
 * its next check.  Only then does the screen count seconds for it (the
 * detail's "next check in Ns"); ui_any_running says whether any canary of s
 * does, and the header clock shows seconds only then (HH:MM otherwise), so
 * a screen where everything is paused, idle or finished stays still. */
bool ui_canary_running(const struct snap_canary *c);
bool ui_any_running(const struct snapshot *s);
/* The selected event of c (an index into c->events, newest last): the one
 * event_scroll events below the newest; -1 when c has none. */
int ui_event_selected(const struct ui *u, const struct snap_canary *c);

#endif
