/*
 * canary_load.c — spec Canary -> struct canary_cfg (canary_load.h).  The
 * metric part renders queries through metrics/ (builtin.h, render.h); the
 * rest copies fields whose defaults the spec loader already applied.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/canary_load.h"
#include "metrics/backend.h"
#include "metrics/builtin.h"
#include "metrics/render.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static char *
dup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static struct kv *
copy_kv(const struct spec_kv *src, size_t n)
{
	struct kv *kv = n > 0 ? xcalloc(n, sizeof *kv) : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		kv[i].key = xstrdup(src[i].key);
		kv[i].value = xstrdup(src[i].value != NULL ? src[i].value : "");
	}
	return kv;
}

static void
free_kv(struct kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* Replaces every "-primary-canary" by "-primary" in place: the generated
 * canary names (Contour, Kuma, ...) aimed at the primary. */
static void
unsuffix_canary(char *s)
{
	static const char pat[] = "-primary-canary";
	char *p;

	while ((p = strstr(s, pat)) != NULL)
		memmove(p + 8, p + sizeof pat - 1, strlen(p + sizeof pat - 1) + 1);
}

struct names {
	const char *target, *service;
	bool primary;
};

static void
render_ctx_init(struct render_ctx *rc, const struct spec_canary *c, const struct names *nm,
    const struct spec_metric *m)
{
	memset(rc, 0, sizeof *rc);
	rc->name = c->meta.name;
	rc->ns = c->meta.ns;
	rc->target = nm->target;
	rc->service = nm->service;
	rc->ingress = c->ingress_ref.set && c->ingress_ref.name != NULL ?
	    c->ingress_ref.name : c->target_ref.name;
	rc->route = c->route_ref.set && c->route_ref.name != NULL ?
	    c->route_ref.name : c->target_ref.name;
	rc->interval = m->interval != NULL ? m->interval : "";
}

static int
where(char *err, size_t errsz, const struct spec_canary *c, size_t i, const char *fmt,
    const char *a, const char *b)
{
	char field[64], msg[512];
	struct spec_pos pos;

	snprintf(field, sizeof field, "spec.analysis.metrics[%zu]", i);
	pos = spec_field_pos(&c->meta, field);
	snprintf(msg, sizeof msg, fmt, a, b);
	snprintf(err, errsz, "%s:%d:%d: %s: %s", pos.file != NULL ? pos.file : "?",
	    pos.line, pos.col, field, msg);
	return ST_INVALID;
}

static int
load_template_metric(const struct spec_set *set, const struct spec_canary *c,
    const struct names *nm, size_t i, struct metric_cfg *mc, char *err, size_t errsz)
{
	const struct spec_metric *m = &c->analysis.metrics[i];
	const struct spec_metric_template *t = spec_find_template(set, c, m);
	struct render_ctx rc;
	struct kv *vars;
	char rerr[256], ref[256], types[128], why[256];
	int st;

	snprintf(ref, sizeof ref, "%s/%s", m->template_ref.ns != NULL ? m->template_ref.ns :
	    c->meta.ns, m->template_ref.name != NULL ? m->template_ref.name : "");
	if (t == NULL)
		return where(err, errsz, c, i, "MetricTemplate %s not found in the files given%s",
		    ref, "");
	if (metric_backend_find(t->provider_type) == NULL) {
		metric_backend_types(types, sizeof types);
		snprintf(why, sizeof why, "spec.provider.type %s is not supported (perch queries %s)",
		    t->provider_type, types);
		return where(err, errsz, c, i, "MetricTemplate %s: %s", ref, why);
	}
	mc->provider = dup_opt(t->provider_type);
	mc->template_ref = xstrdup(ref);
	mc->server = dup_opt(t->address);
	mc->block = metric_template_block(t);
	render_ctx_init(&rc, c, nm, m);
	vars = copy_kv(m->template_variables, m->n_template_variables);
	rc.vars = vars;
	rc.n_vars = m->n_template_variables;
	st = render_template(t->query != NULL ? t->query : "", &rc, &mc->query, rerr, sizeof rerr);
	if (st == ST_OK && t->volume_query != NULL) {
		st = render_template(t->volume_query, &rc, &mc->volume_query, rerr, sizeof rerr);
		if (st != ST_OK)
			snprintf(ref + strlen(ref), sizeof ref - strlen(ref), " (perch.dev/volume-query)");
	}
	free_kv(vars, m->n_template_variables);
	if (st != ST_OK)
		return where(err, errsz, c, i, "MetricTemplate %s: query render error: %s", ref, rerr);
	return ST_OK;
}

