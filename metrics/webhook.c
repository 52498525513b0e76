/*
 * webhook.c — webhook calls (webhook.h): the payload with jansson, the POST
 * with libcurl, and go-retryablehttp's retry rules.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/webhook.h"
#include "net/curl_lazy.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct webhook_client {
	struct webhook_opts opts;
};

struct webhook_client *
webhook_client_new(const struct webhook_opts *opts)
{
	struct webhook_client *c = xcalloc(1, sizeof *c);

	if (opts != NULL)
		c->opts = *opts;
	if (c->opts.backoff_min_ms <= 0)
		c->opts.backoff_min_ms = 1000;
	if (c->opts.backoff_max_ms <= 0)
		c->opts.backoff_max_ms = 30000;
	return c;
}

void
webhook_client_free(struct webhook_client *c)
{
	free(c);
}

static int
cmp_kv_key(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

static bool
is_event_key(const char *k)
{
	return strcmp(k, "eventMessage") == 0 || strcmp(k, "eventType") == 0 ||
	    strcmp(k, "timestamp") == 0;
}

/* The metadata map: the hook's own, plus the event fields for event hooks
 * (which the hook's keys cannot override); sorted by key. */
static json_t *
make_metadata(const struct hook_call *call)
{
	const struct hook_cfg *h = call->hook;
	bool event = h->type == HOOK_EVENT;
	size_t n = 0, i, cap = h->n_metadata + 3;
	struct kv *all = xcalloc(cap, sizeof *all);
	char ts[32];
	json_t *m;

	for (i = 0; i < h->n_metadata; i++) {
		if (h->metadata[i].key == NULL || (event && is_event_key(h->metadata[i].key)))
			continue;
		all[n++] = h->metadata[i];
	}
	if (event) {
		snprintf(ts, sizeof ts, "%lld", (long long)call->event_time_ms);
		all[n++] = (struct kv){ (char *)"eventMessage",
		    (char *)(call->event_message != NULL ? call->event_message : "") };
		/* Kubernetes knows only Normal and Warning. */
		all[n++] = (struct kv){ (char *)"eventType",
		    (char *)(call->event_type == SEV_NORMAL ? "Normal" : "Warning") };
		all[n++] = (struct kv){ (char *)"timestamp", ts };
	}
	if (n == 0) {
		free(all);
		return NULL;
	}
	qsort(all, n, sizeof *all, cmp_kv_key);
	m = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(m, all[i].key,
		    json_string(all[i].value != NULL ? all[i].value : ""));
	free(all);
	return m;
}

/* Go's encoding/json escapes <, >, & and U+2028/U+2029 inside strings; do
 * the same so receivers see Flagger's bytes.  Outside strings JSON has none
 * of these characters, so the whole text can be rewritten. */
char *
webhook_go_json(json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	const char *s = text;
	struct buf b;

	json_decref(o);
	if (text == NULL)
		xalloc_fatal(0);
	buf_init(&b, 0);
	for (; *s != '\0'; s++) {
		if (*s == '<' || *s == '>' || *s == '&')
			buf_printf(&b, "\\u%04x", (unsigned)*s);
		else if ((unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80 &&
		    ((unsigned char)s[2] == 0xA8 || (unsigned char)s[2] == 0xA9)) {
			buf_printf(&b, "\\u%04x", 0x2000u + ((unsigned char)s[2] - 0x80u));
			s += 2;
		} else
			buf_putc(&b, *s);
	}
	free(text);
	return buf_take(&b);
}

char *
webhook_payload(const struct hook_call *call)
{
	const struct canary_cfg *c = call->canary;
	json_t *o = json_object(), *m = make_metadata(call);

	json_object_set_new(o, "name", json_string(c->name != NULL ? c->name : ""));
	json_object_set_new(o, "namespace", json_string(c->ns != NULL ? c->ns : ""));
	json_object_set_new(o, "phase", json_string(phase_name(call->phase)));
	json_object_set_new(o, "checksum", json_string(call->checksum != NULL ? call->checksum : ""));
	if (m != NULL)
		json_object_set_new(o, "metadata", m);
	return webhook_go_json(o);
}

/* The URL for messages, with its secrets replaced by xxxxx: the password
 * (as Go's Redacted()), a user name given alone (often a token, as in
 * https://TOKEN@host), and the query's values (?token=..., ?key=...).
 * The authority ends at the first '/', '?' or '#'; its userinfo at the
 * last '@' in it, so a password holding '@' is hidden whole. */
static void
redacted_url(const char *url, char *out, size_t outsz)
{
	const char *scheme = strstr(url, "://"), *auth, *end, *at = NULL, *colon, *q;
	struct buf b;

	buf_init(&b, 2048);
	auth = scheme != NULL ? scheme + 3 : url;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		buf_append(&b, url, (size_t)(end - url));
	} else {
		colon = memchr(auth, ':', (size_t)(at - auth));
		buf_append(&b, url, (size_t)((colon != NULL ? colon + 1 : auth) - url));
		buf_append(&b, "xxxxx", 5);
		buf_append(&b, at, (size_t)(end - at));
	}
	q = strchr(end, '?');
	buf_append(&b, end, (size_t)((q != NULL ? q : end + strlen(end)) - end));
	for (; q != NULL && *q != '\0' && *q != '#'; ) {
		size_t key = strcspn(q + 1, "=&#");

		buf_append(&b, q, key + 1);	/* '?' or '&' and the key */
		q += 1 + key;
		if (*q == '=') {
			buf_append(&b, "=xxxxx", 6);
			q += 1 + strcspn(q + 1, "&#");
		}
	}
	sanitize(out, outsz, buf_str(&b), b.len);
	buf_fini(&b);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb, room = b->max - b->len;

	/* Keep what fits; the rest is read and dropped. */
	buf_append(b, data, n < room ? n : room);
	return n;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

struct attempt {
	CURLcode cc;
	long status;
	char curl_err[CURL_ERROR_SIZE];
};

static void
post_once(const struct hook_cfg *h, const char *body, struct buf *answer, struct attempt *a)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");

	if (e == NULL)
		xalloc_fatal(0);
	buf_reset(answer);
	a->curl_err[0] = '\0';
	a->status = 0;
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    (long)(h->timeout_ms > 0 ? h->timeout_ms : WEBHOOK_TIMEOUT_MS_DEFAULT));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, answer);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->curl_err);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "perch/" PERCH_VERSION);
	if (h->disable_tls) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	a->cc = curl_easy_perform(e);
	if (a->cc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(e);
}

