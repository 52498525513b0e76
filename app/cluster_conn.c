/*
 * cluster_conn.c — the kubeconfig and a REST client for a command (see
 * cluster_conn.h).
 */
#include <stdlib.h>
#include <string.h>

#include "app/cli_msg.h"
#include "app/cluster_conn.h"
#include "util/buf.h"
#include "util/status.h"

int
cluster_connect(const char *cmd, const char *kubeconfig, const char *context, const char *ns,
    bool read_only, struct cluster_conn *out)
{
	struct kubeconfig_opts ko = { .path = kubeconfig, .env = getenv("KUBECONFIG"),
		.home = getenv("HOME"), .context = context, .ns = ns };
	struct k8s_client_opts co = { .read_only = read_only };
	struct buf e;
	int rc;

	memset(out, 0, sizeof *out);
	buf_init(&e, 1024);
	rc = k8s_config_load(&ko, &out->cfg, &e);
	if (rc == ST_OK)
		rc = k8s_client_new(out->cfg, &co, &out->client, &e);
	if (rc != ST_OK) {
		cli_error(cmd, "%s", buf_str(&e));
		buf_fini(&e);
		k8s_config_free(out->cfg);
		out->cfg = NULL;
		return EXIT_INFRA;
	}
	buf_fini(&e);
	return EXIT_OK;
}

void
cluster_disconnect(struct cluster_conn *c)
{
	k8s_client_free(c->client);
	k8s_config_free(c->cfg);
	c->client = NULL;
	c->cfg = NULL;
}
