/*
 * metrics_http.h — perch's small HTTP server for GET /metrics, /healthz
 * and /readyz (`--metrics-addr`): one thread of its own that never touches
 * the terminal, one connection at a time, request heads capped at
 * HTTP_REQ_MAX_HEAD bytes and read within 2 s, every answer with
 * Content-Length and Connection: close.  Methods other than GET and HEAD
 * get 405, a bad head 400, a long one 431 or 414.
 *
 * Ownership: metrics_http_start returns a handle stopped and freed by
 * metrics_http_stop.  Threads: start and stop from one thread; page() is
 * called on the server's thread.
 */
#ifndef PERCH_APP_METRICS_HTTP_H
#define PERCH_APP_METRICS_HTTP_H

#include <stddef.h>

#include "util/buf.h"

/* Fills body for path ("/metrics", ...) and returns the HTTP status (200,
 * 404, 503, ...); *ctype may be set (default text/plain). */
typedef int (*metrics_page_fn)(void *arg, const char *path, struct buf *body, const char **ctype);

struct metrics_http;

/* addr is HOST:PORT (":PORT" = every address; a port 0 picks a free one,
 * see metrics_http_port).  NULL with the reason in err when the address
 * is bad or cannot be bound. */
struct metrics_http *metrics_http_start(const char *addr, metrics_page_fn page, void *arg,
    char *err, size_t errsz);
/* The port listened on. */
int metrics_http_port(const struct metrics_http *h);
void metrics_http_stop(struct metrics_http *h);

#endif
