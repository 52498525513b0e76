/*
 * app/cmd/controller.c — `perch controller`: perch run's engine as a
 * long-running controller inside the cluster (app/cmd/run.c does the
 * work): every canaries.flagger.app object of its namespaces is adopted as
 * it is listed or created and let go when deleted; it never ends on its
 * own; SIGTERM ends the tick, saves and releases the Leases.  Replicas
 * share the canaries through the Leases (store/k8s_replicas.h).
 */
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cmd/cmd.h"
#include "app/cmd/run.h"
#include "util/xalloc.h"

/* Flagger's own metrics port. */
#define CONTROLLER_METRICS_ADDR ":8080"

/* -n A,B,C: each a namespace.  EXIT_OK or a usage error. */
static int
take_namespaces(struct run_opts *o, const char *arg)
{
	char *copy = xstrdup(arg), *tok, *save = NULL;
	const char *ns;
	int r = EXIT_OK;

	if (strspn(arg, ",") == strlen(arg))
		r = cli_usage_error("controller", "-n wants one namespace or a comma list, not '%s'", arg);
	for (tok = strtok_r(copy, ",", &save); tok && r == EXIT_OK; tok = strtok_r(NULL, ",", &save)) {
		r = cli_take_value("controller", "-n", CLI_VAL_NAMESPACE, tok, &ns);
		if (r != EXIT_OK)
			break;
		o->nss = xreallocarray(o->nss, o->n_nss + 1, sizeof *o->nss);
		o->nss[o->n_nss++] = xstrdup(ns);
	}
	free(copy);
	return r;
}

/* EXIT_OK, -1 for --help, or a usage error. */
static int
parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "kubeconfig", required_argument, NULL, 0x200 },
		{ "context", required_argument, NULL, 0x201 },
		{ "prometheus", required_argument, NULL, 0x202 },
		{ "identity", required_argument, NULL, 0x203 },
		{ "metrics-addr", required_argument, NULL, 0x204 },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":n:A" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'n': r = take_namespaces(o, optarg); break;
		case 'A': o->all_ns = true; continue;
		case 0x200: r = cli_take_value("controller", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig); break;
		case 0x201: r = cli_take_value("controller", "--context", CLI_VAL_NAME, optarg, &o->context); break;
		case 0x202: r = cli_take_value("controller", "--prometheus", CLI_VAL_URL, optarg, &o->prometheus); break;
		case 0x203: r = cli_take_value("controller", "--identity", CLI_VAL_NAME, optarg, &o->identity); break;
		case 0x204: r = cli_take_value("controller", "--metrics-addr", CLI_VAL_NAME, optarg, &o->metrics_addr); break;
		default:
			switch (cli_common_option("controller", c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option("controller", c, argv);
			}
		}
		if (r != EXIT_OK)
			return r;
	}
	if (optind < argc)
		return cli_usage_error("controller", "unexpected argument '%s'", argv[optind]);
	if (o->all_ns && o->n_nss > 0)
		return cli_usage_error("controller", "-n and -A exclude each other");
	return EXIT_OK;
}

/* Without -n or -A: the namespace of the service account (in the
 * cluster) or of the kubeconfig's context, which run.c resolves. */
int
cmd_controller(int argc, char **argv)
{
	struct run_opts o = { .cmd = "controller", .controller = true, .headless = true,
		.metrics_addr = CONTROLLER_METRICS_ADDR };
	int rc = parse(argc, argv, &o);
	size_t i;

	if (rc == EXIT_OK)
		return run_with(&o);
	for (i = 0; i < o.n_nss; i++)
		free(o.nss[i]);
	free(o.nss);
	return rc == -1 ? cli_command_help("controller") : rc;
}
