/*
 * dir_journal.c — the journal of the state-directory store: events and
 * check results of one canary, one JSON object a line, in
 * DIR/<ns>/<name>/journal.jsonl (see dir.h).
 *
 * Appends are one write(2) of a whole line on an O_APPEND descriptor, so a
 * crash (or a short write on a full disk) leaves at most a torn last line;
 * tail() ignores that one and logs (and skips) an unreadable line anywhere
 * else.  The writer repairs a torn tail before its first append (and after
 * a failed one): the partial line is cut, so the next record starts on a
 * line of its own and only the torn record is lost.  Past journal_max bytes the
 * file is renamed to journal.1.jsonl (replacing the older one) and a new
 * one is started, so the journal never takes more than twice that.
 * Appends are fsynced in batches (dir.h, "Durability"): an append
 * marks its canary's journal dirty, and sd_journal_sync makes it durable
 * before the next status save, at release and at close; an append that
 * finds unsynced records older than journal_sync_ms syncs at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/codec.h"
#include "store/dir_journal.h"
#include "store/state_fs.h"
#include "util/log.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

#define JOURNAL_LINE_MAX 8192	/* a longer line is not a record */

static void
datasync(int fd, const char *path, struct store_dir *sd)
{
	if (fdatasync(fd) != 0)
		log_warn("fsync %s: %s", path, strerror(errno));
	pthread_mutex_lock(&sd->mu);
	sd->journal_syncs++;
	pthread_mutex_unlock(&sd->mu);
}

/* After an append (synced false) or an fsync of the canary's journal:
 * records it, and returns whether the journal now holds an unsynced record
 * appended max_age ms ago or more. */
static bool
mark(struct store_dir *sd, const char *canary, bool synced, int64_t max_age)
{
	int64_t now = clock_monotonic_ms();
	struct sd_entry *e;
	bool due;

	pthread_mutex_lock(&sd->mu);
	e = sd_entry_get(sd, canary);
	if (!synced && !e->journal_dirty)
		e->journal_dirty_since_ms = now;	/* the oldest unsynced record */
	e->journal_dirty = !synced;
	due = !synced && now - e->journal_dirty_since_ms >= max_age;
	pthread_mutex_unlock(&sd->mu);
	return due;
}

static bool
dirty(struct store_dir *sd, const char *canary)
{
	bool d;

	pthread_mutex_lock(&sd->mu);
	d = sd_entry_get(sd, canary)->journal_dirty;
	pthread_mutex_unlock(&sd->mu);
	return d;
}

void
sd_journal_sync(struct store_dir *sd, const char *canary)
{
	char path[PATH_MAX];
	int fd;

	if (!dirty(sd, canary) ||
	    sd_path(sd, canary, "journal.jsonl", path, sizeof path, NULL) != ST_OK)
		return;
	/* fdatasync flushes the file, whichever descriptor wrote it. */
	if (state_open(path, O_WRONLY | O_APPEND, 0, &fd, NULL, 0) == ST_OK) {
		datasync(fd, path, sd);
		close(fd);
	}
	mark(sd, canary, true, 0);
}

/* Whether the canary's journal must be checked for a torn tail before the
 * next append (set = checked and sound, or cleared = check again). */
static bool
tail_checked(struct store_dir *sd, const char *canary, int set)
{
	struct sd_entry *e;
	bool was;

	pthread_mutex_lock(&sd->mu);
	e = sd_entry_get(sd, canary);
	was = e->journal_checked;
	if (set >= 0)
		e->journal_checked = set != 0;
	pthread_mutex_unlock(&sd->mu);
	return was;
}

/* Cuts a torn last line (no final newline) off the journal open in fd
 * (O_RDWR): only the partial record is lost, the next one starts on a line
 * of its own.  ST_OK or ST_IO (err). */
