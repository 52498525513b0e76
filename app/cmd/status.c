/*
 * app/cmd/status.c — `perch status [--state-dir DIR | --kubeconfig PATH
 * --context NAME -n NS] [-o text|json]`: the saved state of every canary,
 * one line each (or JSON), from either store: a state directory, or a
 * cluster's namespace (the ConfigMaps perch-<canary> and their Leases).
 *
 * Opens the store read-only: it never takes a lock or writes a byte (on a
 * cluster, only get and list requests), so it is safe beside a running
 * controller.  Exit status: 0, 1 when a canary is Failed, 3 when some state
 * cannot be read (the file or object is named on stderr).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cluster_conn.h"
#include "app/cmd/cmd.h"
#include "engine/command.h"
#include "store/dir.h"
#include "store/k8s.h"
#include "util/fmt.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Where the saved state is read from: the store's ops (list, load,
 * load_spec) and who holds each canary's control. */
struct source {
	const struct store_ops *ops;
	void *ctx;
	/* The canaries: ST_OK or an error (err, ERRMSG_MAX). */
	int (*list)(void *ctx, char ***names, size_t *n, char *err);
	/* ST_OK (holder filled), ST_NOTFOUND (nobody), or an error (err). */
	int (*holder)(void *ctx, const char *canary, char *holder, size_t holdersz, char *err);
	const char *dir;		/* the state directory, or NULL */
	const char *context, *ns;	/* the cluster's, when dir is NULL */
};

/* What one canary looks like to `perch status`. */
struct row {
	char canary[128];
	bool has_status;
	struct canary_status st;
	int threshold;			/* 0: unknown (no spec saved) */
	char holder[128];		/* "" = nobody holds control */
	char reason[256];		/* sanitized */
	char override[300];		/* a skipped or forced promotion, sanitized, "" */
	char last_failure[256];		/* sanitized */
	char when[32];			/* last transition, RFC 3339 or "-" */
	char error[ERRMSG_MAX];		/* "" or why the state cannot be read */
};

