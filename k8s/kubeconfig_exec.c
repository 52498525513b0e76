/*
 * kubeconfig_exec.c — exec credential plugins (what EKS, GKE and AKS use).
 *
 * The plugin runs with the parent's environment plus its own `env` entries
 * and KUBERNETES_EXEC_INFO; stdin and stderr are /dev/null (the terminal
 * belongs to the TUI).  Its stdout is an ExecCredential whose status carries
 * a token or a client certificate and key, and maybe an expirationTimestamp.
 * The output holds secrets: it is never logged or quoted in messages.
 *
 * The plugin runs in a process group of its own, registered with
 * util/sigwatch: when perch is told to stop (SIGINT, SIGTERM, SIGHUP) the
 * whole group is ended, and a plugin that times out or fails is killed
 * with everything it started, so none is left behind.
 */
#include "k8s/kubeconfig_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/sigwatch.h"
#include "util/status.h"
#include "util/xalloc.h"

extern char **environ;

#define EXEC_SLICE_MS 200

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

/* Reads the child's stdout into b until EOF or the deadline. */
static int
read_child(int fd, struct buf *b, struct buf *err)
{
	struct timespec t0, t1;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char chunk[4096];
	ssize_t n;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = EXEC_TIMEOUT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return perr(err, ST_TIMEOUT, "timed out");
		if (sigwatch_caught() != 0)
			return perr(err, ST_REFUSED, "stopped: perch is ending");
		/* In slices, so that perch's end is seen within one. */
		rc = poll(&pfd, 1, left > EXEC_SLICE_MS ? EXEC_SLICE_MS : (int)left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return perr(err, ST_IO, "poll failed");
		}
		if (rc == 0)
			continue;
		n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return perr(err, ST_IO, "reading its output failed");
		if (n == 0)
			return ST_OK;
		if (buf_append(b, chunk, (size_t)n) != ST_OK)
			return perr(err, ST_TOOBIG, "its output is too large");
	}
}

int
k8s_exec_credential(const struct kc_exec *x, time_t now, char **token, char **cert,
    size_t *cert_len, char **key, size_t *key_len, time_t *expiry, struct buf *err)
{
	char *info = xasprintf("KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":"
	    "\"ExecCredential\",\"spec\":{\"interactive\":false}}", x->api_version);
	char **env = child_env(x, info);
	struct buf out;
	int pfd[2], wst = 0, st, devnull;
	pid_t pid;

	(void)now;
	*token = *cert = *key = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		free(env);
		free(info);
		return perr(err, ST_IO, "pipe failed");
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		/* A group of its own (perch ends it whole), with the signals
		 * perch blocks for its own watcher unblocked again. */
		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		dup2(pfd[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		execvpe(x->argv[0], x->argv, env);
		_exit(127);
	}
	close(pfd[1]);
	if (devnull >= 0)
		close(devnull);
	free(env);
	free(info);
	if (pid < 0) {
		close(pfd[0]);
		return perr(err, ST_IO, "fork failed");
	}
	setpgid(pid, pid);	/* as the child does: whichever runs first */
	sigwatch_child_add(pid);
	buf_init(&out, EXEC_MAX_OUTPUT);
	st = read_child(pfd[0], &out, err);
	close(pfd[0]);
	if (st != ST_OK)
		kill(-pid, SIGKILL);	/* the plugin and whatever it started */
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	sigwatch_child_remove(pid);
	if (st == ST_OK && (!WIFEXITED(wst) || WEXITSTATUS(wst) != 0)) {
		st = ST_AUTH;
		if (err) {
			buf_reset(err);
			buf_printf(err, "exec credential plugin %s: %s %d", x->argv[0],
			    WIFEXITED(wst) ? "exited with status" : "killed by signal",
			    WIFEXITED(wst) ? WEXITSTATUS(wst) : WTERMSIG(wst));
		}
	}
	if (st == ST_OK)
		st = k8s_exec_parse(x->api_version, buf_str(&out), out.len, token, cert, cert_len,
		    key, key_len, expiry, err);
	if (out.data)
		memset(out.data, 0, out.len);
	buf_fini(&out);
	return st;
}
