/*
 * cluster_conn.h — the cluster a command talks to: the kubeconfig resolved
 * from --kubeconfig, $KUBECONFIG (colon-separated, merged) or
 * ~/.kube/config with --context and -n (k8s/kubeconfig.h), and a REST
 * client on it (k8s/rest.h).  Shared by perch watch and perch status.
 *
 * Ownership: cluster_connect fills a struct cluster_conn whose config and
 * client cluster_disconnect frees; the strings are borrowed.  Main thread.
 */
#ifndef PERCH_APP_CLUSTER_CONN_H
#define PERCH_APP_CLUSTER_CONN_H

#include <stdbool.h>

#include "k8s/kubeconfig.h"
#include "k8s/rest.h"

struct cluster_conn {
	struct k8s_config *cfg;		/* cfg->context, cfg->ns, cfg->server */
	struct k8s_client *client;
};

/* kubeconfig, context, ns: as perch run (NULL = defaults).  A read-only
 * client sends only get, list and watch requests.  EXIT_OK, or EXIT_INFRA
 * with "perch CMD: why" on stderr (nothing to free then). */
int cluster_connect(const char *cmd, const char *kubeconfig, const char *context,
    const char *ns, bool read_only, struct cluster_conn *out);
void cluster_disconnect(struct cluster_conn *c);

#endif
