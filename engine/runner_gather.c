/*
 * runner_gather.c — gathering observations (see runner_int.h):
 * machine_tick() asks for what it needs one thing at a time (its
 * initialisation, the target's revision, readiness, webhooks of one type,
 * metric values, a probe of the metrics providers); this asks the cluster,
 * webhook and metrics ops for it into the tick's observations, outside the
 * lock, and keeps what the snapshots show (hooks' last answers, the last
 * readiness, the backends' health).  Runner thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/runner_int.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

void
rn_grow_scratch(struct runner *r, const struct canary_cfg *c)
{
	if (c->n_hooks > r->tick.cap_calls) {
		r->tick.calls = xreallocarray(r->tick.calls, c->n_hooks, sizeof *r->tick.calls);
		r->tick.results = xreallocarray(r->tick.results, c->n_hooks, sizeof *r->tick.results);
		r->tick.cap_calls = c->n_hooks;
	}
	if (2 * c->n_metrics > r->tick.cap_mq) {
		r->tick.mq = xreallocarray(r->tick.mq, 2 * c->n_metrics, sizeof *r->tick.mq);
		r->tick.mv = xreallocarray(r->tick.mv, 2 * c->n_metrics, sizeof *r->tick.mv);
		r->tick.cap_mq = 2 * c->n_metrics;
	}
}

/* Calls the hooks of type t into r->tick.obs.hooks.  Gating types stop at the
 * first failure (webhook_ops contract); rollback hooks are asked one by one
 * until one says "roll back". */
void
rn_gather_hooks(struct runner *r, struct rcan *c, enum hook_type t, enum phase phase)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t idx[64], n = 0, called, i;

	for (i = 0; i < cfg->n_hooks && n < 64; i++) {
		if (cfg->hooks[i].type != t)
			continue;
		r->tick.calls[n] = (struct hook_call){
			.canary = cfg, .hook = &cfg->hooks[i], .phase = phase,
			.checksum = c->st.last_applied,
		};
		idx[n++] = i;
	}
	if (r->cfg.webhook == NULL) {
		for (i = 0; i < n; i++) {
			r->tick.obs.hooks[idx[i]].called = true;
			r->tick.obs.hooks[idx[i]].r.ok = false;
			snprintf(r->tick.obs.hooks[idx[i]].r.msg, sizeof r->tick.obs.hooks[idx[i]].r.msg,
			    "no webhook client");
		}
		r->tick.obs.hooks_have |= 1u << t;
		return;
	}
	if (t == HOOK_ROLLBACK) {
		for (called = 0; called < n; called++) {
			r->cfg.webhook->call(r->cfg.webhook_ctx, &r->tick.calls[called], 1, &r->tick.results[called]);
			if (r->tick.results[called].ok) {
				called++;
				break;
			}
		}
	} else {
		called = r->cfg.webhook->call(r->cfg.webhook_ctx, r->tick.calls, n, r->tick.results);
	}
	for (i = 0; i < called && i < n; i++) {
		struct rhook *h = &c->hist.hooks[idx[i]];

		r->tick.obs.hooks[idx[i]].called = true;
		r->tick.obs.hooks[idx[i]].r = r->tick.results[i];
		pthread_mutex_lock(&r->mu);
		h->last = r->tick.results[i].ok ? CHECK_PASS : CHECK_FAIL;
		sanitize(h->msg, sizeof h->msg, r->tick.results[i].msg, strlen(r->tick.results[i].msg));
		pthread_mutex_unlock(&r->mu);
	}
	r->tick.obs.hooks_have |= 1u << t;
}

/* The compared metrics' samples (perch.dev/compare), canary and primary,
 * judged into the tick's observations (engine/compare.h). */
static void
gather_compare(struct runner *r, const struct canary_cfg *cfg, int64_t now)
{
	size_t n = compare_count(cfg);
	struct metric_query q[2 * COMPARE_MAX];
	struct metric_samples *s;
	int st;

	if (n == 0)
		return;
	if (r->cfg.metrics->samples == NULL) {
		compare_judge(cfg, NULL, "no samples: the metrics provider has no range queries",
		    &r->tick.obs.compare);
		return;
	}
	s = xcalloc(2 * n, sizeof *s);
	compare_queries(cfg, now, q);
	st = r->cfg.metrics->samples(r->cfg.metrics_ctx, q, 2 * n, compare_range_ms(cfg),
	    compare_step_ms(cfg), s);
	if (st != ST_OK)
		compare_judge(cfg, NULL, status_text(st), &r->tick.obs.compare);
	else
		compare_judge(cfg, s, NULL, &r->tick.obs.compare);
	free(s);
}

