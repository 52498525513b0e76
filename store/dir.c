/*
 * dir.c — the state-directory store (see dir.h for the layout
 * and the contract): atomic checksummed files, the control lock, the list
 * of canaries.  Names, paths and the handle live in dir_core.c, the
 * journal in dir_journal.c, the JSON forms in codec.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/codec.h"
#include "store/dir.h"
#include "store/dir_core.h"
#include "store/dir_journal.h"
#include "store/state_fs.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

#define STATE_FILE_MAX	(1u << 20)	/* status.json / spec.json cap */
#define LOCK_TRIES	5		/* a watcher's probe holds a shared lock briefly */

/* ---- names and the state directory -------------------------------------- */

int
store_dir_check_name(const char *canary, char *err, size_t errsz)
{
	return sd_check_name(canary, err, errsz);
}

/* Creates the state directory itself, never its parents: a mistyped path
 * is reported, not silently made into a tree. */
static int
make_state_dir(const char *dir, char *err, size_t errsz)
{
	char *parent, *slash;

	if (mkdir(dir, 0755) == 0) {	/* umask only takes bits away */
		sd_sync_parent(dir);
		return ST_OK;
	}
	if (errno == EEXIST)
		return ST_OK;
	if (errno != ENOENT) {
		snprintf(err, errsz, "cannot create state directory %s: %s", dir, strerror(errno));
		return ST_IO;
	}
	parent = xstrdup(dir);
	for (slash = parent + strlen(parent) - 1; slash > parent && *slash == '/'; slash--)
		*slash = '\0';
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	snprintf(err, errsz, "cannot create state directory %s: its parent %s does not exist "
	    "(perch creates only the last component; create the parent first)", dir,
	    slash != NULL ? parent : ".");
	free(parent);
	return ST_NOTFOUND;
}

/* Atomic replace of dir/file (state_write_atomic): a temp file of this
 * process in the same directory, fsync, rename, fsync of the directory. */
static int
write_atomic(struct store_dir *sd, const char *dir, const char *file, const char *data,
    size_t len, char *err)
{
	char tmp[128], why[ERRMSG_MAX];
	unsigned seq;
	int st;

	pthread_mutex_lock(&sd->mu);
	seq = sd->tmp_seq++;
	pthread_mutex_unlock(&sd->mu);
	snprintf(tmp, sizeof tmp, ".%s.tmp.%ld.%u", file, (long)getpid(), seq);
	st = state_write_atomic(dir, file, tmp, data, len, why, sizeof why);
	if (st != ST_OK)
		seterr(err, "%s", why);
	return st;
}

/* ---- checksummed envelopes ----------------------------------------------- */

static void
envelope_checksum(json_t *env, char out[32])
{
	char *canon = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);

	if (canon == NULL)
		xalloc_fatal(0);
	snprintf(out, 32, "fnv1a64:%016llx", (unsigned long long)fnv1a64(canon, strlen(canon)));
	free(canon);
}

