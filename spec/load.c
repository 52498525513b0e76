/*
 * load.c — from YAML documents to Canary, MetricTemplate and AlertProvider
 * structs: the schema of every object of reference §1 (field names as
 * Flagger spells them), Flagger's defaults, the perch.dev/ annotations,
 * and the whole-set pass (spec_validate).  The set itself, with what the
 * passes share, is set.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/backend_types.h"
#include "engine/judge.h"
#include "engine/routers.h"
#include "spec/schema.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* Field table shorthands: name, struct, member. */
#define FLD(n, k, st, m, set, sub, vals) \
	{ n, k, offsetof(st, m), NO_OFF, set, sub, vals }
#define STR(n, st, m)       FLD(n, F_STR, st, m, NO_OFF, NULL, NULL)
#define ENUM(n, st, m, v)   FLD(n, F_STR, st, m, NO_OFF, NULL, v)
#define INT(n, st, m)       FLD(n, F_INT, st, m, NO_OFF, NULL, NULL)
#define INTS(n, st, m, s)   FLD(n, F_INT, st, m, offsetof(st, s), NULL, NULL)
#define NUMS(n, st, m, s)   FLD(n, F_NUM, st, m, offsetof(st, s), NULL, NULL)
#define BOOL(n, st, m)      FLD(n, F_BOOL, st, m, NO_OFF, NULL, NULL)
#define NODE(n, st, m)      FLD(n, F_NODE, st, m, NO_OFF, NULL, NULL)
#define OBJ(n, st, m, sub)  FLD(n, F_OBJ, st, m, NO_OFF, sub, NULL)
#define OBJS(n, st, m, sub, s) FLD(n, F_OBJ, st, m, offsetof(st, s), sub, NULL)
#define INLINE(n, sub)      { n, F_OBJ, 0, NO_OFF, NO_OFF, sub, NULL }
#define LIST(n, k, st, m, cnt, sub) \
	{ n, k, offsetof(st, m), offsetof(st, cnt), NO_OFF, sub, NULL }
#define IGNORE(n)           { n, F_IGNORE, 0, NO_OFF, NO_OFF, NULL, NULL }
#define END                 { NULL, F_IGNORE, 0, NO_OFF, NO_OFF, NULL, NULL }

/* ---- enumerations (reference §1) ------------------------------------------ */

static const char *const target_kinds[] = { "DaemonSet", "Deployment", "Service", NULL };
static const char *const scaler_kinds[] = { "HorizontalPodAutoscaler", "ScaledObject", NULL };
static const char *const traffic_dists[] = { "PreferClose", "PreferSameZone",
	"PreferSameNode", NULL };
static const char *const severities[] = { "", "info", "warn", "error", NULL };
static const char *const same_sites[] = { "Strict", "Lax", "None", NULL };

/* ---- schemas ------------------------------------------------------------- */

static const struct field ref_fields[] = {
	STR("apiVersion", struct spec_ref, api_version),
	STR("kind", struct spec_ref, kind),
	STR("name", struct spec_ref, name),
	STR("namespace", struct spec_ref, ns),
	END
};
static const struct schema ref_schema = { "reference", ref_fields, sizeof(struct spec_ref),
	offsetof(struct spec_ref, pos) };

static const struct field target_fields[] = {
	STR("apiVersion", struct spec_ref, api_version),
	ENUM("kind", struct spec_ref, kind, target_kinds),
	STR("name", struct spec_ref, name),
	END
};
static const struct schema target_schema = { "targetRef", target_fields, 0,
	offsetof(struct spec_ref, pos) };

static const struct field scaler_fields[] = {
	STR("apiVersion", struct spec_ref, api_version),
	ENUM("kind", struct spec_ref, kind, scaler_kinds),
	STR("name", struct spec_ref, name),
	IGNORE("primaryScalerQueries"),
	IGNORE("primaryScalerReplicas"),
	END
};
static const struct schema scaler_schema = { "autoscalerRef", scaler_fields, 0,
	offsetof(struct spec_ref, pos) };

static const struct field gwref_fields[] = {
	STR("group", struct spec_gateway_ref, group),
	STR("kind", struct spec_gateway_ref, kind),
	STR("namespace", struct spec_gateway_ref, ns),
	STR("name", struct spec_gateway_ref, name),
	STR("sectionName", struct spec_gateway_ref, section_name),
	INT("port", struct spec_gateway_ref, port),
	END
};
static const struct schema gwref_schema = { "gatewayRef", gwref_fields,
	sizeof(struct spec_gateway_ref), offsetof(struct spec_gateway_ref, pos) };

