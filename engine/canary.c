/* canary.c — names of the shared enumerations; freeing a canary_cfg. */
#include <stdlib.h>
#include <string.h>

#include "engine/canary.h"

static const char *const phase_names[] = {
#define X(id, text) text,
	PHASE_LIST(X)
#undef X
};
static const char *const strategy_names[] = {
#define X(id, text) text,
	STRATEGY_LIST(X)
#undef X
};
static const char *const hook_names[] = {
#define X(id, text) text,
	HOOK_TYPE_LIST(X)
#undef X
};
static const char *const metric_names[] = {
#define X(id, text, unit) text,
	METRIC_KIND_LIST(X)
#undef X
};
static const char *const metric_units[] = {
#define X(id, text, unit) unit,
	METRIC_KIND_LIST(X)
#undef X
};
static const char *const nodata_names[] = {
#define X(id, text) text,
	NODATA_POLICY_LIST(X)
#undef X
};
static const char *const check_names[] = {
#define X(id, text) text,
	CHECK_RESULT_LIST(X)
#undef X
};
static const char *const severity_names[] = {
#define X(id, text) text,
	SEVERITY_LIST(X)
#undef X
};
static const char *const alert_severity_names[] = {
#define X(id, text) text,
	ALERT_SEVERITY_LIST(X)
#undef X
};
static const char *const command_names[] = {
#define X(id, text, help, phases, pre, asks) text,
	COMMAND_LIST(X)
#undef X
};
static const char *const command_helps[] = {
#define X(id, text, help, phases, pre, asks) help,
	COMMAND_LIST(X)
#undef X
};
static const char *const override_names[] = {
#define X(id, text) text,
	OVERRIDE_LIST(X)
#undef X
};

#define NAME_OF(table, v, count) \
	((int)(v) >= 0 && (int)(v) < (count) ? (table)[v] : "?")

static int
index_of(const char *const *table, int count, const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < count; i++)
		if (strcmp(table[i], s) == 0)
			return i;
	return -1;
}

const char *phase_name(enum phase p) { return NAME_OF(phase_names, p, PHASE__COUNT); }
int phase_from_name(const char *s) { return index_of(phase_names, PHASE__COUNT, s); }
const char *strategy_name(enum strategy s) { return NAME_OF(strategy_names, s, STRATEGY__COUNT); }
const char *hook_type_name(enum hook_type t) { return NAME_OF(hook_names, t, HOOK__COUNT); }
const char *metric_kind_name(enum metric_kind k) { return NAME_OF(metric_names, k, METRIC__COUNT); }
const char *metric_kind_unit(enum metric_kind k) { return NAME_OF(metric_units, k, METRIC__COUNT); }
const char *nodata_policy_name(enum nodata_policy p) { return NAME_OF(nodata_names, p, NODATA__COUNT); }
int nodata_policy_from_name(const char *s) { return index_of(nodata_names, NODATA__COUNT, s); }
const char *check_result_name(enum check_result r) { return NAME_OF(check_names, r, CHECK__COUNT); }
const char *severity_name(enum severity s) { return NAME_OF(severity_names, s, SEV__COUNT); }
const char *alert_severity_name(enum alert_severity s) { return NAME_OF(alert_severity_names, s, ALERT__COUNT); }
const char *override_name(enum override_kind o) { return NAME_OF(override_names, o, OVR__COUNT); }
int override_from_name(const char *s) { return index_of(override_names, OVR__COUNT, s); }
const char *command_name(enum command_kind c) { return NAME_OF(command_names, c, CMD__COUNT); }
const char *command_help(enum command_kind c) { return NAME_OF(command_helps, c, CMD__COUNT); }
int command_from_name(const char *s) { return index_of(command_names, CMD__COUNT, s); }

int
hook_type_from_name(const char *s)
{
	if (s != NULL && s[0] == '\0')
		return HOOK_ROLLOUT;
	return index_of(hook_names, HOOK__COUNT, s);
}

int
alert_severity_from_name(const char *s)
{
	if (s != NULL && s[0] == '\0')
		return ALERT_INFO;	/* the documented default (perch-canary(5)) */
	return index_of(alert_severity_names, ALERT__COUNT, s);
}

bool
phase_is_terminal(enum phase p)
{
	return p == PHASE_SUCCEEDED || p == PHASE_FAILED;
}

static void
kv_free(struct kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void
canary_cfg_drop_metric(struct canary_cfg *c, size_t i)
{
	struct metric_cfg *m = &c->metrics[i];

	free(m->name);
	free(m->interval);
	free(m->query);
	free(m->volume_query);
	free(m->server);
	free(m->block);
	free(m->provider);
	free(m->template_ref);
	free(m->primary_query);
	memmove(m, m + 1, (c->n_metrics - i - 1) * sizeof *m);
	c->n_metrics--;
}

void
canary_cfg_free(struct canary_cfg *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->ns);
	free(c->name);
	free(c->driven_by);
	free(c->target);
	free(c->target_kind);
	free(c->target_api);
	free(c->service);
	free(c->provider);
	free(c->step_weights);
	while (c->n_metrics > 0)
		canary_cfg_drop_metric(c, c->n_metrics - 1);
	free(c->metrics);
	judge_config_fini(&c->judge);
	for (i = 0; i < c->n_hooks; i++) {
		free(c->hooks[i].name);
		free(c->hooks[i].url);
		kv_free(c->hooks[i].metadata, c->hooks[i].n_metadata);
	}
	free(c->hooks);
	if (c->affinity != NULL) {
		free(c->affinity->cookie_name);
		free(c->affinity->primary_cookie_name);
		free(c->affinity->domain);
		free(c->affinity->path);
		free(c->affinity->same_site);
		free(c->affinity);
	}
	for (i = 0; i < c->n_alerts; i++) {
		free(c->alerts[i].name);
		free(c->alerts[i].provider_ns);
		free(c->alerts[i].provider);
	}
	free(c->alerts);
	free(c);
}