static void
fill_row(const struct source *src, const char *canary, struct row *r)
{
	struct canary_cfg *cfg = NULL;
	char err[ERRMSG_MAX] = "";
	time_t t;
	int st;

	memset(r, 0, sizeof *r);
	snprintf(r->canary, sizeof r->canary, "%s", canary);
	snprintf(r->when, sizeof r->when, "-");
	st = src->ops->load(src->ctx, canary, &r->st, err);
	if (st == ST_OK)
		r->has_status = true;
	else if (st != ST_NOTFOUND)
		snprintf(r->error, sizeof r->error, "%s", err);
	st = src->ops->load_spec(src->ctx, canary, &cfg, err);
	if (st == ST_OK)
		r->threshold = cfg->threshold;
	else if (st != ST_NOTFOUND && r->error[0] == '\0')
		snprintf(r->error, sizeof r->error, "%s", err);
	canary_cfg_free(cfg);
	st = src->holder(src->ctx, canary, r->holder, sizeof r->holder, err);
	if (st != ST_OK)
		r->holder[0] = '\0';
	if (st != ST_OK && st != ST_NOTFOUND && r->error[0] == '\0')
		snprintf(r->error, sizeof r->error, "%s", err);
	sanitize(r->reason, sizeof r->reason, r->st.reason, strnlen(r->st.reason, sizeof r->st.reason));
	sanitize(r->last_failure, sizeof r->last_failure, r->st.last_failure,
	    strnlen(r->st.last_failure, sizeof r->st.last_failure));
	if (r->has_status) {
		char text[300];

		override_text(&r->st, text, sizeof text);
		sanitize(r->override, sizeof r->override, text, strlen(text));
	}
	if (r->has_status && r->st.last_transition_ms > 0) {
		t = (time_t)(r->st.last_transition_ms / 1000);
		strftime(r->when, sizeof r->when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	}
}

static void
print_text(const struct row *rows, size_t n, const struct source *src)
{
	int wc = 6, wh = 7;
	size_t i;
	char failed[32], weight[FMT_MAX];

	if (n == 0) {
		/* From the command line or the kubeconfig. */
		char *shown = sanitize_dup(src->dir ? src->dir : src->ns, 512);
		char *ctx = sanitize_dup(src->dir ? "" : src->context, 512);

		if (src->dir != NULL)
			printf("no canaries with saved state in %s\n", shown);
		else if (src->ns == NULL)
			printf("no canaries with saved state in any namespace (context %s)\n", ctx);
		else
			printf("no canaries with saved state in namespace %s (context %s)\n", shown,
			    ctx);
		free(shown);
		free(ctx);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((int)strlen(rows[i].canary) > wc)
			wc = (int)strlen(rows[i].canary);
		if ((int)strlen(rows[i].holder) > wh)
			wh = (int)strlen(rows[i].holder);
	}
	printf("%-*s  %-16s  %6s  %6s  %4s  %-20s  %-*s  %s\n", wc, "CANARY", "PHASE", "WEIGHT",
	    "FAILED", "ITER", "LAST TRANSITION", wh, "CONTROL", "REASON");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];

		if (r->error[0] != '\0') {
			printf("%-*s  %-16s  %s\n", wc, r->canary, "unreadable", "see the error below");
			continue;
		}
		if (r->threshold > 0)
			snprintf(failed, sizeof failed, "%d/%d", r->st.failed_checks, r->threshold);
		else
			snprintf(failed, sizeof failed, "%d", r->st.failed_checks);
		fmt_weight(weight, sizeof weight, r->st.canary_weight);
		/* A skipped or forced promotion stays in sight (after the
		 * reason, when there is one). */
		printf("%-*s  %-16s  %6s  %6s  %4d  %-20s  %-*s  %s%s%s\n", wc, r->canary,
		    r->has_status ? phase_name(r->st.phase) : "(no status yet)",
		    weight, failed, r->st.iterations, r->when,
		    wh, r->holder[0] ? r->holder : "-",
		    r->reason[0] ? r->reason : r->override[0] ? "" : "-",
		    r->reason[0] && r->override[0] ? "; " : "", r->override);
	}
}

/* {"kind":"skipped","by":"alice@host","failedChecks":3,"threshold":5,
 * "time":"...","text":"promoted with analysis skipped by ..."}, or null. */
static json_t *
override_json(const struct row *r)
{
	char by[sizeof r->st.override_by], when[32] = "";
	time_t t = (time_t)(r->st.override_ms / 1000);
	json_t *o;

	if (!r->has_status || r->st.override == OVR_NONE)
		return json_null();
	sanitize(by, sizeof by, r->st.override_by, strnlen(r->st.override_by, sizeof by));
	if (r->st.override_ms > 0)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	o = json_object();
	json_object_set_new(o, "kind", json_string(override_name(r->st.override)));
	json_object_set_new(o, "by", json_string(by));
	json_object_set_new(o, "failedChecks", json_integer(r->st.override_failed));
	json_object_set_new(o, "threshold", json_integer(r->st.override_threshold));
	json_object_set_new(o, "time", when[0] ? json_string(when) : json_null());
	json_object_set_new(o, "text", json_string(r->override));
	return o;
}

