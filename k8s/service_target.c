/*
 * service_target.c — plain Service targets (routers-providers §3.3): the
 * user owns Service `<target>` and changes it to start a release; perch
 * keeps `<target>-canary` a copy of it on every tick, creates
 * `<target>-primary` from it once, and on promotion copies it to the
 * primary.  Nothing is scaled and both sides are always ready.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/status.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

static const char *const server_fields[] = { "uid", "resourceVersion", "creationTimestamp",
	"generation", "managedFields", "selfLink", "ownerReferences", NULL };

/* Keeps what the cluster allocated to the live copy (`cur`): its clusterIP,
 * UID and resourceVersion, and perch's own annotations (the kubernetes
 * router's weight).  Without `cur` the new object gets a fresh clusterIP. */
static void
keep_live(json_t *dst, json_t *cur)
{
	json_t *meta = json_object_get(dst, "metadata"), *spec = json_object_get(dst, "spec");
	json_t *ann = json_object_get(meta, "annotations"), *v;
	const char *ip = jstr(dst, "spec.clusterIP"), *k;
	bool headless = ip != NULL && strcmp(ip, "None") == 0;

	/* The target's address is never the copy's (headless "None" excepted):
	 * a new copy gets its own, a live one keeps the one it has. */
	if (!headless) {
		json_object_del(spec, "clusterIP");
		json_object_del(spec, "clusterIPs");
	}
	if (cur == NULL)
		return;
	json_object_set(meta, "uid", jpath(cur, "metadata.uid"));
	json_object_set(meta, "resourceVersion", jpath(cur, "metadata.resourceVersion"));
	if (!headless && json_is_object(spec) && jpath(cur, "spec.clusterIP"))
		json_object_set(spec, "clusterIP", jpath(cur, "spec.clusterIP"));
	if (!headless && json_is_object(spec) && jpath(cur, "spec.clusterIPs"))
		json_object_set(spec, "clusterIPs", jpath(cur, "spec.clusterIPs"));
	json_object_foreach(jpath(cur, "metadata.annotations"), k, v)
		if (strncmp(k, "perch.dev/", 10) == 0) {
			if (!json_is_object(ann)) {
				ann = json_object();
				json_object_set_new(meta, "annotations", ann);
			}
			json_object_set(ann, k, v);
		}
}

/* `name` := a copy of the target, owned by the Canary. */
static json_t *
service_copy(json_t *target, const char *name, json_t *cur, json_t *owner)
{
	json_t *dst = json_deep_copy(target), *meta;
	size_t i;

	json_object_del(dst, "status");
	meta = json_object_get(dst, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(dst, "metadata", meta);
	}
	for (i = 0; server_fields[i] != NULL; i++)
		json_object_del(meta, server_fields[i]);
	json_object_del(json_object_get(meta, "annotations"), LAST_APPLIED);
	json_object_set_new(meta, "name", json_string(name));
	own(dst, owner);
	keep_live(dst, cur);
	return dst;
}

/* Creates `<target><suffix>` from the target, or rewrites it unless
 * only_create. */
static int
copy_to(struct k8s_client *c, const struct canary_cfg *cfg, json_t *target, const char *suffix,
    bool only_create, json_t *owner, char *err)
{
	char name[300];
	struct k8s_err e;
	json_t *cur = NULL, *dst;
	int st;

	snprintf(name, sizeof name, "%s%s", cfg->target, suffix);
	st = k8s_get(c, K8S_RES(SERVICES), cfg->ns, name, &cur, &e);
	if (st == ST_OK && only_create) {
		json_decref(cur);
		return ST_OK;
	}
	if (st != ST_OK && st != ST_NOTFOUND)
		return errf(err, st, "service %s.%s: %s", name, cfg->ns, e.msg);
	dst = service_copy(target, name, st == ST_OK ? cur : NULL, owner);
	if (st == ST_OK)
		st = k8s_update(c, K8S_RES(SERVICES), cfg->ns, dst, NULL, &e);
	else
		st = k8s_create(c, K8S_RES(SERVICES), cfg->ns, dst, NULL, &e);
	json_decref(dst);
	json_decref(cur);
	return st == ST_OK ? ST_OK : errf(err, st, "%s service %s.%s: %s",
	    only_create ? "creating" : "writing", name, cfg->ns, e.msg);
}

static int
with_target(struct k8s_client *c, const struct canary_cfg *cfg, json_t **target, char *err)
{
	struct k8s_err e;
	int st;

	if ((st = k8s_get(c, K8S_RES(SERVICES), cfg->ns, cfg->target, target, &e)) != ST_OK)
		return errf(err, st, "service %s.%s: %s", cfg->target, cfg->ns, e.msg);
	return ST_OK;
}

int
svc_target_sync(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err)
{
	json_t *target;
	int st;

	if ((st = with_target(c, cfg, &target, err)) != ST_OK)
		return st;
	st = copy_to(c, cfg, target, "-canary", false, owner, err);
	if (st == ST_OK)
		st = copy_to(c, cfg, target, "-primary", true, owner, err);
	json_decref(target);
	return st;
}

int
svc_target_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err)
{
	json_t *target;
	int st;

	if ((st = with_target(c, cfg, &target, err)) != ST_OK)
		return st;
	st = copy_to(c, cfg, target, "-primary", false, owner, err);
	json_decref(target);
	return st;
}

void
svc_target_ready(json_t *svc, int threshold, long now, struct readiness *out, char *msg,
    size_t msgsz)
{
	(void)svc;
	(void)threshold;
	(void)now;
	(void)msgsz;
	out->ready = true;
	out->retriable = true;
	msg[0] = '\0';
}

int
svc_target_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err)
{
	(void)c;
	(void)cfg;
	(void)up;
	(void)err;
	return ST_OK;
}
