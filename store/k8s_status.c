/*
 * k8s_status.c — the Canary's status subresource (see k8s_status.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/k8s_status.h"
#include "util/log.h"
#include "util/status.h"
#include "util/systime.h"

#define KEY_MAX 320	/* "ns/name" of a canary: 63 + 1 + 240 at most (sk_split_key) */

/* The Promoted condition's status and message by phase (Flagger's
 * MakeStatusConditions); Terminating says what the revert does (Flagger
 * writes its default, the Initializing message): msg NULL, the status's
 * reason is the message. */
static const char *
promoted(enum phase p, const char **msg)
{
	switch (p) {
	case PHASE_INITIALIZED:
		*msg = "%s initialization completed.";
		return "True";
	case PHASE_WAITING:
	case PHASE_WAITING_PROMOTION:
		*msg = "Waiting for approval.";
		return "Unknown";
	case PHASE_PROGRESSING:
		*msg = "New revision detected, progressing canary analysis.";
		return "Unknown";
	case PHASE_PROMOTING:
		*msg = "Canary analysis completed, starting primary rolling update.";
		return "Unknown";
	case PHASE_FINALISING:
		*msg = "Canary analysis completed, routing all traffic to primary.";
		return "Unknown";
	case PHASE_SUCCEEDED:
		*msg = "Canary analysis completed successfully, promotion finished.";
		return "True";
	case PHASE_FAILED:
		*msg = "Canary analysis failed, %s scaled to zero.";
		return "False";
	case PHASE_TERMINATING:		/* the message is the status's reason */
		*msg = NULL;
		return "Unknown";
	default:
		*msg = "New %s detected, starting initialization.";
		return "Unknown";
	}
}

json_t *
sk_flagger_status(const struct canary_status *st, const char *kind)
{
	char when[40], msg[300];
	const char *fmt, *cs = promoted(st->phase, &fmt);
	json_t *j;

	/* metav1.Time: whole seconds */
	clock_format_rfc3339(st->last_transition_ms - st->last_transition_ms % 1000, when, sizeof when);
	if (fmt == NULL)
		snprintf(msg, sizeof msg, "%s", st->reason[0] ? st->reason : "Reverting on deletion.");
	else
		snprintf(msg, sizeof msg, fmt, kind && *kind ? kind : "Deployment");
	j = json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}",
	    "phase", phase_name(st->phase), "canaryWeight", st->canary_weight,
	    "failedChecks", st->failed_checks, "iterations", st->iterations,
	    "lastAppliedSpec", st->last_applied, "lastTransitionTime", when,
	    "conditions", "type", "Promoted", "status", cs, "reason", phase_name(st->phase),
	    "message", msg, "lastUpdateTime", when, "lastTransitionTime", when);
	if (st->last_promoted[0])
		json_object_set_new(j, "lastPromotedSpec", json_string(st->last_promoted));
	if (st->affinity_cookie[0])
		json_object_set_new(j, "sessionAffinityCookie", json_string(st->affinity_cookie));
	if (st->primary_affinity_cookie[0])
		json_object_set_new(j, "primarySessionAffinityCookie",
		    json_string(st->primary_affinity_cookie));
	if (st->previous_affinity_cookie[0])
		json_object_set_new(j, "previousSessionAffinityCookie",
		    json_string(st->previous_affinity_cookie));
	return j;
}

/* Whether a and b differ in more than their times. */
static bool
changed(json_t *a, json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
	bool diff;

	json_object_del(x, "lastTransitionTime");
	json_object_del(y, "lastTransitionTime");
	json_object_del(json_array_get(json_object_get(x, "conditions"), 0), "lastUpdateTime");
	json_object_del(json_array_get(json_object_get(y, "conditions"), 0), "lastUpdateTime");
	json_object_del(json_array_get(json_object_get(x, "conditions"), 0), "lastTransitionTime");
	json_object_del(json_array_get(json_object_get(y, "conditions"), 0), "lastTransitionTime");
	diff = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return diff;
}

/* The condition's lastTransitionTime stays when its status did not change
 * (Flagger). */
static void
keep_condition_time(json_t *status, json_t *old)
{
	json_t *nc = json_array_get(json_object_get(status, "conditions"), 0);
	json_t *oc = json_array_get(json_object_get(old, "conditions"), 0);

	if (oc != NULL && json_equal(json_object_get(nc, "status"), json_object_get(oc, "status")) &&
	    json_is_string(json_object_get(oc, "lastTransitionTime")))
		json_object_set(nc, "lastTransitionTime", json_object_get(oc, "lastTransitionTime"));
}

/* GET the Canary, its status replaced, PUT to /status; again on a
 * conflict. */
static int
put_status(struct store_k8s *s, const char *ns, const char *name, json_t *status,
    struct k8s_err *e)
{
	json_t *obj = NULL, *out = NULL;
	int st = ST_CONFLICT, i;

	for (i = 0; i < 3 && st == ST_CONFLICT; i++) {
		st = k8s_get(s->c, K8S_RES(CANARIES), ns, name, &obj, e);
		if (st != ST_OK)
			break;
		keep_condition_time(status, json_object_get(obj, "status"));
		json_object_set(obj, "status", status);
		st = k8s_update_status(s->c, K8S_RES(CANARIES), ns, obj, &out, e);
		json_decref(obj);
		json_decref(out);
		obj = out = NULL;
	}
	return st;
}

