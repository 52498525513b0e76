/*
 * sanitize.h — make strings from the outside world safe for a terminal.
 *
 * Cluster objects, events, Prometheus errors, webhook answers and YAML all
 * reach the screen or the headless output; every such string goes through
 * here first.  The result is valid UTF-8 on one line with:
 *   - C0 controls, DEL and C1 controls (U+0080..U+009F) removed; a tab or a
 *     line break becomes one space;
 *   - escape sequences removed whole (CSI "ESC [ ... final", OSC/DCS/APC/PM
 *     strings up to BEL or ST, and two-byte ESC sequences);
 *   - bidirectional overrides and isolates removed (U+202A..U+202E,
 *     U+2066..U+2069, U+200E, U+200F, U+061C);
 *   - invalid UTF-8 (stray bytes, overlong forms, surrogates, > U+10FFFF)
 *     removed;
 *   - its length bounded, cut on a character boundary.
 * Pure functions (sanitize_print writes to its FILE), safe from any thread.
 */
#ifndef PERCH_UTIL_SANITIZE_H
#define PERCH_UTIL_SANITIZE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SANITIZE_PRINT_MAX 2048	/* bytes of one printed message */

/* Writes at most dstsz-1 bytes and a NUL into dst (dstsz >= 1); returns the
 * number of bytes written, not counting the NUL. */
size_t sanitize(char *dst, size_t dstsz, const char *src, size_t srclen);

/* A new sanitized copy of the NUL-terminated src, at most maxbytes long
 * (not counting the NUL).  NULL src gives "". */
char *sanitize_dup(const char *src, size_t maxbytes);

/* The one way perch prints a message line for people (stderr, a headless
 * log line): "prefix: message\n" to f, the message formatted and then
 * sanitized whole, so whatever its arguments hold (a path or a theme name
 * from the command line, a kubeconfig context, a server's answer, a
 * damaged file's bytes) it is one line free of escape sequences and
 * bidirectional controls, at most SANITIZE_PRINT_MAX bytes.  prefix (not
 * sanitized: the program's own text, "perch run") may be NULL. */
void sanitize_print(FILE *f, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sanitize_vprint(FILE *f, const char *prefix, const char *fmt, va_list ap);

/* Whether code point cp is one sanitize() removes (C0 and C1 controls,
 * DEL, bidirectional overrides and isolates): the terminal front end's
 * last check before it draws a character uses the same rule. */
bool sanitize_unsafe(unsigned int cp);

/* Decodes one UTF-8 character at s (n bytes available).  Returns its length
 * (1..4) and stores the code point, or returns 0 for an invalid sequence. */
size_t utf8_decode(const unsigned char *s, size_t n, unsigned int *cp);

#endif
