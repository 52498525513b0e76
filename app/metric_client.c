/*
 * metric_client.c — the metric backends and Prometheus options of perch
 * check and perch replay (metric_client.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/canary_load.h"
#include "app/cli.h"
#include "app/cli_value.h"
#include "app/metric_client.h"
#include "metrics/prom.h"
#include "util/sanitize.h"
#include "util/status.h"

int
metric_client_option(const char *cmd, int c, const char *arg, struct metric_client_opts *o)
{
	switch (c) {
	case 0x3a0:
		return cli_take_value(cmd, "--prometheus-token-file", CLI_VAL_FILE, arg,
		    &o->token_file);
	case 0x3a1:
		o->insecure = true;
		return EXIT_OK;
	case 0x3a2:
		return cli_take_value(cmd, "--ca-file", CLI_VAL_FILE, arg, &o->ca_file);
	default:
		return -1;
	}
}

bool
metric_client_given(const struct metric_client_opts *o)
{
	return o->token_file != NULL || o->ca_file != NULL || o->insecure;
}

/* --ca-file names a non-empty regular file perch can read, checked at
 * once, whatever the scheme of --prometheus. */
int
metric_client_check(const char *cmd, const struct metric_client_opts *o)
{
	struct stat st;
	FILE *f;
	int ok;

	if (o->ca_file != NULL && o->insecure)
		return cli_usage_error(cmd, "--ca-file and --insecure-skip-tls-verify "
		    "contradict each other: give one");
	if (o->ca_file == NULL)
		return EXIT_OK;
	if ((f = fopen(o->ca_file, "r")) == NULL)
		return cli_usage_error(cmd, "--ca-file: cannot read %s: %s", o->ca_file,
		    strerror(errno));
	ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	fclose(f);
	if (!ok)
		return cli_usage_error(cmd, "--ca-file: %s is not a file of PEM "
		    "certificates (a directory, or empty)", o->ca_file);
	return EXIT_OK;
}

int
metric_client_token(const char *cmd, const struct metric_client_opts *o, char *tok,
    size_t toksz)
{
	char err[512];

	tok[0] = '\0';
	if (o->token_file != NULL &&
	    prom_read_token_file(o->token_file, tok, toksz, err, sizeof err) != ST_OK)
		return cli_usage_error(cmd, "--prometheus-token-file: %s", err);
	return EXIT_OK;
}

const char *
metric_client_needs_prometheus(const struct spec_set *set)
{
	const struct spec_metric_template *t;
	size_t i, j;

	for (i = 0; i < spec_set_n_canaries(set); i++) {
		const struct spec_canary *c = spec_set_canary(set, i);

		for (j = 0; j < c->analysis.n_metrics; j++) {
			t = spec_find_template(set, c, &c->analysis.metrics[j]);
			if (!c->analysis.metrics[j].template_ref.set || (t != NULL &&
			    metric_type_find(t->provider_type) == MT_DEFAULT))
				return c->analysis.metrics[j].name != NULL ?
				    c->analysis.metrics[j].name : "?";
		}
	}
	return NULL;
}

void
metric_client_default_server(struct canary_cfg *cfg)
{
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->n_metrics; i++) {
		if (metric_type_find(cfg->metrics[i].provider) != MT_DEFAULT)
			continue;
		free(cfg->metrics[i].server);
		cfg->metrics[i].server = NULL;
		free(cfg->metrics[i].block);	/* nor the template's block */
		cfg->metrics[i].block = NULL;
	}
}

/* An error from the cluster or the files, sanitised: it may quote what a
 * server answered. */
static void
print_error(const char *cmd, const char *err)
{
	char *clean = sanitize_dup(err, ERRMSG_MAX);

	cli_error(cmd, "%s", clean);
	free(clean);
}

/* The secret values of --prometheus-token-file for the default backend:
 * its key "token". */
static void
token_secret(const char *token, const char **values, size_t n)
{
	const char *const *keys = metric_backend_find(NULL)->secret_keys;
	size_t i;

	for (i = 0; i < n; i++)
		values[i] = NULL;
	for (i = 0; keys != NULL && keys[i] != NULL && i < n; i++)
		if (strcmp(keys[i], "token") == 0)
			values[i] = token;
}

/* The servers of the templates of the other types than the default,
 * without credentials (those of a secretRef come from the cluster: off
 * it, a template of another type with one is told so). */
static void
register_templates(const char *cmd, bool cluster, const struct spec_set *set,
    struct metric_backends *b)
{
	const struct spec_metric_template *t;
	char *name;
	size_t i, j;

	for (i = 0; i < spec_set_n_canaries(set); i++) {
		const struct spec_canary *c = spec_set_canary(set, i);

		canary_register_servers(set, c, b);
		for (j = 0; j < c->analysis.n_metrics && !cluster; j++) {
			t = spec_find_template(set, c, &c->analysis.metrics[j]);
			if (t == NULL || t->secret_ref == NULL ||
			    metric_type_find(t->provider_type) == MT_DEFAULT)
				continue;
			name = sanitize_dup(t->meta.name != NULL ? t->meta.name : "?", 128);
			cli_error(cmd, "warning: MetricTemplate %s: its secretRef is read from the "
			    "cluster: give -n or --kubeconfig", name);
			free(name);
		}
	}
}

struct metric_backends *
metric_client_new(const char *cmd, const struct metric_client_opts *o, int timeout_ms,
    const char *token, struct check_cluster *cc, const struct spec_set *set, int *rc)
{
	char err[ERRMSG_MAX];
	const struct metric_backend_opts bo = {
		.timeout_ms = timeout_ms, .kube = cc != NULL ? &cc->kube : NULL,
	};
	const char *secret[8];
	struct metric_provider sc = {
		.address = o->prometheus,
		.secret = token[0] != '\0' ? secret : NULL,
		.ca_file = o->ca_file,
		.insecure = o->insecure,
	};
	struct metric_backends *b = metric_backends_new(&bo);

	if (metric_backends_unusable(b, NULL) != NULL) {	/* no libcurl: say so once, not per metric */
		print_error(cmd, metric_backends_unusable(b, NULL));
		*rc = EXIT_INFRA;
		return b;
	}
	token_secret(token, secret, sizeof secret / sizeof secret[0]);
	if (o->prometheus != NULL)
		metric_backends_add(b, NULL, &sc, err, sizeof err);
	sc.secret = NULL;
	register_templates(cmd, cc != NULL, set, b);
	/* Without --prometheus-token-file, a template's secretRef signs in;
	 * the templates of the other types always sign in with theirs. */
	if (cc != NULL && check_cluster_creds(cc, set, b, token[0] == '\0' &&
	    o->prometheus != NULL ? &sc : NULL, err, sizeof err) != ST_OK) {
		print_error(cmd, err);
		*rc = EXIT_FAILED;
	}
	return b;
}
