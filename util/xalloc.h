/*
 * xalloc.h — allocation wrappers.
 *
 * Running out of memory is fatal, and handled in exactly one place
 * (xalloc_fatal in xalloc.c): these never return NULL, so callers do not
 * check.  Memory is freed with plain free().  Safe from any thread.
 */
#ifndef PERCH_UTIL_XALLOC_H
#define PERCH_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of `size`-byte items to hold at least `need` items. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites a NUL-terminated secret (a token, a password, a webhook
 * address) with zeros, then frees it.  NULL is ignored. */
void xfree_secret(char *s);

/* Prints "perch: out of memory" and aborts.  Never returns. */
void xalloc_fatal(size_t n) __attribute__((noreturn));

#endif
