/*
 * watch.c — `perch watch --kubeconfig/--context/-n`: the runner as an
 * observer over a read-only cluster store, with the read-only front end.
 */
#include "app/watch.h"

#include <stdio.h>
#include <stdlib.h>

#include "app/cli.h"
#include "app/clock.h"
#include "store/k8s.h"
#include "engine/runner.h"
#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "util/buf.h"
#include "util/identity.h"
#include "util/log.h"
#include "util/status.h"

int
watch_cluster(const char *kubeconfig, const char *context, const char *ns, const char *theme)
{
	struct kubeconfig_opts ko = { .path = kubeconfig, .env = getenv("KUBECONFIG"),
		.home = getenv("HOME"), .context = context, .ns = ns };
	struct k8s_client_opts co = { .read_only = true };
	struct k8s_config *cfg = NULL;
	struct k8s_client *client = NULL;
	struct store_k8s *store;
	struct perch_clock *clock;
	char header[200], actor[IDENTITY_MAX];
	struct buf e;
	int rc;

	buf_init(&e, 1024);
	rc = k8s_config_load(&ko, &cfg, &e);
	if (rc == ST_OK)
		rc = k8s_client_new(cfg, &co, &client, &e);
	if (rc != ST_OK) {
		cli_error("watch", "%s", buf_str(&e));
		buf_fini(&e);
		k8s_config_free(cfg);
		return EXIT_INFRA;
	}
	buf_fini(&e);
	cli_progress("watch", "connecting to %s (context %s)", cfg->server, cfg->context);
	snprintf(header, sizeof header, "watch %s/%s", cfg->context, cfg->ns);
	store = store_k8s_open(client, true, 0);
	if (store_k8s_watch(store) != ST_OK)
		log_warn("watch: cannot watch the perch ConfigMaps of %s; reading them instead", cfg->ns);
	clock = clock_new(CLOCK_KIND_REAL, 0, 1);
	rc = watch_observe(&(struct runner_config){
		.store = &store_k8s_ops, .store_ctx = store,
		.heartbeat = &store_k8s_heartbeat_ops, .heartbeat_ctx = store,
		.clock = &perch_clock_ops, .clock_ctx = clock,
		.actor = identity_get(actor, sizeof actor), .context = header, .ns = cfg->ns,
	}, header, theme);
	clock_free(clock);
	store_k8s_close(store);
	k8s_client_free(client);
	k8s_config_free(cfg);
	return rc;
}
