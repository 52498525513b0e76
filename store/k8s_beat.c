/*
 * k8s_beat.c — the controller's heartbeat on the cluster (see k8s.h).
 *
 * One ConfigMap perch.heartbeat per namespace (a name no canary's ConfigMap
 * can have: those are perch-<name>), one key per controller,
 * beat-<hash of its identity>, each a JSON object: controller, context,
 * beatMs (the writer's clock), everyMs, stopped, apiOk, metricsOk,
 * metricsDegraded (absent in an older perch's: false).  A beat
 * is one merge patch of the controller's key in each namespace it controls
 * canaries in; a canary's ConfigMap names its controller (data.controller,
 * written with the spec).  Watchers read both from their watch's cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/k8s.h"
#include "store/k8s_core.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/systime.h"

#define BEAT_CM "perch.heartbeat"

static void
beat_key(const char *id, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;

	for (p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(out, n, "beat-%016llx", (unsigned long long)h);
}

/* Merges data into ns's perch.heartbeat, creating it when missing. */
static int
beat_patch(struct store_k8s *s, const char *ns, json_t *data, char *err)
{
	json_t *patch = json_pack("{s:O}", "data", data), *obj;
	struct k8s_err e = { 0 };
	int st, i;

	for (i = 0; i < 4; i++) {
		st = k8s_patch(s->c, K8S_RES(CONFIGMAPS), ns, BEAT_CM, K8S_PATCH_MERGE, patch, NULL, &e);
		if (st == ST_NOTFOUND) {
			obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:O}", "apiVersion",
			    "v1", "kind", "ConfigMap", "metadata", "name", BEAT_CM, "namespace", ns,
			    "labels", "app.kubernetes.io/managed-by", "perch", "perch.dev/heartbeat",
			    "true", "data", data);
			st = k8s_create(s->c, K8S_RES(CONFIGMAPS), ns, obj, NULL, &e);
			json_decref(obj);
		}
		if (st != ST_CONFLICT)
			break;
	}
	json_decref(patch);
	if (st != ST_OK)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/" BEAT_CM ": %.100s", ns, e.msg);
	return st;
}

/* The namespaces to beat in (blk held): those of the canaries held now,
 * and every one beaten in before (so that the last beat, after the leases
 * are given back, still reaches them); the client's when there is none. */
static void
beat_namespaces(struct store_k8s *s)
{
	char ns[64], obj[256];
	const char *key;
	json_t *v;

	pthread_mutex_lock(&s->hlock);
	json_object_foreach(s->held, key, v)
		if (sk_split_key(key, ns, obj, NULL) == ST_OK)
			json_object_set_new(s->beat_ns, ns, json_true());
	pthread_mutex_unlock(&s->hlock);
	if (json_object_size(s->beat_ns) == 0)
		json_object_set_new(s->beat_ns, k8s_client_namespace(s->c), json_true());
}

int
store_k8s_beat(void *ctx, const struct heartbeat *hb, char *err)
{
	struct store_k8s *s = ctx;
	char key[40], id[160], *text;
	const char *ns;
	json_t *data, *o, *v;
	int st = ST_OK, one;

	if ((st = sk_refuse(s)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->lock);
	snprintf(id, sizeof id, "%s", s->id[0] ? s->id : hb->controller);
	pthread_mutex_unlock(&s->lock);
	beat_key(id, key, sizeof key);
	o = json_pack("{s:s, s:s, s:I, s:I, s:b, s:b, s:b, s:b}", "controller", id, "context",
	    hb->context, "beatMs", (json_int_t)clock_realtime_ms(), "everyMs",
	    (json_int_t)hb->every_ms, "stopped", hb->stopped, "apiOk", hb->api_ok, "metricsOk",
	    hb->metrics_ok, "metricsDegraded", hb->metrics_degraded);
	text = json_dumps(o, JSON_COMPACT);
	data = json_pack("{s:s}", key, text ? text : "{}");
	pthread_mutex_lock(&s->blk);
	beat_namespaces(s);
	json_object_foreach(s->beat_ns, ns, v)
		if ((one = beat_patch(s, ns, data, err)) != ST_OK)
			st = one;
	pthread_mutex_unlock(&s->blk);
	json_decref(data);
	free(text);
	json_decref(o);
	return st;
}

/* The age of a beat on this process's clock (blk held): how old it was
 * when first seen, plus the time since (the writer's clock only dates its
 * first sight, so clocks that disagree do not make a live controller
 * look lost). */
static int64_t
beat_age(struct store_k8s *s, const char *id, int64_t beat_ms)
{
	int64_t mono = clock_monotonic_ms(), real = clock_realtime_ms();
	struct seen_beat *b = NULL;
	size_t i;

	for (i = 0; i < s->n_seen && b == NULL; i++)
		if (strcmp(s->seen[i].id, id) == 0)
			b = &s->seen[i];
	if (b == NULL) {
		b = &s->seen[s->n_seen < 16 ? s->n_seen++ : 15];
		snprintf(b->id, sizeof b->id, "%s", id);
		b->beat_ms = beat_ms - 1;
	}
	if (b->beat_ms != beat_ms) {
		b->beat_ms = beat_ms;
		b->seen_mono = mono;
		b->age_at_seen = real > beat_ms ? real - beat_ms : 0;
	}
	return b->age_at_seen + (mono - b->seen_mono);
}

/* heartbeat_ops.last: the beat of the controller the canary's ConfigMap
 * names, from the watch's cache (nothing is read from the server). */
static int
sk_heartbeat(void *ctx, const char *canary, struct heartbeat *out)
{
	struct store_k8s *s = ctx;
	char ns[64], name[256], key[40];
	json_t *cm = NULL, *hcm = NULL, *o = NULL;
	const char *id, *text;
	int st = ST_NOTFOUND;

	if (sk_split_key(canary, ns, name, NULL) != ST_OK || sk_cached_cm(s, ns, name, &cm) != ST_OK)
		return ST_NOTFOUND;
	if ((id = sk_data_get(cm, "controller")) != NULL && sk_cached_cm(s, ns, BEAT_CM, &hcm) == ST_OK) {
		beat_key(id, key, sizeof key);
		if ((text = sk_data_get(hcm, key)) != NULL)
			o = json_loads(text, 0, NULL);
	}
	if (json_is_integer(json_object_get(o, "beatMs")) &&
	    json_integer_value(json_object_get(o, "everyMs")) > 0) {
		memset(out, 0, sizeof *out);
		sanitize(out->controller, sizeof out->controller, id, strlen(id));
		text = json_string_value(json_object_get(o, "context"));
		sanitize(out->context, sizeof out->context, text ? text : "", text ? strlen(text) : 0);
		out->every_ms = (int64_t)json_integer_value(json_object_get(o, "everyMs"));
		out->stopped = json_is_true(json_object_get(o, "stopped"));
		out->api_ok = json_is_true(json_object_get(o, "apiOk"));
		out->metrics_ok = json_is_true(json_object_get(o, "metricsOk"));
		out->metrics_degraded = json_is_true(json_object_get(o, "metricsDegraded"));
		pthread_mutex_lock(&s->blk);
		out->age_ms = beat_age(s, id, (int64_t)json_integer_value(json_object_get(o, "beatMs")));
		pthread_mutex_unlock(&s->blk);
		st = ST_OK;
	}
	json_decref(o);
	json_decref(hcm);
	json_decref(cm);
	return st;
}

const struct heartbeat_ops store_k8s_heartbeat_ops = {
	.last = sk_heartbeat,
};
