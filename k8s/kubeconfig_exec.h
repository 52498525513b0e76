/*
 * kubeconfig_exec.h — running an exec credential plugin (internal to k8s/).
 *
 * k8s_exec_credential() runs the plugin with its args and env (plus
 * KUBERNETES_EXEC_INFO) in a process group of its own, reads its
 * ExecCredential from stdout (capped, with a timeout after which the whole
 * group is killed) and hands back newly allocated secrets: a token, or a
 * client certificate and key.  expiry is 0 when the credential does not
 * expire.  Messages name the command and the cause (not found, the exit
 * status and the first line of its stderr, the timeout) and never contain
 * its stdout.  Any thread; a running plugin's group is registered with
 * util/sigwatch, which ends it when perch is told to stop.
 */
#ifndef PERCH_K8S_KUBECONFIG_EXEC_H
#define PERCH_K8S_KUBECONFIG_EXEC_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

/* An exec credential plugin (users[].user.exec), as the kubeconfig names
 * it (k8s/kubeconfig.c builds it). */
struct kc_exec {
	char  *api_version;	/* client.authentication.k8s.io/v1 or v1beta1 */
	char **argv;		/* argv[0] = command (resolved); NULL-terminated */
	char **env;		/* "NAME=value" added to the environment; NULL-terminated */
};

#define EXEC_TIMEOUT_MS 30000		/* default; $PERCH_EXEC_TIMEOUT (seconds) */
#define EXEC_MAX_OUTPUT (1u << 20)
#define EXEC_SLICE_MS 200		/* how soon a signal ends the wait */
#define EXEC_FAIL_HOLD_S 5		/* a failure is answered again this long */

/* How long a plugin may run: $PERCH_EXEC_TIMEOUT seconds (a positive
 * number up to 3600), else EXEC_TIMEOUT_MS. */
long k8s_exec_timeout_ms(void);

int k8s_exec_credential(const struct kc_exec *x, time_t now, char **token, char **cert,
    size_t *cert_len, char **key, size_t *key_len, time_t *expiry, struct buf *err);

/* Parses an ExecCredential JSON document (the plugin's output). */
int k8s_exec_parse(const char *api_version, const char *json, size_t len, char **token,
    char **cert, size_t *cert_len, char **key, size_t *key_len, time_t *expiry,
    struct buf *err);

#endif