/* Writes {"format","kind","canary",kind: body,"checksum"} atomically; steals body. */
static int
envelope_write(struct store_dir *sd, const char *canary, const char *kind, json_t *body,
    char *err)
{
	char dir[PATH_MAX], file[64], sum[32];
	json_t *env = json_object();
	char *text;
	int st;

	json_object_set_new(env, "format", json_integer(STORE_DIR_FORMAT));
	json_object_set_new(env, "kind", json_string(kind));
	json_object_set_new(env, "canary", json_string(canary));
	json_object_set_new(env, kind, body);
	envelope_checksum(env, sum);
	json_object_set_new(env, "checksum", json_string(sum));
	text = json_dumps(env, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(env);
	if (text == NULL)
		xalloc_fatal(0);
	snprintf(file, sizeof file, "%s.json", kind);
	st = sd_path(sd, canary, NULL, dir, sizeof dir, err);
	if (st == ST_OK)
		st = write_atomic(sd, dir, file, text, strlen(text), err);
	free(text);
	return st;
}

/* Checks the envelope around the body (format, checksum, kind, canary). */
static int
envelope_check(json_t *env, const char *path, const char *canary, const char *kind, char *err)
{
	const json_t *fmt = json_object_get(env, "format");
	const char *sum = json_string_value(json_object_get(env, "checksum"));
	char want[32], have[32];

	if (!json_is_integer(fmt)) {
		seterr(err, "%s: missing field \"format\"", path);
		return ST_CORRUPT;
	}
	if (json_integer_value(fmt) != STORE_DIR_FORMAT) {
		seterr(err, "%s: unknown format version %lld (this perch reads %d)",
		    path, (long long)json_integer_value(fmt), STORE_DIR_FORMAT);
		return ST_CORRUPT;
	}
	if (sum == NULL) {
		seterr(err, "%s: missing field \"checksum\"", path);
		return ST_CORRUPT;
	}
	snprintf(have, sizeof have, "%s", sum);
	json_object_del(env, "checksum");
	envelope_checksum(env, want);
	if (strcmp(have, want) != 0) {
		seterr(err, "%s: checksum mismatch (the file was changed or damaged)", path);
		return ST_CORRUPT;
	}
	if (!json_is_string(json_object_get(env, "kind")) ||
	    strcmp(json_string_value(json_object_get(env, "kind")), kind) != 0 ||
	    !json_is_string(json_object_get(env, "canary")) ||
	    strcmp(json_string_value(json_object_get(env, "canary")), canary) != 0) {
		seterr(err, "%s: \"kind\" or \"canary\" does not match the file's place", path);
		return ST_CORRUPT;
	}
	return ST_OK;
}

/* Reads and checks DIR/canary/<kind>.json; *env is a new reference on ST_OK. */
static int
envelope_read(struct store_dir *sd, const char *canary, const char *kind, json_t **env,
    char *err)
{
	char path[PATH_MAX], file[64];
	json_error_t je;
	struct buf b;
	int st;

	*env = NULL;
	snprintf(file, sizeof file, "%s.json", kind);
	if ((st = sd_path(sd, canary, file, path, sizeof path, err)) != ST_OK)
		return st;
	if ((st = sd_check_dirs(sd, canary, err)) != ST_OK) {
		if (st == ST_NOTFOUND)
			seterr(err, "%s: no saved %s", path, kind);
		return st;
	}
	buf_init(&b, STATE_FILE_MAX + 1);
	st = sd_read_file(path, STATE_FILE_MAX, &b, err);
	if (st == ST_OK) {
		*env = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &je);
		if (*env == NULL) {
			seterr(err, "%s:%d:%d: bad JSON: %s", path, je.line, je.column, je.text);
			st = ST_CORRUPT;
		} else if (!json_is_object(*env)) {
			seterr(err, "%s: not a JSON object", path);
			st = ST_CORRUPT;
		} else {
			st = envelope_check(*env, path, canary, kind, err);
		}
		if (st != ST_OK) {
			json_decref(*env);
			*env = NULL;
		}
	} else if (st == ST_NOTFOUND && err != NULL) {
		seterr(err, "%s: no saved %s", path, kind);
	}
	buf_fini(&b);
	return st;
}

/* ---- the table of canaries this handle has touched ---------------------- */

/* ---- status and spec ---------------------------------------------------- */

static int
sd_load(void *ctx, const char *canary, struct canary_status *out, char *err)
{
	struct store_dir *sd = ctx;
	char why[ERRMSG_MAX], path[PATH_MAX];
	json_t *env;
	int st;

	memset(out, 0, sizeof *out);
	st = envelope_read(sd, canary, "status", &env, err);
	if (st == ST_OK) {
		st = status_from_json(json_object_get(env, "status"), out, why, sizeof why);
		if (st != ST_OK) {
			sd_path(sd, canary, "status.json", path, sizeof path, NULL);
			seterr(err, "%s: %s", path, why);
		}
		json_decref(env);
	}
	if (st == ST_OK || st == ST_NOTFOUND) {
		pthread_mutex_lock(&sd->mu);
		sd_entry_get(sd, canary)->verified = true;
		pthread_mutex_unlock(&sd->mu);
	}
	return st;
}

