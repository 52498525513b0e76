/*
 * app/cmd/validate.c — `perch validate [--strict] [-o text|json] FILE...`: loads
 * every file (`-` is standard input) into one spec set (a Canary finds MetricTemplates of the other
 * files), validates it like Flagger, runs the lints and prints every
 * finding, compiler style or as JSON.  Exit 0 when valid (warnings
 * allowed), 1 on any error, 2 on usage errors.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli.h"
#include "app/cli_value.h"
#include "app/cmd/cmd.h"
#include "metrics/backend.h"
#include "metrics/render.h"
#include "spec/spec.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"

/* `-` is standard input (kubectl get canary -o yaml | perch validate -). */
static void
load_stdin(struct spec_set *set, struct diag_list *dl)
{
	struct buf b;
	char chunk[65536];
	size_t n;

	buf_init(&b, SPEC_MAX_FILE_BYTES);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (buf_append(&b, chunk, n) != ST_OK) {
			diag_list_file(dl, "<stdin>");
			diag_add(dl, DIAG_ERROR, "<stdin>", 0, 0, "", NULL,
			    "file too large (more than %u MiB)", SPEC_MAX_FILE_BYTES >> 20);
			buf_fini(&b);
			return;
		}
	spec_load_buffer(set, "<stdin>", buf_str(&b), b.len, dl);
	buf_fini(&b);
}

/* Renders every MetricTemplate query a valid canary uses, with perch's own
 * renderer (metrics/render.h), so that validate finds the templates
 * `perch run` could not evaluate.  A missing templateVariables key is
 * already an error of the spec checks. */
static void
check_render(const struct spec_set *set, const struct spec_canary *c,
    const struct spec_metric *m, struct diag_list *dl)
{
	const struct spec_metric_template *t = spec_find_template(set, c, m);
	const char *queries[2];
	struct kv vars[64];
	struct render_ctx ctx;
	struct spec_pos pos;
	char err[256], *out;
	size_t i, k;
	int st;

	if (t == NULL || t->query == NULL)
		return;
	memset(&ctx, 0, sizeof ctx);
	ctx.name = c->meta.name;
	ctx.ns = c->meta.ns;
	ctx.target = c->target_ref.name;
	ctx.service = c->apex;
	ctx.ingress = c->ingress_ref.name != NULL ? c->ingress_ref.name : c->target_ref.name;
	ctx.route = c->route_ref.name != NULL ? c->route_ref.name : c->target_ref.name;
	ctx.interval = m->interval != NULL ? m->interval : "";
	for (i = 0; i < m->n_template_variables && i < 64; i++) {
		vars[i].key = m->template_variables[i].key;
		vars[i].value = m->template_variables[i].value;
	}
	ctx.vars = vars;
	ctx.n_vars = i;
	queries[0] = t->query;
	queries[1] = t->volume_query;
	for (i = 0; i < 2; i++) {
		if (queries[i] == NULL)
			continue;
		st = render_template(queries[i], &ctx, &out, err, sizeof err);
		free(out);
		if (st == ST_OK || (st == ST_NOTFOUND && strstr(err, "templateVariables") != NULL))
			continue;
		pos = spec_field_pos(&t->meta, i == 0 ? "spec.query" : "metadata.annotations");
		for (k = 0; i == 1 && k < t->meta.n_annotations; k++)
			if (strcmp(t->meta.annotations[k].key, "perch.dev/volume-query") == 0)
				pos = t->meta.annotations[k].pos;
		diag_add(dl, DIAG_WARNING, pos.file, pos.line, pos.col,
		    i == 0 ? "spec.query" : "metadata.annotations.perch.dev/volume-query", NULL,
		    "MetricTemplate %s/%s: perch cannot render the %s for canary %s/%s: %s",
		    t->meta.ns, t->meta.name, i == 0 ? "query" : "volume query",
		    c->meta.ns, c->meta.name != NULL ? c->meta.name : "?", err);
	}
}

static void
check_renders(const struct spec_set *set, struct diag_list *dl)
{
	const struct spec_canary *c;
	size_t i, j;

	for (i = 0; i < spec_set_n_canaries(set); i++) {
		c = spec_set_canary(set, i);
		if (!c->meta.valid)
			continue;
		for (j = 0; j < c->analysis.n_metrics; j++)
			check_render(set, c, &c->analysis.metrics[j], dl);
	}
}

/* A template whose backend reads its credentials from a secretRef it
 * does not have (the keys come from the backend's ops table). */
