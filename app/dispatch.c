/*
 * dispatch.c — `perch [OPTIONS] COMMAND [ARGS]`: the global options, the
 * table from each name of commands.def to its cmd_NAME (app/cmd/), and
 * `perch --help`.  A command whose output could not be written exits 3.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/cmd/cmd.h"
#include "app/dispatch.h"
#include "util/status.h"

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct cli_command commands[] = {
#define CMD(name, synopsis, summary, help) { #name, cmd_##name },
#include "app/commands.def"
#undef CMD
	{ NULL, NULL }
};

static const struct cli_command *
find_command(const char *name)
{
	const struct cli_command *c;

	for (c = commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
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
			cli_print_help(stdout);
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
