/* sanitize.c — terminal-safe strings (see sanitize.h). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/sanitize.h"
#include "util/xalloc.h"

size_t
utf8_decode(const unsigned char *s, size_t n, unsigned int *cp)
{
	unsigned int c, min;
	size_t len, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		len = 2, c &= 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, c &= 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static int
is_bidi_control(unsigned int cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

bool
sanitize_unsafe(unsigned int cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp);
}

/* Length of the escape sequence starting with ESC at s[0]. */
static size_t
escape_length(const unsigned char *s, size_t n)
{
	size_t i;

	if (n < 2)
		return n;
	switch (s[1]) {
	case '[':	/* CSI: parameters and intermediates, then a final byte */
		for (i = 2; i < n; i++)
			if (s[i] >= 0x40 && s[i] <= 0x7E)
				return i + 1;
		return n;
	case ']': case 'P': case 'X': case '^': case '_':
		/* string: ends with BEL or ESC \ */
		for (i = 2; i < n; i++) {
			if (s[i] == 0x07)
				return i + 1;
			if (s[i] == 0x1B)
				return (i + 1 < n && s[i + 1] == '\\') ? i + 2 : i + 1;
		}
		return n;
	default:
		/* ESC, intermediates 0x20..0x2F, then one final byte */
		for (i = 1; i < n && s[i] >= 0x20 && s[i] <= 0x2F; i++)
			;
		return i < n ? i + 1 : n;
	}
}

size_t
sanitize(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	const unsigned char *s = (const unsigned char *)src, *out;
	size_t i = 0, o = 0, len, outlen;
	unsigned int cp;

	if (dstsz == 0)
		return 0;
	while (i < srclen) {
		if (s[i] == 0x1B) {
			i += escape_length(s + i, srclen - i);
			continue;
		}
		len = utf8_decode(s + i, srclen - i, &cp);
		if (len == 0) {
			i++;	/* invalid byte: dropped */
			continue;
		}
		out = s + i;
		outlen = len;
		if (cp == '\t' || cp == '\n' || cp == '\r') {
			out = (const unsigned char *)" ";
			outlen = 1;
		} else if (sanitize_unsafe(cp)) {
			i += len;
			continue;
		}
		if (o + outlen > dstsz - 1)
			break;	/* bounded: cut on a character boundary */
		memcpy(dst + o, out, outlen);
		o += outlen;
		i += len;
	}
	dst[o] = '\0';
	return o;
}

char *
sanitize_dup(const char *src, size_t maxbytes)
{
	size_t n, cap;
	char *dst;

	if (src == NULL)
		return xstrdup("");
	n = strlen(src);
	cap = n < maxbytes ? n : maxbytes;
	dst = xmalloc(cap + 1);
	sanitize(dst, cap + 1, src, n);
	return dst;
}

void
sanitize_vprint(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	char raw[SANITIZE_PRINT_MAX], clean[SANITIZE_PRINT_MAX];

	vsnprintf(raw, sizeof raw, fmt, ap);
	sanitize(clean, sizeof clean, raw, strlen(raw));
	if (prefix != NULL && prefix[0] != '\0')
		fprintf(f, "%s: %s\n", prefix, clean);
	else
		fprintf(f, "%s\n", clean);
}

void
sanitize_print(FILE *f, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sanitize_vprint(f, prefix, fmt, ap);
	va_end(ap);
}
