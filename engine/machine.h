/*
 * machine.h — one canary's rollout state machine, as pure functions.
 *
 * machine_tick() runs one tick of Flagger's advanceCanary (reference §2.3)
 * with perch's differences (DESIGN.md §5): it reads the configuration, the
 * durable status, the observations gathered so far and the time, and writes
 * the new status, the actions to execute, the events and the check results.
 * It never reads the clock, sleeps or does I/O.
 *
 * Observations are asked for, not pushed: when the tick reaches a point
 * where it needs something of the world it has not got yet (the target's
 * revision, a readiness, the answers of the hooks of one type, the metric
 * values), it returns that need; the caller gathers it into `struct obs`
 * and calls machine_tick() again with the same input.  The tick is
 * deterministic, so it replays to the same point and goes on.  This way
 * the runner only gathers what the tick order actually reaches (no metric
 * query on a tick that waits for readiness, no promotion hook before the
 * last step).
 *
 * machine_command() applies one manual command (promote, pause, ...): it is
 * done whole, with its events and actions, or refused with a reason and no
 * change at all.
 *
 * Ownership: every pointer in the input is borrowed for the call; the output
 * is plain data written into the caller's struct.  Thread: any (pure).
 */
#ifndef PERCH_ENGINE_MACHINE_H
#define PERCH_ENGINE_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/command.h"
#include "engine/compare.h"
#include "engine/providers.h"
#include "engine/snapshot.h"

/* What a tick can ask for.  NEED_NONE: the tick is complete. */
#define NEED_LIST(X) \
	X(NONE,     "none") \
	X(INIT,     "initialize") \
	X(REVISION, "revision") \
	X(PRIMARY,  "primary readiness") \
	X(CANARY,   "canary readiness") \
	X(HOOKS,    "webhooks") \
	X(METRICS,  "metrics") \
	X(PROVIDERS, "metrics providers")

enum need {
#define X(id, text) NEED_##id,
	NEED_LIST(X)
#undef X
	NEED__COUNT
};

const char *need_name(enum need n);

/* One hook's answer, indexed like cfg->hooks. */
struct hook_obs {
	bool called;
	struct hook_result r;
};

/* The observations of one tick.  The caller owns the arrays (sized with
 * obs_init for the largest canary) and resets them with obs_reset before
 * each tick. */
struct obs {
	unsigned have;			/* 1u << NEED_* gathered */
	unsigned hooks_have;		/* 1u << HOOK_* gathered */
	int init_status;		/* cluster->initialize */
	char init_err[ERRMSG_MAX];
	/* With init_status ST_OK: the revision the primary was made from
	 * (cluster->primary_revision), id "" when unknown. */
	struct revision init_rev;
	int providers_status;		/* metrics->check; ST_UNSUPPORTED: no probe */
	char providers_err[ERRMSG_MAX];
	int rev_status;			/* cluster->revision */
	char rev_err[ERRMSG_MAX];
	struct revision rev;
	struct readiness primary, canary;
	struct hook_obs *hooks;		/* cfg->n_hooks entries */
	struct metric_value *values;	/* cfg->n_metrics entries */
	struct metric_value *volumes;	/* cfg->n_metrics entries */
	bool *has_volume;		/* a volume was asked for metric i */
	size_t cap_hooks, cap_metrics;
	/* With NEED_METRICS, for a canary with compared metrics
	 * (perch.dev/compare): the comparison with the primary (done set). */
	struct compare_result compare;
};

void obs_init(struct obs *o);
/* Makes room for a canary with these counts and forgets everything. */
void obs_reset(struct obs *o, size_t n_hooks, size_t n_metrics);
void obs_fini(struct obs *o);
/* Copies src (of a canary with these counts) into dst, growing dst. */
void obs_copy(struct obs *dst, const struct obs *src, size_t n_hooks, size_t n_metrics);

/* Whether the volume guard applies to metric m (cfg->min_requests > 0 and
 * a volume can be measured for it). */
bool machine_wants_volume(const struct canary_cfg *c, const struct metric_cfg *m);

/* What the caller must do after the status is saved (runner.c). */
enum action_kind {
	ACT_SET_ROUTES,		/* routes: absolute weights */
	ACT_SCALE_UP,
	ACT_SCALE_DOWN,
	ACT_PROMOTE,		/* copy the target to the primary (guarded, runner.c) */
	ACT_POST_HOOKS,		/* post-rollout hooks with hook_phase */
};

struct action {
	enum action_kind kind;
	struct routes routes;
	enum phase hook_phase;
};

