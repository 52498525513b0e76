/* helper_httpd.c — the scripted test HTTP server (helper_httpd.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/helper_httpd.h"
#include "util/xalloc.h"

#define MAX_CONN 64

struct httpd {
	int fd;
	int port;
	const struct httpd_rule *rules;
	size_t n_rules;
	pthread_t acceptor;
	pthread_t conns[MAX_CONN];
	size_t n_conns;
	pthread_mutex_t mu;
	char **reqs;
	size_t n_reqs;
	int active, max_active;
	atomic_int stop;
};

struct conn {
	struct httpd *h;
	int fd;
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Reads one request: headers, then Content-Length bytes of body; "" when
 * the client closes or the server stops first. */
static char *
read_request(struct httpd *h, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t cap = 4096, len = 0, want = 0;
	char *b = xmalloc(cap + 1), *hdr_end, *cl;
	ssize_t r;

	for (;;) {
		if (len == cap)
			b = xrealloc(b, (cap *= 2) + 1);
		if (poll(&pfd, 1, 50) == 0) {
			if (h->stop)
				break;
			continue;
		}
		r = read(fd, b + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		b[len] = '\0';
		hdr_end = strstr(b, "\r\n\r\n");
		if (hdr_end == NULL)
			continue;
		cl = strcasestr(b, "\r\nContent-Length:");
		want = (size_t)(hdr_end + 4 - b) + (cl != NULL && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0);
		if (len >= want)
			break;
	}
	b[len] = '\0';
	return b;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
		p += w;
		n -= (size_t)w;
	}
}

/* Answers one request (and stops counting it as active once its delay is
 * over); false when the connection is to be closed. */
static bool
answer(struct httpd *h, int fd, const char *req)
{
	const struct httpd_rule *rule = NULL;
	char head[256];
	size_t i, blen, reps;

	for (i = 0; i < h->n_rules && rule == NULL; i++)
		if (h->rules[i].match == NULL || strstr(req, h->rules[i].match) != NULL)
			rule = &h->rules[i];
	if (rule != NULL && rule->delay_ms > 0)
		sleep_ms(rule->delay_ms);
	/* No longer counted as on the wire before the client can have its
	 * answer: the peak never counts one the client is already done with. */
	pthread_mutex_lock(&h->mu);
	h->active--;
	pthread_mutex_unlock(&h->mu);
	if (rule != NULL && rule->hang_up)
		return false;
	if (rule == NULL) {
		snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
		write_all(fd, head, strlen(head));
		return false;
	}
	blen = rule->body != NULL ? strlen(rule->body) : 0;
	reps = rule->repeat_body > 0 ? rule->repeat_body : 1;
	snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s\r\n", rule->status, blen * reps,
	    rule->keep_alive ? "" : "Connection: close\r\n");
	write_all(fd, head, strlen(head));
	for (i = 0; i < reps && !h->stop; i++)
		write_all(fd, rule->body != NULL ? rule->body : "", blen);
	return rule->keep_alive;
}

static void *
serve(void *arg)
{
	struct conn *c = arg;
	struct httpd *h = c->h;
	bool more = true;
	char *req;

	while (more && !h->stop) {
		req = read_request(h, c->fd);
		if (req[0] == '\0') {
			free(req);
			break;
		}
		pthread_mutex_lock(&h->mu);
		h->reqs = xreallocarray(h->reqs, h->n_reqs + 1, sizeof *h->reqs);
		h->reqs[h->n_reqs++] = xstrdup(req);
		if (++h->active > h->max_active)
			h->max_active = h->active;
		pthread_mutex_unlock(&h->mu);
		more = answer(h, c->fd, req);	/* leaves h->active */
		free(req);
	}
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	free(c);
	return NULL;
}

static void *
acceptor(void *arg)
{
	struct httpd *h = arg;
	struct pollfd pfd = { .fd = h->fd, .events = POLLIN };
	struct conn *c;
	int fd;

	while (!h->stop) {
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(h->fd, NULL, NULL);
		if (fd < 0)
			continue;
		if (h->n_conns == MAX_CONN) {
			close(fd);
			continue;
		}
		c = xmalloc(sizeof *c);
		c->h = h;
		c->fd = fd;
		pthread_mutex_lock(&h->mu);
		pthread_create(&h->conns[h->n_conns++], NULL, serve, c);
		pthread_mutex_unlock(&h->mu);
	}
	return NULL;
}

struct httpd *
httpd_start(const struct httpd_rule *rules, size_t n)
{
	struct httpd *h = xcalloc(1, sizeof *h);
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	int one = 1;

	h->rules = rules;
	h->n_rules = n;
	pthread_mutex_init(&h->mu, NULL);
	h->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(h->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(h->fd, 64) != 0)
		abort();
	getsockname(h->fd, (struct sockaddr *)&a, &alen);
	h->port = ntohs(a.sin_port);
	pthread_create(&h->acceptor, NULL, acceptor, h);
	return h;
}

int
httpd_port(const struct httpd *h)
{
	return h->port;
}

void
httpd_url(const struct httpd *h, char *out, size_t outsz)
{
	snprintf(out, outsz, "http://127.0.0.1:%d", h->port);
}

size_t
httpd_count(struct httpd *h)
{
	size_t n;

	pthread_mutex_lock(&h->mu);
	n = h->n_reqs;
	pthread_mutex_unlock(&h->mu);
	return n;
}

char *
httpd_request(struct httpd *h, size_t i)
{
	char *r = NULL;

	pthread_mutex_lock(&h->mu);
	if (i < h->n_reqs)
		r = xstrdup(h->reqs[i]);
	pthread_mutex_unlock(&h->mu);
	return r;
}

size_t
httpd_connections(struct httpd *h)
{
	size_t n;

	pthread_mutex_lock(&h->mu);
	n = h->n_conns;
	pthread_mutex_unlock(&h->mu);
	return n;
}

int
httpd_max_concurrent(struct httpd *h)
{
	int n;

	pthread_mutex_lock(&h->mu);
	n = h->max_active;
	pthread_mutex_unlock(&h->mu);
	return n;
}

void
httpd_stop(struct httpd *h)
{
	size_t i;

	h->stop = 1;
	pthread_join(h->acceptor, NULL);
	for (i = 0; i < h->n_conns; i++)
		pthread_join(h->conns[i], NULL);
	close(h->fd);
	for (i = 0; i < h->n_reqs; i++)
		free(h->reqs[i]);
	free(h->reqs);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
