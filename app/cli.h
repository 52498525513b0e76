/*
 * cli.h — what every subcommand shares: the exit statuses and messages of
 * cli_msg.h, the common options, the log, and the help texts.
 *
 * Subcommands are listed once, in app/commands.def (an X-macro list); the
 * dispatcher (app/dispatch.c), `perch --help` and `perch COMMAND --help`
 * all read that list.  A subcommand is `int cmd_NAME(int argc, char
 * **argv)` in app/cmd/NAME.c (app/cmd/cmd.h) with argv[0] = NAME; it
 * returns one of the exit statuses of cli_msg.h.  Main thread only.
 */
#ifndef PERCH_APP_CLI_H
#define PERCH_APP_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "app/cli_msg.h"

/* A command's help, from commands.def. */
struct cli_help {
	const char *name;
	const char *synopsis;	/* options after the name, one line */
	const char *summary;	/* one line for `perch --help` */
	const char *help;	/* the rest of `perch NAME --help` */
};

/* Options every subcommand accepts: -v/--verbose (repeatable) and --log FILE. */
#define CLI_COMMON_LONGOPTS \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "log", required_argument, NULL, 0x100 }, \
	{ "help", no_argument, NULL, 0x101 }
#define CLI_COMMON_SHORTOPTS "v"

enum { CLI_OPT_HANDLED, CLI_OPT_HELP, CLI_OPT_UNKNOWN, CLI_OPT_ERROR };
/* Handles a getopt_long result that is one of the common options. */
int cli_common_option(const char *cmd, int c, const char *arg);
/* Prints `perch NAME --help` to stdout; returns EXIT_OK. */
int cli_command_help(const char *cmd);
/* Prints `perch --help` (every command with its summary) to f. */
void cli_print_help(FILE *f);
/* Applies -v and --log after option parsing (opens the log file). */
int cli_apply_logging(const char *cmd);

#endif
