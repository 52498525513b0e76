/*
 * replay_journal.c — a canary's journal cut into recorded rollouts (see
 * replay_journal.h).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/replay_journal.h"
#include "store/codec.h"
#include "util/status.h"
#include "util/xalloc.h"

#define LINE_MAX_BYTES (64 * 1024)

static void
push(struct journal_rec **recs, size_t *n, size_t *cap, const struct journal_rec *r)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		*recs = xrealloc(*recs, *cap * sizeof **recs);
	}
	(*recs)[(*n)++] = *r;
}

/* One line (without its newline) of path; ST_OK or ST_CORRUPT with err. */
static int
parse_line(const char *path, unsigned long line, const char *s, const char *canary,
    struct journal_rec *r, char *err, size_t errsz)
{
	char why[ERRMSG_MAX];
	json_error_t je;
	json_t *o;
	int st;

	o = json_loads(s, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		snprintf(err, errsz, "%s:%lu: not a JSON journal record (column %d: %s)", path, line,
		    je.column, je.text);
		return ST_CORRUPT;
	}
	st = journal_from_json(o, r, why, sizeof why);
	json_decref(o);
	if (st != ST_OK) {
		snprintf(err, errsz, "%s:%lu: bad journal record: %s", path, line, why);
		return ST_CORRUPT;
	}
	if (strcmp(r->canary, canary) != 0) {
		snprintf(err, errsz, "%s:%lu: a record of canary %s in the journal of %s", path,
		    line, r->canary, canary);
		return ST_CORRUPT;
	}
	return ST_OK;
}

/* Reads one journal file; ST_NOTFOUND when it does not exist. */
static int
read_file(const char *path, const char *canary, struct journal_rec **recs, size_t *n,
    size_t *cap, char *err, size_t errsz)
{
	FILE *f = fopen(path, "r");
	char *buf;
	unsigned long line = 0;
	struct journal_rec r;
	size_t len;
	int st = ST_OK;

	if (f == NULL) {
		if (errno == ENOENT)
			return ST_NOTFOUND;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return ST_IO;
	}
	buf = xmalloc(LINE_MAX_BYTES + 2);
	while (fgets(buf, LINE_MAX_BYTES + 2, f) != NULL) {
		line++;
		len = strlen(buf);
		if (len == 0 || buf[len - 1] != '\n') {
			if (len > LINE_MAX_BYTES) {
				snprintf(err, errsz, "%s:%lu: journal line longer than %d bytes", path,
				    line, LINE_MAX_BYTES);
				st = ST_CORRUPT;
			}
			break;		/* a torn last line: a crash while writing it */
		}
		buf[len - 1] = '\0';
		if (buf[0] == '\0')
			continue;
		if ((st = parse_line(path, line, buf, canary, &r, err, errsz)) != ST_OK)
			break;
		push(recs, n, cap, &r);
	}
	if (st == ST_OK && ferror(f)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		st = ST_IO;
	}
	free(buf);
	fclose(f);
	return st;
}

int
replay_journal_read_dir(const char *dir, const char *canary, struct journal_rec **recs,
    size_t *n, char *err, size_t errsz)
{
	static const char *const files[] = { "journal.1.jsonl", "journal.jsonl" };
	char path[4096];
	size_t cap = *n, i;
	int st, found = 0;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s/%s", dir, canary, files[i]);
		st = read_file(path, canary, recs, n, &cap, err, errsz);
		if (st == ST_NOTFOUND)
			continue;
		if (st != ST_OK)
			return st;
		found++;
	}
	if (found == 0) {
		snprintf(err, errsz, "%s/%s/journal.jsonl: no journal of canary %s", dir, canary,
		    canary);
		return ST_NOTFOUND;
	}
	return ST_OK;
}

/* ---- rollouts ----------------------------------------------------------- */

static bool
running(enum phase p)
{
	return p == PHASE_WAITING || p == PHASE_PROGRESSING || p == PHASE_WAITING_PROMOTION ||
	    p == PHASE_PROMOTING || p == PHASE_FINALISING;
}

static void
add_check(struct recorded_rollout *ro, const struct journal_rec *r, int weight)
{
	struct replay_analysis *a = ro->n > 0 ? &ro->a[ro->n - 1] : NULL;
	struct replay_value *v;

	if (a == NULL || a->time_ms != r->time_ms) {
		ro->a = xrealloc(ro->a, (ro->n + 1) * sizeof *ro->a);
		a = &ro->a[ro->n++];
		memset(a, 0, sizeof *a);
		a->time_ms = r->time_ms;
		a->weight = weight;
	}
	a->v = xrealloc(a->v, (a->n + 1) * sizeof *a->v);
	v = &a->v[a->n++];
	memset(v, 0, sizeof *v);
	snprintf(v->metric, sizeof v->metric, "%s", r->metric);
	v->result = r->result;
	v->has_value = r->has_value;
	v->value = r->value;
	v->has_volume = r->has_volume;
	v->volume = r->volume;
}

static struct recorded_rollout *
start(struct recorded *out, const struct journal_rec *r)
{
	struct recorded_rollout *ro;

	out->r = xrealloc(out->r, (out->n + 1) * sizeof *out->r);
	ro = &out->r[out->n++];
	memset(ro, 0, sizeof *ro);
	ro->start_ms = r->time_ms;
	ro->end = r->phase;
	ro->end_ms = r->time_ms;
	return ro;
}

void
replay_journal_cut(const struct journal_rec *recs, size_t n, struct recorded *out)
{
	struct recorded_rollout *ro = NULL;
	enum phase prev = PHASE_INITIALIZING;
	int64_t t = -1;
	int64_t said = -1;		/* the tick of the reason */
	int weight = 0, before = 0;	/* the weight after the last tick, before this one */
	int top = 0;			/* the highest weight of the rollout */
	bool ended = false;
	size_t i;

	memset(out, 0, sizeof *out);
	for (i = 0; i < n; i++) {
		const struct journal_rec *r = &recs[i];

		if (r->time_ms != t) {
			before = weight;
			t = r->time_ms;
		}
		if (running(r->phase) && !running(prev) && !(ended && r->time_ms == ro->end_ms)) {
			ro = start(out, r);
			ended = false;
			top = 0;
		}
		prev = r->phase;
		weight = r->weight;
		if (ro == NULL || (ended && r->time_ms != ro->end_ms))
			continue;
		if (r->kind == REC_CHECK)
			add_check(ro, r, before);
		else if ((r->severity == SEV_WARNING || r->severity == SEV_ERROR) &&
		    r->time_ms != said) {	/* the first of its tick says why */
			snprintf(ro->reason, sizeof ro->reason, "%s", r->message);
			said = r->time_ms;
		}
		if (ended)
			continue;
		top = r->weight > top ? r->weight : top;
		ro->end = r->phase;
		ro->end_ms = r->time_ms;
		ro->end_weight = r->phase == PHASE_SUCCEEDED ? top : before;
		ro->failed_checks = r->failed_checks;
		ended = r->phase == PHASE_SUCCEEDED || r->phase == PHASE_FAILED;
	}
}

void
replay_journal_free(struct recorded *r)
{
	size_t i, j;

	for (i = 0; i < r->n; i++) {
		for (j = 0; j < r->r[i].n; j++)
			free(r->r[i].a[j].v);
		free(r->r[i].a);
	}
	free(r->r);
	memset(r, 0, sizeof *r);
}
