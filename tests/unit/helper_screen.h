/* helper_screen.h — renders a front-end screen from a snapshot into a fake
 * terminal (newterm on /dev/null) of a fixed size and returns its text, one
 * line per row, trailing blanks removed; compares it with a golden file
 * tests/data/screens/NAME.screen (UPDATE_GOLDEN=1 rewrites the file). */
#ifndef PERCH_TESTS_HELPER_SCREEN_H
#define PERCH_TESTS_HELPER_SCREEN_H

#include <stdbool.h>

#include "engine/snapshot.h"

struct screen_spec {
	const char *name;	/* golden file name, without .screen */
	int cols, rows;
	bool utf8;
	const char *keys;	/* typed before rendering ('~' is Escape) */
	bool read_only;		/* watch mode: the snapshot is marked read-only,
				 * held by "alice@laptop pid 4711" */
	bool nocolor;		/* drawn with the attributes NO_COLOR leaves, and
				 * their map added under the text */
	const char *saved_in;	/* where the UI says the state is saved, or NULL */
	const char *released;	/* what quitting gives back ("Lease", "lock"), or NULL */
};

/* The screen's text (the caller frees it); s may be changed (read_only). */
char *screen_text(const struct screen_spec *sp, struct snapshot *s);
/* 0 when the screen matches its golden file; else prints both and -1. */
int  screen_golden(const struct screen_spec *sp, const char *text);

#endif
