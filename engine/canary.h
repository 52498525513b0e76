/*
 * canary.h — the engine's view of one canary: its configuration (what the
 * spec says, already validated and defaulted), its durable status, and the
 * enumerations every layer shares (phases, strategies, webhook types,
 * commands, check results, event severities).
 *
 * spec/ produces a validated Canary document; app/ turns it into a struct
 * canary_cfg (the engine never includes spec/).  Every string in a
 * canary_cfg is owned by it and freed by canary_cfg_free().
 */
#ifndef PERCH_ENGINE_CANARY_H
#define PERCH_ENGINE_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/judge.h"

/* Phases of Flagger (reference §1.1 status), in lifecycle order; the
 * last one is written while a deleted canary's revert runs (its status
 * message says why it waits) and is never a rollout's. */
#define PHASE_LIST(X) \
	X(INITIALIZING,      "Initializing") \
	X(INITIALIZED,       "Initialized") \
	X(WAITING,           "Waiting") \
	X(PROGRESSING,       "Progressing") \
	X(WAITING_PROMOTION, "WaitingPromotion") \
	X(PROMOTING,         "Promoting") \
	X(FINALISING,        "Finalising") \
	X(SUCCEEDED,         "Succeeded") \
	X(FAILED,            "Failed") \
	X(TERMINATING,       "Terminating")

enum phase {
#define X(id, text) PHASE_##id,
	PHASE_LIST(X)
#undef X
	PHASE__COUNT
};

#define STRATEGY_LIST(X) \
	X(CANARY,     "canary") \
	X(BLUEGREEN,  "blue-green") \
	X(ABTESTING,  "ab-testing")

enum strategy {
#define X(id, text) STRATEGY_##id,
	STRATEGY_LIST(X)
#undef X
	STRATEGY__COUNT
};

/* Webhook types (reference §5.1); "" in YAML is HOOK_ROLLOUT. */
#define HOOK_TYPE_LIST(X) \
	X(ROLLOUT,                  "rollout") \
	X(CONFIRM_ROLLOUT,          "confirm-rollout") \
	X(PRE_ROLLOUT,              "pre-rollout") \
	X(CONFIRM_TRAFFIC_INCREASE, "confirm-traffic-increase") \
	X(CONFIRM_PROMOTION,        "confirm-promotion") \
	X(POST_ROLLOUT,             "post-rollout") \
	X(ROLLBACK,                 "rollback") \
	X(EVENT,                    "event")

enum hook_type {
#define X(id, text) HOOK_##id,
	HOOK_TYPE_LIST(X)
#undef X
	HOOK__COUNT
};

/* What a metric measures.  Built-ins are Flagger's two names (§3.1). */
#define METRIC_KIND_LIST(X) \
	X(SUCCESS_RATE, "request-success-rate", "%") \
	X(DURATION,     "request-duration",     "ms") \
	X(CUSTOM,       "custom",               "")

enum metric_kind {
#define X(id, text, unit) METRIC_##id,
	METRIC_KIND_LIST(X)
#undef X
	METRIC__COUNT
};

/* perch.dev/no-data-policy (DESIGN.md §5). */
#define NODATA_POLICY_LIST(X) \
	X(HOLD, "hold") \
	X(FAIL, "fail") \
	X(PASS, "pass")

enum nodata_policy {
#define X(id, text) NODATA_##id,
	NODATA_POLICY_LIST(X)
#undef X
	NODATA__COUNT
};

/* Result of one metric check or one analysis step. */
#define CHECK_RESULT_LIST(X) \
	X(PASS,   "pass") \
	X(FAIL,   "fail") \
	X(NODATA, "nodata") \
	X(ERROR,  "error")

enum check_result {
#define X(id, text) CHECK_##id,
	CHECK_RESULT_LIST(X)
#undef X
	CHECK__COUNT
};

/* Event severities: Kubernetes' Normal/Warning, plus perch's own Info for
 * manual commands and Error for infrastructure trouble. */
#define SEVERITY_LIST(X) \
	X(NORMAL,  "Normal") \
	X(WARNING, "Warning") \
	X(ERROR,   "Error")

enum severity {
#define X(id, text) SEV_##id,
	SEVERITY_LIST(X)
#undef X
	SEV__COUNT
};

/* What must hold for a manual command (engine/command.h judges them, in
 * this order, against a struct cmd_facts; the first that fails is the
 * reason of the refusal). */
