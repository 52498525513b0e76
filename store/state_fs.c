/*
 * state_fs.c — careful file access for the state directory (see
 * state_fs.h): no links followed, only regular files, temporaries made
 * O_EXCL, directories owned by the user and closed to others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/state_fs.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

#define NOFOLLOW_HINT "perch never follows links in its state directory"

static const char *
kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" : S_ISFIFO(m) ?
	    "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device" :
	    "not a regular file";
}

/* Why an open failed: a link, another kind of entry, or an error. */
static int
open_failed(const char *path, int e, char *err, size_t errsz)
{
	struct stat sb;

	if (e == ENOENT)
		return ST_NOTFOUND;
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		snprintf(err, errsz, "refusing %s: it is a symbolic link (" NOFOLLOW_HINT ")", path);
		return ST_INVALID;
	}
	if (e == EISDIR || (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))) {
		snprintf(err, errsz, "refusing %s: %s, not a regular file", path,
		    e == EISDIR ? "a directory" : kind_of(sb.st_mode));
		return ST_INVALID;
	}
	snprintf(err, errsz, "cannot open %s: %s", path, strerror(e));
	return ST_IO;
}

int
state_open(const char *path, int flags, mode_t mode, int *fd, char *err, size_t errsz)
{
	struct stat sb;
	int f;

	*fd = -1;
	f = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (f < 0)
		return open_failed(path, errno, err, errsz);
	if (fstat(f, &sb) != 0) {
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(errno));
		close(f);
		return ST_IO;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "refusing %s: %s, not a regular file", path, kind_of(sb.st_mode));
		close(f);
		return ST_INVALID;
	}
	if (!(flags & O_NONBLOCK))
		(void)fcntl(f, F_SETFL, fcntl(f, F_GETFL) & ~O_NONBLOCK);
	*fd = f;
	return ST_OK;
}

int
state_check_dir(const char *path, bool mine, char *err, size_t errsz)
{
	struct stat sb;
	uid_t me = geteuid();

	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT)
			return ST_NOTFOUND;
		snprintf(err, errsz, "cannot check %s: %s", path, strerror(errno));
		return ST_IO;
	}
	if (S_ISLNK(sb.st_mode)) {
		snprintf(err, errsz, "refusing %s: it is a symbolic link (" NOFOLLOW_HINT ")", path);
		return ST_INVALID;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errsz, "refusing %s: %s, not a directory", path, kind_of(sb.st_mode));
		return ST_INVALID;
	}
	if (mine && sb.st_uid != me && sb.st_uid != 0) {
		snprintf(err, errsz, "refusing %s: it is owned by uid %ld, not by you (uid %ld)", path,
		    (long)sb.st_uid, (long)me);
		return ST_INVALID;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "refusing %s: it is writable by %s (chmod go-w %s)", path,
		    sb.st_mode & S_IWOTH ? "others" : "its group", path);
		return ST_INVALID;
	}
	return ST_OK;
}

int
state_mkdir(const char *path, bool *made, char *err, size_t errsz)
{
	if (made != NULL)
		*made = false;
	if (mkdir(path, 0755) == 0) {	/* umask only takes bits away */
		if (made != NULL)
			*made = true;
		return ST_OK;
	}
	if (errno != EEXIST) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		return errno == ENOENT ? ST_NOTFOUND : ST_IO;
	}
	return state_check_dir(path, true, err, errsz);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The destination may be absent or a regular file; anything else (a link
 * planted in its place) is refused before anything is written. */
static int
check_target(const char *dst, char *err, size_t errsz)
{
	struct stat sb;

	if (lstat(dst, &sb) != 0)
		return ST_OK;
	if (S_ISREG(sb.st_mode))
		return ST_OK;
	if (S_ISLNK(sb.st_mode))
		snprintf(err, errsz, "refusing %s: it is a symbolic link (" NOFOLLOW_HINT ")", dst);
	else
		snprintf(err, errsz, "refusing %s: %s, not a regular file", dst, kind_of(sb.st_mode));
	return ST_INVALID;
}

static void
sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	if (fsync(dfd) != 0)
		log_warn("fsync %s: %s", dir, strerror(errno));
	close(dfd);
}

int
state_write_atomic(const char *dir, const char *file, const char *tmpname,
    const char *data, size_t len, char *err, size_t errsz)
{
	char *tmp = xasprintf("%s/%s", dir, tmpname), *dst = xasprintf("%s/%s", dir, file);
	int fd = -1, st, e = 0;

	st = check_target(dst, err, errsz);
	if (st == ST_OK) {
		/* A stale temporary of the same name (a crash, a reused pid)
		 * goes first: O_EXCL then never meets a planted link. */
		if (unlink(tmp) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", tmp, strerror(errno));
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		st = fd < 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0 ? ST_IO : ST_OK;
		e = errno;
		if (fd >= 0 && close(fd) != 0 && st == ST_OK) {
			st = ST_IO;
			e = errno;
		}
		if (st == ST_OK && rename(tmp, dst) != 0) {
			st = ST_IO;
			e = errno;
		}
		if (st != ST_OK) {
			snprintf(err, errsz, "cannot write %s: %s", dst, strerror(e));
			if (fd >= 0)
				unlink(tmp);
		}
	}
	if (st == ST_OK)
		sync_dir(dir);
	free(tmp);
	free(dst);
	return st;
}