/* A save never replaces a status.json that does not read back: the user
 * must look at it first.  Checked once per canary and handle. */
static int
save_allowed(struct store_dir *sd, const char *canary, char *err)
{
	struct canary_status old;
	bool verified;
	int st;

	pthread_mutex_lock(&sd->mu);
	verified = sd_entry_get(sd, canary)->verified;
	pthread_mutex_unlock(&sd->mu);
	if (verified)
		return ST_OK;
	st = sd_load(sd, canary, &old, err);
	return st == ST_NOTFOUND ? ST_OK : st;
}

static int
sd_save(void *ctx, const char *canary, const struct canary_status *st, char *err)
{
	struct store_dir *sd = ctx;
	int rc;

	if ((rc = sd_may_write(sd, canary, err)) != ST_OK ||
	    (rc = sd_mkdirs(sd, canary, err)) != ST_OK || (rc = save_allowed(sd, canary, err)) != ST_OK)
		return rc;
	/* The journal of earlier ticks first: a status on disk never runs
	 * ahead of more than its own tick's records (see dir.h). */
	sd_journal_sync(sd, canary);
	return envelope_write(sd, canary, "status", status_to_json(st), err);
}

static int
sd_save_spec(void *ctx, const char *canary, const struct canary_cfg *cfg, char *err)
{
	struct store_dir *sd = ctx;
	int rc;

	if ((rc = sd_may_write(sd, canary, err)) != ST_OK || (rc = sd_mkdirs(sd, canary, err)) != ST_OK)
		return rc;
	return envelope_write(sd, canary, "spec", spec_to_json(cfg), err);
}

static int
sd_load_spec(void *ctx, const char *canary, struct canary_cfg **out, char *err)
{
	struct store_dir *sd = ctx;
	char why[ERRMSG_MAX], path[PATH_MAX];
	json_t *env;
	int st;

	*out = NULL;
	st = envelope_read(sd, canary, "spec", &env, err);
	if (st != ST_OK)
		return st;
	st = spec_from_json(json_object_get(env, "spec"), out, why, sizeof why);
	if (st != ST_OK) {
		sd_path(sd, canary, "spec.json", path, sizeof path, NULL);
		seterr(err, "%s: %s", path, why);
	}
	json_decref(env);
	return st;
}

/* ---- control lock ------------------------------------------------------- */

/* Removes the temp files a crashed writer left (".status.json.tmp.PID.N");
 * called with the lock held, so no other writer is at work. */
static void
remove_stale_temps(const struct store_dir *sd, const char *canary)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int dfd;

	if (sd_path(sd, canary, NULL, dir, sizeof dir, NULL) != ST_OK || (d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && strstr(de->d_name, ".json.tmp.") != NULL &&
		    unlinkat(dfd, de->d_name, 0) == 0)
			log_info("%s: removed %s left by an interrupted save", dir, de->d_name);
	closedir(d);
}

static int
try_flock(int fd)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < LOCK_TRIES; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return ST_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ST_IO;
		nanosleep(&pause, NULL);
	}
	return ST_LOCKED;
}

static int
sd_acquire(void *ctx, const char *canary, const char *actor, char *holder, size_t holdersz,
    char *err)
{
	struct store_dir *sd = ctx;
	char path[PATH_MAX], text[192];
	struct sd_entry *e;
	int fd, st;

	if (sd->ro) {
		seterr(err, "the state directory is open read-only");
		return ST_REFUSED;
	}
	if ((st = sd_mkdirs(sd, canary, err)) != ST_OK ||
	    (st = sd_path(sd, canary, "lock", path, sizeof path, err)) != ST_OK) {
		log_warn("acquire %s: %s", canary, err ? err : "");
		return st;
	}
	pthread_mutex_lock(&sd->mu);
	e = sd_entry_get(sd, canary);
	if (e->lock_fd >= 0) {
		pthread_mutex_unlock(&sd->mu);
		return ST_OK;
	}
	if ((st = state_open(path, O_RDWR | O_CREAT, 0644, &fd, err, err ? ERRMSG_MAX : 0)) ==
	    ST_OK && (st = try_flock(fd)) == ST_IO)
		seterr(err, "cannot lock %s: %s", path, strerror(errno));
	if (st == ST_OK) {
		snprintf(text, sizeof text, "%s pid %ld\n", actor && actor[0] ? actor : "unknown",
		    (long)getpid());
		if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) < 0)
			log_warn("%s: cannot record the holder: %s", path, strerror(errno));
		e->lock_fd = fd;
		remove_stale_temps(sd, canary);
	} else if (st == ST_LOCKED) {
		sd_read_holder(fd, holder, holdersz);
		close(fd);
	} else {
		log_warn("acquire %s: %s", canary, err ? err : status_text(st));
		if (fd >= 0)
			close(fd);
	}
	pthread_mutex_unlock(&sd->mu);
	return st;
}