#define PRECOND_LIST(X) \
	X(CONTROL,        "this process controls the canary") \
	X(PHASE,          "the canary is in a phase the command applies to") \
	X(NOT_PAUSED,     "the canary is not paused") \
	X(PAUSED,         "the canary is paused") \
	X(NO_SKIP,        "no skip of the analysis is pending") \
	X(MANUAL_GATE,    "a manual gate waits for approval") \
	X(FAILED_REV,     "the target still runs the failed revision") \
	X(PRE_ROLLOUT,    "the pre-rollout webhooks have run") \
	X(TRAFFIC_GATE,   "no confirm-traffic-increase webhook holds the weight") \
	X(PROMOTION_GATE, "a step never passes a promotion gate") \
	X(PRIMARY_READY,  "the primary's pods are ready") \
	X(CANARY_READY,   "the canary's pods are ready")

enum precond {
#define X(id, text) PRE_##id,
	PRECOND_LIST(X)
#undef X
	PRE__COUNT
};

#define PH(p)  (1u << PHASE_##p)
#define PRE(p) (1u << PRE_##p)

/* Manual commands (DESIGN.md §5): X(id, name, help, phases it applies in,
 * preconditions beyond the phase, asks y/N first).  Each is recorded as an
 * event naming who gave it; one whose preconditions do not hold is refused
 * whole, with the reason (engine/command.h).  The engine checks this table
 * before it acts, the front end's footer shows only the keys it allows, and
 * its confirmations ask for the commands marked so. */
#define COMMAND_LIST(X) \
	X(PROMOTE_STEP, "promote-step", "promote one step now", PH(PROGRESSING), \
	    PRE(CONTROL) | PRE(PRE_ROLLOUT) | PRE(TRAFFIC_GATE) | PRE(PROMOTION_GATE) | \
	    PRE(PRIMARY_READY) | PRE(CANARY_READY), false) \
	X(PROMOTE_FULL, "promote-full", "skip the remaining steps and analysis, promote now", \
	    PH(PROGRESSING) | PH(WAITING_PROMOTION), \
	    PRE(CONTROL) | PRE(PRIMARY_READY) | PRE(CANARY_READY), true) \
	X(PAUSE,        "pause",        "hold the current weight (analysis keeps running)", \
	    PH(PROGRESSING) | PH(WAITING_PROMOTION), PRE(CONTROL) | PRE(NOT_PAUSED), false) \
	X(RESUME,       "resume",       "resume a paused canary", \
	    PH(PROGRESSING) | PH(WAITING_PROMOTION), PRE(CONTROL) | PRE(PAUSED), false) \
	X(ROLLBACK,     "rollback",     "roll back now", \
	    PH(WAITING) | PH(PROGRESSING) | PH(WAITING_PROMOTION), PRE(CONTROL), true) \
	X(RETRY,        "retry",        "retry the failed revision", \
	    PH(FAILED), PRE(CONTROL) | PRE(FAILED_REV), false) \
	X(SKIP,         "skip-analysis","skip analysis and promote when ready", \
	    PH(WAITING) | PH(PROGRESSING) | PH(WAITING_PROMOTION), PRE(CONTROL) | PRE(NO_SKIP), true) \
	X(APPROVE,      "approve",      "approve the gate the canary waits at", \
	    PH(WAITING) | PH(WAITING_PROMOTION), PRE(CONTROL) | PRE(MANUAL_GATE), true)

enum command_kind {
#define X(id, text, help, phases, pre, asks) CMD_##id,
	COMMAND_LIST(X)
#undef X
	CMD__COUNT
};

/* How a promotion bypassed the analysis, kept in the status until the next
 * run starts, so that a skipped or forced promotion stays visible. */
#define OVERRIDE_LIST(X) \
	X(NONE,    "") \
	X(SKIPPED, "skipped") \
	X(FORCED,  "forced")

enum override_kind {
#define X(id, text) OVR_##id,
	OVERRIDE_LIST(X)
#undef X
	OVR__COUNT
};

/* Alert severities (reference §6.1): of a message, and of an
 * analysis.alerts entry (which messages it receives: info all, warn warn
 * and error, error only error). */
#define ALERT_SEVERITY_LIST(X) \
	X(INFO,  "info") \
	X(WARN,  "warn") \
	X(ERROR, "error")

enum alert_severity {
#define X(id, text) ALERT_##id,
	ALERT_SEVERITY_LIST(X)
#undef X
	ALERT__COUNT
};

/* What a canary waits for (the status and the snapshot). */
enum gate_wait {
	GATE_NONE,
	GATE_ROLLOUT,		/* Waiting: a new revision waits for approval */
	GATE_PROMOTION,		/* WaitingPromotion: at max weight, waits for approval */
	GATE_TRAFFIC,		/* confirm-traffic-increase hook said no */
};

/* perch.dev/confirm gates (bits). */
enum {
	CONFIRM_ROLLOUT   = 1 << 0,
	CONFIRM_PROMOTION = 1 << 1,
};

