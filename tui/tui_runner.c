/* tui_runner.c — tui_run(): the UI loop fed by the engine's runner. */
#include "engine/runner.h"
#include "tui/source.h"
#include "tui/tui.h"

static struct snapshot *
runner_source_snapshot(void *ctx)
{
	return runner_snapshot(ctx);
}

static void
runner_source_command(void *ctx, const struct command *cmd)
{
	runner_command(ctx, cmd);
}

int
tui_run(struct tui *t, struct runner *r)
{
	static const struct tui_source source = {
		.snapshot = runner_source_snapshot,
		.command = runner_source_command,
	};

	return tui_run_source(t, &source, r);
}