#define SVC struct spec_service
static const struct field service_fields[] = {
	STR("name", SVC, name),
	INT("port", SVC, port),
	STR("portName", SVC, port_name),
	FLD("targetPort", F_INTSTR, SVC, target_port, NO_OFF, NULL, NULL),
	STR("appProtocol", SVC, app_protocol),
	ENUM("trafficDistribution", SVC, traffic_distribution, traffic_dists),
	BOOL("portDiscovery", SVC, port_discovery),
	BOOL("headless", SVC, headless),
	BOOL("delegation", SVC, delegation),
	STR("timeout", SVC, timeout),
	STR("backendTimeout", SVC, backend_timeout),
	LIST("gateways", F_STRLIST, SVC, gateways, n_gateways, NULL),
	LIST("hosts", F_STRLIST, SVC, hosts, n_hosts, NULL),
	LIST("gatewayRefs", F_LIST, SVC, gateway_refs, n_gateway_refs, &gwref_schema),
	STR("meshName", SVC, mesh_name),
	NODE("trafficPolicy", SVC, traffic_policy),
	NODE("match", SVC, match),
	NODE("rewrite", SVC, rewrite),
	NODE("retries", SVC, retries),
	NODE("headers", SVC, headers),
	NODE("mirror", SVC, mirror),
	NODE("corsPolicy", SVC, cors_policy),
	NODE("backends", SVC, backends),
	NODE("apex", SVC, apex),
	NODE("primary", SVC, primary),
	NODE("canary", SVC, canary),
	NODE("unmanagedMetadata", SVC, unmanaged_metadata),
	END
};
#undef SVC
static const struct schema service_schema = { "service", service_fields, 0,
	offsetof(struct spec_service, pos) };

#define MET struct spec_metric
static const struct field range_fields[] = {
	NUMS("min", MET, min, has_min),
	NUMS("max", MET, max, has_max),
	END
};
static const struct schema range_schema = { "thresholdRange", range_fields, 0, NO_OFF };
static const struct field metric_fields[] = {
	STR("name", MET, name),
	STR("interval", MET, interval),
	NUMS("threshold", MET, threshold, has_threshold),
	INLINE("thresholdRange", &range_schema),
	STR("query", MET, query),
	OBJS("templateRef", MET, template_ref, &ref_schema, template_ref.set),
	LIST("templateVariables", F_KV, MET, template_variables, n_template_variables, NULL),
	END
};
#undef MET
static const struct schema metric_schema = { "metric", metric_fields,
	sizeof(struct spec_metric), offsetof(struct spec_metric, pos) };

#define HOOK struct spec_webhook
static const struct field webhook_fields[] = {
	STR("name", HOOK, name),
	STR("url", HOOK, url),
	FLD("type", F_HOOKTYPE, HOOK, type, NO_OFF, NULL, NULL),
	STR("timeout", HOOK, timeout),
	INT("retries", HOOK, retries),
	LIST("metadata", F_KV, HOOK, metadata, n_metadata, NULL),
	BOOL("muteAlert", HOOK, mute_alert),
	BOOL("disableTLS", HOOK, disable_tls),
	END
};
#undef HOOK
static const struct schema webhook_schema = { "webhook", webhook_fields,
	sizeof(struct spec_webhook), offsetof(struct spec_webhook, pos) };

static const struct field alert_fields[] = {
	STR("name", struct spec_alert, name),
	ENUM("severity", struct spec_alert, severity, severities),
	OBJS("providerRef", struct spec_alert, provider_ref, &ref_schema, provider_ref.set),
	END
};
static const struct schema alert_schema = { "alert", alert_fields,
	sizeof(struct spec_alert), offsetof(struct spec_alert, pos) };

#define AFF struct spec_session_affinity
static const struct field affinity_fields[] = {
	STR("cookieName", AFF, cookie_name),
	STR("primaryCookieName", AFF, primary_cookie_name),
	STR("domain", AFF, domain),
	BOOL("httpOnly", AFF, http_only),
	INT("maxAge", AFF, max_age),
	BOOL("partitioned", AFF, partitioned),
	STR("path", AFF, path),
	ENUM("sameSite", AFF, same_site, same_sites),
	BOOL("secure", AFF, secure),
	END
};
#undef AFF
static const struct schema affinity_schema = { "sessionAffinity", affinity_fields, 0,
	offsetof(struct spec_session_affinity, pos) };

#define AN struct spec_analysis
static const struct field analysis_fields[] = {
	STR("interval", AN, interval),
	INT("threshold", AN, threshold),
	INT("maxWeight", AN, max_weight),
	INTS("stepWeight", AN, step_weight, has_step_weight),
	{ "stepWeights", F_INTLIST, offsetof(AN, step_weights), offsetof(AN, n_step_weights),
	  offsetof(AN, has_step_weights), NULL, NULL },
	INT("stepWeightPromotion", AN, step_weight_promotion),
	INTS("iterations", AN, iterations, has_iterations),
	NODE("match", AN, match),
	BOOL("mirror", AN, mirror),
	INT("mirrorWeight", AN, mirror_weight),
	INT("primaryReadyThreshold", AN, primary_ready_threshold),
	INT("canaryReadyThreshold", AN, canary_ready_threshold),
	LIST("metrics", F_LIST, AN, metrics, n_metrics, &metric_schema),
	LIST("webhooks", F_LIST, AN, webhooks, n_webhooks, &webhook_schema),
	LIST("alerts", F_LIST, AN, alerts, n_alerts, &alert_schema),
	OBJS("sessionAffinity", AN, session_affinity, &affinity_schema, session_affinity.set),
	END
};
#undef AN
static const struct schema analysis_schema = { "analysis", analysis_fields, 0,
	offsetof(struct spec_analysis, pos) };

