/*
 * theme.h — themes: semantic colour roles in code, colours in files.
 *
 * A theme maps each role (ROLE_LIST) to a foreground, a background and
 * attributes.  Themes are YAML files (format: perch-theme(5)) looked up by
 * name in $XDG_CONFIG_HOME/perch/themes, PERCH_DATADIR/themes and ./themes;
 * "default" is also compiled in.  Colours are xterm-256 indexes or names;
 * on 8- or 16-colour terminals each maps to the nearest basic colour, and
 * with NO_COLOR only the attributes stay.
 *
 * struct theme is plain data (no pointers), embedded and copied by value.
 * Loading and parsing are pure apart from reading the file: any thread.
 * theme_attrs() calls ncurses: UI thread only.
 */
#ifndef PERCH_TUI_THEME_H
#define PERCH_TUI_THEME_H

#include <stdbool.h>
#include <stddef.h>

/* X(id, yaml name, default fg, default bg, default attrs, description) */
#define ROLE_LIST(X) \
	X(NORMAL,         "normal",          -1,  -1, 0,          "ordinary text") \
	X(DIM,            "dim",             244, -1, 0,          "secondary text, column headings") \
	X(HEADER,         "header",          -1,  -1, TA_BOLD,    "the top line") \
	X(BADGE_CONTROL,  "badge-control",   16,  114, TA_BOLD,   "the CONTROL badge") \
	X(BADGE_READONLY, "badge-readonly",  16,  221, TA_BOLD | TA_REVERSE, "the READ-ONLY badge") \
	X(HEALTH_OK,      "health-ok",       114, -1, 0,          "a backend that answers") \
	X(HEALTH_BAD,     "health-bad",      203, -1, TA_BOLD,    "a backend that does not answer") \
	X(BORDER,         "border",          240, -1, 0,          "box lines") \
	X(TITLE,          "title",           -1,  -1, TA_BOLD,    "box titles") \
	X(SELECTION,      "selection",       -1,  236, TA_BOLD,   "the selected row") \
	X(WEIGHT_PRIMARY, "weight-primary",  242, -1, 0,          "the primary's share of a traffic bar") \
	X(WEIGHT_CANARY,  "weight-canary",   39,  -1, TA_BOLD,    "the canary's share of a traffic bar") \
	X(WEIGHT_MAX,     "weight-max",      221, -1, 0,          "the max-weight marker") \
	X(PHASE_IDLE,     "phase-idle",      244, -1, 0,          "Initializing, Initialized") \
	X(PHASE_ACTIVE,   "phase-active",    39,  -1, 0,          "Progressing, Promoting, Finalising, Terminating") \
	X(PHASE_WAITING,  "phase-waiting",   221, -1, TA_BOLD,    "Waiting, WaitingPromotion: needs someone") \
	X(PHASE_SUCCEEDED, "phase-succeeded", 114, -1, 0,         "Succeeded") \
	X(PHASE_FAILED,   "phase-failed",    203, -1, TA_BOLD,    "Failed") \
	X(ATTENTION,      "attention",       221, -1, TA_BOLD,    "HELD and PAUSED badges, the line under a row that needs attention") \
	X(METRIC_PASS,    "metric-pass",     114, -1, 0,          "a passing check or point") \
	X(METRIC_FAIL,    "metric-fail",     203, -1, TA_BOLD,    "a failing check or point") \
	X(METRIC_NODATA,  "metric-nodata",   221, -1, 0,          "an inconclusive check (no data, no traffic)") \
	X(METRIC_BOUND,   "metric-bound",    244, -1, 0,          "the bound line of a graph") \
	X(EVENT_NORMAL,   "event-normal",    -1,  -1, 0,          "Normal events") \
	X(EVENT_WARNING,  "event-warning",   221, -1, 0,          "Warning events") \
	X(EVENT_ERROR,    "event-error",     203, -1, TA_BOLD,    "Error events") \
	X(STATUS,         "status",          -1,  -1, TA_BOLD,    "the status line (answers to commands)") \
	X(FOOTER_KEY,     "footer-key",      39,  -1, TA_BOLD,    "key names in the footer and help") \
	X(DIALOG,         "dialog",          -1,  -1, 0,          "confirmation and help boxes")

enum { TA_BOLD = 1, TA_DIM = 2, TA_REVERSE = 4, TA_UNDERLINE = 8, TA_ITALIC = 16 };

enum theme_role {
#define X(id, name, fg, bg, attrs, desc) ROLE_##id,
	ROLE_LIST(X)
#undef X
	ROLE__COUNT
};

#define COLOR_DEFAULT (-1)

struct theme_style {
	short fg, bg;		/* 0..255, or COLOR_DEFAULT */
	unsigned attrs;		/* TA_* bits */
};

struct theme {
	char name[64];
	struct theme_style style[ROLE__COUNT];
};

/* The names `t` cycles through, in order; NULL-terminated. */
extern const char *const theme_cycle[];

const char *theme_role_name(enum theme_role r);
const char *theme_role_help(enum theme_role r);

/* The compiled-in default theme. */
void theme_default(struct theme *out);

/* Parses a theme document.  Roles it does not name keep the compiled-in
 * default.  ST_OK, or ST_PARSE with "file:line:column: what" in err. */
int theme_parse(const char *text, size_t len, const char *file,
    struct theme *out, char *err, size_t errsz);

/* Loads a theme by name (searched as above) or by path (a name containing
 * '/' or ending in ".yaml").  "default" not found on disk is the compiled-in
 * one.  ST_OK; ST_NOTFOUND ("theme NAME not found in ..."); ST_PARSE. */
int theme_load(const char *name, struct theme *out, char *err, size_t errsz);

/* Nearest colour among the first `n` (8 or 16) of the xterm palette. */
short theme_nearest(short color, int n);

#endif