static int
load_metric(const struct spec_set *set, const struct spec_canary *c, const struct names *nm,
    size_t i, struct metric_cfg *mc, char *err, size_t errsz)
{
	const struct spec_metric *m = &c->analysis.metrics[i];
	enum observer o = builtin_observer(c->provider, c->target_ref.kind);
	struct render_ctx rc;
	char rerr[256];
	int st = ST_OK;

	mc->name = xstrdup(m->name != NULL ? m->name : "");
	mc->kind = m->template_ref.set || m->query != NULL ? METRIC_CUSTOM : builtin_kind(m->name);
	mc->interval_s = m->interval_s;
	mc->interval = dup_opt(m->interval);
	mc->has_min = m->has_min;
	mc->has_max = m->has_max;
	mc->min = m->min;
	mc->max = m->max;
	if (m->has_threshold && !m->has_min && !m->has_max) {
		/* deprecated threshold: a minimum for the success rate, else a maximum */
		if (mc->kind == METRIC_SUCCESS_RATE) {
			mc->has_min = true;
			mc->min = m->threshold;
		} else {
			mc->has_max = true;
			mc->max = m->threshold;
		}
	}
	if (m->template_ref.set)
		st = load_template_metric(set, c, nm, i, mc, err, errsz);
	else if (m->query != NULL) {
		mc->query = xstrdup(m->query);
		mc->server = dup_opt(c->metrics_server);
	} else if (mc->kind != METRIC_CUSTOM) {
		mc->server = dup_opt(c->metrics_server);
		render_ctx_init(&rc, c, nm, m);
		rc.interval = m->interval != NULL ? m->interval : "1m";
		st = builtin_render(o, mc->kind, false, &rc, &mc->query, rerr, sizeof rerr);
		if (st == ST_OK)
			st = builtin_render(o, mc->kind, true, &rc, &mc->volume_query, rerr, sizeof rerr);
		if (st != ST_OK)
			return where(err, errsz, c, i, "built-in query: %s%s", rerr, "");
	} else {
		return where(err, errsz, c, i, "metric \"%s\" is neither a built-in "
		    "(request-success-rate, request-duration) nor has a templateRef%s", mc->name, "");
	}
	if (st != ST_OK)
		return st;
	/* Prometheus' queries are sent with white space collapsed, as
	 * Flagger does; another provider's as written (a Flux string keeps
	 * its spaces; Graphite's backend collapses its own). */
	if (metric_type_find(mc->provider) == MT_DEFAULT) {
		collapse_space(mc->query);
		if (mc->volume_query != NULL)
			collapse_space(mc->volume_query);
	}
	if (nm->primary) {
		unsuffix_canary(mc->query);
		if (mc->volume_query != NULL)
			unsuffix_canary(mc->volume_query);
	}
	return ST_OK;
}

static void
load_hooks(const struct spec_canary *c, struct canary_cfg *cfg)
{
	size_t i;

	cfg->n_hooks = c->analysis.n_webhooks;
	cfg->hooks = cfg->n_hooks > 0 ? xcalloc(cfg->n_hooks, sizeof *cfg->hooks) : NULL;
	for (i = 0; i < cfg->n_hooks; i++) {
		const struct spec_webhook *w = &c->analysis.webhooks[i];
		struct hook_cfg *h = &cfg->hooks[i];

		h->name = xstrdup(w->name != NULL ? w->name : "");
		h->url = xstrdup(w->url != NULL ? w->url : "");
		h->type = w->type;
		h->timeout_ms = w->timeout_ms > 0 ? w->timeout_ms : 10000;
		h->retries = w->retries;
		h->mute_alert = w->mute_alert;
		h->disable_tls = w->disable_tls;
		h->metadata = copy_kv(w->metadata, w->n_metadata);
		h->n_metadata = w->n_metadata;
	}
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s ? xstrdup(s) : NULL;
}

/* spec.analysis.sessionAffinity (validated: cookieName set, provider istio
 * or gatewayapi); maxAge 0 is Flagger's default, 86400. */
static void
load_affinity(const struct spec_canary *c, struct canary_cfg *cfg)
{
	const struct spec_session_affinity *s = &c->analysis.session_affinity;
	struct affinity_cfg *a;

	if (!s->set || s->cookie_name == NULL)
		return;
	a = cfg->affinity = xcalloc(1, sizeof *a);
	a->cookie_name = xstrdup(s->cookie_name);
	a->primary_cookie_name = dup_or_null(s->primary_cookie_name);
	a->domain = dup_or_null(s->domain);
	a->path = dup_or_null(s->path);
	a->same_site = dup_or_null(s->same_site);
	a->http_only = s->http_only;
	a->partitioned = s->partitioned;
	a->secure = s->secure;
	a->max_age = s->max_age > 0 ? s->max_age : 86400;
}

