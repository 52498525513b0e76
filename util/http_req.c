/*
 * http_req.c — the head of an HTTP/1.x request (see http_req.h).
 */
#include <string.h>

#include "util/http_req.h"
#include "util/status.h"

/* The end of the line starting at p (its '\n'), or NULL. */
static const char *
line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* The line [p, nl) without its '\r'. */
static size_t
line_len(const char *p, const char *nl)
{
	size_t n = (size_t)(nl - p);

	return n > 0 && p[n - 1] == '\r' ? n - 1 : n;
}

static int
request_line(const char *p, size_t n, struct http_req *out)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *q;
	size_t mlen, tlen, i;

	if (sp1 == NULL || sp1 == p)
		return ST_PARSE;
	mlen = (size_t)(sp1 - p);
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (mlen >= sizeof out->method || sp2 == NULL || sp2 == sp1 + 1)
		return ST_PARSE;
	for (i = 0; i < mlen; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return ST_PARSE;
	memcpy(out->method, p, mlen);
	out->method[mlen] = '\0';
	tlen = (size_t)(sp2 - sp1 - 1);
	q = memchr(sp1 + 1, '?', tlen);
	if (q != NULL)
		tlen = (size_t)(q - sp1 - 1);
	if (tlen >= sizeof out->path)
		return ST_TOOBIG;
	if (sp1[1] != '/')
		return ST_PARSE;
	for (i = 0; i < (size_t)(sp2 - sp1 - 1); i++)
		if ((unsigned char)sp1[1 + i] <= ' ' || sp1[1 + i] == 0x7f)
			return ST_PARSE;
	memcpy(out->path, sp1 + 1, tlen);
	out->path[tlen] = '\0';
	if ((size_t)(p + n - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return ST_PARSE;
	out->minor = sp2[8] - '0';
	return ST_OK;
}

static int
header_line(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t i;

	if (colon == NULL || colon == p)
		return ST_PARSE;
	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
			return ST_PARSE;
	for (i = 0; p + i < colon; i++)
		if (p[i] == ' ' || p[i] == '\t')
			return ST_PARSE;
	return ST_OK;
}

int
http_req_parse(const char *buf, size_t len, struct http_req *out)
{
	const char *end = buf + (len < HTTP_REQ_MAX_HEAD ? len : HTTP_REQ_MAX_HEAD);
	const char *p = buf, *nl;
	size_t n;
	int st, lines = 0;

	memset(out, 0, sizeof *out);
	while ((nl = line_end(p, end)) != NULL) {
		n = line_len(p, nl);
		if (n == 0 && lines > 0) {
			out->head_len = (size_t)(nl + 1 - buf);
			return ST_OK;
		}
		st = lines == 0 ? request_line(p, n, out) : header_line(p, n);
		if (st != ST_OK)
			return st;
		lines++;
		p = nl + 1;
	}
	return len >= HTTP_REQ_MAX_HEAD ? ST_TOOBIG : ST_AGAIN;
}
