/*
 * k8s_request.c — requests to a canary's holder (see k8s.h): a perch
 * whose canary another process holds writes request.<h> into the canary's
 * ConfigMap (h: a hash of its identity), one key per requester, with the
 * ConfigMap's resourceVersion (409: read again and retried); the holder
 * reads the requests above their acknowledgement ack.<h> and stages each
 * acknowledgement for the canary's next save, which writes it in the same
 * merge patch as the status.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/k8s_request.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/systime.h"

#define REQ_TRIES 5

/* "request.<h>" or "ack.<h>" of the identity id. */
static void
req_field(const char *what, const char *id, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(out, n, "%s.%016" PRIx64, what, h);
}

/* This store's identity, as its Lease names it. */
static void
own_id(struct store_k8s *s, const char *given, char *out, size_t n)
{
	if (given != NULL && *given) {
		if (out != given)
			snprintf(out, n, "%s", given);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->id[0])
		snprintf(s->id, sizeof s->id, "perch pid %ld", (long)getpid());
	snprintf(out, n, "%s", s->id);
	pthread_mutex_unlock(&s->lock);
}

/* j as compact JSON text (j released; owned, NULL on failure). */
static char *
dump_owned(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	return text;
}

/* data.<field> of cm parsed (NULL when absent or not JSON: owned). */
static json_t *
field_json(json_t *cm, const char *field)
{
	const char *text = sk_data_get(cm, field);

	return text ? json_loads(text, 0, NULL) : NULL;
}

/* j's "seq" (0 when absent or not above 0). */
static uint64_t
seq_of(json_t *j)
{
	json_int_t v = json_integer_value(json_object_get(j, "seq"));

	return v > 0 ? (uint64_t)v : 0;
}

static uint64_t
field_seq(json_t *cm, const char *field)
{
	json_t *j = field_json(cm, field);
	uint64_t v = seq_of(j);

	json_decref(j);
	return v;
}

/* How long before now_ms j's "timeMs" was (its writer's wall clock),
 * without overflow whatever the number; -1 without one. */
static int64_t
age_of(json_t *j, int64_t now_ms)
{
	json_t *t = json_object_get(j, "timeMs");
	json_int_t v = json_integer_value(t);

	if (!json_is_integer(t))
		return -1;
	if (v > now_ms)
		return 0;	/* the writer's clock is ahead of ours */
	if (now_ms >= 0 && v < now_ms - INT64_MAX)
		return INT64_MAX;
	return now_ms - (int64_t)v;
}

/* The identity a 403's message names (Kubernetes: User "NAME" cannot
 * ...), or "this identity". */
static void
refused_user(const char *msg, char *out, size_t n)
{
	const char *p = strstr(msg, "ser \""), *q;

	if (p == NULL || (q = strchr(p + 5, '"')) == NULL || q == p + 5) {
		snprintf(out, n, "this identity");
		return;
	}
	snprintf(out, n, "%.*s", (int)(q - (p + 5)), p + 5);
}

static void
request_error(const char *key, const char *ns, const char *name, const struct k8s_err *e, char *err)
{
	char who[96];

	if (err == NULL)
		return;
	if (e->http == 403) {
		refused_user(e->msg, who, sizeof who);
		snprintf(err, ERRMSG_MAX, "forbidden: %s may not patch configmaps; needs a role like "
		    "deploy/'s ClusterRole perch (configmap %.40s/%.60s; API server: %.100s)", who, ns,
		    name, e->msg);
	} else {
		snprintf(err, ERRMSG_MAX, "not requested: configmap %.60s/%.80s: %.200s", ns, name,
		    e->msg);
	}
	(void)key;
}

/* One try: read the ConfigMap, write the request with its
 * resourceVersion.  ST_CONFLICT: someone wrote in between. */
static int
request_once(struct store_k8s *s, const char *key, struct cmd_request *rq, const char *rfield, const char *afield, struct k8s_err *e)
{
	json_t *cm = NULL, *patch;
	int64_t now = clock_realtime_ms();
	uint64_t last;
	char *text;
	int st;

	char ns[64], name[256];

	if ((st = sk_split_key(key, ns, name, NULL)) != ST_OK ||
	    (st = k8s_get(s->c, K8S_RES(CONFIGMAPS), ns, name, &cm, e)) != ST_OK)
		return st;
	last = field_seq(cm, rfield);
	if (field_seq(cm, afield) > last)
		last = field_seq(cm, afield);
	rq->seq = last + 1;
	text = dump_owned(json_pack("{s:s, s:I, s:s, s:s, s:I}", "requester", rq->requester,
	    "seq", (json_int_t)rq->seq, "command", command_name(rq->kind), "actor", rq->actor,
	    "timeMs", (json_int_t)now));
	patch = json_pack("{s:{s:O}, s:{s:s}}", "metadata", "resourceVersion",
	    json_object_get(json_object_get(cm, "metadata"), "resourceVersion"), "data", rfield,
	    text ? text : "null");
	st = k8s_patch(s->c, K8S_RES(CONFIGMAPS), ns, name, K8S_PATCH_MERGE, patch, NULL, e);
	if (st == ST_OK) {
		pthread_mutex_lock(&s->lock);
		json_object_set_new(s->asked, key, json_pack("{s:I, s:I}", "seq",
		    (json_int_t)rq->seq, "timeMs", (json_int_t)now));
		pthread_mutex_unlock(&s->lock);
	}
	free(text);
	json_decref(patch);
	json_decref(cm);
	return st;
}

