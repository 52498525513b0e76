/*
 * notify.c — alerts to chat services (notify.h): the AlertProviders of a
 * run, the payload of each type (its alert_format: alert_slack.c, ...),
 * and the POST with libcurl.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/alert_format.h"
#include "metrics/notify.h"
#include "metrics/webhook.h"
#include "net/curl_lazy.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static const char *const type_names[] = {
#define X(id, text, format) text,
	NOTIFY_TYPE_LIST(X)
#undef X
};

static const struct alert_format *const formats[] = {
#define X(id, text, format) &format##_format,
	NOTIFY_TYPE_LIST(X)
#undef X
};

int
notify_type_from_name(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < NOTIFY__COUNT; i++)
		if (strcmp(type_names[i], s) == 0)
			return i;
	return -1;
}

const char *
notify_type_name(enum notify_type t)
{
	return (int)t >= 0 && t < NOTIFY__COUNT ? type_names[t] : "?";
}

struct nprov {
	char *ns, *name;
	enum notify_type type;
	char *channel, *username, *address, *proxy, *token, *broken;
};

struct notifier {
	struct nprov *p;
	size_t n;
	int timeout_ms;
};

struct notifier *
notifier_new(void)
{
	struct notifier *n = xcalloc(1, sizeof *n);

	n->timeout_ms = NOTIFY_TIMEOUT_MS;
	return n;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? xstrdup(s) : NULL;
}

static void
nprov_fini(struct nprov *p)
{
	free(p->ns);
	free(p->name);
	free(p->channel);
	free(p->username);
	xfree_secret(p->address);
	xfree_secret(p->proxy);	/* may hold user:password */
	xfree_secret(p->token);
	free(p->broken);
	memset(p, 0, sizeof *p);
}

void
notifier_free(struct notifier *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		nprov_fini(&n->p[i]);
	free(n->p);
	free(n);
}

static struct nprov *
find(const struct notifier *n, const char *ns, const char *name)
{
	size_t i;

	for (i = 0; n != NULL && ns != NULL && name != NULL && i < n->n; i++)
		if (strcmp(n->p[i].ns, ns) == 0 && strcmp(n->p[i].name, name) == 0)
			return &n->p[i];
	return NULL;
}

bool
notifier_has(const struct notifier *n, const char *ns, const char *name)
{
	return find(n, ns, name) != NULL;
}

void
notifier_add(struct notifier *n, const struct notify_provider *src)
{
	struct nprov *p = find(n, src->ns, src->name);

	if (p != NULL) {
		nprov_fini(p);
	} else {
		n->p = xreallocarray(n->p, n->n + 1, sizeof *n->p);
		p = &n->p[n->n++];
	}
	p->ns = xstrdup(src->ns ? src->ns : "");
	p->name = xstrdup(src->name ? src->name : "");
	p->type = src->type;
	p->channel = dup_or_null(src->channel);
	p->username = dup_or_null(src->username);
	p->address = dup_or_null(src->address);
	p->proxy = dup_or_null(src->proxy);
	p->token = dup_or_null(src->token);
	p->broken = dup_or_null(src->broken);
}

void
notifier_set_timeout_ms(struct notifier *n, int ms)
{
	n->timeout_ms = ms > 0 ? ms : NOTIFY_TIMEOUT_MS;
}

/* ---- payloads (reference §6.2; alert_format.h) ---------------------------- */

char *
notify_payload(enum notify_type type, const char *channel, const char *username,
    const struct alert_msg *m)
{
	const struct alert_format *f = formats[(int)type >= 0 && type < NOTIFY__COUNT ? type :
	    NOTIFY_SLACK];

	return webhook_go_json(f->payload(f, channel, username, m));
}

char *
notify_url(enum notify_type type, const char *address)
{
	const struct alert_format *f = formats[(int)type >= 0 && type < NOTIFY__COUNT ? type :
	    NOTIFY_SLACK];

	return f->url != NULL ? f->url(address) : xstrdup(address);
}