#define CAN struct spec_canary
static const struct field canary_spec_fields[] = {
	ENUM("provider", CAN, provider, router_schema_names),
	STR("metricsServer", CAN, metrics_server),
	OBJS("targetRef", CAN, target_ref, &target_schema, target_ref.set),
	OBJS("autoscalerRef", CAN, autoscaler_ref, &scaler_schema, autoscaler_ref.set),
	OBJS("ingressRef", CAN, ingress_ref, &ref_schema, ingress_ref.set),
	OBJS("routeRef", CAN, route_ref, &ref_schema, route_ref.set),
	OBJS("upstreamRef", CAN, upstream_ref, &ref_schema, upstream_ref.set),
	OBJ("service", CAN, service, &service_schema),
	OBJS("analysis", CAN, analysis, &analysis_schema, analysis.set),
	IGNORE("canaryAnalysis"),	/* read after, when analysis is missing */
	INT("progressDeadlineSeconds", CAN, progress_deadline_s),
	BOOL("skipAnalysis", CAN, skip_analysis),
	BOOL("revertOnDeletion", CAN, revert_on_deletion),
	BOOL("suspend", CAN, suspend),
	END
};
#undef CAN
static const struct schema canary_spec_schema = { "spec", canary_spec_fields, 0, NO_OFF };

#define TPL struct spec_metric_template
static const struct field secret_fields[] = {
	STR("name", TPL, secret_ref),
	END
};
static const struct schema secret_schema = { "secretRef", secret_fields, 0, NO_OFF };
static const struct field mprovider_fields[] = {
	ENUM("type", TPL, provider_type, metric_type_schema_names),
	STR("address", TPL, address),
	LIST("headers", F_HEADERS, TPL, headers, n_headers, NULL),
	INLINE("secretRef", &secret_schema),
	STR("region", TPL, region),
	BOOL("insecureSkipVerify", TPL, insecure_skip_verify),
	END
};
static const struct schema mprovider_schema = { "provider", mprovider_fields, 0, NO_OFF };
static const struct field template_spec_fields[] = {
	INLINE("provider", &mprovider_schema),
	STR("query", TPL, query),
	END
};
#undef TPL
static const struct schema template_spec_schema = { "spec", template_spec_fields, 0, NO_OFF };

#define AP struct spec_alert_provider
static const struct field apsecret_fields[] = {
	STR("name", AP, secret_ref),
	END
};
static const struct schema apsecret_schema = { "secretRef", apsecret_fields, 0, NO_OFF };
static const struct field ap_spec_fields[] = {
	ENUM("type", AP, type, alert_type_schema_names),
	STR("channel", AP, channel),
	STR("username", AP, username),
	STR("address", AP, address),
	STR("proxy", AP, proxy),
	INLINE("secretRef", &apsecret_schema),
	END
};
#undef AP
static const struct schema ap_spec_schema = { "spec", ap_spec_fields, 0, NO_OFF };

/* metadata and the document root, shared by the three kinds: the meta
 * struct is the first member of each. */
#define META struct spec_meta
static const struct field meta_fields[] = {
	STR("name", META, name),
	STR("namespace", META, ns),
	LIST("labels", F_KV, META, labels, n_labels, NULL),
	LIST("annotations", F_KV, META, annotations, n_annotations, NULL),
	IGNORE("generateName"), IGNORE("uid"), IGNORE("resourceVersion"),
	IGNORE("generation"), IGNORE("creationTimestamp"), IGNORE("deletionTimestamp"),
	IGNORE("deletionGracePeriodSeconds"), IGNORE("ownerReferences"),
	IGNORE("finalizers"), IGNORE("managedFields"), IGNORE("selfLink"),
	END
};
static const struct schema meta_schema = { "metadata", meta_fields, 0, NO_OFF };

#define ROOT(spec_schema) { \
	STR("apiVersion", META, api_version), \
	IGNORE("kind"), \
	INLINE("metadata", &meta_schema), \
	INLINE("spec", spec_schema), \
	IGNORE("status"), \
	END }
static const struct field canary_root_fields[] = ROOT(&canary_spec_schema);
static const struct field template_root_fields[] = ROOT(&template_spec_schema);
static const struct field ap_root_fields[] = ROOT(&ap_spec_schema);
#undef META
static const struct schema canary_root = { "Canary", canary_root_fields, 0, NO_OFF };
static const struct schema template_root = { "MetricTemplate", template_root_fields, 0, NO_OFF };
static const struct schema ap_root = { "AlertProvider", ap_root_fields, 0, NO_OFF };

