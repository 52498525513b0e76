/*
 * notify.c — alerts to chat services (notify.h): the AlertProviders of a
 * run, Flagger's payloads built with jansson, and the POST with libcurl.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/notify.h"
#include "metrics/webhook.h"
#include "net/curl_lazy.h"
#include "util/buf.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

static const char *const type_names[] = {
#define X(id, text) text,
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

/* ---- payloads (reference §6.2) ------------------------------------------ */

/* "<canary>.<ns>", the author / subtitle of every payload. */
static json_t *
who(const struct alert_msg *m)
{
	char s[300];

	snprintf(s, sizeof s, "%s.%s", m->canary->name ? m->canary->name : "",
	    m->canary->ns ? m->canary->ns : "");
	return json_string(s);
}

static json_t *
str(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");

	/* Not UTF-8 (jansson refuses it): an empty string, as Go would not
	 * fail either. */
	return j != NULL ? j : json_string("");
}

/* Slack, Discord and Rocket (SlackPayload). */
static json_t *
slack_payload(enum notify_type type, const char *channel, const char *username,
    const struct alert_msg *m)
{
	bool error = m->severity == ALERT_ERROR;
	const char *color = type == NOTIFY_ROCKET ? (error ? "#FF0000" : "#0076D7") :
	    (error ? "danger" : "good");
	json_t *o = json_object(), *a = json_object(), *fields = json_array();
	size_t i;

	json_object_set_new(o, "channel", str(channel != NULL && *channel ? channel : "general"));
	json_object_set_new(o, "username", str(username != NULL && *username ? username : "flagger"));
	json_object_set_new(o, "icon_url", json_string(""));
	json_object_set_new(o, "icon_emoji", json_string(":rocket:"));
	json_object_set_new(a, "color", json_string(color));
	json_object_set_new(a, "author_name", who(m));
	json_object_set_new(a, "text", str(m->message));
	json_object_set_new(a, "mrkdwn_in", json_pack("[s]", "text"));
	for (i = 0; i < m->n_fields; i++)
		json_array_append_new(fields, json_pack("{s:o,s:o,s:b}", "title",
		    str(m->fields[i].name), "value", str(m->fields[i].value), "short", 0));
	json_object_set_new(a, "fields", fields);
	json_object_set_new(o, "attachments", json_pack("[o]", a));
	return o;
}

static json_t *
teams_payload(const struct alert_msg *m)
{
	json_t *o = json_object(), *sec = json_object(), *facts = json_array();
	size_t i;

	json_object_set_new(o, "@type", json_string("MessageCard"));
	json_object_set_new(o, "@context", json_string("http://schema.org/extensions"));
	json_object_set_new(o, "themeColor", json_string(m->severity == ALERT_ERROR ? "FF0000" :
	    "0076D7"));
	json_object_set_new(o, "summary", who(m));
	json_object_set_new(sec, "activityTitle", str(m->message));
	json_object_set_new(sec, "activitySubtitle", who(m));
	for (i = 0; i < m->n_fields; i++)
		json_array_append_new(facts, json_pack("{s:o,s:o}", "name", str(m->fields[i].name),
		    "value", str(m->fields[i].value)));
	json_object_set_new(sec, "facts", facts);
	json_object_set_new(o, "sections", json_pack("[o]", sec));
	return o;
}

static json_t *
gchat_section(const char *text)
{
	return json_pack("{s:[{s:{s:o}}]}", "widgets", "textParagraph", "text", str(text));
}

static json_t *
gchat_payload(const struct alert_msg *m)
{
	json_t *card = json_object(), *sections = json_array();
	struct buf t;
	size_t i;

	buf_init(&t, 0);
	json_object_set_new(card, "header", json_pack("{s:s,s:o,s:s}", "title", "Flagger",
	    "subtitle", who(m), "imageUrl", "https://flagger.app/favicon.png"));
	buf_printf(&t, "<font color=#848484><strong>%s</strong></font>", m->message ? m->message : "");
	json_array_append_new(sections, gchat_section(buf_str(&t)));
	for (i = 0; i < m->n_fields; i++) {
		buf_reset(&t);
		buf_printf(&t, "%s<br><font color=#848484><strong>%s</strong></font>",
		    m->fields[i].name ? m->fields[i].name : "",
		    m->fields[i].value ? m->fields[i].value : "");
		json_array_append_new(sections, gchat_section(buf_str(&t)));
	}
	buf_fini(&t);
	json_object_set_new(card, "sections", sections);
	return json_pack("{s:[o]}", "cards", card);
}

char *
notify_payload(enum notify_type type, const char *channel, const char *username,
    const struct alert_msg *m)
{
	json_t *o;

	switch (type) {
	case NOTIFY_MSTEAMS: o = teams_payload(m); break;
	case NOTIFY_GCHAT: o = gchat_payload(m); break;
	default: o = slack_payload(type, channel, username, m); break;
	}
	return webhook_go_json(o);
}

char *
notify_url(enum notify_type type, const char *address)
{
	size_t path_end, end;
	struct buf b;

	if (type != NOTIFY_DISCORD)
		return xstrdup(address);
	/* The path ends at the query or the fragment. */
	path_end = strcspn(address, "?#");
	end = path_end;
	while (end > 0 && address[end - 1] == '/')
		end--;
	if (end >= 6 && strncmp(address + end - 6, "/slack", 6) == 0 && end == path_end)
		return xstrdup(address);
	buf_init(&b, 0);
	buf_append(&b, address, end);
	buf_puts(&b, "/slack");
	buf_puts(&b, address + path_end);
	return buf_take(&b);
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
