/*
 * k8s/flagger.c — Canaries that a running Flagger reconciles: found once
 * (k8s_flagger_driver), then shown from what Flagger publishes, the
 * Canary's status (reference §1.1) and its Events (§7.2), read from the
 * watch caches of k8s_cluster_watch_flagger (k8s_flagger_view, the
 * cluster_ops.external op).  Nothing here writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "k8s/kubeconfig.h"
#include "util/sanitize.h"
#include "util/status.h"

#define FLAGGER_FRESH_S 600	/* a status written this recently means a live Flagger */
#define FUTURE_S 60		/* beyond clock skew: a status dated later is no real clock's */

/* A running Flagger Deployment anywhere in the cluster ("ns/name" into out),
 * found by its usual labels; false when none is found or listing is denied. */
bool
k8s_flagger_running(struct k8s_client *c, char *out, size_t outsz)
{
	static const char *const selectors[] = { "app.kubernetes.io/name=flagger", "app=flagger" };
	struct k8s_err e;
	json_t *list, *d;
	size_t i, k;
	bool found = false;

	for (k = 0; k < 2 && !found; k++) {
		if (k8s_list(c, K8S_RES(DEPLOYMENTS), NULL, selectors[k], &list, &e) != ST_OK)
			continue;
		json_array_foreach(json_object_get(list, "items"), i, d) {
			if (json_integer_value(jpath(d, "status.availableReplicas")) > 0) {
				snprintf(out, outsz, "%s/%s", jstr(d, "metadata.namespace") ?
				    jstr(d, "metadata.namespace") : "", jstr(d, "metadata.name") ?
				    jstr(d, "metadata.name") : "");
				found = true;
				break;
			}
		}
		json_decref(list);
	}
	return found;
}

/* Whether perch's own saved state of the canary (the status in ConfigMap
 * perch-<name>, written before the Canary's, store/k8s_status.c) is as
 * new as a Canary status dated `when`: perch dates both by the same
 * transition, so a status no newer than it is perch's own (whatever its
 * clock), and one Flagger wrote after perch let the canary go is newer. */
static bool
perch_saved(struct k8s_client *c, const struct canary_cfg *cfg, time_t when)
{
	struct k8s_err e;
	json_t *cm, *st;
	const char *text;
	char name[300];
	json_int_t ms = -1;

	snprintf(name, sizeof name, "perch-%s", cfg->name);
	if (k8s_get(c, K8S_RES(CONFIGMAPS), cfg->ns, name, &cm, &e) != ST_OK)
		return false;
	text = jstr(cm, "data.status");
	st = text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_integer(json_object_get(st, "lastTransitionMs")))
		ms = json_integer_value(json_object_get(st, "lastTransitionMs"));
	json_decref(st);
	json_decref(cm);
	return ms >= 0 && (json_int_t)when <= ms / 1000 + 1;
}

/* Whether perch wrote a status condition updated at `when`: perch keeps
 * the status of its own Canaries (store/k8s_status.c) only while it holds
 * the canary's Lease perch-<name> (store/k8s_lease.c), so while that Lease
 * is live, or when the condition was updated no later than its last
 * renewal plus its duration (and a little slack for clocks), the status is
 * perch's.  Flagger takes no such Lease.  A status dated beyond FUTURE_S
 * ahead of now is perch's too when that Lease exists: Flagger dates its
 * writes by its real clock, perch by its engine's, which runs ahead under
 * PERCH_TIME_SCALE (a status write can then look newer than any renewal,
 * and a replica that found the Lease between two renewals took its own
 * canary for Flagger's and never took it). */
static bool
perch_wrote(struct k8s_client *c, const struct canary_cfg *cfg, time_t when, long now)
{
	struct k8s_err e;
	json_t *lease;
	char name[300];
	const char *renew;
	json_int_t dur;
	time_t t;
	bool ours = false;

	snprintf(name, sizeof name, "perch-%s", cfg->name);
	if (k8s_get(c, K8S_RES(LEASES), cfg->ns, name, &lease, &e) != ST_OK)
		return false;
	renew = jstr(lease, "spec.renewTime");
	dur = json_integer_value(jpath(lease, "spec.leaseDurationSeconds"));
	if (renew && k8s_parse_time(renew, &t) == ST_OK)
		ours = (json_int_t)t + (dur > 0 ? dur : 60) > (json_int_t)now ||
		    (json_int_t)when <= (json_int_t)t + (dur > 0 ? dur : 60) + 5 ||
		    (json_int_t)when > (json_int_t)now + FUTURE_S;
	json_decref(lease);
	return ours || perch_saved(c, cfg, when);
}

/* The latest update time of the Canary's status conditions (0: none). */
static time_t
status_updated(json_t *obj, const char **type, const char **at)
{
	json_t *cond;
	const char *t;
	time_t when, latest = 0;
	size_t i;

	json_array_foreach(jpath(obj, "status.conditions"), i, cond) {
		t = jstr(cond, "lastUpdateTime") ? jstr(cond, "lastUpdateTime") :
		    jstr(cond, "lastTransitionTime");
		if (t && k8s_parse_time(t, &when) == ST_OK && when >= latest) {
			latest = when;
			*type = jstr(cond, "type") ? jstr(cond, "type") : "";
			*at = t;
		}
	}
	return latest;
}