struct kv {
	char *key;
	char *value;
};

struct hook_cfg {
	char           *name;
	char           *url;
	enum hook_type  type;
	int             timeout_ms;	/* default 10000 */
	int             retries;	/* default 0 */
	bool            mute_alert;
	bool            disable_tls;
	struct kv      *metadata;	/* the hook's metadata map, in file order */
	size_t          n_metadata;
};

struct metric_cfg {
	char             *name;		/* metrics[].name */
	enum metric_kind  kind;
	int               interval_s;	/* window; built-ins default to 60 */
	char             *interval;	/* as written ("1m"); for templates */
	bool              has_min, has_max;
	double            min, max;	/* thresholdRange (ms for request-duration) */
	/* Rendered queries for a Prometheus-like provider.  NULL when the
	 * provider derives the measurement itself (the simulator). */
	char             *query;
	char             *volume_query;	/* request volume over the window, or NULL */
	char             *server;	/* metrics server address; NULL = default */
	/* The provider block's key (type, address, secretRef, region, ...:
	 * struct metric_provider.block), or NULL: the block of server. */
	char             *block;
	char             *provider;	/* MetricTemplate spec.provider.type; NULL = prometheus */
	char             *template_ref;	/* "ns/name" of the MetricTemplate, or NULL */
	/* The query aimed at the primary (the target and service names with
	 * -primary), for the comparison judge; NULL when the metric is not
	 * compared (cfg->judge) or the provider derives it (the simulator). */
	char             *primary_query;
};

/* spec.analysis.sessionAffinity (reference §1.1, §4.3, §4.4): sticky
 * sessions through a cookie, on the Istio and Gateway API routers only. */
struct affinity_cfg {
	char   *cookie_name;		/* cookieName (required) */
	char   *primary_cookie_name;	/* primaryCookieName, or NULL */
	char   *domain, *path;		/* cookie attributes, or NULL */
	char   *same_site;		/* Strict, Lax, None, or NULL */
	bool    http_only, partitioned, secure;
	int     max_age;		/* seconds, default 86400 */
};

/* "name=value" of an affinity cookie: names are at most 64 characters
 * (spec/validate.c), values 10 letters. */
#define AFFINITY_COOKIE_MAX 96
#define AFFINITY_VALUE_LEN  10

/* One analysis.alerts entry.  The provider's address, token and proxy are
 * not here (they are secrets): the alert backend resolves `provider_ns` /
 * `provider` itself (metrics/notify.h). */
struct alert_cfg {
	char                *name;
	enum alert_severity  severity;	/* "" in the file is info (perch-canary(5)) */
	char                *provider_ns;	/* providerRef.namespace; NULL: the canary's */
	char                *provider;	/* providerRef.name */
};

struct canary_cfg {
	char   *ns;
	char   *name;
	char   *target;		/* spec.targetRef.name */
	char   *target_kind;	/* "Deployment" */
	char   *target_api;	/* spec.targetRef.apiVersion, e.g. "apps/v1"; may be NULL */
	char   *service;	/* apex service name (spec.service.name or target) */
	char   *provider;	/* spec.provider, e.g. "linkerd" */
	int     port;

	enum strategy strategy;
	int     interval_s;	/* >= 10 */
	int     threshold;	/* >= 1 */
	int     max_weight;	/* 100 when unset; min(100, last step) with stepWeights */
	int     step_weight;
	int    *step_weights;
	size_t  n_step_weights;
	int     step_weight_promotion;
	int     iterations;
	bool    mirror;
	int     mirror_weight;
	int     primary_ready_threshold;	/* percent, default 100 */
	int     canary_ready_threshold;
	int     progress_deadline_s;		/* default 600 */
	bool    skip_analysis;
	bool    suspend;
	/* spec.revertOnDeletion: on deletion the target and the routes are
	 * given back before the Canary goes (reference §2.10) */
	bool    revert_on_deletion;

	struct metric_cfg *metrics;
	size_t             n_metrics;
	struct hook_cfg   *hooks;
	size_t             n_hooks;

	/* perch extensions (metadata.annotations perch.dev/...) */
	enum nodata_policy nodata;	/* default NODATA_HOLD */
	double  min_requests;		/* requests per window; 0 = no guard */
	unsigned confirm;		/* CONFIRM_* bits */
	/* perch.dev/compare*: the metrics judged against the primary
	 * (engine/judge.h); judge.n_metrics 0 = no comparison. */
	struct judge_config judge;

	struct affinity_cfg *affinity;	/* session affinity, or NULL (off) */
	struct alert_cfg  *alerts;	/* analysis.alerts, in file order */
	size_t             n_alerts;