/* ---- adding to the set (set.c has the rest) ------------------------------ */

#define PUSH(arr, n, cap, item) do { \
	if ((n) == (cap)) { \
		(cap) = (cap) ? (cap) * 2 : 8; \
		(arr) = xreallocarray((arr), (cap), sizeof *(arr)); \
	} \
	(arr)[(n)++] = (item); \
} while (0)

/* ---- perch.dev/ annotations (perch-canary(5)) ------------------------------------- */

#define PERCH_PREFIX "perch.dev/"

static void
bad_annotation(struct diag_list *dl, const struct spec_kv *kv, const char *fmt, const char *v)
{
	char field[192];

	snprintf(field, sizeof field, "metadata.annotations.%s", kv->key);
	report(dl, DIAG_ERROR, &kv->pos, field, NULL, fmt, kv->key, v);
}

static unsigned
parse_confirm(struct diag_list *dl, const struct spec_kv *kv)
{
	unsigned bits = 0;
	char word[64];
	const char *p = kv->value;
	size_t len;

	while (*p != '\0') {
		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 0)
			break;
		snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
		if (strcmp(word, "rollout") == 0)
			bits |= CONFIRM_ROLLOUT;
		else if (strcmp(word, "promotion") == 0)
			bits |= CONFIRM_PROMOTION;
		else
			bad_annotation(dl, kv, "%s: unknown gate '%s' (expected rollout, "
			    "promotion, or both separated by a comma)", word);
		p += len;
	}
	return bits;
}

static void
parse_lint_ignore(struct spec_set *set, char ***ignore, size_t *n_ignore, struct diag_list *dl,
    const struct spec_kv *kv)
{
	char word[64];
	const char *p = kv->value;
	size_t len;
	int i;

	*ignore = pool_alloc(&set->pool, (strlen(p) / 2 + 2) * sizeof(char *));
	while (*p != '\0') {
		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 0)
			break;
		snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
		for (i = 0; i < SPEC_LINT__COUNT; i++)
			if (strcmp(spec_lint_name((enum spec_lint)i), word) == 0)
				break;
		if (i == SPEC_LINT__COUNT)
			bad_annotation(dl, kv, "%s: unknown lint '%s' (see perch-canary(5))", word);
		else
			(*ignore)[(*n_ignore)++] = pool_strdup(&set->pool, word);
		p += len;
	}
}

static bool
parse_number(const char *s, double *out)
{
	char *end;

	if (s[0] == '\0')
		return false;
	*out = strtod(s, &end);
	return *end == '\0' && *out >= 0 && *out < 1e15;
}

/* perch.dev/compare*: checked here (engine/judge.h), applied by whoever
 * loads the canary (app/canary_load.c). */
static void
compare_annotation(struct spec_canary *c, struct diag_list *dl, const struct spec_kv *kv)
{
	struct judge_config jc;
	char err[512];

	judge_config_init(&jc);
	if (judge_config_apply(&jc, kv->key, kv->value, err, sizeof err) != ST_OK)
		bad_annotation(dl, kv, "%.0s%s", err);
	else if (c->n_compare < SPEC_COMPARE_MAX)
		c->compare[c->n_compare++] = *kv;
	judge_config_fini(&jc);
}

static void
canary_annotation(struct spec_set *set, struct spec_canary *c, struct diag_list *dl,
    const struct spec_kv *kv)
{
	const char *name = kv->key + strlen(PERCH_PREFIX);
	static const char *const known[] = { "no-data-policy", "min-requests",
		"confirm", "scrape-interval", "lint-ignore", "compare", "compare-confidence",
		"compare-tolerance", "compare-scores", NULL };
	long long ms;
	const char *near;
	int p;

	if (strcmp(name, "no-data-policy") == 0) {
		if ((p = nodata_policy_from_name(kv->value)) < 0)
			bad_annotation(dl, kv, "%s: unknown policy '%s' (expected hold, fail or pass)",
			    kv->value);
		else
			c->nodata = (enum nodata_policy)p;
	} else if (strcmp(name, "min-requests") == 0) {
		if (!parse_number(kv->value, &c->min_requests))
			bad_annotation(dl, kv, "%s: '%s' is not a number of requests", kv->value);
	} else if (strcmp(name, "confirm") == 0) {
		c->confirm = parse_confirm(dl, kv);
	} else if (strcmp(name, "scrape-interval") == 0) {
		if (spec_parse_duration_ms(kv->value, &ms) != ST_OK || ms < 1000)
			bad_annotation(dl, kv, "%s: '%s' is not a duration such as 15s or 1m",
			    kv->value);
		else
			c->scrape_interval_s = (int)(ms / 1000);
	} else if (strcmp(name, "lint-ignore") == 0) {
		parse_lint_ignore(set, &c->lint_ignore, &c->n_lint_ignore, dl, kv);
	} else if (strcmp(name, "compare") == 0 || strncmp(name, "compare-", 8) == 0) {
		compare_annotation(c, dl, kv);
	} else if ((near = closest_name(name, known, 5)) != NULL) {
		bad_annotation(dl, kv, "%s: unknown perch annotation (did you mean perch.dev/%s?)",
		    near);
	} else {
		bad_annotation(dl, kv, "%s: unknown perch annotation%s (see perch-canary(5))", "");
	}
}

