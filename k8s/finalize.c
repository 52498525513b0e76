/*
 * finalize.c — spec.revertOnDeletion (see finalize.h): the finalizer on
 * the Canary object and the revert of a canary whose object is deleted.
 */
#include <stdio.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "k8s/finalize.h"
#include "util/status.h"

bool
k8s_canary_has_finalizer(json_t *obj)
{
	json_t *v;
	size_t i;

	json_array_foreach(jpath(obj, "metadata.finalizers"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), K8S_FINALIZER) == 0)
			return true;
	return false;
}

bool
k8s_canary_deleting(json_t *obj)
{
	return json_is_string(jpath(obj, "metadata.deletionTimestamp"));
}

static int
finalizer_fn(json_t *obj, void *arg)
{
	bool want = *(bool *)arg;
	json_t *md = json_object_get(obj, "metadata"), *list, *v;
	size_t i;

	if (want == k8s_canary_has_finalizer(obj) || (want && k8s_canary_deleting(obj)))
		return ST_AGAIN;
	if (!json_is_object(md))
		return ST_CORRUPT;
	if (want) {
		if (!json_is_array(list = json_object_get(md, "finalizers")))
			json_object_set_new(md, "finalizers", list = json_array());
		json_array_append_new(list, json_string(K8S_FINALIZER));
		return ST_OK;
	}
	list = json_object_get(md, "finalizers");
	for (i = json_array_size(list); i-- > 0;)
		if (json_is_string(v = json_array_get(list, i)) &&
		    strcmp(json_string_value(v), K8S_FINALIZER) == 0)
			json_array_remove(list, i);
	return ST_OK;
}

int
k8s_canary_finalizer(struct k8s_client *c, const char *ns, const char *name, bool want,
    char *err)
{
	struct k8s_err e;
	int st = k8s_modify(c, K8S_RES(CANARIES), ns, name, finalizer_fn, &want, NULL, &e);

	if (st == ST_OK || st == ST_AGAIN || st == ST_NOTFOUND)
		return ST_OK;
	return errf(err, st, "%s the finalizer %s of canary %s.%s: %s", want ? "adding" :
	    "removing", K8S_FINALIZER, name, ns, e.msg);
}

/* The apex Service selects the target's own pods again (Flagger's
 * ClusterIP router Finalize); targets without Services of perch's own
 * (Service and Knative targets) have none to give back. */
static int
revert_apex(struct k8s_cluster *k, const struct canary_cfg *cfg, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	const char *label, *value;
	json_t *target, *patch;
	struct k8s_err e;
	int st;

	if (wk == NULL || wk->service)
		return ST_OK;
	if ((st = k8s_get(k->c, wk->res, cfg->ns, cfg->target, &target, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", wk->noun, cfg->target, cfg->ns, e.msg);
	if ((st = wl_selector(target, wk->noun, &label, &value, err)) == ST_OK) {
		patch = json_pack("{s:{s:{s:s}}}", "spec", "selector", label, value);
		st = k8s_patch(k->c, K8S_RES(SERVICES), cfg->ns, cfg->service, K8S_PATCH_MERGE, patch,
		    NULL, &e);
		json_decref(patch);
		written(k, K8S_RES(SERVICES), cfg->ns, cfg->service);
		st = st == ST_NOTFOUND || st == ST_OK ? ST_OK : errf(err, st, "service %s.%s: %s",
		    cfg->service, cfg->ns, e.msg);
	}
	json_decref(target);
	return st;
}

int
k8s_finalize(struct k8s_cluster *k, const struct canary_cfg *cfg, bool revert, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	int st;

	if (revert) {
		if (wk == NULL)
			return wl_unsupported(cfg, err);
		if ((st = wl_scale(k->c, cfg, true, err)) != ST_OK && st != ST_NOTFOUND)
			return st;
		if ((st = revert_apex(k, cfg, err)) != ST_OK)
			return st;
		if ((st = rt_revert(k, cfg, err)) != ST_OK)
			return st;
	}
	return k8s_canary_finalizer(k->c, cfg->ns, cfg->name, false, err);
}
