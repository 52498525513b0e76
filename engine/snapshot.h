/*
 * snapshot.h — an immutable picture of every canary, for the UI.
 *
 * The runner builds a new snapshot after each change and publishes it; the UI
 * takes a reference (snapshot_ref), draws from it without any engine lock, and
 * drops it (snapshot_unref).  Nothing in a published snapshot ever changes.
 * All strings are sanitized (safe for the terminal) and owned by the
 * snapshot.  Reference counting is atomic: any thread.
 */
#ifndef PERCH_ENGINE_SNAPSHOT_H
#define PERCH_ENGINE_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/command.h"
#include "engine/compare.h"

struct snap_point {
	int64_t t_ms;
	double value;			/* meaningful for CHECK_PASS / CHECK_FAIL */
	enum check_result result;
};

struct snap_metric {
	char *name;
	enum metric_kind kind;
	char *query;			/* the query sent (built-in rendered), "" */
	bool has_min, has_max;
	double min, max;
	struct snap_point *points;	/* oldest first */
	size_t n_points;
};

struct snap_event {
	int64_t t_ms;
	enum severity severity;
	char *message;
	char *actor;			/* "" unless a manual command */
};

/* Gate / webhook state shown in the detail screen. */
struct snap_hook {
	char *name;
	enum hook_type type;
	enum check_result last;		/* CHECK_PASS, CHECK_FAIL, or CHECK_NODATA = not called yet */
	char *message;
};

struct snap_canary {
	char *ns;
	char *name;
	char *target;
	char *provider;
	char *route;			/* its route object, "TrafficSplit checkout", "" */
	enum strategy strategy;
	enum phase phase;
	int weight;			/* current canary weight (routes) */
	int max_weight;
	int *ladder;			/* the weights the canary will pass, in order */
	size_t n_ladder;
	int step;			/* 1-based position in the ladder, 0 = none yet */
	int iteration, iterations;	/* blue/green and A/B */
	int failed_checks, threshold;
	int interval_s;
	bool paused;
	bool held;			/* last analysis inconclusive (no data / low traffic) */
	enum gate_wait gate;
	bool can_control;		/* this process holds control (not read-only) */
	bool refused;			/* cannot be driven: reason says why */
	bool terminating;		/* its object is deleted and its revert
					 * is not done yet: reason says why */
	char *driven_by;		/* another controller drives it ("Flagger
					 * (flagger-system/flagger)"), "" = perch */
	int64_t phase_since_ms;
	int64_t next_check_ms;		/* 0 when no check is scheduled */
	char *rev_from;			/* what runs on the primary, e.g. "checkout:v1"
					 * (util/fmt.h fmt_revision) */
	char *rev_to;			/* the revision being rolled out */
	char *reason;			/* failure reason or what it waits for; "" */
	struct snap_metric *metrics;
	size_t n_metrics;
	struct snap_hook *hooks;
	size_t n_hooks;
	struct snap_event *events;	/* newest last */
	size_t n_events;
	char *sticky;			/* session affinity: the canary cookie
					 * "name=value" of this run, or "" */
	bool affinity;			/* session affinity is configured */
	int order;			/* the controller's order (snapshot order) */
	int64_t run_since_ms;		/* the current revision's run began: points
					 * and checks before it are of an earlier run */
	enum phase last_phase;		/* how the run before ended (Succeeded,
					 * Failed), PHASE_INITIALIZING = none */
	int64_t last_end_ms;
	char *last_reason;		/* its reason, "" */
	/* What manual commands are judged on (engine/command.h): the front
	 * end's footer, keys and confirmations read them. */
	struct cmd_facts facts;
	char *last_failure;		/* the last failed check of this run, "" */
	int64_t last_failure_ms;
	enum override_kind override;	/* a skipped or forced promotion ... */
	char *override_text;		/* ... in words (override_text()), "" */
	/* The last comparison with the primary (perch.dev/compare);
	 * compare.done false when none ran.  compares: the canary has
	 * compared metrics (the screen keeps a line for them). */
	struct compare_result compare;
	bool compares;
	/* Why the metrics of a canary another controller drives are not
	 * evaluated (runner_config.metrics_off), "" or NULL when they are. */
	char *metrics_note;
};

/* Whether the controller of the canaries shown is alive (perch watch). */
enum ctl_state {
	CTL_SELF,		/* this process controls them (run, demo) */
	CTL_UNKNOWN,		/* no heartbeat known (an older controller) */
	CTL_LIVE,		/* it beats */
	CTL_LOST,		/* it missed HEARTBEAT_MISSED beats: killed, stopped, cut off */
	CTL_STOPPED,		/* it exited cleanly */
};

struct snapshot {
	atomic_int refs;
	uint64_t version;		/* grows with every publish */
	int64_t now_ms;			/* the engine clock when built */
	char *context;			/* "DEMO", or the kube context */
	char *ns;			/* namespace shown in the header, may be "" */
	bool read_only;			/* watch mode, or control held elsewhere */
	char *holder;			/* who holds control when read-only, "" */
	bool api_ok, metrics_ok;	/* backend health for the header (in watch
					 * mode: the live controller's) */
	enum ctl_state ctl;
	int64_t ctl_silent_ms;		/* CTL_LOST, CTL_STOPPED: real ms since its
					 * last beat */
	bool api_degraded;		/* the API answers, but requests had to be
					 * repeated lately: "degraded" */
	bool metrics_degraded;		/* metrics answer, but some queries did not
					 * (slow or failing): "degraded" */
	char *status_msg;		/* answer to the last command, "" */
	char *status_canary;		/* the canary "ns/name" it is about, "" */
	uint64_t status_seq;		/* grows with every new status_msg */
	/* perch run starting (app/startup.h): what it does, or why it could
	 * not start (startup_failed); NULL once the runner runs */
	char *startup;
	bool startup_failed;
	struct snap_canary *canaries;
	size_t n_canaries;
};

/* A new, empty snapshot with one reference. */
struct snapshot *snapshot_new(void);
struct snapshot *snapshot_ref(struct snapshot *s);
/* Drops a reference; frees everything at zero.  NULL is fine. */
void snapshot_unref(struct snapshot *s);

#endif
