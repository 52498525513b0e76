/* helper_apiserver.h — starts tests/k8s/apiserver.py for a unit test binary
 * (real HTTP on 127.0.0.1), posts fault settings to it, stops it.  The
 * server also gets SIGTERM when the test process dies, so a failed
 * assertion never leaves it running. */
#ifndef PERCH_TEST_HELPER_APISERVER_H
#define PERCH_TEST_HELPER_APISERVER_H

#include <stdbool.h>
#include <sys/types.h>

struct apiserver {
	pid_t pid;
	char dir[64];		/* temporary folder: kubeconfig, audit log, tls/ */
	char url[128];
	char kubeconfig[128];
	char audit[128];
	char objects[128];	/* every object written (--objects-log) */
	int port;
};

/* extra: more command-line arguments, NULL-terminated (may be NULL).
 * Returns 0, or -1 when python3 or the server is missing (the test fails). */
int  apiserver_start(struct apiserver *s, const char *const *extra);
/* Stops the server; then every object written to it is checked against its
 * kind's schema (tests/schema/check.mjs): a bad one ends the test binary
 * with status 1 after naming it. */
void apiserver_stop(struct apiserver *s);
/* POSTs body to PATH on the server (plain HTTP only); returns the HTTP status. */
int  apiserver_post(struct apiserver *s, const char *path, const char *body);
/* Lines of the audit log containing needle. */
int  apiserver_audit_count(struct apiserver *s, const char *needle);

#endif
