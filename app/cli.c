/*
 * cli.c — `perch [OPTIONS] COMMAND [ARGS]`: global options, the command
 * table of commands.def, help and usage errors.
 *
 * Usage errors print one sanitised line saying what is wrong, with a hint,
 * and exit 2, so scripts can tell them from failures (1) and infrastructure
 * errors (3).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"

static const struct cli_command commands[] = {
#define CMD(name, synopsis, summary, help) { #name, cmd_##name, synopsis, summary, help },
#include "app/commands.def"
#undef CMD
	{ NULL, NULL, NULL, NULL, NULL }
};

static int verbosity;
static const char *log_path;

static const struct cli_command *
find_command(const char *name)
{
	const struct cli_command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void
print_help(FILE *f)
{
	const struct cli_command *c;

	fprintf(f,
	    "perch — run canary rollouts interactively, Flagger-compatible.\n"
	    "\n"
	    "Usage: perch [-v] [--log FILE] COMMAND [OPTIONS]\n"
	    "       perch --help | --version\n"
	    "       perch COMMAND --help\n"
	    "\n"
	    "Commands:\n");
	for (c = commands; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	if (commands[0].name == NULL)
		fprintf(f, "  (none yet)\n");
	fprintf(f,
	    "\n"
	    "Options:\n"
	    "  -h, --help      show this help\n"
	    "  -V, --version   show the version\n"
	    "  -v, --verbose   log more (repeat for debug); needs --log\n"
	    "      --log FILE  append a log to FILE (never to the terminal)\n"
	    "\n"
	    "Exit status: 0 success, 1 a canary failed or validation found errors,\n"
	    "2 usage error, 3 cluster, Prometheus or other infrastructure error.\n"
	    "See perch(1).\n");
}

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

int
cli_command_help(const char *name)
{
	const struct cli_command *c = find_command(name);

	if (c == NULL)
		return cli_usage_error(NULL, "unknown command '%s'", name);
	printf("Usage: perch %s %s\n\n%s\n", c->name, c->synopsis, c->summary);
	if (c->help != NULL && c->help[0] != '\0')
		printf("\n%s", c->help);
	printf("\nCommon options:\n"
	    "  -v, --verbose   log more (repeat for debug)\n"
	    "      --log FILE  append a log to FILE\n"
	    "  -h, --help      show this help\n");
	return EXIT_OK;
}

int
cli_common_option(const char *cmd, int c, const char *arg)
{
	(void)cmd;
	switch (c) {
	case 'v':
		verbosity++;
		return CLI_OPT_HANDLED;
	case 0x100:
		log_path = arg;
		return CLI_OPT_HANDLED;
	case 0x101:
	case 'h':
		return CLI_OPT_HELP;
	case '?':
	case ':':
		return CLI_OPT_ERROR;
	default:
		return CLI_OPT_UNKNOWN;
	}
}

int
cli_apply_logging(const char *cmd)
{
	enum log_level level = verbosity >= 2 ? LOG_DEBUG :
	    verbosity == 1 ? LOG_INFO : LOG_WARN;

	if (log_path == NULL)
		return EXIT_OK;
	if (cli_check_value(cmd, "--log", CLI_VAL_FILE, log_path) != EXIT_OK)
		return EXIT_USAGE;
	if (log_open(log_path, level) != ST_OK) {
		cli_error(cmd, "cannot open log file %s: %s", log_path, strerror(errno));
		return EXIT_USAGE;
	}
	log_info("perch %s started (%s)", PERCH_VERSION, cmd ? cmd : "-");
	return EXIT_OK;
}

/* A command whose output could not be written (a full disk, a closed
 * file) has not done its job: exit 3 and say so, whatever it returned.  A
 * terminal that went away (an SSH login dropped) is not reported: nobody
 * is there to read it, and the TUI's own exit stands. */
static int
output_written(const char *cmd, int rc)
{
	if (isatty(STDOUT_FILENO))
		return rc;
	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return rc;
	cli_error(cmd, "cannot write the output: %s", errno != 0 ? strerror(errno) : "write error");
	return EXIT_INFRA;
}

/* glibc's getopt keeps the ordering of its first scan ('+': stop at the
 * first non-option) until optind is set to 0 and it scans again.  Commands
 * start their scan with optind = 1, so the reinitialisation happens here,
 * on an empty argument list: the commands then take options after their
 * operands too (perch validate FILE --strict). */
static void
reset_getopt(void)
{
	static char prog[] = "perch";
	char *none[] = { prog, NULL };

	opterr = 0;
	optind = 0;
	(void)getopt(1, none, ":");
	optind = 1;
}

int
cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log", required_argument, NULL, 0x100 },
		{ NULL, 0, NULL, 0 }
	};
	const struct cli_command *c;
	int opt;

	opterr = 0;
	/* '+': stop at the first non-option, the command name. */
	while ((opt = getopt_long(argc, argv, "+:hVv", longopts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			printf("perch %s\n", PERCH_VERSION);
			return output_written(NULL, EXIT_OK);
		case 'h':
			print_help(stdout);
			return output_written(NULL, EXIT_OK);
		case 'v':
		case 0x100:
			cli_common_option(NULL, opt, optarg);
			break;
		case ':':
			return cli_usage_error(NULL, "option '%s' needs an argument", argv[optind - 1]);
		default:
			return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command given");
	c = find_command(argv[optind]);
	if (c == NULL)
		return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
	argc -= optind;
	argv += optind;
	reset_getopt();
	return output_written(c->name, c->run(argc, argv));
}
