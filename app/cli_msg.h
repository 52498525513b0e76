/*
 * cli_msg.h — how the command line speaks: the exit statuses of DESIGN.md
 * §4, and every message a command writes to stderr (an error, a progress
 * line, a usage error), each sanitised into one line.  Main thread (or the
 * thread that runs a command).
 */
#ifndef PERCH_APP_CLI_MSG_H
#define PERCH_APP_CLI_MSG_H

/* Exit statuses: the contract of DESIGN.md §4. */
enum {
	EXIT_OK = 0,		/* success: every canary Succeeded, or the input is valid */
	EXIT_FAILED = 1,	/* a canary Failed, or validation found errors */
	EXIT_USAGE = 2,		/* usage error */
	EXIT_INFRA = 3,		/* cannot reach the cluster, Prometheus, ... */
};

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

#endif
