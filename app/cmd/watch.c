/*
 * app/cmd/watch.c — `perch watch [--state-dir DIR] [--theme NAME]`: the live
 * screens of the canaries another perch controls, read-only.
 *
 * The state directory is opened read-only (every mutating store op is
 * refused without touching the disk), the runner runs as an observer (it
 * reads the store and never writes), and the front end is read-only (no
 * code path sends a command).  Its clock follows the controller's
 * (DIR/clock.json, written by the demo; real time without it), so times
 * and ages read as on the controller's screen.  Meant for teammates following a release over
 * SSH: a dropped connection (SIGHUP) ends it cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/clock_file.h"
#include "app/interrupt.h"
#include "store/dir.h"
#include "app/watch.h"
#include "engine/runner.h"
#include "tui/tui.h"
#include "util/identity.h"
#include "util/status.h"

struct watch_opts {
	const char *dir;
	const char *theme;
	const char *kubeconfig, *context, *ns;	/* any set: watch the cluster */
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
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, ":n:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 0x200: rc = cli_take_value("watch", "--state-dir", CLI_VAL_DIR, optarg, &o->dir); break;
		case 0x201: rc = cli_take_value("watch", "--theme", CLI_VAL_NAME, optarg, &o->theme); break;
		case 0x202:
			rc = cli_take_value("watch", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig);
			break;
		case 0x203: rc = cli_take_value("watch", "--context", CLI_VAL_NAME, optarg, &o->context); break;
		case 'n': rc = cli_take_value("watch", "-n", CLI_VAL_NAMESPACE, optarg, &o->ns); break;
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
	if (o->dir != NULL && (o->kubeconfig || o->context || o->ns))
		return cli_usage_error("watch", "--state-dir and the cluster options exclude each other");
	return EXIT_OK;
}

int
watch_observe(const struct runner_config *rc, const char *context, const char *theme)
{
	struct runner_config cfg = *rc;
	/* The header follows the controller (its context, from its heartbeat);
	 * context is shown until one is read. */
	struct tui *t = tui_new(&(struct tui_config){ .theme = theme, .read_only = true });
	struct runner *r;
	char err[ERRMSG_MAX];
	int status;

	if (t == NULL) {
		cli_error("watch", "cannot create the wake pipe");
		return EXIT_INFRA;
	}
	cfg.observer = true;
	cfg.context = context;
	cfg.notify = tui_notify;
	cfg.notify_arg = t;
	r = runner_new(&cfg);
	if (runner_start(r, err, sizeof err) != ST_OK) {
		cli_error("watch", "%s", err);
		status = EXIT_INFRA;
	} else {
		interrupt_attach(r, t);
		status = tui_run(t, r);
		runner_stop(r);
		interrupt_detach();
	}
	runner_free(r);
	tui_free(t);
	return status;
}

static int
watch(const char *dir, const char *theme)
{
	char err[ERRMSG_MAX], ctx[160], actor[IDENTITY_MAX];
	struct store_dir *sd;
	struct clock_follow *clock;
	int rc;

	sd = store_dir_open(dir, true, err, sizeof err);
	if (sd == NULL) {
		/* One line: what is wrong, and how to get a directory to watch. */
		if (access(dir, F_OK) != 0)
			cli_error("watch", "%s; a controller writes it: start `perch demo "
			    "--state-dir %s` or `perch run --state-dir %s` (or watch a cluster with "
			    "--kubeconfig, --context and -n)", err, dir, dir);
		else
			cli_error("watch", "%s", err);
		return EXIT_INFRA;
	}
	snprintf(ctx, sizeof ctx, "watch %s", dir);
	/* The controller's time and heartbeat: DIR/clock.json (real time when
	 * there is none). */
	clock = clock_follow_new(dir);
	rc = watch_observe(&(struct runner_config){
		.store = &store_dir_ops, .store_ctx = sd,
		.clock = &clock_follow_ops, .clock_ctx = clock,
		.heartbeat = &clock_follow_heartbeat_ops, .heartbeat_ctx = clock,
		.actor = identity_get(actor, sizeof actor), .context = ctx,
	}, ctx, theme);
	clock_follow_free(clock);
	store_dir_close(sd);
	return rc;
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
	if (o.kubeconfig || o.context || o.ns)
		return interrupt_end("watch", watch_cluster(o.kubeconfig, o.context, o.ns, o.theme));
	if (o.dir == NULL) {
		if ((def = store_dir_default_path()) == NULL) {
			cli_error("watch", "no state directory: set HOME or use --state-dir DIR "
			    "(written by `perch demo --state-dir DIR` or `perch run --state-dir DIR`)");
			return interrupt_end("watch", EXIT_INFRA);
		}
		o.dir = def;
	}
	rc = watch(o.dir, o.theme);
	free(def);
	return interrupt_end("watch", rc);
}
