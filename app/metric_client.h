/*
 * metric_client.h — the metric backends of the commands that query them
 * from the command line (`perch check`, `perch replay --from/--to`): the
 * Prometheus options they share (--prometheus, --prometheus-token-file,
 * --ca-file, --insecure-skip-tls-verify), parsed and checked the same way,
 * and the set of backends made from them and from the files' templates
 * (their own servers; with the cluster options, their secretRef
 * credentials: app/check_cluster.h).
 *
 * Every query of the default backend (Prometheus: built-in metrics and
 * templates of type prometheus) goes to --prometheus, whatever address a
 * template names; a template of another type keeps its own server.
 *
 * Ownership: the options borrow argv; metric_client_new returns a set the
 * caller frees (metric_backends_free).  Main thread, before any query.
 * The token is never printed or logged.
 */
#ifndef PERCH_APP_METRIC_CLIENT_H
#define PERCH_APP_METRIC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/check_cluster.h"
#include "engine/canary.h"
#include "metrics/backend.h"
#include "spec/spec.h"

#define METRIC_CLIENT_TOKEN_MAX 16384

struct metric_client_opts {
	const char *prometheus;		/* --prometheus URL, or NULL */
	const char *token_file;		/* --prometheus-token-file */
	const char *ca_file;		/* --ca-file */
	bool insecure;			/* --insecure-skip-tls-verify */
};

/* The long options of struct metric_client_opts but --prometheus (whose
 * short code each command picks), for a getopt_long table. */
#define METRIC_CLIENT_LONGOPTS \
	{ "prometheus-token-file", required_argument, NULL, 0x3a0 }, \
	{ "insecure-skip-tls-verify", no_argument, NULL, 0x3a1 }, \
	{ "ca-file", required_argument, NULL, 0x3a2 }

/* Takes getopt_long's c (one of METRIC_CLIENT_LONGOPTS) with arg into o:
 * EXIT_OK, a usage error of cmd, or -1 when c is none of them. */
int metric_client_option(const char *cmd, int c, const char *arg, struct metric_client_opts *o);

/* Whether any of the TLS and token options was given. */
bool metric_client_given(const struct metric_client_opts *o);

/* After parsing: --ca-file and --insecure-skip-tls-verify contradict each
 * other, and --ca-file names a non-empty regular file.  EXIT_OK or a
 * usage error of cmd. */
int metric_client_check(const char *cmd, const struct metric_client_opts *o);

/* Reads --prometheus-token-file into tok ("" without one): EXIT_OK or a
 * usage error of cmd (never quoting the token). */
int metric_client_token(const char *cmd, const struct metric_client_opts *o, char *tok,
    size_t toksz);

/* The name of a metric of set's Canaries that asks the default backend (a
 * built-in metric, a template of the default type), which needs
 * --prometheus; NULL when none does. */
const char *metric_client_needs_prometheus(const struct spec_set *set);

/* Sends cfg's queries of the default backend to --prometheus: their
 * template's address and block are dropped. */
void metric_client_default_server(struct canary_cfg *cfg);

/* The backends of set's Canaries for cmd: --prometheus (with the token,
 * the CA file or insecure) the default backend's server, the templates'
 * servers, and with a cluster (cc, else NULL) the secretRef credentials
 * (without a token, the first Prometheus template's sign in to
 * --prometheus).  *rc EXIT_INFRA when the backends cannot query (no
 * libcurl), EXIT_FAILED when a Secret cannot be used (said on stderr). */
struct metric_backends *metric_client_new(const char *cmd, const struct metric_client_opts *o,
    int timeout_ms, const char *token, struct check_cluster *cc, const struct spec_set *set,
    int *rc);

#endif