#define MACH_MAX_ACTIONS 8
#define MACH_MAX_EVENTS  24
#define MACH_MAX_CHECKS  32
#define MACH_MSG_MAX     384

struct mach_event {
	enum severity sev;
	char reason[48];		/* "Synced" (Flagger), "Command", "Refused" */
	char message[MACH_MSG_MAX];
	char actor[96];			/* "" unless a manual command */
};

struct mach_check {
	size_t metric;			/* index in cfg->metrics */
	enum check_result result;
	bool has_value;
	double value;
	bool has_volume;		/* the request volume the guard measured */
	double volume;
};

/* The checks of c's metrics (out[i] for metric i, at most max) judged
 * from ob's values and volumes (NEED_METRICS) as a tick judges them,
 * without a tick: for a canary another controller drives, whose metrics
 * perch only shows.  Returns how many were filled. */
size_t machine_judge_checks(const struct canary_cfg *c, const struct obs *ob,
    struct mach_check *out, size_t max);

/* An alert (reference §6.1): sent to the canary's analysis.alerts entries
 * whose severity wants it (machine_alert_wanted), with the metadata fields
 * of machine_alert_fields when `metadata` is set. */
#define MACH_MAX_ALERTS 4

struct mach_alert {
	enum alert_severity sev;
	bool metadata;
	char message[MACH_MSG_MAX];
};

struct tick_in {
	const struct canary_cfg *cfg;
	const struct canary_status *st;
	const struct obs *obs;		/* may be NULL for machine_command */
	int64_t now_ms;
	unsigned confirm;		/* runner-wide CONFIRM_* gates, or'ed with cfg->confirm */
	/* Randomness passed in (the engine draws none): the seed of a session
	 * affinity cookie made in this tick.  The same input gives the same
	 * cookie, so a replayed tick makes the same one. */
	uint64_t entropy;
	/* machine_command: what its preconditions are judged on (the
	 * runner's, with who controls the canary, the gates it saw and fresh
	 * readiness; machine_facts builds them).  NULL: machine_facts of this
	 * input (its obs readiness and revision when gathered). */
	const struct cmd_facts *facts;
};

struct tick_out {
	enum need need;			/* NEED_NONE: complete */
	enum hook_type need_hook;	/* with NEED_HOOKS */
	struct canary_status st;	/* the new status */
	struct action acts[MACH_MAX_ACTIONS];
	size_t n_acts;
	struct mach_event ev[MACH_MAX_EVENTS];
	size_t n_ev;
	struct mach_check checks[MACH_MAX_CHECKS];
	size_t n_checks;
	/* The comparison with the primary of this analysis (compare.done),
	 * for the journal and the screens. */
	struct compare_result compare;
	/* For the snapshot (not durable). */
	bool analysed;			/* metrics were evaluated this tick */
	bool held;			/* the analysis was inconclusive and held */
	enum gate_wait gate;		/* what it waits for */
	/* machine_command only. */
	bool refused;
	bool tick_now;			/* run a tick at once after the command */
	char answer[512];		/* the reply shown to the user */
	/* Alerts to send (after the events). */
	struct mach_alert alerts[MACH_MAX_ALERTS];
	size_t n_alerts;
};

/* Runs the tick as far as the observations allow; returns out->need. */
enum need machine_tick(const struct tick_in *in, struct tick_out *out);

/* Applies a manual command.  in->obs may be NULL; when it holds the
 * target's revision (NEED_REVISION), a retry is refused if the target no
 * longer runs the failed revision. */
void machine_command(const struct tick_in *in, enum command_kind cmd, const char *actor,
    struct tick_out *out);

/* The facts a manual command is judged on (engine/command.h), from the
 * configuration, the status, the gates in effect (confirm: the runner-wide
 * CONFIRM_* bits, or'ed with c->confirm) and what was observed: the
 * readiness of the primary and the canary (NULL: unknown) and the target's
 * revision (NULL or "": unknown).  Control is assumed (control true); the
 * caller clears it, and sets traffic_gate when the last tick stopped at a
 * confirm-traffic-increase webhook. */
void machine_facts(const struct canary_cfg *c, const struct canary_status *st, unsigned confirm,
    const struct readiness *primary, const struct readiness *canary, const char *target_rev,
    struct cmd_facts *f);

/* The new status of a canary seen for the first time. */
void machine_status_init(struct canary_status *st, int64_t now_ms);

/* The strategy and iterations in effect: the kubernetes provider forces
 * blue/green, with 10 iterations when none are set (reference §1.1). */
