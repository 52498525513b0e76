/*
 * metrics_http.c — the /metrics server (see metrics_http.h).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "app/metrics_http.h"
#include "util/http_req.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

#define BODY_MAX (16u << 20)	/* a page larger than this answers 500 */

struct metrics_http {
	int fd, port;
	int stop[2];			/* a byte on stop[1] ends the thread */
	pthread_t thread;
	metrics_page_fn page;
	void *arg;
};

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
		p += w;
		n -= (size_t)w;
	}
}

static void
answer(int fd, int code, const char *ctype, const struct buf *body, bool head_only)
{
	const char *text = code == 200 ? "OK" : code == 400 ? "Bad Request" : code == 404 ?
	    "Not Found" : code == 405 ? "Method Not Allowed" : code == 414 ? "URI Too Long" :
	    code == 431 ? "Request Header Fields Too Large" : code == 503 ? "Service Unavailable" :
	    "Internal Server Error";
	char head[256];
	int n;

	n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s\r\n", code, text, ctype, body->len,
	    code == 405 ? "Allow: GET, HEAD\r\n" : "");
	send_all(fd, head, (size_t)n);
	if (!head_only && body->len > 0)
		send_all(fd, body->data, body->len);
}

/* Reads a request head (2 s, HTTP_REQ_MAX_HEAD bytes at most). */
static int
read_head(int fd, struct http_req *req)
{
	char buf[HTTP_REQ_MAX_HEAD];
	size_t len = 0;
	ssize_t r;
	int st = ST_AGAIN;

	while (st == ST_AGAIN && len < sizeof buf) {
		r = recv(fd, buf + len, sizeof buf - len, 0);
		if (r <= 0)
			return ST_IO;
		len += (size_t)r;
		st = http_req_parse(buf, len, req);
	}
	return st == ST_AGAIN ? ST_TOOBIG : st;
}

static void
serve(struct metrics_http *h, int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	const char *ctype = "text/plain; charset=utf-8";
	struct http_req req;
	struct buf body;
	int st, code;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	buf_init(&body, BODY_MAX);
	st = read_head(fd, &req);
	if (st == ST_IO)
		code = 0;
	else if (st != ST_OK)
		code = st == ST_TOOBIG ? (req.path[0] ? 431 : 414) : 400;
	else if (strcmp(req.method, "GET") != 0 && strcmp(req.method, "HEAD") != 0)
		code = 405;
	else
		code = h->page(h->arg, req.path, &body, &ctype);
	if (code != 0 && code != 200 && body.len == 0)
		buf_printf(&body, "%d\n", code);
	if (code != 0)
		answer(fd, code, ctype, &body, st == ST_OK && strcmp(req.method, "HEAD") == 0);
	buf_fini(&body);
}

static void *
server_main(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd p[2] = { { .fd = h->fd, .events = POLLIN }, { .fd = h->stop[0], .events = POLLIN } };
	int c;

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve(h, c);
		close(c);
	}
	return NULL;
}

/* "HOST:PORT" or ":PORT" into a bound, listening socket; -1 with err. */
static int
listen_on(const char *addr, int *port, char *err, size_t errsz)
{
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char host[256];
	int fd = -1, one = 1, rc;

	if (colon == NULL || colon[1] == '\0' || (size_t)(colon - addr) >= sizeof host) {
		snprintf(err, errsz, "--metrics-addr wants HOST:PORT or :PORT, not '%s'", addr);
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "--metrics-addr %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(err, errsz, "--metrics-addr %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	} else {
		*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	}
	freeaddrinfo(res);
	return fd;
}

struct metrics_http *
metrics_http_start(const char *addr, metrics_page_fn page, void *arg, char *err, size_t errsz)
{
	struct metrics_http *h = xcalloc(1, sizeof *h);

	h->page = page;
	h->arg = arg;
	h->fd = listen_on(addr, &h->port, err, errsz);
	if (h->fd < 0) {
		free(h);
		return NULL;
	}
	if (pipe(h->stop) != 0) {
		snprintf(err, errsz, "cannot start the metrics server: %s", strerror(errno));
		close(h->fd);
		free(h);
		return NULL;
	}
	if (pthread_create(&h->thread, NULL, server_main, h) != 0) {
		snprintf(err, errsz, "cannot start the metrics server's thread");
		close(h->stop[0]);
		close(h->stop[1]);
		close(h->fd);
		free(h);
		return NULL;
	}
	log_info("metrics: listening on %s (port %d)", addr, h->port);
	return h;
}

int
metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void
metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	if (write(h->stop[1], "x", 1) != 1)
		log_warn("metrics: cannot wake the server to stop it");
	pthread_join(h->thread, NULL);
	close(h->stop[0]);
	close(h->stop[1]);
	close(h->fd);
	free(h);
}
