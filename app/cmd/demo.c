/*
 * app/cmd/demo.c — `perch demo`: the command line of the demo on the embedded
 * simulator (the run itself is demo.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cmd/cmd.h"
#include "app/demo.h"
#include "app/interrupt.h"
#include "engine/routers.h"
#include "util/sanitize.h"

#define CMD_NAME "demo"

/* "90", "90s", "15m", "1h" -> ms; -1 when invalid. */
static int64_t
parse_duration(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !(v > 0) || v > 1e7)
		return -1;
	if (*end == 'h')
		v *= 3600, end++;
	else if (*end == 'm')
		v *= 60, end++;
	else if (*end == 's')
		end++;
	if (*end != '\0' || v < 0.001)	/* under a millisecond would mean no limit */
		return -1;
	return (int64_t)(v * 1000);
}

static int
parse_speed(const char *s, double *out)
{
	char *end;

	if (strcmp(s, "max") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && *out > 0 && *out <= 1e6 ? 0 : -1;
}

static int
parse_count(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= 1 && *out <= DEMO_MAX_CANARIES ? 0 : -1;
}

static int
parse_seed(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	/* digits only: strtoull would take " -1" as 2^64-1 */
	return errno == 0 && end != s && *end == '\0' && strspn(s, "0123456789") == strlen(s) ?
	    0 : -1;
}

/* --provider NAME: one the registry offers (engine/routers.h). */
static int
demo_provider_option(struct demo_opts *o, const char *arg)
{
	char known[512] = "";
	size_t i, len = 0;

	for (i = 0; router_schema_names[i] != NULL; i++) {
		if (strcmp(router_schema_names[i], arg) == 0) {
			o->provider = router_schema_names[i];
			return EXIT_OK;
		}
		if (len < sizeof known)
			len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "",
			    router_schema_names[i]);
	}
	return cli_usage_error(CMD_NAME, "--provider: unknown provider '%s' (known: %s)", arg,
	    known);
}

enum { OPT_SCENARIO = 0x200, OPT_CANARIES, OPT_SPEED, OPT_SEED, OPT_HEADLESS,
	OPT_STATE_DIR, OPT_THEME, OPT_DURATION, OPT_PROVIDER };

static int
demo_option(struct demo_opts *o, int c, const char *arg, const char *optname)
{
	char err[256];
	int n;

	switch (c) {
	case OPT_SCENARIO:
		n = scenario_parse_list(arg, o->scenarios,
		    sizeof o->scenarios / sizeof o->scenarios[0], err, sizeof err);
		if (n < 0)
			return cli_usage_error(CMD_NAME, "--scenario: %s", err);
		o->n_scenarios = (size_t)n;
		return EXIT_OK;
	case OPT_CANARIES:
		if (parse_count(arg, &o->canaries) != 0)
			return cli_usage_error(CMD_NAME, "--canaries wants a count from 1 to %d, not '%s'",
			    DEMO_MAX_CANARIES, arg);
		return EXIT_OK;
	case OPT_SPEED:
		if (parse_speed(arg, &o->speed) != 0)
			return cli_usage_error(CMD_NAME, "--speed wants a positive number or 'max', not '%s'", arg);
		return EXIT_OK;
	case OPT_SEED:
		if (parse_seed(arg, &o->seed) != 0)
			return cli_usage_error(CMD_NAME, "--seed wants a non-negative integer, not '%s'", arg);
		return EXIT_OK;
	case OPT_HEADLESS:
		o->headless = true;
		return EXIT_OK;
	case OPT_STATE_DIR:
		return cli_take_value(CMD_NAME, "--state-dir", CLI_VAL_DIR, arg, &o->state_dir);
	case OPT_THEME:
		return cli_take_value(CMD_NAME, "--theme", CLI_VAL_NAME, arg, &o->theme);
	case OPT_DURATION:
		if ((o->duration_ms = parse_duration(arg)) < 0)
			return cli_usage_error(CMD_NAME, "--duration wants a time such as 90s, 15m or 1h, not '%s'", arg);
		return EXIT_OK;
	case OPT_PROVIDER:
		return demo_provider_option(o, arg);
	default:
		return cli_usage_error(CMD_NAME, "unknown option '%s'", optname);
	}
}

int
cmd_demo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, OPT_SCENARIO },
		{ "canaries", required_argument, NULL, OPT_CANARIES },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "headless", no_argument, NULL, OPT_HEADLESS },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "theme", required_argument, NULL, OPT_THEME },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct demo_opts o = { .speed = DEMO_SPEED, .seed = DEMO_SEED };
	struct demo_result res;
	char err[512];
	int c, st;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (cli_common_option(CMD_NAME, c, optarg)) {
		case CLI_OPT_HANDLED:
			continue;
		case CLI_OPT_HELP:
			return cli_command_help(CMD_NAME);
		case CLI_OPT_ERROR:
			return cli_bad_option(CMD_NAME, c, argv);
		default:
			if ((st = demo_option(&o, c, optarg, argv[optind - 1])) != EXIT_OK)
				return st;
		}
	}
	if (optind < argc)
		return cli_usage_error(CMD_NAME, "unexpected argument '%s'", argv[optind]);
	if ((st = cli_apply_logging(CMD_NAME)) != EXIT_OK)
		return st;
	interrupt_begin();	/* before any thread (app/interrupt.h) */
	st = demo_run(&o, &res, err, sizeof err);
	if (err[0] != '\0') {
		/* it may quote a path the user gave */
		char *clean = sanitize_dup(err, sizeof err);

		cli_error("demo", "%s", clean);
		free(clean);
	}
	else if (res.cut)
		cli_error("demo", "stopped after --duration with canaries still running");
	return interrupt_end(CMD_NAME, st);
}