static void
check_secret_refs(const struct spec_set *set, struct diag_list *dl)
{
	const struct spec_metric_template *t;
	const struct metric_backend_ops *ops;
	struct spec_pos pos;
	char keys[256];
	size_t i, k, len;

	for (i = 0; i < spec_set_n_templates(set); i++) {
		t = spec_set_template(set, i);
		if (!t->meta.valid || t->secret_ref != NULL || t->provider_type == NULL ||
		    (ops = metric_backend_find(t->provider_type)) == NULL || !ops->secret_required)
			continue;
		keys[0] = '\0';
		for (k = 0, len = 0; ops->secret_keys[k] != NULL && len < sizeof keys; k++)
			len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", k > 0 ? ", " : "",
			    ops->secret_keys[k]);
		pos = spec_field_pos(&t->meta, "spec.provider");
		diag_add(dl, DIAG_ERROR, pos.file, pos.line, pos.col, "spec.provider.secretRef", NULL,
		    "MetricTemplate %s/%s: provider type %s needs spec.provider.secretRef, a Secret "
		    "with the keys %s", t->meta.ns, t->meta.name, t->provider_type, keys);
	}
}

static void
list_lints(void)
{
	int i;

	for (i = 0; i < SPEC_LINT__COUNT; i++)
		printf("%-26s %s\n", spec_lint_name((enum spec_lint)i),
		    spec_lint_summary((enum spec_lint)i));
}

static json_t *
finding_json(const struct diag *d)
{
	char *file = sanitize_dup(d->file, 4096), *msg = sanitize_dup(d->message, 4096);
	char *field = sanitize_dup(d->field, 512);
	json_t *o = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s?, s:s}",
	    "file", file, "line", d->line, "column", d->col,
	    "severity", diag_severity_name(d->severity), "field", field,
	    "lint", d->lint, "message", msg);

	free(file);
	free(msg);
	free(field);
	return o;
}

static void
print_json(const struct diag_list *dl)
{
	json_t *arr = json_array();
	char *s;
	size_t i;

	for (i = 0; i < dl->n; i++)
		json_array_append_new(arr, finding_json(&dl->items[i]));
	s = json_dumps(arr, JSON_INDENT(2));
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(arr);
}

static void
print_text(const struct diag_list *dl, const struct spec_set *set, int nfiles)
{
	size_t i, nc = spec_set_n_canaries(set), nt = spec_set_n_templates(set);
	size_t na = spec_set_n_alert_providers(set);

	for (i = 0; i < dl->n; i++)
		diag_print(stdout, &dl->items[i]);
	printf("%d file%s: %zu Canar%s, %zu MetricTemplate%s, %zu AlertProvider%s; "
	    "%zu error%s, %zu warning%s\n", nfiles, nfiles == 1 ? "" : "s",
	    nc, nc == 1 ? "y" : "ies", nt, nt == 1 ? "" : "s", na, na == 1 ? "" : "s",
	    dl->n_errors, dl->n_errors == 1 ? "" : "s",
	    dl->n_warnings, dl->n_warnings == 1 ? "" : "s");
}

int
cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "strict", no_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "list-lints", no_argument, NULL, 'L' },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct diag_list dl;
	struct spec_set *set;
	bool strict = false, json = false;
	int c, i, rc, n_stdin;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:" CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			strict = true;
			continue;
		case 'L':
			list_lints();
			return EXIT_OK;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = true;
			else if (strcmp(optarg, "text") != 0)
				return cli_usage_error("validate", "unknown output format '%s' "
				    "(text or json)", optarg);
			continue;
		default:
			break;
		}
		switch (cli_common_option("validate", c, optarg)) {
		case CLI_OPT_HANDLED:
			break;
		case CLI_OPT_HELP:
			return cli_command_help("validate");
		default:
			return cli_bad_option("validate", c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("validate", "no file given");
	for (i = optind, n_stdin = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 && ++n_stdin > 1)
			return cli_usage_error("validate", "standard input (-) given twice");
		if (argv[i][0] == '\0')
			return cli_usage_error("validate", "an empty FILE name: give a file, or - for "
			    "standard input");
	}
	if ((rc = cli_apply_logging("validate")) != EXIT_OK)
		return rc;

	diag_list_init(&dl, strict);
	set = spec_set_new();
	for (i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			load_stdin(set, &dl);
		else
			spec_load_file(set, argv[i], &dl);
	}
	spec_validate(set, &dl);
	spec_check_drivable(set, &dl);
	check_renders(set, &dl);
	check_secret_refs(set, &dl);
	diag_list_sort(&dl);
	if (json)
		print_json(&dl);
	else
		print_text(&dl, set, argc - optind);
	rc = dl.n_errors > 0 ? EXIT_FAILED : EXIT_OK;
	spec_set_free(set);
	diag_list_fini(&dl);
	return rc;
}
