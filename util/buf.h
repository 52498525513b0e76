/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Every buffer fed from the outside world (network responses, files) has a
 * cap: appending past it fails with ST_TOOBIG and leaves the buffer as it
 * was, so an oversized response is a clean error and never an OOM.  The data
 * is always NUL-terminated (the NUL is not counted in len).
 *
 * A struct buf is embedded (buf_init/buf_fini); it is not thread-safe.
 */
#ifndef PERCH_UTIL_BUF_H
#define PERCH_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char   *data;	/* NUL-terminated; NULL until the first append */
	size_t  len;	/* bytes used, without the NUL */
	size_t  cap;	/* bytes allocated */
	size_t  max;	/* hard cap on len; 0 means no cap */
};

void buf_init(struct buf *b, size_t max);
void buf_fini(struct buf *b);
/* Keeps the allocation, forgets the contents. */
void buf_reset(struct buf *b);
/* ST_OK, or ST_TOOBIG (buffer unchanged) when len would exceed max. */
int  buf_append(struct buf *b, const void *p, size_t n);
int  buf_puts(struct buf *b, const char *s);
int  buf_putc(struct buf *b, char c);
int  buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Always a valid string ("" when empty). Borrowed: valid until the next change. */
const char *buf_str(const struct buf *b);
/* Hands the string over to the caller (free() it); the buffer becomes empty. */
char *buf_take(struct buf *b);

#endif
