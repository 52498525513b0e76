/*
 * log.h — logging to a file.
 *
 * Nothing is logged until log_open() names a file (`--log FILE`); `-v` raises
 * the level.  Logging never writes to the terminal: while the TUI runs the
 * screen belongs to ncurses.  Safe from any thread (one mutex, one write per
 * line).  Messages must not contain secrets.  Each message is sanitised
 * (util/sanitize.h) on its way to the file, so an entry is one line free of
 * escape sequences whatever its arguments hold.
 */
#ifndef PERCH_UTIL_LOG_H
#define PERCH_UTIL_LOG_H

#define LOG_LEVELS(X) \
	X(ERROR, "error") \
	X(WARN,  "warn") \
	X(INFO,  "info") \
	X(DEBUG, "debug")

enum log_level {
#define X(name, text) LOG_##name,
	LOG_LEVELS(X)
#undef X
};

/* Opens (appends to) path.  ST_OK or ST_IO; errno is kept for the caller. */
int  log_open(const char *path, enum log_level level);
void log_set_level(enum log_level level);
void log_close(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
