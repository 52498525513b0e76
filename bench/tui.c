/*
 * bench/tui.c — the front end's cost, measured on the real binary: `perch
 * demo` in a 120x40 pseudo-terminal (TERM=xterm-256color, UTF-8).
 *
 *   first frame     time from start until the whole first frame has arrived
 *                   (target <= 20 ms)
 *   progressing     CPU share of one core and bytes written per second while
 *                   one canary progresses (target <= 500 B/s)
 *   all paused      the same after Space paused it (targets <= 0.2 % of a
 *                   core and <= 100 B/s)
 *   peak RSS        VmHWM (target <= 8 MB)
 *
 * Usage: tui PERCH_BIN [SECONDS]  (SECONDS per phase, default 60).  Prints
 * figures; never asserts (machines differ).
 */
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads the terminal for secs; returns bytes; stops early when `until` shows up. */
static long
drain(int fd, double secs, const char *until, char *tail, size_t tailsz)
{
	double end = now_s() + secs;
	long total = 0;
	size_t tl = strlen(tail);

	while (now_s() < end) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char buf[8192];
		ssize_t n;

		if (poll(&pf, 1, (int)((end - now_s()) * 1000) + 1) <= 0)
			continue;
		n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		total += n;
		if (until != NULL) {
			size_t take = (size_t)n < tailsz - 1 ? (size_t)n : tailsz - 1;

			if (tl + take >= tailsz) {
				memmove(tail, tail + tl + take - (tailsz - 1), tailsz - 1 - take);
				tl = tailsz - 1 - take;
			}
			memcpy(tail + tl, buf + n - take, take);
			tl += take;
			tail[tl] = '\0';
			if (strstr(tail, until) != NULL)
				break;
		}
	}
	return total;
}

static double
cpu_s(pid_t pid)
{
	char path[64], line[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof line, f) != NULL && (p = strrchr(line, ')')) != NULL)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long
hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
phase(const char *what, int fd, pid_t pid, double secs, double t_target, double b_target)
{
	char tail[256] = "";
	double c0 = cpu_s(pid), t0 = now_s(), dt;
	long bytes = drain(fd, secs, NULL, tail, sizeof tail);

	dt = now_s() - t0;
	printf("%-12s %6.2f %% of a core (target <= %.1f %%)   %7.1f B/s (target <= %.0f B/s)\n",
	    what, 100 * (cpu_s(pid) - c0) / dt, t_target, bytes / dt, b_target);
}

int
main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	double secs = argc > 2 ? atof(argv[2]) : 60, t0;
	char tail[256] = "";
	int fd, status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: tui PERCH_BIN [SECONDS]\n");
		return 2;
	}
	t0 = now_s();
	pid = forkpty(&fd, NULL, NULL, &ws);
	if (pid < 0)
		return 1;
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		execl(argv[1], argv[1], "demo", "--scenario", "healthy", (char *)NULL);
		_exit(127);
	}
	drain(fd, 5, "quit", tail, sizeof tail);
	printf("first frame  %6.1f ms (target <= 20 ms)\n", (now_s() - t0) * 1000);
	drain(fd, 1, NULL, tail, sizeof tail);
	phase("progressing", fd, pid, secs, 100, 500);
	if (write(fd, " ", 1) != 1)
		return 1;
	drain(fd, 1, NULL, tail, sizeof tail);
	phase("all paused", fd, pid, secs, 0.2, 100);
	printf("peak RSS     %6.1f MB (target <= 8 MB)\n", hwm_kb(pid) / 1024.0);
	kill(pid, SIGTERM);
	drain(fd, 1, NULL, tail, sizeof tail);
	waitpid(pid, &status, 0);
	return 0;
}