int
k8s_flagger_check(struct k8s_client *c, const struct canary_cfg *cfg, long now, char *err)
{
	struct k8s_err e;
	json_t *obj;
	const char *type = "", *at = "";
	char flagger[200];
	time_t when;
	bool touched;

	if (k8s_get(c, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e) != ST_OK)
		return ST_OK;	/* no Canary object (or no CRD): nobody else controls it */
	if (json_is_true(jpath(obj, "spec.suspend"))) {
		json_decref(obj);
		return ST_OK;	/* Flagger leaves a suspended Canary alone */
	}
	/* Flagger writes the status of every Canary it reconciles within a
	 * tick; one it has never written is not its (another namespace or
	 * selector), nor one whose status perch itself wrote last. */
	touched = json_array_size(jpath(obj, "status.conditions")) > 0;
	when = status_updated(obj, &type, &at);
	if (touched && when > 0 && perch_wrote(c, cfg, when, now)) {
		json_decref(obj);
		return ST_OK;
	}
	if (when > 0 && now - (long)when < FLAGGER_FRESH_S) {
		errf(err, ST_REFUSED, "canary %s/%s is reconciled by a running Flagger (its "
		    "status condition %s was updated at %s); perch will not control it — "
		    "suspend it in Flagger (spec.suspend: true) first", cfg->ns, cfg->name, type, at);
		json_decref(obj);
		return ST_REFUSED;
	}
	json_decref(obj);
	if (touched && k8s_flagger_running(c, flagger, sizeof flagger))
		return errf(err, ST_REFUSED, "canary %s/%s exists as a Canary object and Flagger runs "
		    "in this cluster (deployment %s) and has written its status; perch will not control it — suspend it in "
		    "Flagger (spec.suspend: true) first", cfg->ns, cfg->name, flagger);
	return ST_OK;
}

bool
k8s_flagger_may_claim(struct k8s_client *c, json_t *obj, long now, char *who, size_t whosz)
{
	const char *created = jstr(obj, "metadata.creationTimestamp");
	time_t t;

	if (json_array_size(jpath(obj, "status.conditions")) > 0 ||
	    json_is_true(jpath(obj, "spec.suspend")))
		return false;
	if (created == NULL || k8s_parse_time(created, &t) != ST_OK ||
	    now - (long)t >= K8S_FLAGGER_CLAIM_S)
		return false;
	return k8s_flagger_running(c, who, whosz);
}

bool
k8s_flagger_driver(struct k8s_client *c, const struct canary_cfg *cfg, long now, char *who,
    size_t whosz)
{
	char err[ERRMSG_MAX], dep[200];

	if (k8s_flagger_check(c, cfg, now, err) != ST_REFUSED)
		return false;
	if (k8s_flagger_running(c, dep, sizeof dep))
		snprintf(who, whosz, "Flagger (%s)", dep);
	else
		snprintf(who, whosz, "Flagger");
	return true;
}

int
k8s_cluster_watch_flagger(struct k8s_cluster *k, const char *ns)
{
	int st = cluster_watch_one(k, K8S_RES(CANARIES), ns);

	return st == ST_OK ? cluster_watch_one(k, K8S_RES(EVENTS), ns) : st;
}

static int64_t
time_ms(const char *s)
{
	time_t t;

	return s != NULL && k8s_parse_time(s, &t) == ST_OK ? (int64_t)t * 1000 : 0;
}

static void
clean(char *dst, size_t n, const char *src)
{
	sanitize(dst, n, src ? src : "", src ? strlen(src) : 0);
}

/* Flagger's status (reference §1.1) as perch's. */
static void
map_status(json_t *obj, struct canary_status *st)
{
	json_t *s = json_object_get(obj, "status"), *cond = json_array_get(jpath(obj,
	    "status.conditions"), 0);
	int ph = phase_from_name(jstr(s, "phase"));

	st->phase = ph < 0 ? PHASE_INITIALIZING : (enum phase)ph;
	st->canary_weight = (int)json_integer_value(json_object_get(s, "canaryWeight"));
	st->failed_checks = (int)json_integer_value(json_object_get(s, "failedChecks"));
	st->iterations = (int)json_integer_value(json_object_get(s, "iterations"));
	st->paused = json_is_true(jpath(obj, "spec.suspend"));	/* Space resumes it */
	st->last_transition_ms = time_ms(jstr(s, "lastTransitionTime"));
	/* The condition keeps its lastTransitionTime while the phase stays. */
	st->phase_since_ms = time_ms(jstr(cond, "lastTransitionTime"));
	if (st->phase_since_ms == 0)
		st->phase_since_ms = st->last_transition_ms;
	st->gate = st->phase == PHASE_WAITING ? GATE_ROLLOUT :
	    st->phase == PHASE_WAITING_PROMOTION ? GATE_PROMOTION : GATE_NONE;
	clean(st->reason, sizeof st->reason, jstr(cond, "message"));
	clean(st->last_applied, sizeof st->last_applied, jstr(s, "lastAppliedSpec"));
	clean(st->last_promoted, sizeof st->last_promoted, jstr(s, "lastPromotedSpec"));
}