static int
sd_renew(void *ctx, const char *canary)
{
	struct store_dir *sd = ctx;
	int st;

	if (sd->ro)
		return ST_REFUSED;
	pthread_mutex_lock(&sd->mu);
	st = sd_entry_get(sd, canary)->lock_fd >= 0 ? ST_OK : ST_CONFLICT;
	pthread_mutex_unlock(&sd->mu);
	return st;
}

/* Forgets the holder text, then unlocks; mutex held. */
static void
entry_unlock(struct sd_entry *e)
{
	if (e->lock_fd < 0)
		return;
	if (ftruncate(e->lock_fd, 0) != 0)
		log_warn("%s: cannot clear the lock holder", e->canary);
	flock(e->lock_fd, LOCK_UN);
	close(e->lock_fd);
	e->lock_fd = -1;
}

static int
sd_release(void *ctx, const char *canary)
{
	struct store_dir *sd = ctx;

	if (sd->ro)
		return ST_REFUSED;
	sd_journal_sync(sd, canary);
	pthread_mutex_lock(&sd->mu);
	entry_unlock(sd_entry_get(sd, canary));
	pthread_mutex_unlock(&sd->mu);
	return ST_OK;
}

int
store_dir_holder(struct store_dir *sd, const char *canary, char *holder, size_t holdersz)
{
	return sd_holder_probe(sd, canary, holder, holdersz);
}

/* The provider's holder op (for observers): store_dir_holder. */
static int
sd_holder(void *ctx, const char *canary, char *holder, size_t holdersz)
{
	return sd_holder_probe(ctx, canary, holder, holdersz);
}

/* ---- list --------------------------------------------------------------- */

static bool
has_state(const char *dir, const char *ns, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s/%s/status.json", dir, ns, name);
	if (lstat(path, &sb) == 0)
		return true;
	snprintf(path, sizeof path, "%s/%s/%s/spec.json", dir, ns, name);
	return lstat(path, &sb) == 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether dir/name is a directory this store may read (state_check_dir);
 * a link or another entry is skipped with a warning naming it. */
static bool
usable_dir(const struct store_dir *sd, const char *dir, const char *name)
{
	char path[PATH_MAX], why[ERRMSG_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (state_check_dir(path, !sd->ro, why, sizeof why) == ST_OK)
		return true;
	log_warn("%s; skipped", why);
	return false;
}

static void
list_ns(const struct store_dir *sd, const char *ns, char ***out, size_t *n, size_t *cap)
{
	const char *dir = sd->dir;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof path, "%s/%s", dir, ns);
	if (!usable_dir(sd, dir, ns) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!sd_is_subdomain(de->d_name, strlen(de->d_name)) || !has_state(dir, ns, de->d_name) ||
		    !usable_dir(sd, path, de->d_name))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xreallocarray(*out, *cap, sizeof **out);
		}
		(*out)[(*n)++] = xasprintf("%s/%s", ns, de->d_name);
	}
	closedir(d);
}

