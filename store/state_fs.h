/*
 * state_fs.h — careful file access for the state directory (dir.c,
 * dir_journal.c, app/clock_file.c).
 *
 * The state directory holds the state of live rollouts, so nothing in it is
 * ever reached through a symbolic link, and nothing but a regular file is
 * read or written as one:
 *   - every file is opened with O_NOFOLLOW (and O_NONBLOCK for the open
 *     itself, so a FIFO planted in its place cannot block), then checked
 *     with fstat to be a regular file; a link or anything else is refused
 *     with an error naming it (ST_INVALID);
 *   - temporary files are created with O_CREAT|O_EXCL after unlinking a
 *     stale one of the same name, so one can never write through a link;
 *   - directories are made 0755 (files 0644: never writable by others,
 *     readable by a watcher), and an existing one must be a real
 *     directory (not a link), not writable by group or others and, when
 *     perch writes to it, owned by the user (or root) — as ssh checks its
 *     own files.
 * Messages are one line for an ERRMSG_MAX buffer; they name the path.
 * Pure system calls, any thread.
 */
#ifndef PERCH_STORE_STATE_FS_H
#define PERCH_STORE_STATE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode) of a regular file into
 * *fd.  ST_OK; ST_NOTFOUND (no such file, nothing said); ST_INVALID (a
 * link, a directory, a FIFO, ...: refused, err names it); ST_IO. */
int state_open(const char *path, int flags, mode_t mode, int *fd, char *err, size_t errsz);

/* Checks an existing directory: not a link, a directory, not writable by
 * group or others, and owned by the user or root when `mine`.  ST_OK,
 * ST_NOTFOUND, ST_INVALID or ST_IO with err saying which and how to fix. */
int state_check_dir(const char *path, bool mine, char *err, size_t errsz);

/* Creates the directory (0755) or checks the one there (state_check_dir,
 * mine).  *made tells which (may be NULL). */
int state_mkdir(const char *path, bool *made, char *err, size_t errsz);

/* Writes dir/file atomically: the temporary dir/tmpname (a stale one is
 * removed first) is created O_EXCL, written, fsynced and renamed over
 * dir/file, then dir is fsynced.  ST_OK, ST_INVALID (file is a link or not
 * a regular file: nothing is written) or ST_IO. */
int state_write_atomic(const char *dir, const char *file, const char *tmpname,
    const char *data, size_t len, char *err, size_t errsz);

#endif
