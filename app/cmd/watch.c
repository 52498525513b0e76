/*
 * app/cmd/watch.c — `perch watch [--state-dir DIR | cluster flags]
 * [--theme NAME]`: the live screens of the canaries another perch
 * controls, read-only (app/watch.h).  Meant for teammates following a
 * release over SSH: a dropped connection (SIGHUP) ends it cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cmd/cmd.h"
#include "app/interrupt.h"
#include "app/prom_service.h"
#include "app/watch.h"
#include "store/dir.h"

struct watch_opts {
	const char *dir;
	const char *theme;
	const char *kubeconfig, *context, *ns;	/* any set: watch the cluster */
	bool all_ns;				/* -A: every namespace of the cluster */
	const char *prometheus, *prometheus_service;	/* the Flagger canaries' metrics */
};

static int
parse(int argc, char **argv, struct watch_opts *o)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 0x200 },
		{ "theme", required_argument, NULL, 0x201 },
		{ "kubeconfig", required_argument, NULL, 0x202 },
		{ "context", required_argument, NULL, 0x203 },
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "prometheus", required_argument, NULL, 0x204 },
		{ "prometheus-service", required_argument, NULL, 0x205 },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, ":n:A" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 0x200: rc = cli_take_value("watch", "--state-dir", CLI_VAL_DIR, optarg, &o->dir); break;
		case 0x201: rc = cli_take_value("watch", "--theme", CLI_VAL_NAME, optarg, &o->theme); break;
		case 0x202:
			rc = cli_take_value("watch", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig);
			break;
		case 0x203: rc = cli_take_value("watch", "--context", CLI_VAL_NAME, optarg, &o->context); break;
		case 'n': rc = cli_take_value("watch", "-n", CLI_VAL_NAMESPACE, optarg, &o->ns); break;
		case 'A': o->all_ns = true; continue;
		case 0x204:
			rc = cli_take_value("watch", "--prometheus", CLI_VAL_URL, optarg, &o->prometheus);
			break;
		case 0x205: rc = prom_service_opt("watch", optarg, &o->prometheus_service); break;
		default:
			switch (cli_common_option("watch", c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option("watch", c, argv);
			}
		}
		if (rc != EXIT_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("watch", "unexpected argument '%s'", argv[optind]);
	if (o->dir != NULL && (o->kubeconfig || o->context || o->ns || o->all_ns))
		return cli_usage_error("watch", "--state-dir and the cluster options exclude each other");
	if (o->dir != NULL && (o->prometheus || o->prometheus_service))
		return cli_usage_error("watch", "--prometheus and --prometheus-service go with a "
		    "cluster, not --state-dir");
	if (o->all_ns && o->ns != NULL)
		return cli_usage_error("watch", "-n and -A exclude each other");
	return EXIT_OK;
}

int
cmd_watch(int argc, char **argv)
{
	struct watch_opts o = { 0 };
	char *def = NULL;
	int rc = parse(argc, argv, &o);

	if (rc == -1)
		return cli_command_help("watch");
	if (rc != EXIT_OK)
		return rc;
	if ((rc = cli_apply_logging("watch")) != EXIT_OK)
		return rc;
	interrupt_begin();	/* before any thread (app/interrupt.h) */
	if (o.kubeconfig || o.context || o.ns || o.all_ns || o.prometheus || o.prometheus_service)
		return interrupt_end("watch", watch_cluster(&(struct watch_where){ o.kubeconfig,
		    o.context, o.ns, o.all_ns, o.prometheus, o.prometheus_service }, o.theme));
	if (o.dir == NULL) {
		if ((def = store_dir_default_path()) == NULL) {
			cli_error("watch", "no state directory: set HOME or use --state-dir DIR "
			    "(written by `perch demo --state-dir DIR` or `perch run --state-dir DIR`)");
			return interrupt_end("watch", EXIT_INFRA);
		}
		o.dir = def;
	}
	rc = watch_dir(o.dir, o.theme);
	free(def);
	return interrupt_end("watch", rc);
}
