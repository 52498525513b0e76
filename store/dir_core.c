/*
 * dir_core.c — what the files of the state-directory store share (see
 * dir_core.h): names and paths, the directories of a canary, whole-file
 * reads, the table of canaries a handle has touched and who holds a
 * canary's lock.  dir.c (status, spec, control, list) and dir_journal.c
 * build on it; it calls neither.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/dir_core.h"
#include "store/state_fs.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

/* One-line reason into an ERRMSG_MAX buffer (cut when longer); err may be NULL. */
void
seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err, ERRMSG_MAX, fmt, ap);
	va_end(ap);
}

/* A DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
bool
sd_is_label(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* A DNS-1123 subdomain: labels joined by dots, at most 253 bytes. */
bool
sd_is_subdomain(const char *s, size_t n)
{
	size_t start = 0, i;

	if (n == 0 || n > 253)
		return false;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!sd_is_label(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

int
sd_check_name(const char *canary, char *err, size_t errsz)
{
	const char *slash = canary != NULL ? strchr(canary, '/') : NULL;
	char shown[80], scratch[ERRMSG_MAX];

	if (err == NULL || errsz == 0) {
		err = scratch;
		errsz = sizeof scratch;
	}

	if (canary == NULL || slash == NULL) {
		sanitize(shown, sizeof shown, canary ? canary : "", canary ? strlen(canary) : 0);
		snprintf(err, errsz, "canary name \"%s\" is not namespace/name", shown);
		return ST_INVALID;
	}
	sanitize(shown, sizeof shown, canary, strlen(canary));
	if (!sd_is_label(canary, (size_t)(slash - canary))) {
		snprintf(err, errsz, "canary \"%s\": the namespace is not a DNS-1123 label "
		    "(lower-case letters, digits and '-', at most 63)", shown);
		return ST_INVALID;
	}
	if (!sd_is_subdomain(slash + 1, strlen(slash + 1)) ||
	    strlen(canary) >= sizeof(((struct journal_rec *)0)->canary)) {
		snprintf(err, errsz, "canary \"%s\": the name is not a DNS-1123 subdomain "
		    "(lower-case letters, digits, '-' and '.')", shown);
		return ST_INVALID;
	}
	return ST_OK;
}

int
sd_path(const struct store_dir *sd, const char *canary, const char *file, char *out,
    size_t outsz, char *err)
{
	int n;

	if (sd_check_name(canary, err, err != NULL ? ERRMSG_MAX : 0) != ST_OK)
		return ST_INVALID;
	n = snprintf(out, outsz, "%s/%s%s%s", sd->dir, canary, file ? "/" : "", file ? file : "");
	if (n < 0 || (size_t)n >= outsz) {
		seterr(err, "state path for %s is too long", canary);
		return ST_INVALID;
	}
	return ST_OK;
}

/* fsync of the directory holding path, so a new entry in it is durable. */
void
sd_sync_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			if (fsync(fd) != 0)
				log_warn("fsync %s: %s", dir, strerror(errno));
			close(fd);
		}
	}
	free(dir);
}

/* Creates the directory, or checks the one there (state_fs.h): a real
 * directory, ours, closed to others. */
static int
mkdir_one(const char *path, char *err)
{
	char why[ERRMSG_MAX];
	bool made;
	int st;

	st = state_mkdir(path, &made, why, sizeof why);
	if (st != ST_OK)
		seterr(err, "%s", why);
	else if (made)
		sd_sync_parent(path);
	return st;
}

/* Creates DIR/<ns> and DIR/<ns>/<name>. */
int
sd_mkdirs(const struct store_dir *sd, const char *canary, char *err)
{
	char path[PATH_MAX];
	char *slash;
	int st;

	if ((st = sd_path(sd, canary, NULL, path, sizeof path, err)) != ST_OK)
		return st;
	slash = strrchr(path, '/');
	*slash = '\0';
	if ((st = mkdir_one(path, err)) != ST_OK)
		return st;
	*slash = '/';
	return mkdir_one(path, err);
}

/* Checks DIR/<ns> and DIR/<ns>/<name> before a read: ST_OK, ST_NOTFOUND
 * (not there yet), or ST_INVALID / ST_IO naming the entry (a link, not a
 * directory, open to others; a read-write handle also wants them ours). */
