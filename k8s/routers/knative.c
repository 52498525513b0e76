/*
 * knative.c — Knative Serving (reference: routers §2.7): no object of its
 * own; the user's Knative Service (the target) is the route object.  The
 * primary is the revision named in annotation flagger.app/primary-revision,
 * the canary whatever revision is latest: spec.traffic is
 * [{latestRevision: true, percent: canary}, {revisionName: <primary>,
 * percent: primary}], and the weights are read back from status.traffic,
 * where Knative reports what it serves (until Knative has caught up with
 * spec.traffic, a read is ST_AGAIN).  The first reconcile pins the
 * latest created revision as the primary with all the traffic.  Weights
 * only: Flagger ignores analysis.match here (perch refuses it).
 */
#include <stdio.h>
#include <string.h>

#include "k8s/routers/router.h"
#include "util/status.h"

#define PRIMARY_REVISION "flagger.app/primary-revision"

static void
knative_object_name(const struct route_ctx *x, char *out, size_t n)
{
	snprintf(out, n, "%s", x->cfg->target);
}

static const char *
primary_revision(json_t *obj)
{
	return json_string_value(json_object_get(jpath(obj, "metadata.annotations"),
	    PRIMARY_REVISION));
}

static json_t *
traffic(const char *primary, int p, int c)
{
	return json_pack("[{s:b, s:i}, {s:s, s:i}]", "latestRevision", 1, "percent", c,
	    "revisionName", primary, "percent", p);
}

struct pin_arg {
	const struct route_ctx *x;
	char *err;
};

/* The latest created revision pinned as the primary, at 100/0, when no
 * revision is pinned yet. */
static int
pin_fn(json_t *obj, void *arg)
{
	struct pin_arg *a = arg;
	const char *latest = jstr(obj, "status.latestCreatedRevisionName");
	json_t *meta = json_object_get(obj, "metadata"), *ann;

	if (primary_revision(obj) != NULL)
		return ST_AGAIN;
	if (latest == NULL || *latest == '\0' || !json_is_object(meta))
		return errf(a->err, ST_AGAIN, "Knative Service %s.%s has no revision yet",
		    a->x->cfg->target, a->x->cfg->ns);
	if (!json_is_object(ann = json_object_get(meta, "annotations")))
		json_object_set_new(meta, "annotations", ann = json_object());
	json_object_set_new(ann, PRIMARY_REVISION, json_string(latest));
	if (json_is_object(json_object_get(obj, "spec")))
		json_object_set_new(json_object_get(obj, "spec"), "traffic", traffic(latest, 100, 0));
	return ST_OK;
}

static int
knative_reconcile(struct route_ctx *x, char *err)
{
	struct pin_arg a = { .x = x, .err = err };
	struct k8s_err e;
	int st;

	err[0] = '\0';
	st = k8s_modify(x->c, x->ops->res, x->cfg->ns, x->cfg->target, pin_fn, &a, NULL, &e);
	if (st == ST_OK || (st == ST_AGAIN && err[0] == '\0'))
		return ST_OK;
	if (err[0] != '\0')
		return st;
	return errf(err, st, "Knative Service %s.%s: %s", x->cfg->target, x->cfg->ns, e.msg);
}

/* SetRoutes: spec.traffic rewritten. */
static int
knative_write(struct route_ctx *x, json_t *obj)
{
	const char *primary = primary_revision(obj);
	json_t *spec = json_object_get(obj, "spec"), *t;
	bool same;

	if (primary == NULL) {
		errf(x->err, ST_INVALID, "Knative Service %s.%s annotation not found",
		    x->cfg->target, x->cfg->ns);
		return ST_INVALID;
	}
	if (!json_is_object(spec))
		return ST_CORRUPT;
	t = traffic(primary, x->w->primary, x->w->canary);
	same = json_equal(t, json_object_get(spec, "traffic"));
	json_object_set_new(spec, "traffic", t);
	return same ? ST_AGAIN : ST_OK;
}

/* GetRoutes: what Knative serves (status.traffic): the canary is the
 * latest revision, the primary the pinned one. */
static int
knative_read(const struct route_ctx *x, json_t *obj, struct routes *out, char *err)
{
	const char *primary = primary_revision(obj);
	json_t *t, *p = NULL, *c = NULL;
	size_t i;

	if (primary == NULL)
		return errf(err, ST_CORRUPT, "Knative Service %s.%s annotation not found",
		    x->cfg->target, x->cfg->ns);
	json_array_foreach(jpath(obj, "status.traffic"), i, t) {
		if (!c && json_is_true(json_object_get(t, "latestRevision")))
			c = t;
		else if (!p && jnamed(t, "revisionName", primary))
			p = t;
	}
	if (!p || !c)
		return errf(err, ST_AGAIN, "Knative Service %s.%s traffic spec invalid",
		    x->cfg->target, x->cfg->ns);
	if (!json_is_integer(json_object_get(p, "percent")) ||
	    !json_is_integer(json_object_get(c, "percent")))
		return errf(err, ST_AGAIN, "Knative Service %s.%s %s revision traffic percent "
		    "does not exist", x->cfg->target, x->cfg->ns,
		    json_is_integer(json_object_get(p, "percent")) ? "canary" : "primary");
	out->primary = (int)json_integer_value(json_object_get(p, "percent"));
	out->canary = (int)json_integer_value(json_object_get(c, "percent"));
	return ST_OK;
}

/* Revert on deletion (Flagger's Finalize removes the annotation and leaves
 * the split where it is): the annotation removed and spec.traffic given
 * back to Knative's default, all traffic on the latest revision. */
static int
unpin_fn(json_t *obj, void *arg)
{
	json_t *ann = jpath(obj, "metadata.annotations"), *spec = json_object_get(obj, "spec"),
	    *t = json_pack("[{s:b, s:i}]", "latestRevision", 1, "percent", 100);
	bool same = primary_revision(obj) == NULL && json_equal(t, json_object_get(spec, "traffic"));

	(void)arg;
	json_object_del(ann, PRIMARY_REVISION);
	if (json_is_object(spec))
		json_object_set(spec, "traffic", t);
	json_decref(t);
	return same ? ST_AGAIN : ST_OK;
}

static int
knative_revert(struct route_ctx *x, char *err)
{
	struct k8s_err e;
	int st = k8s_modify(x->c, x->ops->res, x->cfg->ns, x->cfg->target, unpin_fn, NULL, NULL,
	    &e);

	if (st == ST_OK || st == ST_AGAIN || st == ST_NOTFOUND)
		return ST_OK;
	return errf(err, st, "Knative Service %s.%s: %s", x->cfg->target, x->cfg->ns, e.msg);
}

const struct router_ops knative_router = {
	.name = "Knative Service traffic",
	.caps = 0,
	.kind = "Service",
	.res = K8S_RES(KNATIVE_SERVICES),
	.object_name = knative_object_name,
	.reconcile = knative_reconcile,
	.write = knative_write,
	.read = knative_read,
	.revert = knative_revert,
};
