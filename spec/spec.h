/*
 * spec.h — Flagger's Canary, MetricTemplate and AlertProvider documents
 * (flagger.app/v1beta1) as perch reads them: loaded from YAML files with
 * libyaml, every field of reference §1 typed with Flagger's defaults
 * applied, validated like Flagger's CRD and controller, and linted for the
 * pitfalls that make canaries lie.
 *
 * Use:
 *   struct diag_list dl;  diag_list_init(&dl, strict);
 *   struct spec_set *set = spec_set_new();
 *   spec_load_file(set, "checkout.yaml", &dl);   (any number of files: a
 *   spec_load_file(set, "templates.yaml", &dl);   Canary finds MetricTemplates
 *   spec_validate(set, &dl);                      and AlertProviders of others)
 *   for (i = 0; i < spec_set_n_canaries(set); i++) c = spec_set_canary(set, i);
 *   spec_set_free(set);  diag_list_fini(&dl);
 *
 * Ownership: the set owns every object, string and node reachable from it;
 * pointers returned by accessors are borrowed and stay valid until
 * spec_set_free().  Loading more files never moves objects already loaded.
 * A set is used by one thread at a time; nothing here has global state, so
 * different sets may be used from different threads at once.
 *
 * Positions: every object carries the position of its mapping and its
 * document root node; spec_field_pos() gives the position of any field by
 * its path, for messages (Flagger's camelCase names, dotted, with [i] for
 * list items: "spec.analysis.metrics[1].thresholdRange.min").
 */
#ifndef PERCH_SPEC_SPEC_H
#define PERCH_SPEC_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/canary.h"
#include "spec/diag.h"

/* Limits of the loader: larger input is a clean error, never an OOM. */
#define SPEC_MAX_FILE_BYTES   (4u << 20)	/* 4 MiB per file */
#define SPEC_MAX_NODES        200000		/* nodes per document, aliases expanded */
#define SPEC_MAX_DEPTH        64		/* nesting of mappings/sequences */

#define SPEC_API_VERSION "flagger.app/v1beta1"
#define SPEC_COMPARE_MAX 4	/* the perch.dev/compare* annotations */

/* ---- the YAML tree (read-only for users) ------------------------------ */

enum spec_node_kind { SPEC_SCALAR, SPEC_MAP, SPEC_SEQ };

struct spec_pos {
	const char *file;	/* owned by the set */
	int line, col;		/* 1-based; 0 when unknown */
};

struct spec_node {
	enum spec_node_kind kind;
	struct spec_pos pos;
	/* SPEC_SCALAR */
	char *value;		/* NUL-terminated (a NUL inside is rejected) */
	bool  quoted;		/* written with quotes or as a block scalar:
				 * always a string, never a number/bool/null */
	/* SPEC_MAP: keys[i] -> items[i]; SPEC_SEQ: items[i] */
	struct spec_node **keys;	/* scalar nodes */
	struct spec_node **items;	/* an alias shares the anchored node */
	size_t n;
	size_t weight;		/* nodes in this subtree, aliases expanded */
};

/* Lookup in a mapping: the value node of `key`, or NULL. */
const struct spec_node *spec_node_get(const struct spec_node *map, const char *key);
/* Follows a dotted path ("spec.analysis.metrics[1].name") from `root`. */
const struct spec_node *spec_node_path(const struct spec_node *root, const char *path);
/* Scalar text, or NULL for a non-scalar or a null (`~`, `null`, empty). */
const char *spec_node_str(const struct spec_node *n);

/* ---- shared pieces ----------------------------------------------------- */

struct spec_kv {		/* a string map entry, in file order */
	char *key;
	char *value;
	struct spec_pos pos;	/* of the key */
};

struct spec_ref {		/* targetRef, autoscalerRef, ingressRef, templateRef, ... */
	bool  set;		/* present in the file */
	char *api_version;	/* NULL when not given */
	char *kind;
	char *name;
	char *ns;		/* `namespace`; NULL = the referring object's */
	struct spec_pos pos;
};

struct spec_meta {
	char *name;
	char *ns;		/* metadata.namespace; "default" when missing */
	char *api_version;	/* as written */
	struct spec_kv *labels;       size_t n_labels;
	struct spec_kv *annotations;  size_t n_annotations;
	struct spec_pos pos;		/* of the document's root mapping */
	const struct spec_node *root;	/* the whole document */
	bool valid;			/* no error was found in this object */
};

/* ---- Canary (reference §1.1) ------------------------------------------- */

struct spec_gateway_ref {	/* service.gatewayRefs[] (ParentReference) */
	char *group;		/* default gateway.networking.k8s.io */
	char *kind;		/* default Gateway */
	char *ns;
	char *name;
	char *section_name;
	int   port;		/* 0 = not given */
	struct spec_pos pos;
};

