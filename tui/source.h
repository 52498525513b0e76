/*
 * source.h — where the UI loop gets snapshots and sends commands.  The app
 * uses the runner (tui_run in tui_runner.c); tests plug in a scripted source
 * to drive the real loop on a pseudo-terminal.
 *
 * Threads: both ops are called on the UI thread.  snapshot() returns a new
 * reference (or NULL); command() must not block.
 */
#ifndef PERCH_TUI_SOURCE_H
#define PERCH_TUI_SOURCE_H

#include "engine/runner.h"
#include "engine/snapshot.h"

struct tui;			/* tui/tui.h */

struct tui_source {
	struct snapshot *(*snapshot)(void *ctx);
	void (*command)(void *ctx, const struct command *cmd);
};

/* tui_run with any source; ctx is passed to its ops (defined in tui.c). */
int tui_run_source(struct tui *t, const struct tui_source *src, void *ctx);

#endif