int
sk_request(void *ctx, const char *key, struct cmd_request *rq, char *err)
{
	struct store_k8s *s = ctx;
	char ns[64], name[256], rfield[64], afield[64];
	struct k8s_err e = { 0 };
	int st, i;

	if ((st = sk_refuse(s)) != ST_OK) {
		if (err)
			snprintf(err, ERRMSG_MAX, "not requested: the store is read-only");
		return st;
	}
	if ((st = sk_split_key(key, ns, name, err)) != ST_OK)
		return st;
	own_id(s, rq->requester, rq->requester, sizeof rq->requester);
	req_field("request", rq->requester, rfield, sizeof rfield);
	req_field("ack", rq->requester, afield, sizeof afield);
	for (i = 0; i < REQ_TRIES; i++) {
		st = request_once(s, key, rq, rfield, afield, &e);
		if (st != ST_CONFLICT)
			break;
	}
	if (st != ST_OK)
		request_error(key, ns, name, &e, err);
	return st;
}

/* Fills out from the request JSON j (its age on now_ms's clock); false
 * when it is not one. */
static bool
parse_request(json_t *j, int64_t now_ms, struct cmd_request *out)
{
	const char *who = json_string_value(json_object_get(j, "requester"));
	const char *cmd = json_string_value(json_object_get(j, "command"));
	const char *actor = json_string_value(json_object_get(j, "actor"));
	uint64_t seq = seq_of(j);
	int kind;

	if (who == NULL || cmd == NULL || seq == 0)
		return false;
	memset(out, 0, sizeof *out);
	sanitize(out->requester, sizeof out->requester, who, strlen(who));
	sanitize(out->actor, sizeof out->actor, actor ? actor : who, strlen(actor ? actor : who));
	out->seq = seq;
	kind = command_from_name(cmd);
	out->kind = kind < 0 ? CMD__COUNT : (enum command_kind)kind;
	out->age_ms = age_of(j, now_ms);
	if (out->age_ms < 0)
		out->age_ms = INT64_MAX;	/* no time: too old to apply */
	return true;
}

size_t
sk_requests_above(json_t *cm, json_t *mine, int64_t now_ms, struct cmd_request *out, size_t max)
{
	char afield[80];
	const char *k;
	json_int_t own;
	uint64_t acked;
	json_t *v, *j;
	size_t n = 0;

	json_object_foreach(json_object_get(cm, "data"), k, v) {
		if (n == max || strncmp(k, "request.", 8) != 0 || strlen(k) > 60)
			continue;
		snprintf(afield, sizeof afield, "ack.%s", k + 8);
		acked = field_seq(cm, afield);
		own = json_integer_value(json_object_get(mine, afield));
		if (own > 0 && (uint64_t)own > acked)
			acked = (uint64_t)own;	/* staged, or written already */
		j = json_loads(json_string_value(v) ? json_string_value(v) : "", 0, NULL);
		if (parse_request(j, now_ms, &out[n]) && out[n].seq > acked)
			n++;
		json_decref(j);
	}
	return n;
}

/* The ConfigMap of key from the watch of the perch ConfigMaps (ST_AGAIN:
 * none, another namespace, or out of step). */
static int
cached(struct store_k8s *s, const char *key, json_t **cm)
{
	char ns[64], name[256];

	*cm = NULL;
	if (sk_split_key(key, ns, name, NULL) != ST_OK)
		return ST_AGAIN;
	return sk_cached_cm(s, ns, name, cm);
}

