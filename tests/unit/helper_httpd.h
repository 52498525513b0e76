/* helper_httpd.h — a tiny scripted HTTP/1.1 server on 127.0.0.1 for unit
 * tests: each connection is served by its own thread, one request per
 * connection ("Connection: close") unless the rule keeps it alive.  Rules are matched in order by a
 * substring of the raw request; every request is recorded.  Not for use
 * outside tests. */
#ifndef PERCH_TESTS_HELPER_HTTPD_H
#define PERCH_TESTS_HELPER_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

struct httpd_rule {
	const char *match;	/* substring of the request; NULL matches all */
	int status;		/* HTTP status */
	const char *body;	/* NULL = "" */
	size_t repeat_body;	/* send body this many times (0 = once) */
	int delay_ms;		/* wait before answering */
	bool hang_up;		/* close without answering */
	bool keep_alive;	/* keep the connection for the next request */
};

struct httpd;

/* Rules are borrowed and must outlive the server. */
struct httpd *httpd_start(const struct httpd_rule *rules, size_t n);
int httpd_port(const struct httpd *h);
/* "http://127.0.0.1:PORT" into a static-free caller buffer. */
void httpd_url(const struct httpd *h, char *out, size_t outsz);
size_t httpd_count(struct httpd *h);
/* A copy of request i (headers and body), or NULL; free() it. */
char *httpd_request(struct httpd *h, size_t i);
/* How many connections were accepted. */
size_t httpd_connections(struct httpd *h);
/* The largest number of requests that were in progress at once. */
int httpd_max_concurrent(struct httpd *h);
void httpd_stop(struct httpd *h);

#endif
