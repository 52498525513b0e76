/* helper_apiserver.c — see helper_apiserver.h. */
#include "helper_apiserver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int
apiserver_start(struct apiserver *s, const char *const *extra)
{
	const char *argv[40];
	char line[256];
	size_t n = 0, got = 0;
	int pfd[2], i;
	struct pollfd p;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "/tmp/perch-apiserver.XXXXXX");
	if (!mkdtemp(s->dir) || pipe(pfd) != 0)
		return -1;
	snprintf(s->kubeconfig, sizeof s->kubeconfig, "%s/kubeconfig", s->dir);
	snprintf(s->audit, sizeof s->audit, "%s/audit", s->dir);
	snprintf(s->objects, sizeof s->objects, "%s/objects", s->dir);
	argv[n++] = "python3";
	argv[n++] = "tests/k8s/apiserver.py";
	argv[n++] = "--kubeconfig-out";
	argv[n++] = s->kubeconfig;
	argv[n++] = "--audit-log";
	argv[n++] = s->audit;
	argv[n++] = "--objects-log";
	argv[n++] = s->objects;
	for (i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	s->pid = fork();
	if (s->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		/* The server dies with the test, even when a failed assertion
		 * skips apiserver_stop. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(127);

		dup2(pfd[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(pfd[0]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	p = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	while (got < sizeof line - 1 && poll(&p, 1, 20000) > 0) {
		ssize_t r = read(pfd[0], line + got, 1);

		if (r <= 0 || line[got] == '\n')
			break;
		got++;
	}
	line[got] = '\0';
	close(pfd[0]);
	if (sscanf(line, "listening on %127s", s->url) != 1) {
		apiserver_stop(s);
		return -1;
	}
	s->port = atoi(strrchr(s->url, ':') + 1);
	return 0;
}

/* tests/schema/check.mjs over the objects written: 0 when every one fits
 * its kind's schema (the problems are printed on stderr). */
static int
check_schemas(const struct apiserver *s)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "node tests/schema/check.mjs --quiet '%s' >&2", s->objects);
	return system(cmd);
}

void
apiserver_stop(struct apiserver *s)
{
	char cmd[160];
	bool bad = false;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
		bad = s->objects[0] && check_schemas(s) != 0;
	}
	if (s->dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
	if (bad) {
		fprintf(stderr, "FAIL: an object written to the test API server does not fit its "
		    "schema (above; make deps installs the schema packages)\n");
		exit(1);
	}
}

int
apiserver_post(struct apiserver *s, const char *path, const char *body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	char req[2048], resp[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
	ssize_t r;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    path, strlen(body), body);
	if (write(fd, req, strlen(req)) == (ssize_t)strlen(req) &&
	    (r = read(fd, resp, sizeof resp - 1)) > 0) {
		resp[r] = '\0';
		sscanf(resp, "HTTP/1.%*d %d", &code);
	}
	close(fd);
	return code;
}

int
apiserver_audit_count(struct apiserver *s, const char *needle)
{
	FILE *f = fopen(s->audit, "r");
	char line[2048];
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}