/* go-retryablehttp's DefaultRetryPolicy, in short. */
static bool
should_retry(const struct attempt *a)
{
	if (a->cc != CURLE_OK)
		return a->cc != CURLE_UNSUPPORTED_PROTOCOL && a->cc != CURLE_URL_MALFORMAT;
	return a->status == 429 || (a->status >= 500 && a->status != 501);
}

static void
call_one(const struct webhook_client *wc, const struct hook_call *call, struct hook_result *r)
{
	const struct hook_cfg *h = call->hook;
	char *body = webhook_payload(call), url[256], raw[ERRMSG_MAX + 320];
	struct buf answer;
	struct attempt a;
	int tries = 0, wait = wc->opts.backoff_min_ms;

	buf_init(&answer, WEBHOOK_MAX_BODY);
	for (;;) {
		post_once(h, body, &answer, &a);
		tries++;
		if (!should_retry(&a) || tries > h->retries)
			break;
		log_info("webhook %s: attempt %d failed, retrying in %d ms", h->name, tries, wait);
		sleep_ms(wait);
		wait = wait * 2 > wc->opts.backoff_max_ms ? wc->opts.backoff_max_ms : wait * 2;
	}
	r->http_status = (int)a.status;
	r->ok = a.cc == CURLE_OK && a.status <= 202;
	redacted_url(h->url, url, sizeof url);
	/* A transfer that failed says why, retried or not (a malformed URL is
	 * not retried, and has no answer to show). */
	if (a.cc != CURLE_OK)
		snprintf(raw, sizeof raw, "POST %s giving up after %d attempt(s): %s", url, tries,
		    a.curl_err[0] != '\0' ? a.curl_err : curl_easy_strerror(a.cc));
	else if (r->ok || !should_retry(&a))
		snprintf(raw, sizeof raw, "%.*s", ERRMSG_MAX, buf_str(&answer));
	else
		snprintf(raw, sizeof raw, "POST %s giving up after %d attempt(s)", url, tries);
	if (!r->ok && raw[0] == '\0')
		snprintf(raw, sizeof raw, "HTTP %ld", a.status);
	sanitize(r->msg, sizeof r->msg, raw, strlen(raw));
	buf_fini(&answer);
	free(body);
}

static size_t
http_call(void *ctx, const struct hook_call *calls, size_t n, struct hook_result *out)
{
	static const struct webhook_client defaults = {
		.opts = { .backoff_min_ms = 1000, .backoff_max_ms = 30000 },
	};
	const struct webhook_client *wc = ctx != NULL ? ctx : &defaults;
	size_t i;

	if (n > 0) {	/* libcurl is loaded on the first call */
		char why[640];

		if (curl_lazy_load("webhooks", why, sizeof why) != ST_OK) {
			memset(&out[0], 0, sizeof out[0]);
			sanitize(out[0].msg, sizeof out[0].msg, why, strlen(why));
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		if (calls[i].hook == NULL || calls[i].hook->url == NULL || calls[i].canary == NULL) {
			snprintf(out[i].msg, sizeof out[i].msg, "webhook has no URL");
			return i + 1;
		}
		call_one(wc, &calls[i], &out[i]);
		if (!out[i].ok)
			return i + 1;
	}
	return n;
}

const struct webhook_ops http_webhook_ops = {
	.name = "http",
	.call = http_call,
};
