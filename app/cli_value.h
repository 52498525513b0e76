/*
 * cli_value.h — checks of option values that several subcommands share, so
 * that the same mistake (an empty --state-dir, a namespace with a space, a
 * missing argument) gets the same one-line usage error and exit 2 from
 * every command (DESIGN.md §4).  Main thread only (they print to stderr).
 */
#ifndef PERCH_APP_CLI_VALUE_H
#define PERCH_APP_CLI_VALUE_H

#include <stdbool.h>

/* What an option's value must be. */
enum cli_value {
	CLI_VAL_FILE,		/* a non-empty path of a file */
	CLI_VAL_DIR,		/* a non-empty path of a directory */
	CLI_VAL_NAME,		/* a non-empty name (context, theme, ...) */
	CLI_VAL_NAMESPACE,	/* a Kubernetes namespace: a DNS-1123 label */
	CLI_VAL_URL,		/* an http:// or https:// URL with a host */
};

/* EXIT_OK when arg fits kind; otherwise prints "perch CMD: OPT wants ..."
 * (one line; a URL is never quoted back, it may hold a password) and
 * returns EXIT_USAGE. */
int cli_check_value(const char *cmd, const char *opt, enum cli_value kind, const char *arg);

/* cli_check_value, then *dst = arg when it fits. */
int cli_take_value(const char *cmd, const char *opt, enum cli_value kind, const char *arg,
    const char **dst);

/* Whether url is http:// or https:// with a host and no byte that a
 * terminal or curl would misread (spaces, control characters). */
bool cli_url_ok(const char *url);

/* The usage error for what getopt_long returns for a word that is not one
 * of the command's options: ':' (an option without its argument; the
 * optstring must start with ':') or '?' (an unknown option).  argv and
 * optind as getopt_long left them.  Returns EXIT_USAGE. */
int cli_bad_option(const char *cmd, int c, char *const argv[]);

#endif
