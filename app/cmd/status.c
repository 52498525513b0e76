/*
 * app/cmd/status.c — `perch status [--state-dir DIR] [-o text|json]`: the saved
 * state of every canary in a state directory, one line each (or JSON).
 *
 * Opens the store read-only: it never takes a lock or writes a byte, so it is
 * safe beside a running controller.  Exit status: 0, 1 when a canary is
 * Failed, 3 when some state cannot be read (the file is named on stderr).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cmd/cmd.h"
#include "store/dir.h"
#include "engine/command.h"
#include "util/fmt.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

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
fill_row(struct store_dir *sd, const char *canary, struct row *r)
{
	struct canary_cfg *cfg = NULL;
	char err[ERRMSG_MAX] = "";
	time_t t;
	int st;

	memset(r, 0, sizeof *r);
	snprintf(r->canary, sizeof r->canary, "%s", canary);
	snprintf(r->when, sizeof r->when, "-");
	st = store_dir_ops.load(sd, canary, &r->st, err);
	if (st == ST_OK)
		r->has_status = true;
	else if (st != ST_NOTFOUND)
		snprintf(r->error, sizeof r->error, "%s", err);
	st = store_dir_ops.load_spec(sd, canary, &cfg, err);
	if (st == ST_OK)
		r->threshold = cfg->threshold;
	else if (st != ST_NOTFOUND && r->error[0] == '\0')
		snprintf(r->error, sizeof r->error, "%s", err);
	canary_cfg_free(cfg);
	if (store_dir_holder(sd, canary, r->holder, sizeof r->holder) != ST_OK)
		r->holder[0] = '\0';
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
print_text(const struct row *rows, size_t n, const char *dir)
{
	int wc = 6, wh = 7;
	size_t i;
	char failed[32], weight[FMT_MAX];

	if (n == 0) {
		char *shown = sanitize_dup(dir, 512);	/* from the command line */

		printf("no canaries with saved state in %s\n", shown);
		free(shown);
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
print_json(const struct row *rows, size_t n, const char *dir)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(o, "stateDir", json_string(dir));
	for (i = 0; i < n; i++)
		json_array_append_new(a, row_json(&rows[i]));
	json_object_set_new(o, "canaries", a);
	json_dumpf(o, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(o);
}

/* Reads every canary of dir and prints them; returns the exit status. */
static int
show(const char *dir, bool json)
{
	struct store_dir *sd;
	char err[ERRMSG_MAX], **names = NULL;
	struct row *rows;
	size_t n, i;
	int rc = EXIT_OK;

	sd = store_dir_open(dir, true, err, sizeof err);
	if (sd == NULL) {
		cli_error("status", "%s", err);
		return EXIT_INFRA;
	}
	n = store_dir_ops.list(sd, &names);
	rows = xcalloc(n + 1, sizeof *rows);
	for (i = 0; i < n; i++) {
		fill_row(sd, names[i], &rows[i]);
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
		print_json(rows, n, dir);
	else
		print_text(rows, n, dir);
	free(rows);
	store_dir_close(sd);
	return rc;
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 0x200 },
		{ "output", required_argument, NULL, 'o' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = NULL, *output = "text";
	char *def = NULL;
	struct stat sb;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":o:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 0x200:
			if ((rc = cli_take_value("status", "--state-dir", CLI_VAL_DIR, optarg, &dir)) != EXIT_OK)
				return rc;
			continue;
		case 'o': output = optarg; continue;
		default: break;
		}
		switch (cli_common_option("status", c, optarg)) {
		case CLI_OPT_HANDLED: break;
		case CLI_OPT_HELP: return cli_command_help("status");
		default: return cli_bad_option("status", c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error("status", "unexpected argument '%s'", argv[optind]);
	if (strcmp(output, "text") != 0 && strcmp(output, "json") != 0)
		return cli_usage_error("status", "-o must be text or json, not '%s'", output);
	if ((rc = cli_apply_logging("status")) != EXIT_OK)
		return rc;
	if (dir == NULL) {
		if ((def = store_dir_default_path()) == NULL) {
			cli_error("status", "no state directory: set HOME or use --state-dir");
			return EXIT_INFRA;
		}
		dir = def;
		if (stat(dir, &sb) != 0) {	/* nothing saved yet: not an error */
			if (strcmp(output, "json") == 0)
				print_json(NULL, 0, dir);
			else
				print_text(NULL, 0, dir);
			free(def);
			return EXIT_OK;
		}
	}
	rc = show(dir, strcmp(output, "json") == 0);
	free(def);
	return rc;
}
