/*
 * http_req.h — the head of an HTTP/1.x request, as perch's small server
 * (app/metrics_http.h) reads it: request line and header lines, capped.
 * Pure: no I/O.  Fuzzed by tests/fuzz/fuzz_http_req.c.
 */
#ifndef PERCH_UTIL_HTTP_REQ_H
#define PERCH_UTIL_HTTP_REQ_H

#include <stddef.h>

#define HTTP_REQ_MAX_HEAD 8192		/* a longer head is refused (431) */
#define HTTP_REQ_MAX_PATH 256		/* a longer target is refused (414) */

struct http_req {
	char method[16];		/* "GET" */
	char path[HTTP_REQ_MAX_PATH];	/* the target without its query: "/metrics" */
	int minor;			/* HTTP/1.<minor> */
	size_t head_len;		/* bytes of the head, its blank line included */
};

/* Parses the head at the start of buf[0..len).  ST_OK with *out filled
 * once the blank line that ends it is there; ST_AGAIN when more bytes are
 * needed; ST_TOOBIG past HTTP_REQ_MAX_HEAD bytes or a target longer than
 * HTTP_REQ_MAX_PATH; ST_PARSE for anything else malformed (a bad request
 * line, a version other than HTTP/1.0 or 1.1, control characters, a
 * header line without a colon).  Lines end in CRLF or LF. */
int http_req_parse(const char *buf, size_t len, struct http_req *out);

#endif