/* analysis.alerts; an empty severity is info (perch-canary(5)). */
static void
load_alerts(const struct spec_canary *c, struct canary_cfg *cfg)
{
	size_t i;
	int sev;

	cfg->n_alerts = c->analysis.n_alerts;
	cfg->alerts = cfg->n_alerts > 0 ? xcalloc(cfg->n_alerts, sizeof *cfg->alerts) : NULL;
	for (i = 0; i < cfg->n_alerts; i++) {
		const struct spec_alert *a = &c->analysis.alerts[i];
		struct alert_cfg *ac = &cfg->alerts[i];

		ac->name = xstrdup(a->name != NULL ? a->name : "");
		sev = alert_severity_from_name(a->severity != NULL ? a->severity : "");
		ac->severity = sev < 0 ? ALERT_INFO : (enum alert_severity)sev;
		ac->provider_ns = a->provider_ref.ns != NULL ? xstrdup(a->provider_ref.ns) : NULL;
		ac->provider = xstrdup(a->provider_ref.name != NULL ? a->provider_ref.name : "");
	}
}

static void
load_fields(const struct spec_canary *c, struct canary_cfg *cfg)
{
	const struct spec_analysis *a = &c->analysis;

	cfg->ns = xstrdup(c->meta.ns);
	cfg->name = xstrdup(c->meta.name);
	cfg->target = xstrdup(c->target_ref.name != NULL ? c->target_ref.name : "");
	cfg->target_kind = xstrdup(c->target_ref.kind != NULL ? c->target_ref.kind : "Deployment");
	cfg->target_api = c->target_ref.api_version != NULL ? xstrdup(c->target_ref.api_version) :
	    NULL;
	cfg->service = xstrdup(c->apex != NULL ? c->apex : cfg->target);
	cfg->provider = xstrdup(c->provider != NULL ? c->provider : "");
	cfg->port = c->service.port;
	cfg->strategy = c->strategy;
	cfg->interval_s = a->interval_s;
	cfg->threshold = a->threshold;
	cfg->max_weight = c->max_weight;
	cfg->step_weight = a->step_weight;
	cfg->n_step_weights = a->n_step_weights;
	if (a->n_step_weights > 0) {
		cfg->step_weights = xcalloc(a->n_step_weights, sizeof *cfg->step_weights);
		memcpy(cfg->step_weights, a->step_weights, a->n_step_weights * sizeof *a->step_weights);
	}
	cfg->step_weight_promotion = a->step_weight_promotion;
	cfg->iterations = a->iterations;
	cfg->mirror = a->mirror;
	cfg->mirror_weight = a->mirror_weight;
	cfg->primary_ready_threshold = a->primary_ready_threshold;
	cfg->canary_ready_threshold = a->canary_ready_threshold;
	cfg->progress_deadline_s = c->progress_deadline_s;
	cfg->skip_analysis = c->skip_analysis;
	cfg->suspend = c->suspend;
	cfg->revert_on_deletion = c->revert_on_deletion;
	cfg->nodata = c->nodata;
	cfg->min_requests = c->min_requests;
	cfg->confirm = c->confirm;
}

/* An error about a perch.dev/compare* annotation, at its place. */
static int
compare_error(char *err, size_t errsz, const struct spec_kv *kv, const char *msg)
{
	snprintf(err, errsz, "%s:%d:%d: metadata.annotations.%s: %s",
	    kv->pos.file != NULL ? kv->pos.file : "?", kv->pos.line, kv->pos.col, kv->key, msg);
	return ST_INVALID;
}

