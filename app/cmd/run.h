/*
 * run.h — what `perch run` and `perch controller` share (app/cmd/run.c):
 * the options, and the run itself once they are parsed.  Main thread.
 */
#ifndef PERCH_APP_CMD_RUN_H
#define PERCH_APP_CMD_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct run_opts {
	const char *cmd;		/* "run" or "controller", for messages */
	const char **files;		/* -f, owned array of borrowed strings */
	int n_files;
	const char *kubeconfig, *context, *ns, *prometheus, *state_dir, *theme;
	unsigned confirm;
	bool headless;
	/* perch controller: never ends on its own, no canary given at the
	 * start (each Canary object is adopted as it is listed), the fair
	 * share of the Leases among replicas */
	bool controller;
	bool all_ns;			/* -A: every namespace */
	char **nss;			/* -n A,B: owned; NULL with all_ns */
	size_t n_nss;
	const char *identity;		/* --identity, or NULL */
	const char *metrics_addr;	/* --metrics-addr HOST:PORT, or NULL: none */
	const char *prometheus_service;	/* --prometheus-service NS/NAME:PORT, or NULL */
};

/* Runs with the parsed options (frees o->files and o->nss); the exit
 * status. */
int run_with(struct run_opts *o);

#endif