static int
repair_tail(int fd, const char *path, char *err)
{
	char chunk[4096];
	struct stat sb;
	off_t end, at;
	ssize_t n, i;

	if (fstat(fd, &sb) != 0 || sb.st_size == 0)
		return ST_OK;
	for (end = sb.st_size; end > 0; end = at) {
		at = end > (off_t)sizeof chunk ? end - (off_t)sizeof chunk : 0;
		if ((n = pread(fd, chunk, (size_t)(end - at), at)) != (ssize_t)(end - at)) {
			seterr(err, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "short read");
			return ST_IO;
		}
		for (i = n - 1; i >= 0 && chunk[i] != '\n'; i--)
			;
		if (i >= 0) {
			end = at + i + 1;
			break;
		}
	}
	if (end == sb.st_size)
		return ST_OK;
	if (ftruncate(fd, end) != 0) {
		seterr(err, "cannot cut the torn last record of %s: %s", path, strerror(errno));
		return ST_IO;
	}
	log_warn("%s: cut a torn last record (%lld bytes, a write cut short by a crash or a "
	    "full disk)", path, (long long)(sb.st_size - end));
	return ST_OK;
}

static int
open_journal(struct store_dir *sd, const char *canary, const char *path, const char *old,
    size_t add, int *fd, char *err)
{
	struct stat sb;
	int st;

	st = state_open(path, O_RDWR | O_APPEND | O_CREAT, 0644, fd, err, ERRMSG_MAX);
	if (st == ST_OK && !tail_checked(sd, canary, -1)) {
		if ((st = repair_tail(*fd, path, err)) != ST_OK) {
			close(*fd);
			*fd = -1;
			return st;
		}
		tail_checked(sd, canary, 1);
	}
	if (st != ST_OK || fstat(*fd, &sb) != 0 || sb.st_size == 0 ||
	    (size_t)sb.st_size + add <= sd->journal_max)
		return st;
	/* Rotate: only the controller (the lock holder) appends.  What the
	 * old file holds is made durable before it is set aside. */
	if (dirty(sd, canary))
		datasync(*fd, path, sd);
	close(*fd);
	*fd = -1;
	if (rename(path, old) != 0)
		log_warn("cannot rotate %s: %s", path, strerror(errno));
	return state_open(path, O_RDWR | O_APPEND | O_CREAT, 0644, fd, err, ERRMSG_MAX);
}

int
sd_append(void *ctx, const struct journal_rec *rec, char *err_out)
{
	struct store_dir *sd = ctx;
	char path[PATH_MAX], old[PATH_MAX], err[ERRMSG_MAX] = "";
	json_t *o;
	char *line;
	size_t len;
	ssize_t w;
	int fd, st;

	if ((st = sd_may_write(sd, rec->canary, err)) != ST_OK) {
		if (st != ST_REFUSED)
			log_warn("journal: %s", err);
		seterr(err_out, "%s", err);
		return st;
	}
	if ((st = sd_mkdirs(sd, rec->canary, err)) != ST_OK ||
	    (st = sd_path(sd, rec->canary, "journal.jsonl", path, sizeof path, err)) != ST_OK ||
	    (st = sd_path(sd, rec->canary, "journal.1.jsonl", old, sizeof old, err)) != ST_OK) {
		log_warn("journal: %s", err);
		seterr(err_out, "%s", err);
		return st;
	}
	o = journal_to_json(rec);
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (line == NULL)
		xalloc_fatal(0);
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	line[len] = '\0';
	if ((st = open_journal(sd, rec->canary, path, old, len, &fd, err)) != ST_OK) {
		log_warn("journal: %s", err);
		seterr(err_out, "%s", err);
		free(line);
		return st;
	}
	do
		w = write(fd, line, len);
	while (w < 0 && errno == EINTR);
	st = w == (ssize_t)len ? ST_OK : ST_IO;
	if (st != ST_OK) {
		seterr(err_out, "cannot append to %s: %s", path, w < 0 ? strerror(errno) :
		    "short write (disk full?)");
		log_warn("cannot append to %s: %s", path, w < 0 ? strerror(errno) : "short write");
		tail_checked(sd, rec->canary, 0);	/* a partial line: cut it next time */
	}
	if (mark(sd, rec->canary, false, sd->journal_sync_ms)) {
		datasync(fd, path, sd);
		mark(sd, rec->canary, true, 0);
	}
	close(fd);
	free(line);
	return st;
}

