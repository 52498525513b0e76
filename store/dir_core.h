/*
 * dir_core.h — what the files of the state-directory store share
 * (dir.c, dir_journal.c), defined in dir_core.c: the handle, names and
 * paths, checked reads, the table of canaries a handle has touched, who
 * holds a canary's lock.  Not for other modules: use dir.h.  The layers:
 * dir.c (the store_ops) -> dir_journal.c -> dir_core.c, never upwards.
 */
#ifndef PERCH_STORE_DIR_CORE_H
#define PERCH_STORE_DIR_CORE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "util/buf.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* A canary this handle has touched. */
struct sd_entry {
	char canary[128];
	int  lock_fd;		/* >= 0 while we hold its lock */
	bool verified;		/* status.json read back fine (or was absent) */
	bool journal_dirty;	/* appended to since the journal's last fsync */
	bool journal_checked;	/* its tail was checked for a torn record */
	int64_t journal_dirty_since_ms;	/* monotonic ms of the oldest such append */
};

struct store_dir {
	char   *dir;
	bool    ro;
	size_t  journal_max;
	int64_t journal_sync_ms;	/* longest a journal append waits for its fsync */
	unsigned long journal_syncs;	/* journal fsyncs so far (guarded by mu) */
	pthread_mutex_t mu;	/* guards entries, tmp_seq and journal_syncs */
	struct sd_entry *entries;
	size_t  n_entries, cap_entries;
	unsigned tmp_seq;
};

/* store_dir_check_name (dir.h): "ns/name", both DNS-1123 names. */
int sd_check_name(const char *canary, char *err, size_t errsz);
bool sd_is_label(const char *s, size_t n);
bool sd_is_subdomain(const char *s, size_t n);
/* DIR/canary[/file] into out; ST_INVALID (err, ERRMSG_MAX, may be NULL)
 * for a bad name or a path too long. */
int sd_path(const struct store_dir *sd, const char *canary, const char *file, char *out,
    size_t outsz, char *err);
/* Creates DIR/<ns>/<name> (0755), or checks the directories there: real
 * directories (never links), ours, not writable by others (state_fs.h). */
int sd_mkdirs(const struct store_dir *sd, const char *canary, char *err);
/* The same check before a read, creating nothing: ST_OK, ST_NOTFOUND, or
 * ST_INVALID / ST_IO with err naming the entry. */
int sd_check_dirs(const struct store_dir *sd, const char *canary, char *err);
/* Whole file into b (O_RDONLY, never through a link): ST_OK, ST_NOTFOUND,
 * ST_INVALID (a link or not a regular file), ST_IO, ST_CORRUPT (> max). */
int sd_read_file(const char *path, size_t max, struct buf *b, char *err);
/* One-line reason into an ERRMSG_MAX buffer; err may be NULL. */
void seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ST_OK, ST_REFUSED (read-only), ST_INVALID (name) or ST_LOCKED (another
 * controller holds the canary); err says which.  Mutex not held. */
int sd_may_write(struct store_dir *sd, const char *canary, char *err);
/* Mutex held by the caller. */
struct sd_entry *sd_entry_get(struct store_dir *sd, const char *canary);
/* fsync of the directory holding path, so a new entry in it is durable. */
void sd_sync_parent(const char *path);
/* The holder text of a lock file (sanitized; "another process" when empty). */
void sd_read_holder(int fd, char *holder, size_t holdersz);
/* store_dir_holder (dir.h): who holds the canary's lock. */
int sd_holder_probe(struct store_dir *sd, const char *canary, char *holder, size_t holdersz);

#endif