static void
read_annotations(struct spec_set *set, struct spec_meta *meta, struct diag_list *dl,
    struct spec_canary *c, struct spec_metric_template *t)
{
	const struct spec_kv *kv;
	size_t i;

	for (i = 0; i < meta->n_annotations; i++) {
		kv = &meta->annotations[i];
		if (strncmp(kv->key, PERCH_PREFIX, strlen(PERCH_PREFIX)) != 0)
			continue;
		if (c != NULL)
			canary_annotation(set, c, dl, kv);
		else if (t != NULL && strcmp(kv->key, PERCH_PREFIX "volume-query") == 0)
			t->volume_query = kv->value;
		else if (t != NULL && strcmp(kv->key, PERCH_PREFIX "lint-ignore") == 0)
			parse_lint_ignore(set, &t->lint_ignore, &t->n_lint_ignore, dl, kv);
		else
			bad_annotation(dl, kv, "%s: unknown perch annotation%s for this kind", "");
	}
}

/* ---- defaults (reference §1.1) ---------------------------------------------- */

static void
metric_defaults(struct spec_metric *m)
{
	long long ms;

	if (m->template_ref.set || m->query != NULL || m->name == NULL)
		m->kind = METRIC_CUSTOM;
	else if (strcmp(m->name, "request-success-rate") == 0)
		m->kind = METRIC_SUCCESS_RATE;
	else if (strcmp(m->name, "request-duration") == 0)
		m->kind = METRIC_DURATION;
	else
		m->kind = METRIC_CUSTOM;
	if (m->interval != NULL && spec_parse_duration_ms(m->interval, &ms) == ST_OK)
		m->interval_s = (int)(ms / 1000);
	else if (m->interval == NULL && m->kind != METRIC_CUSTOM) {
		m->interval = "1m";
		m->interval_s = 60;
	}
}

static void
analysis_defaults(struct spec_canary *c)
{
	struct spec_analysis *a = &c->analysis;
	long long ms;
	size_t i;

	a->interval_s = 60;
	if (a->interval != NULL && spec_parse_duration_ms(a->interval, &ms) == ST_OK)
		a->interval_s = (int)(ms / 1000);
	if (a->interval_s < 10)
		a->interval_s = 10;
	if (a->threshold <= 0)
		a->threshold = 1;
	for (i = 0; i < a->n_metrics; i++)
		metric_defaults(&a->metrics[i]);
	for (i = 0; i < a->n_webhooks; i++) {
		struct spec_webhook *w = &a->webhooks[i];

		w->timeout_ms = 10000;
		if (w->timeout != NULL && strlen(w->timeout) >= 2 &&
		    spec_parse_duration_ms(w->timeout, &ms) == ST_OK)
			w->timeout_ms = (int)ms;
	}
	for (i = 0; i < a->n_alerts; i++)
		if (a->alerts[i].severity == NULL || a->alerts[i].severity[0] == '\0')
			a->alerts[i].severity = "info";
	if (a->n_step_weights > 0)
		c->max_weight = a->step_weights[a->n_step_weights - 1] < 100 ?
		    a->step_weights[a->n_step_weights - 1] : 100;
	else
		c->max_weight = a->max_weight > 0 ? a->max_weight : 100;
	a->n_match = a->match != NULL && a->match->kind == SPEC_SEQ ? a->match->n : 0;
	if (a->n_match > 0 && a->iterations > 0)
		c->strategy = STRATEGY_ABTESTING;
	else if (a->iterations > 0)
		c->strategy = STRATEGY_BLUEGREEN;
	else
		c->strategy = STRATEGY_CANARY;
}

static void
canary_defaults(struct spec_set *set, struct spec_canary *c)
{
	struct spec_service *s = &c->service;

	if (!c->analysis.set)
		c->skip_analysis = true;
	analysis_defaults(c);
	if (s->name == NULL)
		s->name = c->target_ref.name;
	c->apex = s->name;
	if (s->port_name == NULL)
		s->port_name = "http";
	if (s->target_port == NULL && s->port > 0)
		s->target_port = pool_printf(&set->pool, "%d", s->port);
}

/* ---- documents ------------------------------------------------------------------ */

static void
init_meta(struct spec_meta *meta, const struct spec_node *root)
{
	meta->root = root;
	meta->pos = root->pos;
}