static int
find_metric(const struct canary_cfg *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_metrics; i++)
		if (strcmp(cfg->metrics[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The perch.dev/compare* annotations into cfg->judge, and each compared
 * metric's query aimed at the primary (pcfg's): a metric the analysis
 * does not have, or whose query cannot be aimed at the primary (it names
 * neither the target nor the service), is refused. */
static int
load_compare(const struct spec_canary *c, struct canary_cfg *cfg, const struct canary_cfg *pcfg,
    char *err, size_t errsz)
{
	const struct spec_kv *last = NULL;
	char msg[512];
	size_t i;
	int k;

	judge_config_init(&cfg->judge);
	for (i = 0; i < c->n_compare; i++) {
		if (strcmp(c->compare[i].key, "perch.dev/compare") == 0)
			last = &c->compare[i];
		if (judge_config_apply(&cfg->judge, c->compare[i].key, c->compare[i].value, msg,
		    sizeof msg) != ST_OK)
			return compare_error(err, errsz, &c->compare[i], msg);
	}
	for (i = 0; i < cfg->judge.n_metrics; i++) {
		const char *name = cfg->judge.metrics[i].metric;

		if ((k = find_metric(cfg, name)) < 0) {
			snprintf(msg, sizeof msg, "%s is not a metric of spec.analysis.metrics", name);
			return compare_error(err, errsz, last, msg);
		}
		if (pcfg == NULL || cfg->metrics[k].query == NULL ||
		    strcmp(pcfg->metrics[k].query, cfg->metrics[k].query) == 0) {
			snprintf(msg, sizeof msg, "the query of %s cannot be aimed at the primary "
			    "(it names neither the target nor the service)", name);
			return compare_error(err, errsz, last, msg);
		}
		free(cfg->metrics[k].primary_query);
		cfg->metrics[k].primary_query = xstrdup(pcfg->metrics[k].query);
	}
	return ST_OK;
}

int
canary_load(const struct spec_set *set, const struct spec_canary *c,
    enum load_aim aim, struct canary_cfg **out, char *err, size_t errsz)
{
	struct canary_cfg *cfg = xcalloc(1, sizeof *cfg);
	char *pt = NULL, *ps = NULL;
	struct names nm;
	size_t i;
	int st = ST_OK;

	*out = NULL;
	load_fields(c, cfg);
	load_hooks(c, cfg);
	load_affinity(c, cfg);
	load_alerts(c, cfg);
	nm.primary = aim == AIM_PRIMARY;
	if (nm.primary) {
		pt = xasprintf("%s-primary", cfg->target);
		ps = xasprintf("%s-primary", cfg->service);
	}
	nm.target = nm.primary ? pt : cfg->target;
	nm.service = nm.primary ? ps : cfg->service;
	cfg->n_metrics = c->analysis.n_metrics;
	cfg->metrics = cfg->n_metrics > 0 ? xcalloc(cfg->n_metrics, sizeof *cfg->metrics) : NULL;
	for (i = 0; i < cfg->n_metrics && st == ST_OK; i++)
		st = load_metric(set, c, &nm, i, &cfg->metrics[i], err, errsz);
	free(pt);
	free(ps);
	if (st == ST_OK && aim == AIM_CANARY && c->n_compare > 0) {
		struct canary_cfg *pcfg = NULL;

		if ((st = canary_load(set, c, AIM_PRIMARY, &pcfg, err, errsz)) == ST_OK)
			st = load_compare(c, cfg, pcfg, err, errsz);
		canary_cfg_free(pcfg);
	}
	if (st != ST_OK) {
		canary_cfg_free(cfg);
		return st;
	}
	*out = cfg;
	return ST_OK;
}

char *
metric_template_block(const struct spec_metric_template *t)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_printf(&b, "%s\x1f%s\x1f%s/%s\x1f%s\x1f%d", t->provider_type != NULL ?
	    t->provider_type : "", t->address != NULL ? t->address : "",
	    t->secret_ref != NULL && t->meta.ns != NULL ? t->meta.ns : "",
	    t->secret_ref != NULL ? t->secret_ref : "", t->region != NULL ? t->region : "",
	    (int)t->insecure_skip_verify);
	for (i = 0; i < t->n_headers; i++)
		buf_printf(&b, "\x1f%s=%s", t->headers[i].key, t->headers[i].value != NULL ?
		    t->headers[i].value : "");
	return buf_take(&b);
}

size_t
canary_register_servers(const struct spec_set *set, const struct spec_canary *c,
    struct metric_backends *b)
{
	size_t i, n = 0;
	char err[256];

	for (i = 0; i < c->analysis.n_metrics; i++) {
		const struct spec_metric *m = &c->analysis.metrics[i];
		const struct spec_metric_template *t;
		struct metric_provider p;
		struct kv *h;
		char *block;

		/* A template without an address has nothing to register, unless
		 * its backend has a server of its own (cloudwatch's region). */
		if (!m->template_ref.set || (t = spec_find_template(set, c, m)) == NULL ||
		    (t->address == NULL && metric_backend_find(t->provider_type) ==
		    metric_backend_find(NULL)))
			continue;
		h = copy_kv(t->headers, t->n_headers);
		memset(&p, 0, sizeof p);
		p.address = t->address;
		p.insecure = t->insecure_skip_verify;
		p.headers = h;
		p.n_headers = t->n_headers;
		p.region = t->region;
		p.block = block = metric_template_block(t);
		if (metric_backends_add(b, t->provider_type, &p, err, sizeof err) == ST_OK)
			n++;
		free(block);
		free_kv(h, t->n_headers);
	}
	return n;
}
