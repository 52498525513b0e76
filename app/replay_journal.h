/*
 * replay_journal.h — the recorded rollouts of a canary's journal, for
 * `perch replay`: the records (read strictly from a state directory's
 * journal files, a bad line being an error naming the file and line, or
 * taken from a store's tail), cut into rollouts, each with its analyses
 * (the check records of one tick, grouped by time) and how it ended.
 *
 * A rollout starts at a record whose phase is one of a run (Waiting,
 * Progressing, WaitingPromotion, Promoting, Finalising) after records of
 * another phase (or none), and ends at its first Succeeded or Failed
 * record; check records of the ending tick belong to it.  An analysis was
 * measured at the weight the canary had before its tick: the weight of the
 * last record before it.
 *
 * Ownership: the caller frees what these fill (replay_journal_free,
 * free for the records).  Main thread.
 */
#ifndef PERCH_APP_REPLAY_JOURNAL_H
#define PERCH_APP_REPLAY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "engine/replay.h"

/* One rollout as it happened. */
struct recorded_rollout {
	int64_t start_ms;		/* its first record */
	struct replay_analysis *a;	/* its analyses, in time order */
	size_t n;
	enum phase end;			/* PHASE_SUCCEEDED, PHASE_FAILED, or the last
					 * phase seen (still running) */
	int64_t end_ms;			/* the ending record, or the last record */
	int end_weight;			/* the canary weight when it was rolled back
					 * (before its last tick), or the highest
					 * it reached */
	int failed_checks;		/* at the end */
	char reason[384];		/* the first Warning (or Error) event of the
					 * last tick that had one, or "" */
};

struct recorded {
	struct recorded_rollout *r;
	size_t n;
};

/* Reads DIR/<canary>/journal.1.jsonl (when there) then journal.jsonl,
 * appending to *recs (*n records, realloc'ed).  ST_OK; ST_NOTFOUND when
 * neither exists; ST_CORRUPT with err "FILE:LINE: why" on a line that is
 * not a journal record of that canary (a torn last line, without its
 * newline, is skipped: a crash while writing it).  ST_IO on a read error. */
int replay_journal_read_dir(const char *dir, const char *canary, struct journal_rec **recs,
    size_t *n, char *err, size_t errsz);

/* Cuts the records (oldest first) into rollouts. */
void replay_journal_cut(const struct journal_rec *recs, size_t n, struct recorded *out);
void replay_journal_free(struct recorded *r);

#endif
