/*
 * cli.h — the command dispatcher and what every subcommand shares.
 *
 * Subcommands are listed once, in app/commands.def (an X-macro list); the
 * dispatcher, `perch --help` and `perch COMMAND --help` all read that list.
 * A subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] = NAME;
 * it returns one of the exit statuses below.  Main thread only.
 */
#ifndef PERCH_APP_CLI_H
#define PERCH_APP_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Exit statuses: the contract of DESIGN.md §4. */
enum {
	EXIT_OK = 0,		/* success: every canary Succeeded, or the input is valid */
	EXIT_FAILED = 1,	/* a canary Failed, or validation found errors */
	EXIT_USAGE = 2,		/* usage error */
	EXIT_INFRA = 3,		/* cannot reach the cluster, Prometheus, ... */
};

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	/* options after the name, one line */
	const char *summary;	/* one line for `perch --help` */
	const char *help;	/* the rest of `perch NAME --help` */
};

#define CMD(name, synopsis, summary, help) int cmd_##name(int argc, char **argv);
#include "app/commands.def"
#undef CMD

int cli_main(int argc, char **argv);

/* Prints "perch NAME: MESSAGE" to stderr (NAME NULL: "perch: MESSAGE"),
 * the message sanitized whole (util/sanitize.h, sanitize_print): every
 * message of a command to stderr goes through here. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A progress line ("connecting to https://... (context prod)"): printed
 * like cli_error (before the TUI takes the screen, or among a headless
 * run's output) and logged at level info. */
void cli_progress(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "perch NAME: MESSAGE" and a one-line hint to stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
/* Applies -v and --log after option parsing (opens the log file). */
int cli_apply_logging(const char *cmd);

#endif
