/*
 * knative_target.c — Knative Service targets (routers-providers §2.7,
 * §3.4): no primary workload of perch's own.  Knative makes a Revision of
 * every change of the Service's spec.template; the canary is the latest
 * created Revision, the primary the Revision pinned in the Service's
 * annotation flagger.app/primary-revision (the knative router pins it and
 * splits spec.traffic between the two).  The revision id is the latest
 * created Revision's name, readiness is a Revision's Ready condition,
 * promotion pins the latest created Revision, and nothing is scaled.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"

#define PRIMARY_REVISION "flagger.app/primary-revision"

static int
get_service(struct k8s_client *c, const struct canary_cfg *cfg, json_t **out, char *err)
{
	struct k8s_err e;
	int st;

	if ((st = k8s_get(c, K8S_RES(KNATIVE_SERVICES), cfg->ns, cfg->target, out, &e)) != ST_OK)
		return errf(err, st, "Knative Service %s.%s: %s", cfg->target, cfg->ns, e.msg);
	return ST_OK;
}

static const char *
latest_created(json_t *svc)
{
	const char *r = jstr(svc, "status.latestCreatedRevisionName");

	return r != NULL && *r != '\0' ? r : NULL;
}

static const char *
pinned(json_t *svc)
{
	const char *r = json_string_value(json_object_get(jpath(svc, "metadata.annotations"),
	    PRIMARY_REVISION));

	return r != NULL && *r != '\0' ? r : NULL;
}

/* Initialization: the Service exists and Knative has made a Revision of it
 * (the knative router then pins that Revision with all the traffic). */
int
kn_target_sync(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err)
{
	json_t *svc;
	int st;

	(void)owner;	/* Flagger creates nothing for a Knative Service */
	if ((st = get_service(c, cfg, &svc, err)) != ST_OK)
		return st;
	if (latest_created(svc) == NULL)
		st = errf(err, ST_AGAIN, "Knative Service %s.%s has no revision yet", cfg->target,
		    cfg->ns);
	json_decref(svc);
	return st;
}

static int
pin_latest_fn(json_t *svc, void *arg)
{
	const char *latest = latest_created(svc);
	json_t *meta = json_object_get(svc, "metadata"), *ann;

	(void)arg;
	if (latest == NULL || !json_is_object(meta))
		return ST_CORRUPT;
	if (pinned(svc) != NULL && strcmp(pinned(svc), latest) == 0)
		return ST_AGAIN;	/* promoted already */
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	json_object_set_new(ann, PRIMARY_REVISION, json_string(latest));
	return ST_OK;
}

/* Promotion: the latest created Revision becomes the primary (the engine
 * then gives it all the traffic). */
int
kn_target_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err)
{
	struct k8s_err e;
	int st;

	(void)owner;
	st = k8s_modify(c, K8S_RES(KNATIVE_SERVICES), cfg->ns, cfg->target, pin_latest_fn, NULL,
	    NULL, &e);
	if (st == ST_OK || st == ST_AGAIN)
		return ST_OK;
	if (st == ST_CORRUPT)
		return errf(err, st, "Knative Service %s.%s has no revision to promote", cfg->target,
		    cfg->ns);
	return errf(err, st, "promoting Knative Service %s.%s: %s", cfg->target, cfg->ns, e.msg);
}

/* A Revision's first container image, for people ("" when unknown). */
static void
revision_image(struct k8s_cluster *k, const char *ns, const char *rev, char *out, size_t n)
{
	struct k8s_err e;
	json_t *r;
	const char *image;

	out[0] = '\0';
	if (cached_get(k, K8S_RES(KNATIVE_REVISIONS), ns, rev, &r, &e) != ST_OK)
		return;
	image = jstr(json_array_get(jpath(r, "spec.containers"), 0), "image");
	snprintf(out, n, "%s", image != NULL ? image : "");
	json_decref(r);
}

