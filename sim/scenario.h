/*
 * scenario.h — the simulator's scenarios: how a new revision behaves (errors,
 * latency, readiness, traffic) and the demo canary that plays it.
 *
 * Each scenario has a known outcome under the default configuration, which
 * the headless tests assert:
 *   healthy             Succeeded
 *   error-spike         errors rise once the canary has 30% of traffic: rolled back
 *   latency-regression  p99 above the 500 ms bound: rolled back
 *   no-traffic          night-time, zero requests: never promoted, fails
 *                       "no traffic" at its progress deadline (hold policy)
 *   flapping            intermittent bad samples: the threshold decides
 *   slow-start          canary pods are slow to become ready; no failed checks
 *   promotion-failure   the primary's rollout fails during promotion: traffic
 *                       stays on the healthy canary, the canary ends Failed
 *   latency-drift       the p99 doubles against the primary's (about 170 ms
 *                       to 340 ms) but stays under the 500 ms bound: the
 *                       fixed bounds promote it, Succeeded
 *   latency-drift-judged  the same revision, with request-duration compared
 *                       with the primary (perch.dev/compare): High every
 *                       analysis, score 0, rolled back
 * (the last two are not in the demo's default set: `perch demo --scenario
 * latency-drift,latency-drift-judged` shows them side by side)
 *
 * Everything here is constant data and pure functions: any thread.
 */
#ifndef PERCH_SIM_SCENARIO_H
#define PERCH_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/canary.h"

/* X(id, name, app, help): `app` names the demo canary playing it. */
#define SCENARIO_LIST(X) \
	X(HEALTHY,            "healthy",            "checkout", "ends Succeeded") \
	X(ERROR_SPIKE,        "error-spike",        "payments", "errors rise at 30% weight: rolled back") \
	X(LATENCY_REGRESSION, "latency-regression", "search",   "p99 above the bound: rolled back") \
	X(NO_TRAFFIC,         "no-traffic",         "invoices", "zero requests at night: never promoted") \
	X(FLAPPING,           "flapping",           "catalog",  "intermittent bad samples: the threshold decides") \
	X(SLOW_START,         "slow-start",         "cart",     "canary pods take long to be ready") \
	X(PROMOTION_FAILURE,  "promotion-failure",  "shipping", "primary fails its rollout during promotion") \
	X(LATENCY_DRIFT,      "latency-drift",      "lookup",   "p99 doubles under the bound: fixed bounds promote it") \
	X(LATENCY_DRIFT_JUDGED, "latency-drift-judged", "lookup-judged", \
	    "the same, judged against the primary (perch.dev/compare): rolled back")

enum scenario {
#define X(id, name, app, help) SCN_##id,
	SCENARIO_LIST(X)
#undef X
	SCN__COUNT
};

/* Daily traffic shapes. */
enum traffic_profile {
	PROFILE_WEB,		/* busiest mid-afternoon, a quarter of that at 04:00 */
	PROFILE_OFFICE,		/* nothing from midnight to 07:00 local time */
};

/* How a scenario's world behaves.  Probabilities are per request. */
struct scenario_params {
	double peak_rps;		/* requests per second at the busiest hour */
	enum traffic_profile profile;
	int    tz_offset_s;		/* local time = UTC + offset (the day curve) */
	int    replicas;		/* pods per Deployment */
	double base_success;		/* the released version (primary) */
	double base_median_ms;		/* log-normal latency of the released version */
	double sigma;			/* log-normal shape, both versions */
	double canary_success;		/* the new revision */
	double canary_median_ms;
	int    spike_weight;		/* from this canary weight on ... (0: never) */
	double spike_success;		/* ... the new revision succeeds this often */
	int    flap_period_s;		/* bad episodes: length (0: none) */
	double flap_prob;		/* chance that an episode is bad */
	double flap_success;		/* success probability in a bad episode */
	int    canary_ready_s;		/* until every canary pod is ready */
	int    primary_ready_s;		/* until every primary pod is ready */
	bool   primary_fails;		/* the promoted primary never becomes ready */
};

const char *scenario_name(enum scenario s);
const char *scenario_app(enum scenario s);
const char *scenario_help(enum scenario s);
int scenario_from_name(const char *name);	/* -1 when unknown */
const struct scenario_params *scenario_params(enum scenario s);

/* Parses a comma-separated list ("healthy,error-spike") into out[] (at most
 * max entries).  Returns the count, or -1 with a one-line reason in err
 * (naming the unknown word and the known ones). */
int scenario_parse_list(const char *list, enum scenario *out, size_t max, char *err, size_t errsz);

/* A new demo canary configuration playing scenario s: the canonical
 * checkout settings (linkerd, interval 30s, threshold 5, maxWeight 50,
 * stepWeight 10, request-success-rate >= 99, request-duration <= 500 ms,
 * 1m windows), adjusted where the scenario needs it.  `confirm` sets the
 * perch.dev/confirm gates.  The caller owns the result (canary_cfg_free). */
struct canary_cfg *scenario_canary(enum scenario s, const char *ns, const char *name, unsigned confirm);

#endif
