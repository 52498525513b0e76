/*
 * kubeconfig_exec.c — exec credential plugins (what EKS, GKE and AKS use).
 *
 * The plugin runs with the parent's environment plus its own `env` entries
 * and KUBERNETES_EXEC_INFO, in a process group of its own; stdin is
 * /dev/null and stderr a pipe (the terminal belongs to the TUI): the first
 * line it writes there, sanitized, goes into the message when it fails.
 * Its stdout is an ExecCredential whose status carries a token or a client
 * certificate and key, and maybe an expirationTimestamp.  The output holds
 * secrets: it is never logged or quoted in messages.  A plugin that does
 * not answer within k8s_exec_timeout_ms() is killed with its process group.
 *
 * The group is registered with util/sigwatch: when perch is told to stop
 * (SIGINT, SIGTERM, SIGHUP) the whole group is ended, and the wait for its
 * answer stops within EXEC_SLICE_MS, so no plugin outlives perch.
 */
#include "k8s/kubeconfig_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/sanitize.h"
#include "util/sigwatch.h"
#include "util/status.h"
#include "util/xalloc.h"

extern char **environ;

int
k8s_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	int sign, oh, om, n = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (!s || sscanf(s, "%4d-%2d-%2d%*[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return ST_PARSE;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return ST_PARSE;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59)
			return ST_PARSE;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	} else {
		return ST_PARSE;
	}
	if (*p)
		return ST_PARSE;
	*out = t;
	return ST_OK;
}

static int
perr(struct buf *err, int st, const char *msg)
{
	if (err) {
		buf_reset(err);
		buf_printf(err, "exec credential plugin: %s", msg);
	}
	return st;
}

int
k8s_exec_parse(const char *api_version, const char *text, size_t len, char **token,
    char **cert, size_t *cert_len, char **key, size_t *key_len, time_t *expiry,
    struct buf *err)
{
	json_t *root, *status;
	const char *kind, *av, *tok, *crt, *k, *exp;
	int st = ST_OK;

	*token = *cert = *key = NULL;
	*cert_len = *key_len = 0;
	*expiry = 0;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return perr(err, ST_AUTH, "its output is not a JSON ExecCredential object");
	}
	kind = json_string_value(json_object_get(root, "kind"));
	av = json_string_value(json_object_get(root, "apiVersion"));
	status = json_object_get(root, "status");
	tok = json_string_value(json_object_get(status, "token"));
	crt = json_string_value(json_object_get(status, "clientCertificateData"));
	k = json_string_value(json_object_get(status, "clientKeyData"));
	exp = json_string_value(json_object_get(status, "expirationTimestamp"));
	if (!kind || strcmp(kind, "ExecCredential") != 0)
		st = perr(err, ST_AUTH, "its output: kind: must be ExecCredential");
	else if (!av || !api_version || strcmp(av, api_version) != 0)
		st = perr(err, ST_AUTH, "its output: apiVersion: does not match the kubeconfig's "
		    "exec.apiVersion");
	else if (!json_is_object(status))
		st = perr(err, ST_AUTH, "its output: status: missing");
	else if (!(tok && *tok) && !(crt && *crt && k && *k))
		st = perr(err, ST_AUTH, "its output: status: has neither a token nor a client "
		    "certificate and key");
	else if ((crt && *crt) != (k && *k))
		st = perr(err, ST_AUTH, "its output: status: a client certificate needs its key");
	else if (exp && k8s_parse_time(exp, expiry) != ST_OK)
		st = perr(err, ST_AUTH, "its output: status.expirationTimestamp: not an RFC 3339 time");
	if (st == ST_OK) {
		if (tok && *tok)
			*token = xstrdup(tok);
		if (crt && *crt) {
			*cert = xstrdup(crt);
			*cert_len = strlen(crt);
			*key = xstrdup(k);
			*key_len = strlen(k);
		}
	}
	json_decref(root);
	return st;
}

/* The environment for the child: ours, then the plugin's entries (which win),
 * then KUBERNETES_EXEC_INFO.  Built before fork(). */