static void
finish_meta(struct spec_meta *meta)
{
	if (meta->ns == NULL)
		meta->ns = "default";
}

static void
load_canary(struct spec_set *set, const struct spec_node *root, struct diag_list *dl)
{
	struct spec_canary *c = pool_alloc(&set->pool, sizeof *c);
	struct conv cv = { &set->pool, dl };
	size_t errors = dl->n_errors;
	const struct spec_node *spec = spec_node_get(root, "spec");
	const struct spec_node *old = spec_node_get(spec, "canaryAnalysis");

	init_meta(&c->meta, root);
	c->progress_deadline_s = 600;
	c->analysis.primary_ready_threshold = 100;
	c->analysis.canary_ready_threshold = 100;
	c->analysis.session_affinity.max_age = 86400;
	c->scrape_interval_s = SPEC_SCRAPE_INTERVAL_DEFAULT_S;
	c->nodata = NODATA_HOLD;
	convert_map(&cv, &canary_root, c, root, "");
	if (old != NULL && !node_is_null(old)) {
		if (c->analysis.set) {
			report(dl, DIAG_WARNING, &old->pos, "spec.canaryAnalysis", "deprecated",
			    "canaryAnalysis is ignored because analysis is set");
		} else if (old->kind == SPEC_MAP) {
			convert_map(&cv, &analysis_schema, &c->analysis, old, "spec.canaryAnalysis");
			c->analysis.set = c->analysis.deprecated_name = true;
		}
	}
	finish_meta(&c->meta);
	read_annotations(set, &c->meta, dl, c, NULL);
	validate_canary(set, c, dl);
	c->meta.valid = dl->n_errors == errors;
	canary_defaults(set, c);
	PUSH(set->canaries, set->n_canaries, set->cap_canaries, c);
}

static void
load_template(struct spec_set *set, const struct spec_node *root, struct diag_list *dl)
{
	struct spec_metric_template *t = pool_alloc(&set->pool, sizeof *t);
	struct conv cv = { &set->pool, dl };
	size_t errors = dl->n_errors;

	init_meta(&t->meta, root);
	convert_map(&cv, &template_root, t, root, "");
	finish_meta(&t->meta);
	read_annotations(set, &t->meta, dl, NULL, t);
	validate_template(t, dl);
	t->meta.valid = dl->n_errors == errors;
	if (t->provider_type == NULL)
		t->provider_type = (char *)metric_type_name(MT_DEFAULT);
	PUSH(set->templates, set->n_templates, set->cap_templates, t);
}

static void
load_alert_provider(struct spec_set *set, const struct spec_node *root, struct diag_list *dl)
{
	struct spec_alert_provider *p = pool_alloc(&set->pool, sizeof *p);
	struct conv cv = { &set->pool, dl };
	size_t errors = dl->n_errors;

	init_meta(&p->meta, root);
	convert_map(&cv, &ap_root, p, root, "");
	finish_meta(&p->meta);
	read_annotations(set, &p->meta, dl, NULL, NULL);
	validate_alert_provider(p, dl);
	p->meta.valid = dl->n_errors == errors;
	if (p->channel == NULL)
		p->channel = "general";
	if (p->username == NULL)
		p->username = "flagger";
	PUSH(set->providers, set->n_providers, set->cap_providers, p);
}

static bool
is_flagger_kind(const char *kind)
{
	return strcmp(kind, "Canary") == 0 || strcmp(kind, "MetricTemplate") == 0 ||
	    strcmp(kind, "AlertProvider") == 0;
}

/* A document without kind: a snippet, or not a Kubernetes object at all. */
static void
missing_top_fields(const struct spec_node *root, struct diag_list *dl)
{
	static const char *const top[] = { "apiVersion", "kind", "metadata", "spec" };
	char list[96] = "";
	size_t i, n = 0;

	for (i = 0; i < 4; i++) {
		const struct spec_node *v = spec_node_get(root, top[i]);
		bool absent = i < 2 ? spec_node_str(v) == NULL : v == NULL;

		if (absent) {
			if (n++ > 0)
				strcat(list, ", ");
			strcat(list, top[i]);
		}
	}
	report(dl, DIAG_ERROR, &root->pos, "kind", NULL,
	    "missing required field%s %s: not a complete Kubernetes object (a Canary "
	    "starts with apiVersion: " SPEC_API_VERSION " and kind: Canary)",
	    n > 1 ? "s" : "", list);
}

/* A kind that is not Flagger's: an error when it was meant to be (its
 * apiVersion is flagger.app's, or it is one typo away from Canary,
 * MetricTemplate or AlertProvider: `kind: Canry` would otherwise leave a
 * file with no Canary in it); other kinds are not ours and are skipped. */
