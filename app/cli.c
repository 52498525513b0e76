/*
 * cli.c — what every command shares (see cli.h): the options every
 * command takes (-v, --log, --help), the log they open, and the help
 * texts of commands.def (`perch --help`, `perch NAME --help`).
 *
 * Usage errors print one sanitised line saying what is wrong, with a hint,
 * and exit 2, so scripts can tell them from failures (1) and infrastructure
 * errors (3) (cli_msg.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "util/log.h"
#include "util/status.h"

/* What `perch NAME --help` and `perch --help` print of each command. */
static const struct cli_help helps[] = {
#define CMD(name, synopsis, summary, help) { #name, synopsis, summary, help },
#include "app/commands.def"
#undef CMD
	{ NULL, NULL, NULL, NULL }
};

static int verbosity;
static const char *log_path;

static const struct cli_help *
find_help(const char *name)
{
	const struct cli_help *c;

	for (c = helps; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cli_print_help(FILE *f)
{
	const struct cli_help *c;

	fprintf(f,
	    "perch — run canary rollouts interactively, Flagger-compatible.\n"
	    "\n"
	    "Usage: perch [-v] [--log FILE] COMMAND [OPTIONS]\n"
	    "       perch --help | --version\n"
	    "       perch COMMAND --help\n"
	    "\n"
	    "Commands:\n");
	for (c = helps; c->name != NULL; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	if (helps[0].name == NULL)
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

int
cli_command_help(const char *name)
{
	const struct cli_help *c = find_help(name);

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