static size_t
sd_list(void *ctx, char ***out)
{
	struct store_dir *sd = ctx;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	if ((d = opendir(sd->dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (sd_is_label(de->d_name, strlen(de->d_name)))
			list_ns(sd, de->d_name, out, &n, &cap);
	closedir(d);
	if (n > 1)
		qsort(*out, n, sizeof **out, cmp_str);
	return n;
}

/* ---- open and close ------------------------------------------------------ */

/* The state directory itself (the path given may be a link to it: that is
 * the user's choice): a directory, not writable by group or others, and
 * ours (or root's) when we write to it, as ssh wants of ~/.ssh. */
static int
check_state_dir(const char *dir, const struct stat *sb, bool read_only, char *err, size_t errsz)
{
	uid_t me = geteuid();

	if (!S_ISDIR(sb->st_mode)) {
		snprintf(err, errsz, "state directory %s: not a directory", dir);
		return ST_INVALID;
	}
	if (!read_only && sb->st_uid != me && sb->st_uid != 0) {
		snprintf(err, errsz, "state directory %s: owned by uid %ld, not by you (uid %ld); "
		    "refusing to keep rollout state there", dir, (long)sb->st_uid, (long)me);
		return ST_INVALID;
	}
	if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "state directory %s: writable by %s; refusing it (chmod go-w %s)",
		    dir, sb->st_mode & S_IWOTH ? "others" : "its group", dir);
		return ST_INVALID;
	}
	return ST_OK;
}

struct store_dir *
store_dir_open(const char *dir, bool read_only, char *err, size_t errsz)
{
	struct store_dir *sd;
	struct stat sb;

	if (dir == NULL || dir[0] == '\0') {
		snprintf(err, errsz, "no state directory given");
		return NULL;
	}
	if (!read_only && make_state_dir(dir, err, errsz) != ST_OK)
		return NULL;
	if (stat(dir, &sb) != 0) {
		snprintf(err, errsz, "state directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	if (check_state_dir(dir, &sb, read_only, err, errsz) != ST_OK)
		return NULL;
	sd = xcalloc(1, sizeof *sd);
	sd->dir = xstrdup(dir);
	sd->ro = read_only;
	sd->journal_max = STORE_DIR_JOURNAL_MAX;
	sd->journal_sync_ms = STORE_DIR_JOURNAL_SYNC_MS;
	pthread_mutex_init(&sd->mu, NULL);
	return sd;
}

void
store_dir_close(struct store_dir *sd)
{
	size_t i;

	if (sd == NULL)
		return;
	for (i = 0; i < sd->n_entries; i++)
		if (sd->entries[i].journal_dirty)
			sd_journal_sync(sd, sd->entries[i].canary);
	for (i = 0; i < sd->n_entries; i++)
		entry_unlock(&sd->entries[i]);
	free(sd->entries);
	pthread_mutex_destroy(&sd->mu);
	free(sd->dir);
	free(sd);
}

const char *
store_dir_path(const struct store_dir *sd)
{
	return sd->dir;
}

void
store_dir_set_journal_max(struct store_dir *sd, size_t bytes)
{
	sd->journal_max = bytes ? bytes : STORE_DIR_JOURNAL_MAX;
}

void
store_dir_set_journal_sync_ms(struct store_dir *sd, int64_t ms)
{
	sd->journal_sync_ms = ms > 0 ? ms : STORE_DIR_JOURNAL_SYNC_MS;
}

unsigned long
store_dir_journal_syncs(struct store_dir *sd)
{
	unsigned long n;

	pthread_mutex_lock(&sd->mu);
	n = sd->journal_syncs;
	pthread_mutex_unlock(&sd->mu);
	return n;
}

char *
store_dir_default_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/perch", xdg);
	if (home != NULL && home[0] != '\0')
		return xasprintf("%s/.local/state/perch", home);
	return NULL;
}

const struct store_ops store_dir_ops = {
	.name = "dir",
	.acquire = sd_acquire,
	.renew = sd_renew,
	.release = sd_release,
	.load = sd_load,
	.save = sd_save,
	.append = sd_append,
	.save_spec = sd_save_spec,
	.load_spec = sd_load_spec,
	.tail = sd_tail,
	.list = sd_list,
	.holder = sd_holder,
};
