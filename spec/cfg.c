/*
 * cfg.c — a validated spec_canary as the engine's struct canary_cfg
 * (engine/canary.h): the hand-over from spec/ to the runner.  Every string
 * is copied, so the result outlives the set.
 */
#include <stdlib.h>
#include <string.h>

#include "spec/internal.h"
#include "util/xalloc.h"

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
copy_metric(const struct spec_set *set, const struct spec_canary *c,
    const struct spec_metric *m, struct metric_cfg *out)
{
	const struct spec_metric_template *t = spec_find_template(set, c, m);

	out->name = dup_or_null(m->name);
	out->kind = m->kind;
	out->interval = dup_or_null(m->interval);
	out->interval_s = m->interval_s;
	out->has_min = m->has_min;
	out->has_max = m->has_max;
	out->min = m->min;
	out->max = m->max;
	if (m->has_threshold && !m->has_max && !m->has_min) {
		/* the deprecated threshold is an upper bound for custom metrics
		 * and a lower one for the success rate */
		if (m->kind == METRIC_SUCCESS_RATE) {
			out->has_min = true;
			out->min = m->threshold;
		} else {
			out->has_max = true;
			out->max = m->threshold;
		}
	}
	if (m->template_ref.set && m->template_ref.name != NULL)
		out->template_ref = xasprintf("%s/%s", m->template_ref.ns != NULL ?
		    m->template_ref.ns : c->meta.ns, m->template_ref.name);
	if (m->query != NULL && !m->template_ref.set)
		out->query = xstrdup(m->query);	/* Flagger sends inline queries as written */
	if (t != NULL && t->address != NULL)
		out->server = xstrdup(t->address);
	else if (t == NULL && c->metrics_server != NULL)
		out->server = xstrdup(c->metrics_server);
}

static void
copy_hook(const struct spec_webhook *w, struct hook_cfg *out)
{
	size_t i;

	out->name = dup_or_null(w->name);
	out->url = dup_or_null(w->url);
	out->type = w->type;
	out->timeout_ms = w->timeout_ms;
	out->retries = w->retries;
	out->mute_alert = w->mute_alert;
	out->disable_tls = w->disable_tls;
	out->n_metadata = w->n_metadata;
	out->metadata = xcalloc(w->n_metadata + 1, sizeof *out->metadata);
	for (i = 0; i < w->n_metadata; i++) {
		out->metadata[i].key = xstrdup(w->metadata[i].key);
		out->metadata[i].value = xstrdup(w->metadata[i].value);
	}
}

struct canary_cfg *
spec_canary_to_cfg(const struct spec_set *set, const struct spec_canary *c)
{
	const struct spec_analysis *a = &c->analysis;
	struct canary_cfg *cfg = xcalloc(1, sizeof *cfg);
	size_t i;

	cfg->ns = xstrdup(c->meta.ns);
	cfg->name = dup_or_null(c->meta.name);
	cfg->target = dup_or_null(c->target_ref.name);
	cfg->target_kind = xstrdup(c->target_ref.kind != NULL ? c->target_ref.kind : "Deployment");
	cfg->service = dup_or_null(c->apex);
	cfg->provider = dup_or_null(c->provider);
	cfg->port = c->service.port;
	cfg->strategy = c->strategy;
	cfg->interval_s = a->interval_s;
	cfg->threshold = a->threshold;
	cfg->max_weight = c->max_weight;
	cfg->step_weight = a->step_weight;
	cfg->n_step_weights = a->n_step_weights;
	cfg->step_weights = xcalloc(a->n_step_weights + 1, sizeof *cfg->step_weights);
	if (a->n_step_weights > 0)
		memcpy(cfg->step_weights, a->step_weights, a->n_step_weights * sizeof(int));
	cfg->step_weight_promotion = a->step_weight_promotion;
	cfg->iterations = a->iterations;
	cfg->mirror = a->mirror;
	cfg->mirror_weight = a->mirror_weight;
	cfg->primary_ready_threshold = a->primary_ready_threshold;
	cfg->canary_ready_threshold = a->canary_ready_threshold;
	cfg->progress_deadline_s = c->progress_deadline_s;
	cfg->skip_analysis = c->skip_analysis;
	cfg->suspend = c->suspend;
	cfg->n_metrics = a->n_metrics;
	cfg->metrics = xcalloc(a->n_metrics + 1, sizeof *cfg->metrics);
	for (i = 0; i < a->n_metrics; i++)
		copy_metric(set, c, &a->metrics[i], &cfg->metrics[i]);
	cfg->n_hooks = a->n_webhooks;
	cfg->hooks = xcalloc(a->n_webhooks + 1, sizeof *cfg->hooks);
	for (i = 0; i < a->n_webhooks; i++)
		copy_hook(&a->webhooks[i], &cfg->hooks[i]);
	cfg->nodata = c->nodata;
	cfg->min_requests = c->min_requests;
	cfg->confirm = c->confirm;
	return cfg;
}