static void
unknown_kind(const struct spec_node *root, const struct spec_node *kn, const char *kind,
    const char *api, struct diag_list *dl)
{
	static const char *const kinds[] = { "Canary", "MetricTemplate", "AlertProvider", NULL };
	const char *near = closest_name(kind, kinds, 3);
	size_t i;

	for (i = 0; near == NULL && kinds[i] != NULL; i++)
		if (strcasecmp(kind, kinds[i]) == 0)
			near = kinds[i];
	if (near == NULL && (api == NULL || strncmp(api, "flagger.app/", 12) != 0))
		return;
	report(dl, DIAG_ERROR, kn != NULL ? &kn->pos : &root->pos, "kind", NULL,
	    "kind: unsupported value '%s'%s%s%s: perch reads Canary, MetricTemplate and "
	    "AlertProvider of " SPEC_API_VERSION, kind, near ? " (did you mean " : "",
	    near ? near : "", near ? "?)" : "");
}

void
load_document(struct spec_set *set, const char *file, const struct spec_node *root,
    struct diag_list *dl)
{
	const struct spec_node *kn = spec_node_get(root, "kind");
	const struct spec_node *an = spec_node_get(root, "apiVersion");
	const char *kind = spec_node_str(kn), *api = spec_node_str(an);
	size_t i;

	(void)file;
	if (root->kind != SPEC_MAP) {
		report(dl, DIAG_ERROR, &root->pos, "", NULL, "a document must be a mapping "
		    "(a Kubernetes object with apiVersion and kind), found %s",
		    root->kind == SPEC_SEQ ? "a list" : "a single value");
		return;
	}
	if (kind == NULL) {
		missing_top_fields(root, dl);
		return;
	}
	if (strcmp(kind, "List") == 0 && spec_node_get(root, "items") != NULL) {
		const struct spec_node *items = spec_node_get(root, "items");

		for (i = 0; items->kind == SPEC_SEQ && i < items->n; i++)
			load_document(set, file, items->items[i], dl);
		return;
	}
	if (!is_flagger_kind(kind)) {
		unknown_kind(root, kn, kind, api, dl);
		return;		/* a Deployment, a Service, ...: not ours */
	}
	if (api == NULL) {
		report(dl, DIAG_ERROR, &root->pos, "apiVersion", NULL,
		    "%s: missing required field apiVersion (" SPEC_API_VERSION ")", kind);
		return;
	}
	if (strncmp(api, "flagger.app/", 12) != 0)
		return;		/* another project's kind of the same name */
	if (strcmp(api, SPEC_API_VERSION) != 0) {
		report(dl, DIAG_ERROR, &an->pos, "apiVersion", NULL,
		    "apiVersion %s is not supported: perch reads " SPEC_API_VERSION
		    " (Flagger's only served version since 1.0; rename canaryAnalysis to "
		    "analysis when converting)", api);
		return;
	}
	if (strcmp(kind, "Canary") == 0)
		load_canary(set, root, dl);
	else if (strcmp(kind, "MetricTemplate") == 0)
		load_template(set, root, dl);
	else
		load_alert_provider(set, root, dl);
}

/* ---- files ------------------------------------------------------------------------ */

struct load_ctx {
	struct spec_set *set;
	const char *file;
	struct diag_list *dl;
	size_t docs;
};

static void
on_document(void *ctx, const struct spec_node *root)
{
	struct load_ctx *lc = ctx;

	lc->docs++;
	load_document(lc->set, lc->file, root, lc->dl);
}

/* Whether YAML text may hold the character cp as it is (YAML 1.1's
 * printable set: tab, line breaks, NEL and everything from space on but
 * DEL, the C1 controls, surrogates and U+FFFE/U+FFFF). */
static bool
yaml_printable(unsigned int cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x85)
		return true;
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return false;
	return cp != 0xfffe && cp != 0xffff;
}

/* Binary input and raw control characters are refused before libyaml sees
 * them, with their position (libyaml would name no line). */