static char **
child_env(const struct kc_exec *x, char *info)
{
	size_t n = 0, m = 0, i, j, klen;
	char **env;

	while (environ && environ[n])
		n++;
	while (x->env && x->env[m])
		m++;
	env = xcalloc(n + m + 2, sizeof *env);
	for (i = 0, j = 0; i < n; i++) {
		size_t k;
		bool over = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;

		for (k = 0; !over && k < m; k++) {
			klen = (size_t)(strchr(x->env[k], '=') - x->env[k]);
			over = strncmp(environ[i], x->env[k], klen + 1) == 0;
		}
		if (!over)
			env[j++] = environ[i];
	}
	for (i = 0; i < m; i++)
		env[j++] = x->env[i];
	env[j++] = info;
	env[j] = NULL;
	return env;
}

long
k8s_exec_timeout_ms(void)
{
	const char *s = getenv("PERCH_EXEC_TIMEOUT");
	char *end;
	double v;

	if (s == NULL || *s == '\0')
		return EXEC_TIMEOUT_MS;
	v = strtod(s, &end);
	if (*end != '\0' || !(v > 0) || v > 3600)
		return EXEC_TIMEOUT_MS;
	return (long)(v * 1000);
}

/* What the child left: its stdout (the credential), the start of its
 * stderr (for messages) and, when exec itself failed, its errno. */
struct child_io {
	int out, errfd, execfd;
	struct buf *b;
	char errtext[512];
	size_t errlen;
	int exec_errno;
};

/* One read of a readable descriptor (all are non-blocking): false at its
 * end, or when nothing is there and `more` is false. */
static bool
drain(struct child_io *io, int fd, bool more, int *st, struct buf *err)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);

	if (n < 0)
		return errno == EINTR || (more && errno == EAGAIN);
	if (n == 0)
		return false;
	if (fd == io->out && buf_append(io->b, chunk, (size_t)n) != ST_OK) {
		*st = perr(err, ST_TOOBIG, "its output is too large");
		return false;
	}
	if (fd == io->errfd && io->errlen < sizeof io->errtext - 1) {
		size_t k = (size_t)n < sizeof io->errtext - 1 - io->errlen ? (size_t)n :
		    sizeof io->errtext - 1 - io->errlen;

		memcpy(io->errtext + io->errlen, chunk, k);
		io->errlen += k;
	}
	if (fd == io->execfd && (size_t)n >= sizeof io->exec_errno)
		memcpy(&io->exec_errno, chunk, sizeof io->exec_errno);
	return true;
}

/* Reads the child's stdout, stderr and exec-error pipe until stdout ends
 * or the deadline. */
static int
read_child(struct child_io *io, long timeout_ms, struct buf *err)
{
	struct timespec t0, t1;
	struct pollfd p[3];
	long left;
	int st = ST_OK, i, n;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	p[0] = (struct pollfd){ .fd = io->out, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = io->errfd, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = io->execfd, .events = POLLIN };
	while (p[0].fd >= 0 && st == ST_OK) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			buf_reset(err);
			buf_printf(err, "exec credential plugin: no answer within %ld ms (killed)",
			    timeout_ms);
			return ST_TIMEOUT;
		}
		if (sigwatch_caught() != 0)
			return perr(err, ST_REFUSED, "stopped: perch is ending");
		/* In slices, so that perch's end is seen within one. */
		if ((n = poll(p, 3, left > EXEC_SLICE_MS ? EXEC_SLICE_MS : (int)left)) < 0 &&
		    errno != EINTR)
			return perr(err, ST_IO, "poll failed");
		for (i = 0; n > 0 && i < 3; i++)
			if (p[i].fd >= 0 && p[i].revents && !drain(io, p[i].fd, true, &st, err))
				p[i].fd = -1;	/* its end: poll ignores it from now */
	}
	return st;
}

/* The first line of the plugin's stderr, sanitized, into out ("" when
 * it said nothing). */
static void
first_line(const struct child_io *io, char *out, size_t outsz)
{
	char line[sizeof io->errtext];
	size_t n = 0;

	while (n < io->errlen && (io->errtext[n] == '\n' || io->errtext[n] == '\r'))
		n++;
	memcpy(line, io->errtext + n, io->errlen - n);
	line[io->errlen - n] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	sanitize(out, outsz, line, strlen(line));
}

/* Why the plugin did not give a credential: it could not be started, it
 * failed (status, first stderr line) or was killed. */
