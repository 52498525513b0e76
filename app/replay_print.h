/*
 * replay_print.h — what `perch replay` prints (text or JSON lines): one
 * line or record per replayed analysis, then the summary, compared with
 * what the recorded rollout did.  Every string from outside (names, event
 * texts, paths) is sanitised.  Main thread.
 */
#ifndef PERCH_APP_REPLAY_PRINT_H
#define PERCH_APP_REPLAY_PRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "app/replay_journal.h"
#include "engine/canary.h"
#include "engine/replay.h"

/* A metric of the spec left out of a metrics replay: its provider cannot
 * query the past. */
struct replay_left {
	char metric[64];
	const char *provider;		/* its spec.provider.type (static) */
};

struct replay_show {
	const struct canary_cfg *cfg;	/* the spec replayed */
	const struct canary_cfg *was;	/* the spec the rollout ran with, or NULL */
	const char *canary;		/* "ns/name" of the record */
	const char *source;		/* the journal or the Prometheus server, for people */
	const struct replay_analysis *a;/* the analyses fed */
	size_t n;
	const struct recorded_rollout *rec;	/* what happened, or NULL (metrics only) */
	size_t rollout, rollouts;	/* 1-based, of the journal's */
	const struct replay_result *res;
	const struct replay_left *left;	/* metrics not replayable, or NULL */
	size_t n_left;
	bool json;
};

/* The difference to the recorded rollout: X(id, "json"). */
#define REPLAY_DIFF_LIST(X) \
	X(SAME,    "same") \
	X(EARLIER, "earlier") \
	X(LATER,   "later") \
	X(OUTCOME, "other-outcome") \
	X(UNKNOWN, "unknown")

enum replay_diff {
#define X(id, text) RDIFF_##id,
	REPLAY_DIFF_LIST(X)
#undef X
};

enum replay_diff replay_diff(const struct replay_result *res, const struct recorded_rollout *rec);
void replay_print(const struct replay_show *s);

#endif