/* Flagger's Warnings that end or undo a rollout are errors (§6.1). */
static enum severity
event_severity(const char *type, const char *msg)
{
	static const char *const errors[] = { "Canary failed!", "Rolling back ", "Promotion of " };
	size_t i;

	if (type == NULL || strcmp(type, "Warning") != 0)
		return SEV_NORMAL;
	for (i = 0; msg != NULL && i < sizeof errors / sizeof errors[0]; i++)
		if (strncmp(msg, errors[i], strlen(errors[i])) == 0)
			return SEV_ERROR;
	return SEV_WARNING;
}

static int64_t
event_time(json_t *ev)
{
	int64_t t = time_ms(jstr(ev, "lastTimestamp"));

	if (t == 0)
		t = time_ms(jstr(ev, "eventTime"));
	return t != 0 ? t : time_ms(jstr(ev, "metadata.creationTimestamp"));
}

static int
by_time(const void *a, const void *b)
{
	const struct journal_rec *x = a, *y = b;

	return x->time_ms < y->time_ms ? -1 : x->time_ms > y->time_ms;
}

static void
event_rec(json_t *ev, struct journal_rec *r, const char *key)
{
	char msg[sizeof r->message];
	long count = (long)json_integer_value(json_object_get(ev, "count"));

	memset(r, 0, sizeof *r);
	r->kind = REC_EVENT;
	r->time_ms = event_time(ev);
	snprintf(r->canary, sizeof r->canary, "%.127s", key);
	r->severity = event_severity(jstr(ev, "type"), jstr(ev, "message"));
	clean(r->type, sizeof r->type, jstr(ev, "type"));
	clean(r->reason, sizeof r->reason, jstr(ev, "reason"));
	if (count > 1)	/* Kubernetes folds repeats into one Event */
		snprintf(msg, sizeof msg, "%.360s (x%ld)", jstr(ev, "message") ?
		    jstr(ev, "message") : "", count);
	else
		snprintf(msg, sizeof msg, "%s", jstr(ev, "message") ? jstr(ev, "message") : "");
	clean(r->message, sizeof r->message, msg);
	clean(r->actor, sizeof r->actor, jstr(ev, "source.component"));
	if (strcmp(r->actor, "flagger") == 0)
		r->actor[0] = '\0';	/* an actor is who gave a command */
}

/* The Events whose involvedObject is the Canary, oldest first, the newest
 * max of them. */
static size_t
canary_events(json_t *items, const struct canary_cfg *cfg, struct journal_rec *out, size_t max)
{
	struct journal_rec *all;
	size_t i, n = 0, skip;
	char key[200];
	json_t *ev;

	if (max == 0 || json_array_size(items) == 0)
		return 0;
	snprintf(key, sizeof key, "%s/%s", cfg->ns, cfg->name);
	all = calloc(json_array_size(items), sizeof *all);
	if (all == NULL)
		return 0;
	json_array_foreach(items, i, ev) {
		const char *kind = jstr(ev, "involvedObject.kind"), *name = jstr(ev, "involvedObject.name");

		if (kind == NULL || name == NULL || strcmp(kind, "Canary") != 0 ||
		    strcmp(name, cfg->name) != 0)
			continue;
		event_rec(ev, &all[n++], key);
	}
	qsort(all, n, sizeof *all, by_time);
	skip = n > max ? n - max : 0;
	memcpy(out, all + skip, (n - skip) * sizeof *all);
	free(all);
	return n - skip;
}

void
k8s_flagger_from_objects(const struct canary_cfg *cfg, json_t *canary, json_t *events,
    struct canary_status *st, struct journal_rec *ev, size_t max, size_t *n_ev)
{
	map_status(canary, st);
	*n_ev = canary_events(events, cfg, ev, max);
}

int
k8s_flagger_view(struct k8s_cluster *k, const struct canary_cfg *cfg, struct canary_status *st,
    struct journal_rec *ev, size_t max, size_t *n_ev)
{
	struct k8s_err e;
	json_t *obj, *list = NULL, *items;
	int rc;

	*n_ev = 0;
	if ((rc = cached_get(k, K8S_RES(CANARIES), cfg->ns, cfg->name, &obj, &e)) != ST_OK)
		return rc;
	map_status(obj, st);
	json_decref(obj);
	if (k->n_steps > 0)
		flagger_step_moved(k, cfg, st->canary_weight);
	if (cluster_cached_list(k, K8S_RES(EVENTS), cfg->ns, &items) == ST_OK) {
		*n_ev = canary_events(items, cfg, ev, max);
		json_decref(items);
		return ST_OK;
	}
	if ((rc = k8s_list(k->c, K8S_RES(EVENTS), cfg->ns, NULL, &list, &e)) != ST_OK)
		return rc;
	*n_ev = canary_events(json_object_get(list, "items"), cfg, ev, max);
	json_decref(list);
	return ST_OK;
}
