/*
 * replay.h — what a Canary configuration would have decided on recorded
 * metric values (`perch replay`): the rollout state machine itself
 * (machine.h) driven on a replayed clock, fed one recorded analysis each
 * time it asks for metrics, so the decisions are the engine's, not a
 * second copy of its rules.
 *
 * The replayed world: the primary is initialised, then a new revision
 * arrives at start_ms; every workload is ready at once; webhooks are not
 * called (the configuration's hooks and confirm gates are left out: a
 * replay judges metrics); the clock goes to the tick the machine asks for
 * next (its interval).  Metrics are matched by name: a metric of the
 * configuration absent from an analysis is "no data" there.  A recorded
 * request volume (journal field "volume") is judged against the
 * configuration's minimum; without one the guard is not applied.
 *
 * Ownership: the input is borrowed; replay_run fills *out, which the caller
 * releases with replay_result_fini.  Pure (no clock, no I/O); any thread.
 */
#ifndef PERCH_ENGINE_REPLAY_H
#define PERCH_ENGINE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"
#include "engine/machine.h"

/* One recorded measurement of a metric. */
struct replay_value {
	char metric[64];
	enum check_result result;	/* as recorded: pass, fail, nodata, error */
	bool has_value;
	double value;
	bool has_volume;		/* the request volume of its window */
	double volume;
};

/* One recorded analysis: its time, the weight it was measured at (-1:
 * unknown) and its values. */
struct replay_analysis {
	int64_t time_ms;
	int weight;
	struct replay_value *v;
	size_t n;
};

/* What one replayed analysis decided: X(id, "text", "json id"). */
#define REPLAY_DECISION_LIST(X) \
	X(ADVANCE,  "advance",      "advance") \
	X(ITERATE,  "iterate",      "iterate") \
	X(STAY,     "stay",         "stay") \
	X(HOLD,     "hold",         "hold") \
	X(FAILED,   "failed check", "failed-check") \
	X(ROLLBACK, "roll back",    "rollback") \
	X(PROMOTE,  "promote",      "promote")

enum replay_decision {
#define X(id, text, json) REPLAY_##id,
	REPLAY_DECISION_LIST(X)
#undef X
	REPLAY_DECISION__COUNT
};

const char *replay_decision_name(enum replay_decision d);
const char *replay_decision_id(enum replay_decision d);

#define REPLAY_OUTCOME_LIST(X) \
	X(SUCCEEDED, "succeeded") \
	X(FAILED,    "failed") \
	X(UNDECIDED, "undecided")

enum replay_outcome {
#define X(id, text) REPLAY_OUT_##id,
	REPLAY_OUTCOME_LIST(X)
#undef X
	REPLAY_OUTCOME__COUNT
};

const char *replay_outcome_name(enum replay_outcome o);

/* One replayed analysis. */
struct replay_step {
	int64_t time_ms;		/* on the replayed clock */
	size_t analysis;		/* the recorded analysis it was fed */
	int weight;			/* the canary weight it judged (before) */
	int weight_after;
	int failed_checks;		/* after */
	int iteration;			/* after */
	enum phase phase;		/* after */
	enum replay_decision decision;
	struct mach_check checks[MACH_MAX_CHECKS];	/* metric: index in cfg->metrics */
	size_t n_checks;
	char reason[256];		/* the status reason after it, sanitized */
};

struct replay_result {
	struct replay_step *steps;
	size_t n_steps;
	enum replay_outcome outcome;
	int64_t end_ms;			/* when it failed or succeeded; else the last step */
	int weight;			/* the canary weight when it was rolled back or
					 * promoted; undecided: the weight reached */
	size_t used;			/* recorded analyses consumed */
	char reason[256];		/* why it failed */
};

/* Replays the n analyses (in time order) with configuration cfg, the new
 * revision arriving at start_ms.  ST_OK with *out filled, ST_INVALID with
 * err when cfg cannot be driven (machine_check_cfg). */
int replay_run(const struct canary_cfg *cfg, int64_t start_ms, const struct replay_analysis *a,
    size_t n, struct replay_result *out, char *err, size_t errsz);
void replay_result_fini(struct replay_result *r);

#endif