static bool
check_text(const char *file, const char *data, size_t len, struct diag_list *dl)
{
	size_t i = 0, n, line = 1, col = 1;
	unsigned int cp;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;		/* a UTF-8 byte order mark */
	while (i < len) {
		if (data[i] == '\0') {
			diag_add(dl, DIAG_ERROR, file, (int)line, (int)col, "", NULL,
			    "binary data (a NUL byte): expected a YAML text file");
			return false;
		}
		n = (unsigned char)data[i] < 0x80 ? 1 :
		    utf8_decode((const unsigned char *)data + i, len - i, &cp);
		if (n == 0) {
			diag_add(dl, DIAG_ERROR, file, (int)line, (int)col, "", NULL,
			    "not UTF-8 text (byte 0x%02x): expected a YAML text file",
			    (unsigned char)data[i]);
			return false;
		}
		if (n == 1)
			cp = (unsigned char)data[i];
		if (!yaml_printable(cp)) {
			diag_add(dl, DIAG_ERROR, file, (int)line, (int)col, "", NULL,
			    "a control character (U+%04X) in the text: YAML cannot hold it "
			    "raw; write it as an escape in a double-quoted string", cp);
			return false;
		}
		if (data[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i += n;
	}
	return true;
}

int
spec_load_buffer(struct spec_set *set, const char *name, const char *data, size_t len,
    struct diag_list *dl)
{
	struct load_ctx lc = { set, NULL, dl, 0 };
	size_t before = set->n_canaries + set->n_templates + set->n_providers;
	size_t errors = dl->n_errors;
	int st;

	lc.file = pool_strdup(&set->pool, name != NULL ? name : "");
	diag_list_file(dl, lc.file);
	if (len > SPEC_MAX_FILE_BYTES) {
		diag_add(dl, DIAG_ERROR, lc.file, 0, 0, "", NULL,
		    "file too large (%zu bytes; the limit is %u MiB)", len,
		    SPEC_MAX_FILE_BYTES >> 20);
		return ST_TOOBIG;
	}
	if (!check_text(lc.file, data, len, dl))
		return ST_PARSE;
	st = yaml_parse_docs(&set->pool, lc.file, data, len, dl, on_document, &lc);
	if (st != ST_OK)
		return st;
	if (lc.docs == 0) {
		diag_add(dl, DIAG_ERROR, lc.file, 0, 0, "", NULL,
		    "empty file: no YAML documents");
		return ST_PARSE;
	}
	if (set->n_canaries + set->n_templates + set->n_providers == before &&
	    dl->n_errors == errors)
		diag_add(dl, DIAG_ERROR, lc.file, 0, 0, "", NULL,
		    "no Canary, MetricTemplate or AlertProvider (" SPEC_API_VERSION ") in this file");
	return ST_OK;
}

int
spec_load_file(struct spec_set *set, const char *path, struct diag_list *dl)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *f;
	int st = ST_OK;

	diag_list_file(dl, path);
	f = fopen(path, "rb");
	if (f == NULL) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "", NULL, "cannot read: %s", strerror(errno));
		return ST_IO;
	}
	buf_init(&b, SPEC_MAX_FILE_BYTES);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (buf_append(&b, chunk, n) != ST_OK) {
			st = ST_TOOBIG;
			break;
		}
	if (st == ST_OK && ferror(f)) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "", NULL, "cannot read: %s", strerror(errno));
		st = ST_IO;
	}
	fclose(f);
	if (st == ST_TOOBIG)
		diag_add(dl, DIAG_ERROR, path, 0, 0, "", NULL,
		    "file too large (more than %u MiB)", SPEC_MAX_FILE_BYTES >> 20);
	else if (st == ST_OK)
		st = spec_load_buffer(set, path, buf_str(&b), b.len, dl);
	buf_fini(&b);
	return st;
}

/* ---- references between objects and the whole-set pass ------------------------------ */

/* Two objects of a kind with one namespace/name: the later one replaces the
 * earlier when applied. */
static void
check_duplicates(struct spec_meta *const *metas, size_t n, const char *kind,
    struct diag_list *dl)
{
	size_t i, j;

	if (n > 2000)
		return;		/* quadratic; such inputs are not hand-written */
	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (metas[i]->name != NULL && metas[j]->name != NULL &&
			    strcmp(metas[i]->name, metas[j]->name) == 0 &&
			    strcmp(metas[i]->ns, metas[j]->ns) == 0) {
				report(dl, DIAG_WARNING, &metas[i]->pos, "metadata.name", NULL,
				    "%s %s/%s is defined again (first at %s:%d): the "
				    "later one replaces it", kind, metas[i]->ns,
				    metas[i]->name, metas[j]->pos.file, metas[j]->pos.line);
				break;
			}
}

int
spec_validate(struct spec_set *set, struct diag_list *dl)
{
	struct spec_meta **metas;
	size_t i, most = set->n_canaries;

	if (set->n_templates > most)
		most = set->n_templates;
	if (set->n_providers > most)
		most = set->n_providers;
	metas = xcalloc(most + 1, sizeof *metas);
	for (i = 0; i < set->n_canaries; i++)
		metas[i] = &set->canaries[i]->meta;
	check_duplicates(metas, set->n_canaries, "Canary", dl);
	for (i = 0; i < set->n_templates; i++)
		metas[i] = &set->templates[i]->meta;
	check_duplicates(metas, set->n_templates, "MetricTemplate", dl);
	for (i = 0; i < set->n_providers; i++)
		metas[i] = &set->providers[i]->meta;
	check_duplicates(metas, set->n_providers, "AlertProvider", dl);
	free(metas);
	for (i = 0; i < set->n_canaries; i++)
		lint_canary(set, set->canaries[i], dl);
	for (i = 0; i < set->n_templates; i++)
		lint_template(set, set->templates[i], dl);
	set->validated = true;
	return dl->n_errors > 0 ? ST_INVALID : ST_OK;
}
