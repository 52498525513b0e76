/*
 * cli_msg.c — what a command says on stderr (see cli_msg.h): errors,
 * progress lines and usage errors, each one sanitised line.
 */
#include <stdarg.h>
#include <stdio.h>

#include "app/cli_msg.h"
#include "util/log.h"
#include "util/sanitize.h"

void
cli_error(const char *cmd, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof prefix, cmd != NULL ? "perch %s" : "perch", cmd);
	va_start(ap, fmt);
	sanitize_vprint(stderr, prefix, fmt, ap);
	va_end(ap);
}

void
cli_progress(const char *cmd, const char *fmt, ...)
{
	char prefix[64], raw[SANITIZE_PRINT_MAX];
	va_list ap;

	snprintf(prefix, sizeof prefix, cmd != NULL ? "perch %s" : "perch", cmd);
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	sanitize_print(stderr, prefix, "%s", raw);
	fflush(stderr);
	log_info("%s: %s", prefix, raw);	/* sanitized on its way to the file */
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	/* The message quotes the user's arguments: keep it to one line and
	 * free of escape sequences whatever they hold. */
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		cli_error(cmd, "%s (try 'perch %s --help')", raw, cmd);
	else
		cli_error(NULL, "%s (try 'perch --help')", raw);
	return EXIT_USAGE;
}
