/*
 * keymap.h — the one table of keys: key codes, the label shown to people,
 * the help text, and what kind of action it is.  The key handler (ui.c), the
 * `?` overlay, the footer and the KEYS section of perch(1) (checked by a unit
 * test) all come from KEYMAP_LIST.  Pure data; any thread.
 */
#ifndef PERCH_TUI_KEYMAP_H
#define PERCH_TUI_KEYMAP_H

#include <stdbool.h>

/* Flags of a key. */
enum {
	KF_MUTATES = 1 << 0,	/* sends a command (ui.c: its command and whether it
				 * applies and asks come from COMMAND_LIST) */
	KF_CONFIRM = 1 << 1,	/* a key that sends nothing but asks y/N first (quit) */
	KF_FOOTER  = 1 << 2,	/* listed in the footer when it applies */
};

/*
 * X(id, label, footer label, help, flags).  The codes of each key are in
 * keymap.c (keymap_codes), next to the table, in the same order.
 */
#define KEYMAP_LIST(X) \
	X(UP,       "Up, k",    "",          "previous canary; in the detail, scroll the events up", 0) \
	X(DOWN,     "Down, j",  "",          "next canary; in the detail, scroll the events down", 0) \
	X(EV_LINE,  "K, J",     "",          "scroll the events a line up (newer) or down, in any view", 0) \
	X(EV_PAGE,  "PgUp, PgDn", "",        "scroll the events a page up (newer) or down, in any view", 0) \
	X(DETAIL,   "Enter, l", "detail",    "open the canary's detail; there, the selected event in full", KF_FOOTER) \
	X(EVENT,    "e",        "",          "the selected event (J/K choose) and the reason in full", 0) \
	X(BACK,     "Esc, h",   "back",      "back to the overview; close a dialog or the filter", KF_FOOTER) \
	X(STEP,     "p",        "step",      "promote one step now", KF_MUTATES | KF_FOOTER) \
	X(PROMOTE,  "P",        "promote",   "promote fully now, skipping steps and analysis (asks)", KF_MUTATES | KF_FOOTER) \
	X(PAUSE,    "Space",    "pause",     "pause (hold the weight) or resume the selected canary", KF_MUTATES | KF_FOOTER) \
	X(ROLLBACK, "r",        "roll back", "roll back now: all traffic to the primary (asks)", KF_MUTATES | KF_FOOTER) \
	X(RETRY,    "R",        "retry",     "retry the failed revision", KF_MUTATES | KF_FOOTER) \
	X(SKIP,     "s",        "skip",      "skip the analysis and promote when ready (asks)", KF_MUTATES | KF_FOOTER) \
	X(APPROVE,  "a",        "approve",   "approve the gate the canary waits at (asks)", KF_MUTATES | KF_FOOTER) \
	X(FILTER,   "/",        "filter",    "filter canaries by name; Enter keeps it, Esc clears it", KF_FOOTER) \
	X(THEME,    "t",        "theme",     "switch to the next theme", KF_FOOTER) \
	X(HELP,     "?",        "help",      "show or hide this help", KF_FOOTER) \
	X(REDRAW,   "Ctrl-L",   "",          "redraw the whole screen", 0) \
	X(QUIT,     "q",        "quit",      "quit; hands the rollouts in progress over (asks)", KF_CONFIRM | KF_FOOTER)

enum key_action {
	KA_NONE = -1,
#define X(id, label, foot, help, flags) KA_##id,
	KEYMAP_LIST(X)
#undef X
	KA__COUNT
};

struct keymap_entry {
	enum key_action action;
	const char *label;	/* "Up, k" */
	const char *footer;	/* short name for the footer, "" = not shown */
	const char *help;
	unsigned flags;
};

/* The table, KA__COUNT entries in KEYMAP_LIST order. */
extern const struct keymap_entry keymap[KA__COUNT];

/* The action bound to a key code (a character or an ncurses KEY_*), or
 * KA_NONE.  Unbound keys (Ctrl-D, Ctrl-K, ...) do nothing. */
enum key_action keymap_lookup(int code);
/* The footer glyph of an action: "p", "␣", "↵" ... (ASCII when !utf8). */
const char *keymap_footer_key(enum key_action a, bool utf8);

#endif
