/*
 * dir.h — durable canary state in a directory on the local disk: the
 * `store` provider of engine/providers.h for `perch run/demo --state-dir`,
 * and the reader behind `perch watch --state-dir` and `perch status`.
 *
 * Layout (one directory per canary; "ns/name" are Kubernetes names, checked
 * as DNS-1123 label / subdomain, so a name can never leave the directory):
 *
 *   DIR/<ns>/<name>/status.json     the canary_status, written atomically
 *                                   (temp file, fsync, rename, fsync dir);
 *                                   {"format":1,"kind":"status","canary":..,
 *                                   "status":{..},"checksum":"fnv1a64:.."}
 *   DIR/<ns>/<name>/spec.json       the canary_cfg (same envelope, "spec"),
 *                                   so a watcher can draw the same screens
 *   DIR/<ns>/<name>/journal.jsonl   events and check results, one JSON object
 *                                   a line (the headless format + "actor"),
 *                                   appended with O_APPEND, one write each,
 *                                   fsynced in batches (below); rotated to
 *                                   journal.1.jsonl past
 *                                   STORE_DIR_JOURNAL_MAX bytes
 *   DIR/<ns>/<name>/lock            flock()ed by the controlling process,
 *                                   holding "user@host pid N"
 *
 * The checksum covers the whole envelope but itself, so a flipped byte or a
 * truncated file is ST_CORRUPT naming the file; a corrupted file is never
 * overwritten (save refuses too), the user repairs or removes it.
 *
 * Durability: status.json is fsynced on every save.  Journal appends are
 * fsynced in batches (group commit), not one by one: a canary's journal is
 * fdatasync()ed before each save of its status, when it is released, when
 * the store is closed, and by an append that finds unsynced records older
 * than STORE_DIR_JOURNAL_SYNC_MS.  The runner saves a tick's status before
 * it journals the tick's events, so after a power loss the journal on disk
 * holds every record of the ticks before the saved status: what is lost is
 * at most the last tick's records (or a second's worth while the status
 * does not change), the same window a crash between the two already has.
 * A killed process loses nothing that was written (the kernel has it).
 *
 * Control: acquire takes flock(LOCK_EX|LOCK_NB) on the lock file.  The lock
 * belongs to the open file, so a second store (in this or another process)
 * gets ST_LOCKED with the holder's text; the kernel drops it when the holder
 * exits or is killed.  renew is a no-op.  While another controller holds a
 * canary, save, save_spec and append of this handle return ST_LOCKED (a
 * handle that never acquires may write a canary nobody holds).
 *
 * Read-only stores (watch, status) open every file O_RDONLY; each mutating op
 * (acquire, renew, release, save, append, save_spec) returns ST_REFUSED
 * without touching the disk.
 *
 * Ownership and threads: store_dir_open returns a handle the caller frees
 * with store_dir_close (which releases every lock it holds).  Every op may be
 * called from any thread: the handle's own table of held locks is guarded by
 * a mutex, and all file changes are atomic renames or single appends.  `err`
 * buffers of the ops are ERRMSG_MAX bytes (engine/providers.h).
 */
#ifndef PERCH_STORE_DIR_H
#define PERCH_STORE_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/providers.h"

#define STORE_DIR_FORMAT	1
#define STORE_DIR_JOURNAL_MAX	(4u << 20)	/* bytes before rotation */
#define STORE_DIR_JOURNAL_SYNC_MS 1000		/* see "Durability" above */

struct store_dir;

/* Opens the state directory.  Read-write: creates it when missing, but
 * only when its parent exists (never a whole tree: a mistyped path is an
 * error naming the missing parent).  Read-only: the directory must exist,
 * and nothing is ever created.  NULL with err filled on failure. */
struct store_dir *store_dir_open(const char *dir, bool read_only, char *err, size_t errsz);
/* Releases every lock still held and frees the handle.  NULL is fine. */
void store_dir_close(struct store_dir *sd);

/* The directory as given to store_dir_open (borrowed). */
const char *store_dir_path(const struct store_dir *sd);
/* Journal size that triggers rotation (tests lower it); 0 = the default. */
void store_dir_set_journal_max(struct store_dir *sd, size_t bytes);
/* The longest an appended journal record waits for its fsync, in real
 * milliseconds (tests change it); <= 0 = STORE_DIR_JOURNAL_SYNC_MS. */
void store_dir_set_journal_sync_ms(struct store_dir *sd, int64_t ms);
/* How many journal fsyncs this handle has made (tests, benchmarks). */
unsigned long store_dir_journal_syncs(struct store_dir *sd);

/* Who controls the canary: ST_OK with holder filled ("user@host pid N")
 * when some process holds its lock, ST_NOTFOUND when nobody does.  Never
 * takes the lock in a way that changes anything on disk. */
int store_dir_holder(struct store_dir *sd, const char *canary, char *holder, size_t holdersz);

/* ST_OK when canary is "ns/name" with ns a DNS-1123 label and name a
 * DNS-1123 subdomain; ST_INVALID with err saying why otherwise (err may be
 * NULL). */
int store_dir_check_name(const char *canary, char *err, size_t errsz);

/* The default state directory: $XDG_STATE_HOME/perch, else
 * $HOME/.local/state/perch.  A new string (free it); NULL when neither
 * variable is set. */
char *store_dir_default_path(void);

/* The provider; ctx is the struct store_dir. */
extern const struct store_ops store_dir_ops;

#endif