/* Reads the last `want` bytes of path (the whole file when smaller);
 * *from is the offset where the read began. */
static int
read_tail(const char *path, size_t want, struct buf *b, off_t *from)
{
	char chunk[8192];
	struct stat sb;
	ssize_t n;
	off_t off;
	int fd, st;

	if ((st = state_open(path, O_RDONLY, 0, &fd, NULL, 0)) != ST_OK)
		return st;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return ST_IO;
	}
	off = (size_t)sb.st_size > want ? sb.st_size - (off_t)want : 0;
	*from = off;
	while ((n = pread(fd, chunk, sizeof chunk, off)) > 0 && off < sb.st_size) {
		n = off + n > sb.st_size ? sb.st_size - off : n;
		if (buf_append(b, chunk, (size_t)n) != ST_OK)
			break;
		off += n;
	}
	close(fd);
	return n < 0 ? ST_IO : ST_OK;
}

/* Parses one line; logs and returns false when it is not a record. */
static bool
parse_line(const char *path, off_t at, const char *s, size_t n, struct journal_rec *out)
{
	char why[ERRMSG_MAX];
	json_error_t je;
	json_t *o;
	int st;

	if (n > JOURNAL_LINE_MAX) {
		log_warn("%s: byte %lld: journal line longer than %d bytes, skipped",
		    path, (long long)at, JOURNAL_LINE_MAX);
		return false;
	}
	o = json_loadb(s, n, 0, &je);
	if (o == NULL) {
		log_warn("%s: byte %lld: unreadable journal record (%s), skipped",
		    path, (long long)at, je.text);
		return false;
	}
	st = journal_from_json(o, out, why, sizeof why);
	json_decref(o);
	if (st != ST_OK)
		log_warn("%s: byte %lld: bad journal record (%s), skipped", path, (long long)at, why);
	return st == ST_OK;
}

/* The last `max` records of one file, oldest first, into out. */
static size_t
tail_file(const char *path, struct journal_rec *out, size_t max)
{
	struct buf b;
	off_t from = 0;
	size_t end, start, n = 0, k;
	const char *s;

	if (max == 0)
		return 0;
	buf_init(&b, 0);
	if (read_tail(path, max * (JOURNAL_LINE_MAX + 1) + 1, &b, &from) != ST_OK || b.len == 0) {
		buf_fini(&b);
		return 0;
	}
	s = b.data;
	end = b.len;
	if (s[end - 1] != '\n') {	/* a torn last line: a crash mid-write */
		while (end > 0 && s[end - 1] != '\n')
			end--;
		log_info("%s: ignoring an unfinished last line", path);
	}
	/* Walk back line by line, filling out[] from the end. */
	while (end > 0 && n < max) {
		start = end - 1;
		while (start > 0 && s[start - 1] != '\n')
			start--;
		if (start == 0 && from > 0)
			break;		/* the first line may be cut by read_tail */
		if (end - 1 > start &&
		    parse_line(path, from + (off_t)start, s + start, end - 1 - start, &out[max - 1 - n]))
			n++;
		end = start;
	}
	if (n < max)
		for (k = 0; k < n; k++)
			out[k] = out[max - n + k];
	buf_fini(&b);
	return n;
}

size_t
sd_tail(void *ctx, const char *canary, struct journal_rec *out, size_t max)
{
	struct store_dir *sd = ctx;
	char path[PATH_MAX], old[PATH_MAX];
	struct journal_rec *older;
	size_t n, n0;

	if (sd_path(sd, canary, "journal.jsonl", path, sizeof path, NULL) != ST_OK ||
	    sd_path(sd, canary, "journal.1.jsonl", old, sizeof old, NULL) != ST_OK ||
	    sd_check_dirs(sd, canary, NULL) != ST_OK)
		return 0;
	n = tail_file(path, out, max);
	if (n == max)
		return n;
	older = xcalloc(max - n, sizeof *older);
	n0 = tail_file(old, older, max - n);
	memmove(out + n0, out, n * sizeof *out);
	memcpy(out, older, n0 * sizeof *out);
	free(older);
	return n + n0;
}
