/*
 * http_batch.c — a batch of HTTP requests over libcurl's multi interface
 * (http_batch.h): capped answers, per-request timeouts, a batch deadline.
 */
#include <stdio.h>

#include "net/http_batch.h"
#include "util/status.h"
#include "util/systime.h"
#include "util/xalloc.h"

CURLM *
net_multi_new(void)
{
	CURLM *m = curl_multi_init();

	if (m == NULL)
		xalloc_fatal(0);
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)NET_MAX_CONNS);
	return m;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct net_xfer *x = arg;

	if (buf_append(&x->body, data, size * nmemb) != ST_OK) {
		x->toobig = true;
		return 0;	/* curl aborts the transfer */
	}
	return size * nmemb;
}

void
net_xfer_open(struct net_xfer *x, const char *url, const struct net_limits *lim,
    const char *ca_file, bool insecure)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		xalloc_fatal(0);
	x->easy = e;
	buf_init(&x->body, lim->max_body);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)lim->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)lim->timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "perch/" PERCH_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	if (ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
	if (insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

void
net_xfer_close(CURLM *m, struct net_xfer *x)
{
	if (x->easy != NULL) {
		if (x->added && !x->done)
			curl_multi_remove_handle(m, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	buf_fini(&x->body);
}

/* The i-th of the requests (net_batch_run). */
static struct net_xfer *
at(struct net_xfer *xs, size_t stride, size_t i)
{
	return (struct net_xfer *)(void *)((char *)xs + i * stride);
}

/* Puts the next unsent requests on the wire, up to NET_MAX_CONNS at once:
 * each one's timeout starts when it is sent, never while it waits. */
static void
start_more(CURLM *m, struct net_xfer *xs, size_t n, size_t stride, size_t *next, int *active)
{
	while (*active < NET_MAX_CONNS && *next < n) {
		struct net_xfer *x = at(xs, stride, (*next)++);

		if (x->easy == NULL || x->done)
			continue;
		x->added = true;
		curl_multi_add_handle(m, x->easy);
		(*active)++;
	}
}

/* The deadline passed: what is on the wire is abandoned, what never
 * started is not sent. */
static void
batch_expired(CURLM *m, struct net_xfer *xs, size_t n, size_t stride)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct net_xfer *x = at(xs, stride, i);

		if (x->easy == NULL || x->done)
			continue;
		if (x->added)
			curl_multi_remove_handle(m, x->easy);
		x->done = true;
		x->expired = true;
	}
}

/* Takes the finished requests off m: how many. */
static int
collect(CURLM *m)
{
	struct net_xfer *x;
	CURLMsg *msg;
	int msgs, n = 0;

	while ((msg = curl_multi_info_read(m, &msgs)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		x->cc = msg->data.result;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->code);
		curl_multi_remove_handle(m, x->easy);
		x->done = true;
		n++;
	}
	return n;
}

void
net_batch_run(CURLM *m, struct net_xfer *xs, size_t n, size_t stride, int deadline_ms)
{
	int64_t deadline = clock_monotonic_ms() + deadline_ms, left;
	int running = 0, active = 0;
	size_t next = 0;

	start_more(m, xs, n, stride, &next, &active);
	while (active > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		active -= collect(m);
		if ((left = deadline - clock_monotonic_ms()) <= 0)
			break;
		start_more(m, xs, n, stride, &next, &active);
		if (active > 0 && curl_multi_poll(m, NULL, 0, left < 200 ? (int)left : 200,
		    NULL) != CURLM_OK)
			break;
	}
	batch_expired(m, xs, n, stride);	/* nothing, when everything is done */
}

int
net_xfer_status(const struct net_xfer *x)
{
	if (x->expired)
		return ST_TIMEOUT;
	if (x->toobig)
		return ST_TOOBIG;
	if (x->cc == CURLE_OPERATION_TIMEDOUT)
		return ST_TIMEOUT;
	if (x->cc != CURLE_OK)
		return ST_NETWORK;
	return x->code >= 400 || x->code < 200 ? ST_HTTP : ST_OK;
}

void
net_xfer_error(const struct net_xfer *x, const char *label, const struct net_limits *lim,
    char *msg, size_t n)
{
	if (x->expired)
		snprintf(msg, n, "%s did not answer within the %d ms the analysis may take%s", label,
		    lim->deadline_ms, x->added ? "" : " (query not sent)");
	else if (x->toobig)
		snprintf(msg, n, "%s answer larger than %zu bytes", label, lim->max_body);
	else if (x->cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(msg, n, "%s query timed out after %d ms", label, lim->timeout_ms);
	else
		snprintf(msg, n, "cannot reach %s: %s", label, x->curl_err[0] != '\0' ?
		    x->curl_err : curl_easy_strerror(x->cc));
}
