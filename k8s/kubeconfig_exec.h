/*
 * kubeconfig_exec.h — running an exec credential plugin (internal to k8s/).
 *
 * k8s_exec_credential() runs the plugin with its args and env (plus
 * KUBERNETES_EXEC_INFO), reads its ExecCredential from stdout (capped, with
 * a timeout) and hands back newly allocated secrets: a token, or a client
 * certificate and key.  expiry is 0 when the credential does not expire.
 * Messages never contain the plugin's output.  Any thread; no shared state.
 */
#ifndef PERCH_K8S_KUBECONFIG_EXEC_H
#define PERCH_K8S_KUBECONFIG_EXEC_H

#include <stddef.h>
#include <time.h>

#include "k8s/kubeconfig.h"
#include "util/buf.h"

#define EXEC_TIMEOUT_MS 30000
#define EXEC_MAX_OUTPUT (1u << 20)

int k8s_exec_credential(const struct kc_exec *x, time_t now, char **token, char **cert,
    size_t *cert_len, char **key, size_t *key_len, time_t *expiry, struct buf *err);

/* Parses an ExecCredential JSON document (the plugin's output). */
int k8s_exec_parse(const char *api_version, const char *json, size_t len, char **token,
    char **cert, size_t *cert_len, char **key, size_t *key_len, time_t *expiry,
    struct buf *err);

#endif