static json_t *
row_json(const struct row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "canary", json_string(r->canary));
	if (r->error[0] != '\0') {
		json_object_set_new(o, "error", json_string(r->error));
		return o;
	}
	json_object_set_new(o, "phase", r->has_status ? json_string(phase_name(r->st.phase)) : json_null());
	json_object_set_new(o, "weight", json_integer(r->st.canary_weight));
	json_object_set_new(o, "failedChecks", json_integer(r->st.failed_checks));
	json_object_set_new(o, "threshold", r->threshold > 0 ? json_integer(r->threshold) : json_null());
	json_object_set_new(o, "iteration", json_integer(r->st.iterations));
	json_object_set_new(o, "paused", json_boolean(r->st.paused));
	json_object_set_new(o, "reason", json_string(r->reason));
	json_object_set_new(o, "lastFailure", r->last_failure[0] ? json_string(r->last_failure) :
	    json_null());
	json_object_set_new(o, "override", override_json(r));
	json_object_set_new(o, "heldBy", r->holder[0] ? json_string(r->holder) : json_null());
	json_object_set_new(o, "lastTransitionTime",
	    strcmp(r->when, "-") != 0 ? json_string(r->when) : json_null());
	return o;
}

static void
print_json(const struct row *rows, size_t n, const struct source *src)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	if (src->dir != NULL) {
		json_object_set_new(o, "stateDir", json_string(src->dir));
	} else {
		json_object_set_new(o, "context", json_string(src->context));
		json_object_set_new(o, "namespace", src->ns ? json_string(src->ns) : json_null());
	}
	for (i = 0; i < n; i++)
		json_array_append_new(a, row_json(&rows[i]));
	json_object_set_new(o, "canaries", a);
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

/* Reads every canary of src and prints them; returns the exit status. */
static int
show(const struct source *src, bool json)
{
	char err[ERRMSG_MAX] = "", **names = NULL;
	struct row *rows;
	size_t n = 0, i;
	int rc = EXIT_OK;

	if (src->list(src->ctx, &names, &n, err) != ST_OK) {
		cli_error("status", "%s", err);
		return EXIT_INFRA;
	}
	rows = xcalloc(n + 1, sizeof *rows);
	for (i = 0; i < n; i++) {
		fill_row(src, names[i], &rows[i]);
		if (rows[i].error[0] != '\0') {
			cli_error("status", "%s", rows[i].error);
			rc = EXIT_INFRA;
		} else if (rc == EXIT_OK && rows[i].has_status && rows[i].st.phase == PHASE_FAILED) {
			rc = EXIT_FAILED;
		}
		free(names[i]);
	}
	free(names);
	if (json)
		print_json(rows, n, src);
	else
		print_text(rows, n, src);
	free(rows);
	return rc;
}

/* ---- the state directory ------------------------------------------------ */

static int
dir_list(void *ctx, char ***names, size_t *n, char *err)
{
	(void)err;
	*n = store_dir_ops.list(ctx, names);
	return ST_OK;
}

/* Nobody holds it when the lock cannot be probed either. */
static int
dir_holder(void *ctx, const char *canary, char *holder, size_t holdersz, char *err)
{
	(void)err;
	return store_dir_holder(ctx, canary, holder, holdersz) == ST_OK ? ST_OK : ST_NOTFOUND;
}

static int
show_dir(const char *dir, bool json)
{
	struct source src = { .ops = &store_dir_ops, .list = dir_list, .holder = dir_holder,
		.dir = dir };
	char err[ERRMSG_MAX];
	struct store_dir *sd;
	int rc;

	sd = store_dir_open(dir, true, err, sizeof err);
	if (sd == NULL) {
		cli_error("status", "%s", err);
		return EXIT_INFRA;
	}
	src.ctx = sd;
	rc = show(&src, json);
	store_dir_close(sd);
	return rc;
}

/* ---- the cluster ---------------------------------------------------------- */

static int
cluster_list(void *ctx, char ***names, size_t *n, char *err)
{
	return store_k8s_list(ctx, names, n, err);
}

static int
cluster_holder(void *ctx, const char *canary, char *holder, size_t holdersz, char *err)
{
	return store_k8s_holder(ctx, canary, holder, holdersz, err);
}