struct spec_service {
	char *name;		/* default: targetRef.name */
	int   port;
	char *port_name;	/* default "http" */
	char *target_port;	/* int or string as written; default = port */
	char *app_protocol;
	char *traffic_distribution;
	bool  port_discovery, headless, delegation;
	char *timeout, *backend_timeout;
	char **gateways;      size_t n_gateways;	/* Istio; none given = "mesh" */
	char **hosts;         size_t n_hosts;
	struct spec_gateway_ref *gateway_refs;  size_t n_gateway_refs;
	char *mesh_name;
	/* Router-specific objects, passed through as YAML nodes (NULL when
	 * absent): routers convert them to their own API objects. */
	const struct spec_node *traffic_policy, *match, *rewrite, *retries,
	    *headers, *mirror, *cors_policy, *backends, *apex, *primary,
	    *canary, *unmanaged_metadata;
	struct spec_pos pos;
};

struct spec_metric {		/* analysis.metrics[] */
	char *name;
	char *interval;		/* as written; built-ins default to "1m" */
	int   interval_s;	/* parsed; 60 for built-ins without one; 0 = none */
	bool  has_threshold;	/* deprecated `threshold` */
	double threshold;
	bool  has_min, has_max;	/* thresholdRange */
	double min, max;
	char *query;		/* deprecated inline PromQL, or NULL */
	struct spec_ref template_ref;	/* kind MetricTemplate */
	struct spec_kv *template_variables;  size_t n_template_variables;
	enum metric_kind kind;	/* built-in name, or METRIC_CUSTOM */
	struct spec_pos pos;
};

struct spec_webhook {		/* analysis.webhooks[] */
	char *name;
	char *url;
	enum hook_type type;	/* "" and missing are HOOK_ROLLOUT */
	char *timeout;		/* as written, or NULL */
	int   timeout_ms;	/* default 10000 */
	int   retries;
	bool  mute_alert, disable_tls;
	struct spec_kv *metadata;  size_t n_metadata;
	struct spec_pos pos;
};

struct spec_alert {		/* analysis.alerts[] */
	char *name;
	char *severity;		/* "", info, warn, error; default "info" */
	struct spec_ref provider_ref;
	struct spec_pos pos;
};

struct spec_session_affinity {
	bool  set;
	char *cookie_name, *primary_cookie_name, *domain, *path, *same_site;
	bool  http_only, partitioned, secure;
	int   max_age;		/* default 86400 */
	struct spec_pos pos;
};

struct spec_analysis {
	bool  set;		/* analysis (or the deprecated canaryAnalysis) given */
	bool  deprecated_name;	/* it was canaryAnalysis */
	char *interval;		/* as written, or NULL */
	int   interval_s;	/* 60 when unset or unparseable; >= 10 */
	int   threshold;	/* 1 when <= 0 */
	int   max_weight;	/* as written, 0 = unset (see spec_canary.max_weight) */
	int   step_weight;
	int  *step_weights;   size_t n_step_weights;
	int   step_weight_promotion;
	int   iterations;
	bool  has_iterations, has_step_weight, has_step_weights;
	bool  mirror;
	int   mirror_weight;
	int   primary_ready_threshold;	/* default 100 */
	int   canary_ready_threshold;	/* default 100 */
	const struct spec_node *match;	/* A/B match rules, or NULL */
	size_t n_match;
	struct spec_metric  *metrics;   size_t n_metrics;
	struct spec_webhook *webhooks;  size_t n_webhooks;
	struct spec_alert   *alerts;    size_t n_alerts;
	struct spec_session_affinity session_affinity;
	struct spec_pos pos;
};

struct spec_canary {
	struct spec_meta meta;
	char *provider;		/* as written, or NULL (Flagger's global default: istio) */
	char *metrics_server;
	struct spec_ref target_ref;	/* kind Deployment, DaemonSet or Service */
	struct spec_ref autoscaler_ref;
	struct spec_ref ingress_ref;
	struct spec_ref route_ref;
	struct spec_ref upstream_ref;
	struct spec_service service;
	struct spec_analysis analysis;
	int   progress_deadline_s;	/* default 600 */
	bool  skip_analysis;	/* as written, or true when there is no analysis */
	bool  revert_on_deletion;
	bool  suspend;

	/* Derived */
	enum strategy strategy;	/* ab-testing, blue-green or canary (§1.1) */
	int   max_weight;	/* min(100, last step) with stepWeights, else maxWeight or 100 */
	const char *apex;	/* service.name or targetRef.name (borrowed) */

	/* perch extensions: metadata.annotations perch.dev/... */
	enum nodata_policy nodata;	/* perch.dev/no-data-policy, default hold */
	double min_requests;		/* perch.dev/min-requests, 0 = none */
	unsigned confirm;		/* perch.dev/confirm, CONFIRM_* bits */
	int   scrape_interval_s;	/* perch.dev/scrape-interval, default 15 */
	char **lint_ignore;  size_t n_lint_ignore;	/* perch.dev/lint-ignore */
	/* perch.dev/compare* (engine/judge.h), each checked, in file order */
	struct spec_kv compare[SPEC_COMPARE_MAX];  size_t n_compare;
};

/* ---- MetricTemplate (reference §1.2) ---------------------------------- */