/* ---- sending ------------------------------------------------------------ */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb, room = b->max - b->len;

	buf_append(b, data, n < room ? n : room);	/* the rest is dropped */
	return n;
}

/* The reason for a failed answer: the status, and the body when it holds
 * no secret (some services echo what they were sent). */
static void
answer_reason(const struct nprov *p, long status, const struct buf *body, char *err)
{
	char clean[160];
	const char *s = buf_str(body);
	const char *path = p->address != NULL ? strstr(p->address, "://") : NULL;

	path = path != NULL ? strchr(path + 3, '/') : NULL;
	if (s[0] == '\0' || (p->token != NULL && strstr(s, p->token) != NULL) ||
	    (path != NULL && strlen(path) > 1 && strstr(s, path) != NULL) ||
	    (p->address != NULL && strstr(s, p->address) != NULL)) {
		snprintf(err, ERRMSG_MAX, "%s: HTTP %ld", notify_type_name(p->type), status);
		return;
	}
	sanitize(clean, sizeof clean, s, strlen(s));
	snprintf(err, ERRMSG_MAX, "%s: HTTP %ld: %s", notify_type_name(p->type), status, clean);
}

static int
post(const struct notifier *n, const struct nprov *p, const char *body, char *err)
{
	CURL *e;
	struct curl_slist *hdr;
	char *url, *auth = NULL;
	struct buf answer;
	long status = 0;
	CURLcode cc;

	if (curl_lazy_load("alerts", err, ERRMSG_MAX) != ST_OK)	/* loaded on the first alert */
		return ST_UNSUPPORTED;
	e = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	url = notify_url(p->type, p->address);
	if (e == NULL || hdr == NULL)
		xalloc_fatal(0);
	if (p->token != NULL) {
		size_t len = strlen(p->token) + 32;

		auth = xmalloc(len);
		snprintf(auth, len, "Authorization: Bearer %s", p->token);
		hdr = curl_slist_append(hdr, auth);
	}
	buf_init(&answer, NOTIFY_MAX_ANSWER);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "perch/" PERCH_VERSION);
	if (p->proxy != NULL)
		curl_easy_setopt(e, CURLOPT_PROXY, p->proxy);
	cc = curl_easy_perform(e);
	if (cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(e);
	xfree_secret(auth);
	xfree_secret(url);
	/* curl_easy_strerror names the error only (never the URL). */
	if (cc != CURLE_OK)
		snprintf(err, ERRMSG_MAX, "%s: %s", notify_type_name(p->type), curl_easy_strerror(cc));
	else if (status < 200 || status > 299)
		answer_reason(p, status, &answer, err);
	buf_fini(&answer);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return ST_TIMEOUT;
	if (cc != CURLE_OK)
		return ST_NETWORK;
	return status >= 200 && status <= 299 ? ST_OK : ST_HTTP;
}

static int
http_send(void *ctx, const struct alert_msg *m, char *err)
{
	const struct notifier *n = ctx;
	const struct nprov *p;
	char *body;
	int st;

	err[0] = '\0';
	if (m == NULL || m->alert == NULL || m->canary == NULL) {
		snprintf(err, ERRMSG_MAX, "no alert");
		return ST_INVALID;
	}
	p = find(n, m->alert->provider_ns != NULL ? m->alert->provider_ns : m->canary->ns,
	    m->alert->provider);
	if (p == NULL) {
		snprintf(err, ERRMSG_MAX, "AlertProvider not found");
		return ST_NOTFOUND;
	}
	if (p->broken != NULL) {
		snprintf(err, ERRMSG_MAX, "%s", p->broken);
		return ST_INVALID;
	}
	if (p->address == NULL) {
		snprintf(err, ERRMSG_MAX, "AlertProvider has no address");
		return ST_INVALID;
	}
	body = notify_payload(p->type, p->channel, p->username, m);
	st = post(n, p, body, err);
	free(body);
	return st;
}

const struct alert_ops http_alert_ops = {
	.name = "http",
	.send = http_send,
};