/* The Canary object key's last written status (a copy; NULL: unknown,
 * json null: there is none) and its target's kind.  The writers and the
 * savers share no JSON value: what cstatus holds is read and written as
 * copies under hlock (jansson's reference counts are not thread-safe). */
static json_t *
last_written(struct store_k8s *s, const char *key, char *kind, size_t kindsz)
{
	const char *k;
	json_t *last;

	pthread_mutex_lock(&s->hlock);
	last = json_deep_copy(json_object_get(s->cstatus, key));
	k = json_string_value(json_object_get(s->ckind, key));
	snprintf(kind, kindsz, "%s", k ? k : "");
	pthread_mutex_unlock(&s->hlock);
	return last;
}

/* Writes status to the Canary key's /status unless it is what was last
 * written; logs a failure. */
static void
write_status(struct store_k8s *s, const char *key, json_t *status)
{
	const char *slash = strchr(key, '/');
	char ns[64], name[256], kind[64];
	json_t *last = last_written(s, key, kind, sizeof kind);
	struct k8s_err e;
	bool same;
	int rc;

	same = json_is_null(last) || (last != NULL && !changed(status, last));
	json_decref(last);
	if (same || slash == NULL || (size_t)(slash - key) >= sizeof ns ||
	    strlen(slash + 1) >= sizeof name)
		return;	/* unchanged, no Canary object, or not a canary's key */
	snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
	snprintf(name, sizeof name, "%s", slash + 1);
	rc = put_status(s, ns, name, status, &e);
	pthread_mutex_lock(&s->hlock);
	if (rc == ST_OK)
		json_object_set_new(s->cstatus, key, json_deep_copy(status));
	else if (rc == ST_NOTFOUND)
		json_object_set_new(s->cstatus, key, json_null());
	pthread_mutex_unlock(&s->hlock);
	if (rc != ST_OK && rc != ST_NOTFOUND)
		log_warn("store: the status of Canary %s/%s: %s", ns, name, e.msg);
}

/* The oldest queued canary no writer has (wlock held): its key and
 * status, now marked busy. */
static bool
take_next(struct store_k8s *s, char *key, size_t keysz, json_t **status)
{
	const char *k;
	json_t *v;

	json_object_foreach(s->wq, k, v) {
		if (json_object_get(s->wbusy, k) != NULL)
			continue;
		snprintf(key, keysz, "%s", k);
		*status = json_incref(v);
		json_object_del(s->wq, key);
		json_object_set_new(s->wbusy, key, json_true());
		return true;
	}
	return false;
}

/* A writer: writes queued statuses until stopped with none left.  The
 * Lease is checked before each write: a canary this store no longer
 * holds is another replica's to write. */
static void *
status_writer(void *arg)
{
	struct store_k8s *s = arg;
	char key[KEY_MAX];
	json_t *status;

	pthread_mutex_lock(&s->wlock);
	for (;;) {
		if (take_next(s, key, sizeof key, &status)) {
			pthread_mutex_unlock(&s->wlock);
			if (sk_holds(s, key))
				write_status(s, key, status);
			json_decref(status);
			pthread_mutex_lock(&s->wlock);
			json_object_del(s->wbusy, key);
			pthread_cond_broadcast(&s->wcond);
		} else if (s->wstop) {
			break;
		} else {
			pthread_cond_wait(&s->wcond, &s->wlock);
		}
	}
	pthread_mutex_unlock(&s->wlock);
	return NULL;
}

void
sk_canary_status_queue(struct store_k8s *s, const char *key, const struct canary_status *st)
{
	char kind[64];
	json_t *last = last_written(s, key, kind, sizeof kind), *status;
	bool none = json_is_null(last);

	json_decref(last);
	if (none || strlen(key) >= KEY_MAX)
		return;		/* no Canary object, or not a canary's key */
	status = sk_flagger_status(st, kind[0] ? kind : NULL);
	pthread_mutex_lock(&s->wlock);
	if (!s->wstarted && !s->wstop) {
		s->wstarted = true;
		while (s->n_wth < STORE_K8S_STATUS_WRITERS &&
		    pthread_create(&s->wth[s->n_wth], NULL, status_writer, s) == 0)
			s->n_wth++;
	}
	if (s->n_wth == 0 || s->wstop) {
		pthread_mutex_unlock(&s->wlock);
		write_status(s, key, status);
		json_decref(status);
		return;
	}
	json_object_set_new(s->wq, key, status);
	pthread_cond_broadcast(&s->wcond);
	pthread_mutex_unlock(&s->wlock);
}

void
sk_canary_status_settle(struct store_k8s *s, const char *key)
{
	pthread_mutex_lock(&s->wlock);
	while (json_object_get(s->wq, key) != NULL || json_object_get(s->wbusy, key) != NULL)
		pthread_cond_wait(&s->wcond, &s->wlock);
	pthread_mutex_unlock(&s->wlock);
}

void
sk_canary_status_stop(struct store_k8s *s)
{
	size_t i;

	pthread_mutex_lock(&s->wlock);
	s->wstop = true;
	pthread_cond_broadcast(&s->wcond);
	pthread_mutex_unlock(&s->wlock);
	for (i = 0; i < s->n_wth; i++)
		pthread_join(s->wth[i], NULL);
	s->n_wth = 0;
}
