/*
 * watch_flagger.c — the Flagger canaries of perch watch (watch_flagger.h).
 */
#include "app/watch_flagger.h"

#include <stdlib.h>
#include <time.h>

#include "app/canary_load.h"
#include "app/cluster_specs.h"
#include "app/metric_creds.h"
#include "spec/diag.h"
#include "spec/spec.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

/* What add_driven needs to register a Canary's metric servers. */
struct watch_flagger_metrics {
	struct metric_backends *mb;
	const struct spec_set *set;
	const struct spec_canary *sc;
};

/* The servers (and secretRef credentials) of sc's MetricTemplates, for
 * the graphs of a driven canary; an error is logged, its metrics then
 * show it. */
static void
register_metrics(struct k8s_client *c, const struct spec_set *set, const struct spec_canary *sc,
    struct metric_backends *mb)
{
	char err[ERRMSG_MAX];

	if (mb == NULL)
		return;
	canary_register_servers(set, sc, mb);
	if (metric_creds_register(c, set, sc, mb, err, sizeof err) != ST_OK)
		log_warn("watch: %s", err);
}

/* cfg into r when Flagger drives it (cfg taken either way). */
static bool
add_driven(struct k8s_client *c, struct k8s_cluster *k, struct runner *r, struct canary_cfg *cfg,
    const struct watch_flagger_metrics *wm)
{
	char who[240];

	if (!k8s_flagger_driver(c, cfg, (long)time(NULL), who, sizeof who)) {
		canary_cfg_free(cfg);	/* perch's own: shown from its ConfigMap */
		return false;
	}
	cfg->driven_by = xstrdup(who);
	if (wm != NULL)
		register_metrics(c, wm->set, wm->sc, wm->mb);
	if (k8s_cluster_watch_flagger(k, cfg->ns) != ST_OK)
		log_warn("watch: cannot watch the Canaries and Events of %s; reading them from the "
		    "API server", cfg->ns);
	runner_add(r, cfg);
	return true;
}

size_t
watch_flagger_add(struct k8s_client *c, struct k8s_cluster *k, const char *ns, struct runner *r,
    struct metric_backends *mb)
{
	struct spec_set *set = spec_set_new();
	struct canary_cfg *cfg;
	struct diag_list dl;
	char err[ERRMSG_MAX + 200];
	size_t i, n = 0;

	diag_list_init(&dl, false);
	if (cluster_specs_load(c, ns, set, false, &dl, NULL, err, sizeof err) != ST_OK) {
		log_warn("watch: %s; Flagger's canaries are not shown", err);
	} else {
		spec_validate(set, &dl);
		for (i = 0; i < spec_set_n_canaries(set); i++) {
			if (canary_load(set, spec_set_canary(set, i), AIM_CANARY, &cfg, err,
			    sizeof err) != ST_OK)
				log_warn("watch: %s; not shown", err);
			else if (add_driven(c, k, r, cfg, &(struct watch_flagger_metrics){ mb, set,
			    spec_set_canary(set, i) }))
				n++;
		}
	}
	diag_list_fini(&dl);
	spec_set_free(set);
	return n;
}