/* The requests of cm above their acknowledgement, up to max. */
static size_t
collect(struct store_k8s *s, const char *key, json_t *cm, struct cmd_request *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = sk_requests_above(cm, json_object_get(s->acked, key), clock_realtime_ms(), out, max);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t
sk_pending(void *ctx, const char *key, struct cmd_request *out, size_t max)
{
	struct store_k8s *s = ctx;
	char ns[64], name[256];
	struct k8s_err e;
	json_t *cm;
	size_t n;

	if (sk_refuse(s) != ST_OK || cached(s, key, &cm) != ST_OK)
		return 0;
	n = collect(s, key, cm, out, max);
	json_decref(cm);
	/* The cache may lag behind an acknowledgement: the server decides. */
	if (n == 0 || sk_split_key(key, ns, name, NULL) != ST_OK ||
	    k8s_get(s->c, K8S_RES(CONFIGMAPS), ns, name, &cm, &e) != ST_OK)
		return 0;
	n = collect(s, key, cm, out, max);
	json_decref(cm);
	return n;
}

void
sk_ack(void *ctx, const char *key, const struct cmd_ack *a)
{
	struct store_k8s *s = ctx;
	char afield[64], by[160];
	json_t *staged, *seen;
	char *text;

	own_id(s, a->applied_by, by, sizeof by);
	req_field("ack", a->requester, afield, sizeof afield);
	text = dump_owned(json_pack("{s:s, s:I, s:s, s:s, s:b, s:I}", "requester", a->requester,
	    "seq", (json_int_t)a->seq, "appliedBy", by, "result", a->result, "applied", a->applied,
	    "timeMs", (json_int_t)clock_realtime_ms()));
	pthread_mutex_lock(&s->lock);
	if ((staged = json_object_get(s->acks, key)) == NULL)
		json_object_set_new(s->acks, key, staged = json_object());
	json_object_set_new(staged, afield, json_string(text ? text : "null"));
	if ((seen = json_object_get(s->acked, key)) == NULL)
		json_object_set_new(s->acked, key, seen = json_object());
	json_object_set_new(seen, afield, json_integer((json_int_t)a->seq));
	pthread_mutex_unlock(&s->lock);
	free(text);
}

json_t *
sk_acks_take(struct store_k8s *s, const char *key)
{
	json_t *acks;

	pthread_mutex_lock(&s->lock);
	acks = json_incref(json_object_get(s->acks, key));
	json_object_del(s->acks, key);
	pthread_mutex_unlock(&s->lock);
	return acks;
}

void
sk_acks_restore(struct store_k8s *s, const char *key, json_t *acks)
{
	json_t *now;

	if (acks == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	if ((now = json_object_get(s->acks, key)) != NULL)
		json_object_update_missing(now, acks);	/* newer staged ones win */
	else
		json_object_set(s->acks, key, acks);
	pthread_mutex_unlock(&s->lock);
	json_decref(acks);
}

int
sk_ack_read(json_t *cm, const char *id, uint64_t asked, int64_t now_ms, struct cmd_ack *out)
{
	char afield[64], rfield[64];
	const char *by, *res;
	json_t *j;

	memset(out, 0, sizeof *out);
	req_field("request", id, rfield, sizeof rfield);
	j = field_json(cm, rfield);
	out->wait_ms = asked > 0 && seq_of(j) == asked ? age_of(j, now_ms) : -1;
	json_decref(j);
	req_field("ack", id, afield, sizeof afield);
	if ((j = field_json(cm, afield)) == NULL)
		return ST_NOTFOUND;
	snprintf(out->requester, sizeof out->requester, "%s", id);
	out->seq = seq_of(j);
	by = json_string_value(json_object_get(j, "appliedBy"));
	res = json_string_value(json_object_get(j, "result"));
	out->applied = json_is_true(json_object_get(j, "applied"));
	sanitize(out->applied_by, sizeof out->applied_by, by ? by : "", by ? strlen(by) : 0);
	sanitize(out->result, sizeof out->result, res ? res : "", res ? strlen(res) : 0);
	json_decref(j);
	return ST_OK;
}

/* The last request this store wrote to key ({seq, timeMs}; owned, NULL:
 * none). */
static json_t *
asked_last(struct store_k8s *s, const char *key)
{
	json_t *a;

	pthread_mutex_lock(&s->lock);
	a = json_deep_copy(json_object_get(s->asked, key));
	pthread_mutex_unlock(&s->lock);
	return a;
}

int
sk_answer(void *ctx, const char *key, const char *requester, struct cmd_ack *out)
{
	struct store_k8s *s = ctx;
	int64_t now = clock_realtime_ms();
	json_t *cm, *mine = asked_last(s, key);
	char id[160];
	int st;

	memset(out, 0, sizeof *out);
	out->wait_ms = -1;
	own_id(s, requester, id, sizeof id);
	if ((st = cached(s, key, &cm)) == ST_AGAIN)
		st = sk_cm_get(s, key, &cm, NULL);
	if (st == ST_OK) {
		st = sk_ack_read(cm, id, seq_of(mine), now, out);
		json_decref(cm);
	}
	/* Not read, or the read is older than the request: its time as this
	 * store wrote it. */
	if (out->wait_ms < 0)
		out->wait_ms = age_of(mine, now);
	json_decref(mine);
	return st;
}