struct spec_metric_template {
	struct spec_meta meta;
	char *provider_type;	/* prometheus, datadog, ...; default prometheus */
	char *address;		/* NULL when not given */
	struct spec_kv *headers;  size_t n_headers;	/* one entry per value */
	char *secret_ref;	/* secretRef.name, or NULL */
	char *region;
	bool  insecure_skip_verify;
	char *query;		/* Go text/template source */
	char *volume_query;	/* annotation perch.dev/volume-query, or NULL */
	char **lint_ignore;  size_t n_lint_ignore;	/* perch.dev/lint-ignore */
};

/* ---- AlertProvider (reference §1.3) ----------------------------------- */

struct spec_alert_provider {
	struct spec_meta meta;
	char *type;		/* slack, msteams, discord, rocket, gchat */
	char *channel;		/* default "general" */
	char *username;		/* default "flagger" */
	char *address;		/* never printed: it may hold a token */
	char *proxy;
	char *secret_ref;
};

/* ---- loading and validation ------------------------------------------- */

struct spec_set;

struct spec_set *spec_set_new(void);
void spec_set_free(struct spec_set *set);

/* Loads every Canary, MetricTemplate and AlertProvider document of a file
 * (other kinds are skipped) and checks each object on its own; problems go
 * to `dl` with positions.  Returns ST_OK (even when objects have errors:
 * see dl and spec_meta.valid), ST_IO (cannot read), ST_TOOBIG, or ST_PARSE
 * (not readable as YAML: syntax, binary data, an alias bomb, an empty file;
 * documents before the error are kept). */
int spec_load_file(struct spec_set *set, const char *path, struct diag_list *dl);
/* The same for data in memory; `name` is used in messages. */
int spec_load_buffer(struct spec_set *set, const char *name, const char *data,
    size_t len, struct diag_list *dl);

/* Validates every loaded object like Flagger's CRD and controller, resolves
 * templateRef / providerRef among the loaded objects, and runs the lints.
 * Returns ST_OK when no error was found (warnings allowed), else ST_INVALID.
 * Call once, after the last load. */
int spec_validate(struct spec_set *set, struct diag_list *dl);
/* What `perch validate` and `perch run` add to spec_validate: an error for
 * each Canary whose provider `perch run` cannot drive (engine/routers.h);
 * `perch check` evaluates their metrics all the same. */
void spec_check_drivable(const struct spec_set *set, struct diag_list *dl);

size_t spec_set_n_canaries(const struct spec_set *set);
const struct spec_canary *spec_set_canary(const struct spec_set *set, size_t i);
size_t spec_set_n_templates(const struct spec_set *set);
const struct spec_metric_template *spec_set_template(const struct spec_set *set, size_t i);
size_t spec_set_n_alert_providers(const struct spec_set *set);
const struct spec_alert_provider *spec_set_alert_provider(const struct spec_set *set, size_t i);

/* The MetricTemplate a metric refers to (namespace defaulting to the
 * canary's), or NULL. */
const struct spec_metric_template *spec_find_template(const struct spec_set *set,
    const struct spec_canary *c, const struct spec_metric *m);

/* Position of a field of an object's document ("spec.analysis.stepWeight");
 * the nearest existing parent's position when the field is missing. */
struct spec_pos spec_field_pos(const struct spec_meta *meta, const char *path);

/* ---- helpers ------------------------------------------------------------ */

/* A Flagger duration: must match ^[0-9]+(m|s) (the CRD pattern, start
 * anchored only) and parse as a Go duration ("1m30s", "500ms", "1m").
 * Stores whole milliseconds; returns ST_OK or ST_INVALID. */
int spec_parse_duration_ms(const char *s, long long *ms);

/* The scrape interval a Canary without perch.dev/scrape-interval assumes. */
#define SPEC_SCRAPE_INTERVAL_DEFAULT_S 15

/* The lints (perch-canary(5), `perch validate --list-lints`): id and summary. */
#define SPEC_LINT_LIST(X) \
	X(BIG_STEP,        "big-step",        "a traffic step of 50% or more: that is not a canary") \
	X(MAX_BELOW_STEP,  "max-below-step",  "maxWeight is below stepWeight") \
	X(NO_ISOLATION,    "no-isolation",    "a query that does not isolate the canary's traffic") \
	X(NO_GUARD,        "no-guard",        "no minimum-traffic guard") \
	X(SHORT_WINDOW,    "short-window",    "a metric window shorter than four scrape intervals") \
	X(THRESHOLD_ONE,   "threshold-one",   "threshold 1 with a long ladder: one bad sample fails the release") \
	X(MATCH_NO_ITER,   "match-without-iterations", "analysis.match without iterations is ignored") \
	X(DEPRECATED,      "deprecated",      "a deprecated field (canaryAnalysis, metric threshold, inline query)")

enum spec_lint {
#define X(id, name, summary) SPEC_LINT_##id,
	SPEC_LINT_LIST(X)
#undef X
	SPEC_LINT__COUNT
};

const char *spec_lint_name(enum spec_lint l);
const char *spec_lint_summary(enum spec_lint l);

#endif