	/* Where the canary is listed: the order the controller was given its
	 * canaries in (files, then the cluster).  Set by the runner and saved
	 * with the spec, so a watcher lists them in the same order. */
	int     order;
	/* Another controller drives this canary ("Flagger (flagger-system/
	 * flagger)"): perch shows it from the status and events that
	 * controller publishes (cluster_ops.external), never ticks it, never
	 * takes its lock and writes nothing for it.  NULL: perch drives it. */
	char   *driven_by;
};

/* The durable status of one canary: everything the engine needs to resume
 * after a restart.  Plain data (fixed-size strings), copied by value. */
struct canary_status {
	enum phase phase;
	int     canary_weight;
	int     failed_checks;
	int     iterations;
	bool    mirrored;
	bool    paused;			/* manual pause: weight held */
	bool    skip_requested;		/* manual skip-analysis */
	unsigned approved;		/* CONFIRM_* gates approved for this revision */
	char    last_applied[72];	/* revision id being rolled out */
	char    last_promoted[72];	/* revision id last promoted */
	char    failed_revision[72];	/* revision that last failed (for retry) */
	int64_t last_transition_ms;	/* any status write (as Flagger) */
	int64_t phase_since_ms;		/* last phase change */
	int64_t hold_since_ms;		/* start of the current inconclusive run, 0 = none */
	int64_t wait_since_ms;		/* start of the current readiness wait, 0 = none */
	int64_t next_tick_ms;		/* when the next tick is due */
	uint64_t seq;			/* bumped on every status write */
	char    reason[256];		/* why it failed / what it waits for; sanitized */
	/* Session affinity cookies, "name=value" or "" (Flagger's status
	 * sessionAffinityCookie, primarySessionAffinityCookie,
	 * previousSessionAffinityCookie): made when a run first sends traffic
	 * to the canary, kept for the run, and at its end (canary weight 0)
	 * the canary cookie becomes the previous one, which the routers
	 * expire, and the primary cookie is dropped. */
	char    affinity_cookie[AFFINITY_COOKIE_MAX];
	char    primary_affinity_cookie[AFFINITY_COOKIE_MAX];
	char    previous_affinity_cookie[AFFINITY_COOKIE_MAX];

	/* For people (the screens of the controller and of its watchers are
	 * filled from these, not from the controller's memory): */
	bool    held;			/* the last analysis was inconclusive and held */
	enum gate_wait gate;		/* what it waits for */
	char    applied_name[96];	/* the image of last_applied ("cart:v2"), or "" */
	char    promoted_name[96];	/* the image of last_promoted, or "" */
	int64_t run_since_ms;		/* the current revision's run began (its checks
					 * are the ones after it), 0 = never */
	enum phase last_phase;		/* how the run before ended: Succeeded or Failed;
					 * PHASE_INITIALIZING = none */
	int64_t last_end_ms;		/* when */
	char    last_reason[256];	/* its reason, sanitized */
	/* The last failed check of this run (metric, value and bound, or the
	 * webhook's answer; sanitized) and when; "" / 0 when none failed.
	 * Cleared when a run starts, kept after it ends. */
	char    last_failure[256];
	int64_t last_failure_ms;
	/* A skipped (skip-analysis) or forced (promote-full) promotion of this
	 * run: by whom, when, and how many checks had failed of how many
	 * allowed.  OVR_NONE otherwise; cleared when a run starts and by a
	 * rollback (nothing was promoted). */
	enum override_kind override;
	char    override_by[96];
	int64_t override_ms;
	int     override_failed;
	int     override_threshold;
};

void canary_cfg_free(struct canary_cfg *cfg);
/* Removes metric i of c (its strings freed, the later ones moved up). */
void canary_cfg_drop_metric(struct canary_cfg *c, size_t i);
const char *phase_name(enum phase p);
int  phase_from_name(const char *s);	/* -1 when unknown */
const char *strategy_name(enum strategy s);
const char *hook_type_name(enum hook_type t);
int  hook_type_from_name(const char *s);	/* "" is HOOK_ROLLOUT; -1 unknown */
const char *metric_kind_name(enum metric_kind k);
const char *metric_kind_unit(enum metric_kind k);
const char *nodata_policy_name(enum nodata_policy p);
int  nodata_policy_from_name(const char *s);
const char *check_result_name(enum check_result r);
const char *severity_name(enum severity s);
const char *alert_severity_name(enum alert_severity s);
int  alert_severity_from_name(const char *s);	/* "" is info; -1 unknown */
const char *override_name(enum override_kind o);
int  override_from_name(const char *s);	/* -1 when unknown */
const char *command_name(enum command_kind c);
const char *command_help(enum command_kind c);
int  command_from_name(const char *s);
bool phase_is_terminal(enum phase p);	/* Succeeded or Failed */

#endif
