/* log.c — line-oriented log file, thread-safe (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static enum log_level log_level = LOG_WARN;

static const char *const level_names[] = {
#define X(name, text) text,
	LOG_LEVELS(X)
#undef X
};

int
log_open(const char *path, enum log_level level)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		return ST_IO;
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	log_level = level;
	pthread_mutex_unlock(&log_lock);
	return ST_OK;
}

void
log_set_level(enum log_level level)
{
	pthread_mutex_lock(&log_lock);
	log_level = level;
	pthread_mutex_unlock(&log_lock);
}

void
log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048], msg[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m, saved = errno;

	pthread_mutex_lock(&log_lock);
	if (log_fd < 0 || level > log_level) {
		pthread_mutex_unlock(&log_lock);
		errno = saved;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (m < 0)
		msg[0] = '\0';
	/* One entry, one line, no escape sequences, whatever a caller passed
	 * (a cluster's event, a webhook's name): the log is read with tail -f. */
	n += (int)sanitize(line + n, sizeof line - (size_t)n - 1, msg, strlen(msg));
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) < 0) {
		/* Nowhere better to report it. */
	}
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}