int
sd_check_dirs(const struct store_dir *sd, const char *canary, char *err)
{
	char path[PATH_MAX], why[ERRMSG_MAX];
	char *slash;
	int st;

	if ((st = sd_path(sd, canary, NULL, path, sizeof path, err)) != ST_OK)
		return st;
	slash = strrchr(path, '/');
	*slash = '\0';
	st = state_check_dir(path, !sd->ro, why, sizeof why);
	*slash = '/';
	if (st == ST_OK)
		st = state_check_dir(path, !sd->ro, why, sizeof why);
	if (st != ST_OK && st != ST_NOTFOUND)
		seterr(err, "%s", why);
	return st;
}

/* Reads a whole file (at most max bytes) with O_RDONLY. */
int
sd_read_file(const char *path, size_t max, struct buf *b, char *err)
{
	char chunk[8192];
	char why[ERRMSG_MAX];
	ssize_t n;
	int fd, st;


	if ((st = state_open(path, O_RDONLY, 0, &fd, why, sizeof why)) != ST_OK) {
		if (st != ST_NOTFOUND)
			seterr(err, "%s", why);
		return st;
	}
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seterr(err, "cannot read %s: %s", path, strerror(errno));
			st = ST_IO;
			break;
		}
		if (buf_append(b, chunk, (size_t)n) != ST_OK || b->len > max) {
			seterr(err, "%s: larger than %zu bytes", path, max);
			st = ST_CORRUPT;
			break;
		}
	}
	close(fd);
	return st;
}

struct sd_entry *
sd_entry_get(struct store_dir *sd, const char *canary)
{
	size_t i;

	for (i = 0; i < sd->n_entries; i++)
		if (strcmp(sd->entries[i].canary, canary) == 0)
			return &sd->entries[i];
	if (sd->n_entries == sd->cap_entries) {
		sd->cap_entries = sd->cap_entries ? sd->cap_entries * 2 : 8;
		sd->entries = xreallocarray(sd->entries, sd->cap_entries, sizeof *sd->entries);
	}
	memset(&sd->entries[sd->n_entries], 0, sizeof sd->entries[0]);
	snprintf(sd->entries[sd->n_entries].canary, sizeof sd->entries[0].canary, "%s", canary);
	sd->entries[sd->n_entries].lock_fd = -1;
	return &sd->entries[sd->n_entries++];
}

void
sd_read_holder(int fd, char *holder, size_t holdersz)
{
	char raw[256];
	ssize_t n = pread(fd, raw, sizeof raw - 1, 0);

	if (holder == NULL || holdersz == 0)
		return;
	if (n <= 0) {
		snprintf(holder, holdersz, "another process");
		return;
	}
	raw[n] = '\0';
	raw[strcspn(raw, "\n")] = '\0';
	sanitize(holder, holdersz, raw, strlen(raw));
	if (holder[0] == '\0')
		snprintf(holder, holdersz, "another process");
}

int
sd_holder_probe(struct store_dir *sd, const char *canary, char *holder, size_t holdersz)
{
	char path[PATH_MAX], why[ERRMSG_MAX];
	int fd, st;


	if (sd_path(sd, canary, "lock", path, sizeof path, NULL) != ST_OK)
		return ST_INVALID;
	if (sd_check_dirs(sd, canary, NULL) != ST_OK ||
	    state_open(path, O_RDONLY, 0, &fd, why, sizeof why) != ST_OK)
		return ST_NOTFOUND;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
		st = ST_NOTFOUND;
	} else {
		sd_read_holder(fd, holder, holdersz);
		st = ST_OK;
	}
	close(fd);
	return st;
}

/* May this handle write the canary's state?  Not when read-only, and not
 * while another controller holds its lock (a handle that never acquired
 * may write when nobody holds it). */
int
sd_may_write(struct store_dir *sd, const char *canary, char *err)
{
	char holder[128];
	bool mine;

	if (sd->ro) {
		seterr(err, "the state directory is open read-only");
		return ST_REFUSED;
	}
	if (sd_check_name(canary, err, err != NULL ? ERRMSG_MAX : 0) != ST_OK)
		return ST_INVALID;
	pthread_mutex_lock(&sd->mu);
	mine = sd_entry_get(sd, canary)->lock_fd >= 0;
	pthread_mutex_unlock(&sd->mu);
	if (!mine && sd_holder_probe(sd, canary, holder, sizeof holder) == ST_OK) {
		seterr(err, "%s is controlled by %s", canary, holder);
		return ST_LOCKED;
	}
	return ST_OK;
}
