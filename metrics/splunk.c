/*
 * splunk.c — the splunk metric backend: SignalFlow programs run through
 * the REST execute endpoint over metrics/http_backend.h, and the parser of
 * its Server-Sent Events (splunk.h).
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/backend.h"
#include "metrics/http_backend.h"
#include "metrics/splunk.h"
#include "util/buf.h"
#include "util/status.h"
#include "util/xalloc.h"

#define WHO "Splunk"

enum { KEY_TOKEN };
static const char *const secret_keys[] = { "sf_token_key", NULL };

/* What the stream said so far. */
struct sse_state {
	char   *tsid;		/* the time series of the data points (the first one's) */
	double  value;		/* the last data point's */
	bool    got, done;
	int     st;		/* ST_OK until an error */
	struct metric_value *out;
};

static void
data_message(struct sse_state *s, json_t *msg)
{
	json_t *pts = json_object_get(msg, "data"), *pt;
	size_t i;

	json_array_foreach(pts, i, pt) {
		const char *id = json_string_value(json_object_get(pt, "tsId"));
		json_t *v = json_object_get(pt, "value");

		if (!json_is_number(v))
			continue;	/* Flagger drops payloads of unknown type */
		if (s->tsid == NULL && id != NULL)
			s->tsid = xstrdup(id);
		else if (id != NULL && s->tsid != NULL && strcmp(id, s->tsid) != 0) {
			hb_result(s->out, CHECK_ERROR, "multiple values returned (data of more than "
			    "one time series)");
			s->st = ST_ERR;
			return;
		}
		s->value = json_number_value(v);
		s->got = true;
	}
}

/* One event's data (the JSON of one message). */
static void
message(struct sse_state *s, const char *data, size_t len, const char *event)
{
	json_error_t jerr;
	json_t *msg = json_loadb(data, len, 0, &jerr);
	const char *type = json_string_value(json_object_get(msg, "type"));

	if (type == NULL && event[0] != '\0')	/* the SSE event's name */
		type = event;
	const char *ev = json_string_value(json_object_get(msg, "event"));
	const char *m;

	if (!json_is_object(msg) || type == NULL) {
		hb_result(s->out, CHECK_ERROR, WHO " answer: a message is not SignalFlow JSON");
		s->st = ST_PARSE;
	} else if (strcmp(type, "data") == 0) {
		data_message(s, msg);
	} else if (strcmp(type, "error") == 0) {
		m = json_string_value(json_object_get(msg, "message"));
		hb_result(s->out, CHECK_ERROR, "error executing query: %s", m ? m : "(no message)");
		s->st = ST_ERR;
	} else if (strcmp(type, "control-message") == 0 && ev != NULL &&
	    (strcmp(ev, "END_OF_CHANNEL") == 0 || strcmp(ev, "CHANNEL_ABORT") == 0)) {
		s->done = true;
	}
	json_decref(msg);
}

int
splunk_parse(const char *body, size_t len, struct metric_value *out)
{
	struct sse_state s = { .out = out, .st = ST_OK };
	struct buf data;
	char event[32] = "";
	const char *p = body, *end = body + len, *nl;
	size_t ll;

	buf_init(&data, 0);
	while (p < end && s.st == ST_OK && !s.done) {
		nl = memchr(p, '\n', (size_t)(end - p));
		ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0 && data.len > 0) {	/* end of an event */
			message(&s, data.data, data.len, event);
			buf_reset(&data);
			event[0] = '\0';
		} else if (ll >= 6 && memcmp(p, "event:", 6) == 0) {
			snprintf(event, sizeof event, "%.*s", (int)(ll - 6 - (ll > 6 && p[6] == ' ')),
			    p + 6 + (ll > 6 && p[6] == ' '));
		} else if (ll >= 5 && memcmp(p, "data:", 5) == 0) {
			if (data.len > 0)
				buf_putc(&data, '\n');
			buf_append(&data, p + 5 + (ll > 5 && p[5] == ' '), ll - 5 - (ll > 5 && p[5] == ' '));
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (s.st == ST_OK && !s.done && data.len > 0)
		message(&s, data.data, data.len, event);
	buf_fini(&data);
	free(s.tsid);
	if (s.st != ST_OK)
		return s.st;
	if (!s.got || isnan(s.value))
		hb_result(out, CHECK_NODATA, "no values found");
	else
		hb_value(out, s.value);
	return ST_OK;
}

char *
splunk_stream_url(const char *address)
{
	const char *host = strstr(address, "://");
	size_t al = (size_t)hb_base_len(address);

	host = host != NULL ? host + 3 : address;
	if (strncmp(host, "api.", 4) == 0)
		return xasprintf("%.*sstream.%.*s/v2/signalflow/execute", (int)(host - address),
		    address, (int)(al - (size_t)(host - address) - 4), host + 4);
	return xasprintf("%.*s/v2/signalflow/execute", (int)al, address);
}

static void
parse(const char *body, size_t len, struct metric_value *out)
{
	splunk_parse(body, len, out);
}

static int
check_secret(const char *const *v, char *err, size_t errsz)
{
	return hb_secret_has(secret_keys, v, KEY_TOKEN, err, errsz);
}
static int
sign(const struct hb_server *s, const struct metric_query *q, struct hb_req *r, char *err,
    size_t errsz)
{
	if (hb_need_key(s, q, secret_keys, KEY_TOKEN, err, errsz) != ST_OK)
		return ST_INVALID;
	hb_req_header(r, "X-SF-Token", s->secret[KEY_TOKEN]);
	return ST_OK;
}

/* The program, POSTed to the stream endpoint over the window. */
static int
request(const struct hb_server *s, const struct metric_query *q, int64_t now_s,
    struct hb_req *r, char *err, size_t errsz)
{
	long long stop = (long long)now_s * 1000;
	char *base;

	if (sign(s, q, r, err, errsz) != ST_OK)
		return ST_INVALID;
	hb_req_header(r, "Content-Type", "text/plain");
	base = splunk_stream_url(s->address);
	r->url = xasprintf("%s?immediate=true&start=%lld&stop=%lld", base,
	    stop - 10000LL * hb_interval_s(q), stop);
	r->post = xstrdup(q->query);
	free(base);
	return ST_OK;
}

static int
probe_request(const struct hb_server *s, int64_t now_s, struct hb_req *r, char *err,
    size_t errsz)
{
	(void)now_s;
	if (sign(s, NULL, r, err, errsz) != ST_OK)
		return ST_INVALID;
	r->url = xasprintf("%.*s/v2/metric?limit=1", hb_base_len(s->address), s->address);
	return ST_OK;
}

static const struct http_kind kind = {
	.label = WHO,
	.secret_keys = secret_keys,
	.timeout_ms = 5000,	/* Flagger's 5 s */
	.request = request,
	.parse = parse,
	.probe_request = probe_request,
};

static void *
open_splunk(const struct metric_backend_opts *o)
{
	return hb_open(&kind, o);
}

const struct metric_backend_ops splunk_backend = {
	.type = MT_SPLUNK,
	.past = true,
	.secret_keys = secret_keys,
	.open = open_splunk,
	.close = hb_close,
	.unusable = hb_unusable,
	.check_secret = check_secret,
	.add = hb_add,
	.eval = hb_eval,
	.probe = hb_probe,
};