static void
set_revision(struct revision *out, const char *name)
{
	if (strlen(name) < sizeof out->id)
		snprintf(out->id, sizeof out->id, "%s", name);
}

int
kn_target_revision(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out,
    char *err)
{
	struct k8s_err e;
	const char *image;
	json_t *svc;
	int st;

	memset(out, 0, sizeof *out);
	if ((st = cached_get(k, K8S_RES(KNATIVE_SERVICES), cfg->ns, cfg->target, &svc, &e)) != ST_OK)
		return errf(err, st, "Knative Service %s.%s: %s", cfg->target, cfg->ns, e.msg);
	if (latest_created(svc) == NULL) {
		json_decref(svc);
		return errf(err, ST_AGAIN, "Knative Service %s.%s has no revision yet", cfg->target,
		    cfg->ns);
	}
	set_revision(out, latest_created(svc));
	image = jstr(json_array_get(jpath(svc, "spec.template.spec.containers"), 0), "image");
	snprintf(out->image, sizeof out->image, "%s", image != NULL ? image : "");
	json_decref(svc);
	return ST_OK;
}

int
kn_target_primary_revision(struct k8s_cluster *k, const struct canary_cfg *cfg,
    struct revision *out, char *err)
{
	struct k8s_err e;
	json_t *svc;
	int st;

	memset(out, 0, sizeof *out);
	if ((st = cached_get(k, K8S_RES(KNATIVE_SERVICES), cfg->ns, cfg->target, &svc, &e)) != ST_OK)
		return errf(err, st, "Knative Service %s.%s: %s", cfg->target, cfg->ns, e.msg);
	if (pinned(svc) != NULL) {
		set_revision(out, pinned(svc));
		revision_image(k, cfg->ns, pinned(svc), out->image, sizeof out->image);
	}
	json_decref(svc);
	return ST_OK;
}

static bool
revision_ready(json_t *rev)
{
	json_t *c;
	size_t i;

	json_array_foreach(jpath(rev, "status.conditions"), i, c)
		if (jnamed(c, "type", "Ready"))
			return jnamed(c, "status", "True");
	return false;
}

/* The primary is the pinned Revision, the canary the latest created one;
 * ready when its Ready condition is True, else retriable (the engine gives
 * up past the Canary's progress deadline). */
int
kn_target_readiness(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w,
    struct readiness *out)
{
	struct k8s_err e;
	json_t *svc, *rev;
	char name[256];
	const char *r;
	int st;

	memset(out, 0, sizeof *out);
	out->retriable = true;
	if ((st = cached_get(k, K8S_RES(KNATIVE_SERVICES), cfg->ns, cfg->target, &svc, &e)) != ST_OK)
		return errf(out->msg, st, "Knative Service %s.%s: %s", cfg->target, cfg->ns, e.msg);
	r = w == WL_PRIMARY ? pinned(svc) : latest_created(svc);
	snprintf(name, sizeof name, "%s", r != NULL ? r : "");
	json_decref(svc);
	if (name[0] == '\0') {
		errf(out->msg, ST_OK, "Knative Service %s.%s has no %s revision yet", cfg->target,
		    cfg->ns, w == WL_PRIMARY ? "primary" : "latest");
		return ST_OK;
	}
	st = cached_get(k, K8S_RES(KNATIVE_REVISIONS), cfg->ns, name, &rev, &e);
	if (st == ST_NOTFOUND) {
		errf(out->msg, ST_OK, "Knative Revision %s.%s is not ready: not found", name, cfg->ns);
		return ST_OK;
	}
	if (st != ST_OK)
		return errf(out->msg, st, "Knative Revision %s.%s: %s", name, cfg->ns, e.msg);
	out->ready = revision_ready(rev);
	json_decref(rev);
	if (!out->ready)
		errf(out->msg, ST_OK, "Knative Revision %s.%s is not ready", name, cfg->ns);
	return ST_OK;
}