static int
child_failed(const struct kc_exec *x, const struct child_io *io, int wst, struct buf *err)
{
	char cmd[160], line[200];

	sanitize(cmd, sizeof cmd, x->argv[0], strlen(x->argv[0]));
	buf_reset(err);
	if (io->exec_errno != 0) {
		buf_printf(err, "exec credential plugin %s: %s", cmd,
		    io->exec_errno == ENOENT ? "not found (is it installed and on $PATH?)" :
		    strerror(io->exec_errno));
		return ST_AUTH;
	}
	first_line(io, line, sizeof line);
	if (WIFEXITED(wst))
		buf_printf(err, "exec credential plugin %s: exited with status %d", cmd,
		    WEXITSTATUS(wst));
	else
		buf_printf(err, "exec credential plugin %s: killed by signal %d", cmd,
		    WIFSIGNALED(wst) ? WTERMSIG(wst) : 0);
	if (line[0] != '\0')
		buf_printf(err, ": %s", line);
	else
		buf_puts(err, " (nothing on stderr)");
	return ST_AUTH;
}

/* In the child: its own process group (killed whole on a timeout), the
 * pipes as stdin (/dev/null), stdout and stderr, then exec; an exec that
 * fails writes its errno to execfd. */
static void
child_main(const struct kc_exec *x, char **env, int out, int errfd, int execfd, int devnull)
{
	sigset_t none;
	int e;

	/* A group of its own (perch ends it whole), with the signals perch
	 * blocks for its own watcher unblocked again. */
	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	dup2(out, 1);
	dup2(errfd, 2);
	if (devnull >= 0)
		dup2(devnull, 0);
	execvpe(x->argv[0], x->argv, env);
	e = errno;
	if (write(execfd, &e, sizeof e) < 0)
		_exit(126);
	_exit(127);
}

static void
nonblock(int fd)
{
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int
k8s_exec_credential(const struct kc_exec *x, time_t now, char **token, char **cert,
    size_t *cert_len, char **key, size_t *key_len, time_t *expiry, struct buf *err)
{
	char *info = xasprintf("KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":"
	    "\"ExecCredential\",\"spec\":{\"interactive\":false}}", x->api_version);
	char **env = child_env(x, info);
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 }, wst = 0, st, devnull;
	struct child_io io = { .exec_errno = 0 };
	struct buf out;
	pid_t pid = -1;

	(void)now;
	*token = *cert = *key = NULL;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0 && pipe2(px, O_CLOEXEC) == 0) {
		nonblock(po[0]);
		nonblock(pe[0]);
		nonblock(px[0]);
		pid = fork();
	}
	if (pid == 0)
		child_main(x, env, po[1], pe[1], px[1], devnull);
	if (pid > 0) {
		setpgid(pid, pid);	/* also here: no race with the child's own */
		sigwatch_child_add(pid);
	}
	close(po[1]);
	close(pe[1]);
	close(px[1]);
	po[1] = pe[1] = px[1] = -1;
	if (devnull >= 0)
		close(devnull);
	free(env);
	free(info);
	if (pid < 0) {
		close_pair(po);
		close_pair(pe);
		close_pair(px);
		return perr(err, ST_IO, "cannot start it (pipe or fork failed)");
	}
	buf_init(&out, EXEC_MAX_OUTPUT);
	io = (struct child_io){ .out = po[0], .errfd = pe[0], .execfd = px[0], .b = &out };
	st = read_child(&io, k8s_exec_timeout_ms(), err);
	if (st != ST_OK)
		kill(-pid, SIGKILL);	/* the plugin and whatever it started */
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	sigwatch_child_remove(pid);
	/* What it said on stderr and whether exec failed, now that it has
	 * ended (what a process it left behind writes later is not waited
	 * for: the descriptors are non-blocking). */
	while (drain(&io, io.errfd, false, &st, NULL))
		;
	while (drain(&io, io.execfd, false, &st, NULL))
		;
	close_pair(po);
	close_pair(pe);
	close_pair(px);
	if (st == ST_TIMEOUT) {
		char cmd[160];

		sanitize(cmd, sizeof cmd, x->argv[0], strlen(x->argv[0]));
		buf_reset(err);
		buf_printf(err, "exec credential plugin %s: no answer within %ld ms; killed with its "
		    "process group", cmd, k8s_exec_timeout_ms());
	}
	if (st == ST_OK && (io.exec_errno != 0 || !WIFEXITED(wst) || WEXITSTATUS(wst) != 0))
		st = child_failed(x, &io, wst, err);
	if (st == ST_OK)
		st = k8s_exec_parse(x->api_version, buf_str(&out), out.len, token, cert, cert_len,
		    key, key_len, expiry, err);
	if (out.data)
		memset(out.data, 0, out.len);
	buf_fini(&out);
	return st;
}