static void
gather_metrics(struct runner *r, struct rcan *c, int64_t now)
{
	const struct canary_cfg *cfg = c->cfg;
	size_t i, n = 0, gone;
	int st;

	for (i = 0; i < cfg->n_metrics; i++) {
		const struct metric_cfg *m = &cfg->metrics[i];

		r->tick.mq[n++] = (struct metric_query){ .canary = cfg, .metric = m, .query = m->query,
			.at_ms = now };
		r->tick.obs.has_volume[i] = machine_wants_volume(cfg, m);
		if (r->tick.obs.has_volume[i])
			r->tick.mq[n++] = (struct metric_query){ .canary = cfg, .metric = m, .volume = true,
				.query = m->volume_query, .at_ms = now };
	}
	memset(r->tick.mv, 0, n * sizeof *r->tick.mv);
	st = r->cfg.metrics->eval(r->cfg.metrics_ctx, r->tick.mq, n, r->tick.mv);
	for (i = 0, gone = 0; i < n; i++)
		gone += r->tick.mv[i].unavailable;
	/* Down when nothing answered; degraded when some queries did not. */
	rn_set_health(r, &r->health.metrics_ok, st == ST_OK && (gone == 0 || gone < n));
	rn_set_health(r, &r->health.metrics_degraded, st == ST_OK && gone > 0 && gone < n);
	for (i = 0, n = 0; i < cfg->n_metrics; i++) {
		r->tick.obs.values[i] = r->tick.mv[n++];
		if (st != ST_OK) {
			r->tick.obs.values[i].result = CHECK_ERROR;
			snprintf(r->tick.obs.values[i].err, sizeof r->tick.obs.values[i].err, "metrics backend: %s",
			    status_text(st));
		}
		if (r->tick.obs.has_volume[i])
			r->tick.obs.volumes[i] = r->tick.mv[n++];
	}
	gather_compare(r, cfg, now);
}

static void
gather_readiness(struct runner *r, struct rcan *c, enum workload w, int64_t now)
{
	struct readiness *out = w == WL_PRIMARY ? &r->tick.obs.primary : &r->tick.obs.canary;
	int st, i;

	memset(out, 0, sizeof *out);
	out->retriable = true;
	st = r->cfg.cluster->readiness(r->cfg.cluster_ctx, c->cfg, w, now, out);
	rn_set_health(r, &r->health.api_ok, st == ST_OK);
	if (st != ST_OK) {
		out->ready = false;
		out->retriable = true;
		if (out->msg[0] == '\0')
			snprintf(out->msg, sizeof out->msg, "%s", status_text(st));
	}
	i = w == WL_PRIMARY ? 0 : 1;
	pthread_mutex_lock(&r->mu);
	if (!c->seen.ready_known[i] || c->seen.ready[i].ready != out->ready)
		r->pub.version++;	/* the keys that apply may change */
	c->seen.ready[i] = *out;
	c->seen.ready_known[i] = true;
	pthread_mutex_unlock(&r->mu);
}

void
rn_gather(struct runner *r, struct rcan *c, enum need need, enum hook_type ht, int64_t now)
{
	struct obs *o = &r->tick.obs;

	switch (need) {
	case NEED_INIT:
		o->init_status = r->cfg.cluster->initialize(r->cfg.cluster_ctx, c->cfg, o->init_err);
		c->run.unsupported = o->init_status == ST_UNSUPPORTED;
		/* What the primary was made from, not the target now: the
		 * revision initialization saves (machine_tick.c). */
		memset(&o->init_rev, 0, sizeof o->init_rev);
		if (o->init_status == ST_OK && r->cfg.cluster->primary_revision != NULL)
			o->init_status = r->cfg.cluster->primary_revision(r->cfg.cluster_ctx, c->cfg,
			    &o->init_rev, o->init_err);
		rn_set_health(r, &r->health.api_ok, o->init_status == ST_OK || o->init_status == ST_UNSUPPORTED);
		break;
	case NEED_REVISION:
		o->rev_status = r->cfg.cluster->revision(r->cfg.cluster_ctx, c->cfg, &o->rev, o->rev_err);
		rn_set_health(r, &r->health.api_ok, o->rev_status == ST_OK);
		rn_set_health(r, &r->health.api_degraded, r->cfg.cluster->degraded != NULL &&
		    r->cfg.cluster->degraded(r->cfg.cluster_ctx));
		/* Read and written on this thread only (apply names the
		 * status's revisions with it). */
		if (o->rev_status == ST_OK && o->rev.image[0]) {
			sanitize(c->run.rev_image, sizeof c->run.rev_image, o->rev.image, strlen(o->rev.image));
			snprintf(c->run.rev_id, sizeof c->run.rev_id, "%s", o->rev.id);
		}
		break;
	case NEED_PRIMARY:
		gather_readiness(r, c, WL_PRIMARY, now);
		break;
	case NEED_CANARY:
		gather_readiness(r, c, WL_CANARY, now);
		break;
	case NEED_HOOKS:
		/* reference §5.1: the current phase for confirm-rollout and
		 * rollback hooks, Progressing for the others. */
		rn_gather_hooks(r, c, ht, ht == HOOK_CONFIRM_ROLLOUT || ht == HOOK_ROLLBACK ?
		    c->st.phase : PHASE_PROGRESSING);
		return;
	case NEED_METRICS:
		gather_metrics(r, c, now);
		break;
	case NEED_PROVIDERS:
		o->providers_status = ST_UNSUPPORTED;
		if (r->cfg.metrics->check != NULL) {
			o->providers_status = r->cfg.metrics->check(r->cfg.metrics_ctx, c->cfg,
			    o->providers_err);
			rn_set_health(r, &r->health.metrics_ok, o->providers_status == ST_OK);
		}
		break;
	default:
		break;
	}
	o->have |= 1u << need;
}