/* ns NULL and all_ns: the canaries of every namespace (-A). */
static int
show_cluster(const char *kubeconfig, const char *context, const char *ns, bool all_ns, bool json)
{
	struct source src = { .ops = &store_k8s_ops, .list = cluster_list, .holder = cluster_holder };
	struct cluster_conn cc;
	struct store_k8s *sk;
	int rc;

	if ((rc = cluster_connect("status", kubeconfig, context, ns, true, &cc)) != EXIT_OK)
		return rc;
	sk = store_k8s_open(cc.client, true, 0);
	if (all_ns)
		store_k8s_all_namespaces(sk);
	src.ctx = sk;
	src.context = cc.cfg->context;
	src.ns = all_ns ? NULL : cc.cfg->ns;
	rc = show(&src, json);
	store_k8s_close(sk);
	cluster_disconnect(&cc);
	return rc;
}

struct status_opts {
	const char *dir;
	const char *kubeconfig, *context, *ns;	/* any set: read the cluster */
	bool all_ns;				/* -A: every namespace of the cluster */
	const char *output;
};

/* EXIT_OK, a usage error, or -1 for --help. */
static int
parse(int argc, char **argv, struct status_opts *o)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 0x200 },
		{ "kubeconfig", required_argument, NULL, 0x202 },
		{ "context", required_argument, NULL, 0x203 },
		{ "namespace", required_argument, NULL, 'n' },
		{ "all-namespaces", no_argument, NULL, 'A' },
		{ "output", required_argument, NULL, 'o' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, ":n:Ao:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 0x200: rc = cli_take_value("status", "--state-dir", CLI_VAL_DIR, optarg, &o->dir); break;
		case 0x202:
			rc = cli_take_value("status", "--kubeconfig", CLI_VAL_FILE, optarg, &o->kubeconfig);
			break;
		case 0x203: rc = cli_take_value("status", "--context", CLI_VAL_NAME, optarg, &o->context); break;
		case 'n': rc = cli_take_value("status", "-n", CLI_VAL_NAMESPACE, optarg, &o->ns); break;
		case 'A': o->all_ns = true; continue;
		case 'o': o->output = optarg; rc = EXIT_OK; break;
		default:
			switch (cli_common_option("status", c, optarg)) {
			case CLI_OPT_HANDLED: continue;
			case CLI_OPT_HELP: return -1;
			default: return cli_bad_option("status", c, argv);
			}
		}
		if (rc != EXIT_OK)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (strcmp(o->output, "text") != 0 && strcmp(o->output, "json") != 0)
		return cli_usage_error("status", "-o must be text or json, not '%s'", o->output);
	if (o->dir != NULL && (o->kubeconfig || o->context || o->ns || o->all_ns))
		return cli_usage_error("status", "--state-dir and the cluster options exclude each other");
	if (o->all_ns && o->ns != NULL)
		return cli_usage_error("status", "-n and -A exclude each other");
	return EXIT_OK;
}

int
cmd_status(int argc, char **argv)
{
	struct status_opts o = { .output = "text" };
	struct source none = { 0 };
	bool json;
	char *def = NULL;
	struct stat sb;
	int rc = parse(argc, argv, &o);

	if (rc == -1)
		return cli_command_help("status");
	if (rc != EXIT_OK)
		return rc;
	if ((rc = cli_apply_logging("status")) != EXIT_OK)
		return rc;
	json = strcmp(o.output, "json") == 0;
	if (o.kubeconfig || o.context || o.ns || o.all_ns)
		return show_cluster(o.kubeconfig, o.context, o.ns, o.all_ns, json);
	if (o.dir == NULL) {
		if ((def = store_dir_default_path()) == NULL) {
			cli_error("status", "no state directory: set HOME or use --state-dir");
			return EXIT_INFRA;
		}
		o.dir = def;
		if (stat(o.dir, &sb) != 0) {	/* nothing saved yet: not an error */
			none.dir = o.dir;
			if (json)
				print_json(NULL, 0, &none);
			else
				print_text(NULL, 0, &none);
			free(def);
			return EXIT_OK;
		}
	}
	rc = show_dir(o.dir, json);
	free(def);
	return rc;
}