enum strategy machine_strategy(const struct canary_cfg *c);
int machine_iterations(const struct canary_cfg *c);

/* Whether the engine may drive c: ST_OK, or ST_INVALID with why (one
 * line) for what `perch validate` refuses — a weight out of range or
 * steps that do not ascend, a threshold or iterations below 1, a bound
 * that is not finite — so a configuration that skipped validation (from
 * the cluster, a saved spec) is refused, never driven out of range. */
int machine_check_cfg(const struct canary_cfg *c, char *why, size_t n);

/* Weight math (reference §2.7); machine_max_weight is within 1..100. */
int machine_max_weight(const struct canary_cfg *c);
int machine_next_step(const struct canary_cfg *c, int weight);
/* The weights a canary strategy passes, in order (not clamped: maxWeight 50
 * with stepWeight 20 gives 20, 40, 60).  Writes at most cap; returns the
 * count.  Blue/green and A/B have no ladder (0). */
size_t machine_ladder(const struct canary_cfg *c, int *out, size_t cap);

/* The routes a status implies (for re-applying them after a restart),
 * with its session affinity cookies. */
struct routes machine_routes(const struct canary_status *st);
/* Whether the target runs (is scaled up) in this status: during a run, and
 * after a failed promotion (traffic stays on the canary). */
bool machine_scaled_up(const struct canary_status *st);
/* Whether a promotion was decided (saved) but not yet confirmed done: the
 * runner (re)issues ACT_PROMOTE and then sets last_promoted. */
bool machine_promote_pending(const struct canary_status *st);

/* What the runner does when a canary's object is being deleted (reference
 * §2.2 step 2, §2.10), from spec.revertOnDeletion and whether the object
 * still holds perch's finalizer (it is kept, marked for deletion, until the
 * finalizer is removed):
 *   DEL_LET_GO   nothing to do: control is given back (no finalizer)
 *   DEL_REVERT   the target scaled up and the routes given back to it, then
 *                the finalizer removed (the object goes)
 *   DEL_RELEASE  the finalizer removed without a revert: revertOnDeletion
 *                was turned off after it was added
 * A canary another controller drives is always let go (that controller
 * holds its own finalizer). */
enum deletion { DEL_LET_GO, DEL_REVERT, DEL_RELEASE };
enum deletion machine_on_deletion(const struct canary_cfg *c, bool finalizer);
/* How long the runner waits before try number `tries` + 1 of a deleted
 * canary's finalisation, after `tries` tries that did not finish it (the
 * target not ready yet, or a call failed): Flagger's wait for the target
 * (reference §2.10: 3 s, doubled each time, capped at the analysis
 * interval), kept up until the finalisation is done or the object is
 * gone instead of Flagger's 4 tries. */
#define FINALIZE_BACKOFF_MS 3000
int64_t machine_finalize_backoff(const struct canary_cfg *c, int tries);
/* st as a deleted canary's revert leaves it (Flagger's
 * SetStatusPhase(Terminating), reference §2.10): phase Terminating,
 * canaryWeight and iterations 0, `why` (what the revert does or waits
 * for) as its reason; the times and seq moved on.  A saved status found
 * in phase Terminating (the object created again) starts over as a new
 * one: machine_tick initializes it. */
void machine_terminating(struct canary_status *st, int64_t now_ms, const char *why);

/* Events about post-rollout hook answers (reference §5.1), written into
 * out->ev; used by the runner after it calls them. */
void machine_post_hook_events(const struct canary_cfg *c, const struct hook_obs *h,
    struct tick_out *out);

/* AFFINITY_VALUE_LEN letters (a-z, A-Z) derived from seed, NUL-terminated:
 * the value of a session affinity cookie. */
void machine_cookie_value(uint64_t seed, char out[AFFINITY_VALUE_LEN + 1]);

/* Whether an analysis.alerts entry of severity `entry` receives an alert
 * of severity `sev`: info receives everything, warn warn and error, error
 * only error. */
bool machine_alert_wanted(enum alert_severity entry, enum alert_severity sev);

/* The metadata fields of an alert (reference §6.1): Target, Failed checks
 * threshold, Progress deadline and, when it applies, Traffic routing.
 * Names and values point into `buf` (or are constants); returns the count
 * (at most MACH_ALERT_FIELDS). */
#define MACH_ALERT_FIELDS 4
struct mach_alert_buf {
	char target[200];
	char threshold[16];
	char deadline[24];
	char routing[200];
};
size_t machine_alert_fields(const struct canary_cfg *c, struct alert_field *out,
    struct mach_alert_buf *buf);

#endif
