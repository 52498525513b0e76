/*
 * workload.c — workload targets and their primaries (reference §2.4, §2.6,
 * §2.8; DaemonSets: routers-providers §3.2): selector label discovery,
 * config tracking, the `-primary` workload, revision ids, readiness, scaling
 * and promotion.  What differs between the kinds is one row of wl_kinds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/cluster.h"
#include "k8s/cluster_int.h"
#include "util/sha256.h"
#include "util/status.h"
#include "util/xalloc.h"

#define SCALE_TO_ZERO "flagger.app/scale-to-zero"	/* a nodeSelector key no node has */
/* On the primary: the revision id of the target it was made from. */
#define REVISION_ANNOTATION "perch.dev/revision"

static const char *const selector_labels[] = { "app", "name", "app.kubernetes.io/name" };

int
wl_selector(json_t *dep, const char *noun, const char **label, const char **value, char *err)
{
	json_t *ml = jpath(dep, "spec.selector.matchLabels");
	size_t i;

	for (i = 0; i < sizeof selector_labels / sizeof selector_labels[0]; i++) {
		*value = json_string_value(json_object_get(ml, selector_labels[i]));
		if (*value && **value) {
			*label = selector_labels[i];
			return ST_OK;
		}
	}
	return errf(err, ST_INVALID, "%s %s.%s spec.selector.matchLabels must contain one "
	    "of app, name or app.kubernetes.io/name", noun, jstr(dep, "metadata.name"),
	    jstr(dep, "metadata.namespace"));
}

/* ---- config tracking ------------------------------------------------------ */

static void
add_ref(struct tracked *out, size_t *n, bool *optional, bool secret, const char *name, bool opt)
{
	size_t i;

	if (!name || !*name || strlen(name) >= sizeof out[0].name)
		return;
	for (i = 0; i < *n; i++)
		if (out[i].secret == secret && strcmp(out[i].name, name) == 0) {
			optional[i] = optional[i] && opt;
			return;
		}
	if (*n == MAX_TRACKED)
		return;
	memset(&out[*n], 0, sizeof out[*n]);
	out[*n].secret = secret;
	snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
	optional[(*n)++] = opt;
}

static bool
is_opt(json_t *ref)
{
	return json_is_true(json_object_get(ref, "optional"));
}

static void
scan_containers(json_t *list, struct tracked *out, size_t *n, bool *optional)
{
	json_t *ctr, *env, *ref;
	size_t i, j;

	json_array_foreach(list, i, ctr) {
		json_array_foreach(json_object_get(ctr, "env"), j, env) {
			if ((ref = jpath(env, "valueFrom.configMapKeyRef")))
				add_ref(out, n, optional, false, jstr(ref, "name"), is_opt(ref));
			if ((ref = jpath(env, "valueFrom.secretKeyRef")))
				add_ref(out, n, optional, true, jstr(ref, "name"), is_opt(ref));
		}
		json_array_foreach(json_object_get(ctr, "envFrom"), j, env) {
			if ((ref = json_object_get(env, "configMapRef")))
				add_ref(out, n, optional, false, jstr(ref, "name"), is_opt(ref));
			if ((ref = json_object_get(env, "secretRef")))
				add_ref(out, n, optional, true, jstr(ref, "name"), is_opt(ref));
		}
	}
}

/* Every ConfigMap/Secret the pod spec references, with whether it is optional. */
static void
scan_refs(json_t *pod, struct tracked *out, size_t *n, bool *optional)
{
	json_t *vol, *src, *ref;
	size_t i, j;

	*n = 0;
	json_array_foreach(json_object_get(pod, "volumes"), i, vol) {
		if ((ref = json_object_get(vol, "configMap")))
			add_ref(out, n, optional, false, jstr(ref, "name"), is_opt(ref));
		if ((ref = json_object_get(vol, "secret")))
			add_ref(out, n, optional, true, jstr(ref, "secretName"), is_opt(ref));
		json_array_foreach(jpath(vol, "projected.sources"), j, src) {
			if ((ref = json_object_get(src, "configMap")))
				add_ref(out, n, optional, false, jstr(ref, "name"), is_opt(ref));
			if ((ref = json_object_get(src, "secret")))
				add_ref(out, n, optional, true, jstr(ref, "name"), is_opt(ref));
		}
	}
	scan_containers(json_object_get(pod, "containers"), out, n, optional);
	scan_containers(json_object_get(pod, "initContainers"), out, n, optional);
}

void
k8s_config_checksum(json_t *obj, char out[17])
{
	json_t *data = json_object_get(obj, "data");
	char *s = json_dumps(data ? data : json_null(), JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);

	sha256_hex(s ? s : "", s ? strlen(s) : 0, out, 16);
	free(s);
}

static bool
trackable(json_t *obj, bool secret)
{
	const char *opt = json_string_value(json_object_get(jpath(obj, "metadata.annotations"),
	    "flagger.app/config-tracking"));
	const char *type = jstr(obj, "type");

	if (opt && strncmp(opt, "disable", 7) == 0)
		return false;
	if (!secret)
		return true;
	return !type || strcmp(type, "Opaque") == 0 || strcmp(type, "kubernetes.io/basic-auth") == 0 ||
	    strcmp(type, "kubernetes.io/ssh-auth") == 0 || strcmp(type, "kubernetes.io/tls") == 0;
}

int
wl_tracked(struct k8s_client *c, const char *ns, const char *noun, json_t *dep,
    struct tracked *out, size_t *n, char *err)
{
	struct tracked all[MAX_TRACKED];
	bool optional[MAX_TRACKED];
	struct k8s_err e;
	json_t *obj;
	size_t i, m = 0;
	int st;

	scan_refs(jpath(dep, "spec.template.spec"), all, &m, optional);
	*n = 0;
	for (i = 0; i < m; i++) {
		st = k8s_get(c, all[i].secret ? K8S_RES(SECRETS) : K8S_RES(CONFIGMAPS), ns,
		    all[i].name, &obj, &e);
		if (st == ST_NOTFOUND && optional[i])
			continue;
		if (st != ST_OK)
			return errf(err, st, "%s %s.%s referenced by %s %s: %s",
			    all[i].secret ? "secret" : "configmap", all[i].name, ns, noun,
			    jstr(dep, "metadata.name"), e.msg);
		if (trackable(obj, all[i].secret)) {
			out[*n] = all[i];
			k8s_config_checksum(obj, out[*n].checksum);
			(*n)++;
		}
		json_decref(obj);
	}
	return ST_OK;
}

/* Creates or updates `<name>-primary` from the current object. */
static int
sync_one(struct k8s_client *c, const char *ns, const struct tracked *t, json_t *owner,
    char *err)
{
	const struct k8s_res *r = t->secret ? K8S_RES(SECRETS) : K8S_RES(CONFIGMAPS);
	json_t *src, *dst, *cur;
	struct k8s_err e;
	char name[300];
	int st;

	if ((st = k8s_get(c, r, ns, t->name, &src, &e)) != ST_OK)
		return kerr(err, st, &e);
	snprintf(name, sizeof name, "%s-primary", t->name);
	dst = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
	    t->secret ? "Secret" : "ConfigMap", "metadata", "name", name, "namespace", ns);
	json_object_set(dst, "data", json_object_get(src, "data") ? json_object_get(src, "data") :
	    json_object());
	if (t->secret && json_object_get(src, "type"))
		json_object_set(dst, "type", json_object_get(src, "type"));
	if (!t->secret && json_object_get(src, "binaryData"))
		json_object_set(dst, "binaryData", json_object_get(src, "binaryData"));
	own(dst, owner);
	st = k8s_get(c, r, ns, name, &cur, &e);
	if (st == ST_NOTFOUND) {
		st = k8s_create(c, r, ns, dst, NULL, &e);
	} else if (st == ST_OK) {
		json_object_set(json_object_get(dst, "metadata"), "resourceVersion",
		    jpath(cur, "metadata.resourceVersion"));
		st = k8s_update(c, r, ns, dst, NULL, &e);
		json_decref(cur);
	}
	json_decref(src);
	json_decref(dst);
	return st == ST_OK ? ST_OK : kerr(err, st, &e);
}

int
wl_sync_configs(struct k8s_client *c, const char *ns, const struct tracked *t, size_t n,
    json_t *owner, char *err)
{
	size_t i;
	int st;

	for (i = 0; i < n; i++)
		if ((st = sync_one(c, ns, &t[i], owner, err)) != ST_OK)
			return st;
	return ST_OK;
}

/* ---- the primary Deployment ------------------------------------------------ */

static void
rename_ref(json_t *ref, const char *key, bool secret, const struct tracked *t, size_t n)
{
	const char *name = jstr(ref, key);
	size_t i;

	for (i = 0; name && i < n; i++)
		if (t[i].secret == secret && strcmp(t[i].name, name) == 0) {
			json_object_set_new(ref, key, json_sprintf("%s-primary", name));
			return;
		}
}

static void
rename_containers(json_t *list, const struct tracked *t, size_t n)
{
	json_t *ctr, *env;
	size_t i, j;

	json_array_foreach(list, i, ctr) {
		json_array_foreach(json_object_get(ctr, "env"), j, env) {
			rename_ref(jpath(env, "valueFrom.configMapKeyRef"), "name", false, t, n);
			rename_ref(jpath(env, "valueFrom.secretKeyRef"), "name", true, t, n);
		}
		json_array_foreach(json_object_get(ctr, "envFrom"), j, env) {
			rename_ref(json_object_get(env, "configMapRef"), "name", false, t, n);
			rename_ref(json_object_get(env, "secretRef"), "name", true, t, n);
		}
	}
}

/* The pod spec of the primary: tracked configs renamed `-primary`. */
static json_t *
primary_pod_spec(json_t *pod, const struct tracked *t, size_t n)
{
	json_t *out = json_deep_copy(pod), *vol, *src;
	size_t i, j;

	json_array_foreach(json_object_get(out, "volumes"), i, vol) {
		rename_ref(json_object_get(vol, "configMap"), "name", false, t, n);
		rename_ref(json_object_get(vol, "secret"), "secretName", true, t, n);
		json_array_foreach(jpath(vol, "projected.sources"), j, src) {
			rename_ref(json_object_get(src, "configMap"), "name", false, t, n);
			rename_ref(json_object_get(src, "secret"), "name", true, t, n);
		}
	}
	rename_containers(json_object_get(out, "containers"), t, n);
	rename_containers(json_object_get(out, "initContainers"), t, n);
	return out;
}

static json_t *
new_flagger_id(void)
{
	unsigned char b[16];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f ? fread(b, 1, sizeof b, f) : 0;

	if (f)
		fclose(f);
	if (got != sizeof b)
		memset(b, 0x5a, sizeof b);
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	return json_sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
}

void
k8s_template_hash(json_t *pod_template, char out[17])
{
	json_t *t = json_deep_copy(pod_template ? pod_template : json_null());
	char *s;

	json_object_del(json_object_get(t, "metadata"), "creationTimestamp");
	s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	sha256_hex(s ? s : "", s ? strlen(s) : 0, out, 16);
	free(s);
	json_decref(t);
}

/* The revision of a DaemonSet's pod template: scaling it to or from zero by
 * its nodeSelector is not a new revision (routers-providers §3.2). */
static void
template_hash(const struct wl_kind *wk, json_t *tmpl, char out[17])
{
	json_t *t, *pod;

	if (wk->replicas) {
		k8s_template_hash(tmpl, out);
		return;
	}
	t = json_deep_copy(tmpl ? tmpl : json_object());
	pod = json_object_get(t, "spec");
	if (json_is_object(pod) && !json_is_object(json_object_get(pod, "nodeSelector")))
		json_object_set_new(pod, "nodeSelector", json_object());
	json_object_del(json_object_get(pod, "nodeSelector"), SCALE_TO_ZERO);
	k8s_template_hash(t, out);
	json_decref(t);
}

void
k8s_workload_template_hash(json_t *workload, char out[17])
{
	static const struct wl_kind no_replicas = { .replicas = false };

	template_hash(&no_replicas, jpath(workload, "spec.template"), out);
}

static int
cmp_tracked(const void *a, const void *b)
{
	const struct tracked *x = a, *y = b;

	if (x->secret != y->secret)
		return x->secret ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The revision id of a target (its pod template and tracked configs, as
 * wl_tracked found them) and its first image, for people. */
static void
revision_of(const struct wl_kind *wk, json_t *dep, const struct tracked *tracked, size_t n,
    struct revision *out)
{
	struct tracked t[MAX_TRACKED];
	const char *image;
	char th[17], ch[17];
	struct buf lines;
	size_t i;

	memset(out, 0, sizeof *out);
	if (wk->service)	/* a plain Service target: its whole spec */
		k8s_template_hash(json_object_get(dep, "spec"), th);
	else
		template_hash(wk, jpath(dep, "spec.template"), th);
	if (n == 0) {
		snprintf(out->id, sizeof out->id, "%s", th);
	} else {
		memcpy(t, tracked, n * sizeof t[0]);
		qsort(t, n, sizeof t[0], cmp_tracked);
		buf_init(&lines, 0);
		for (i = 0; i < n; i++)
			buf_printf(&lines, "%s/%s=%s\n", t[i].secret ? "secret" : "configmap", t[i].name,
			    t[i].checksum);
		sha256_hex(buf_str(&lines), lines.len, ch, 16);
		buf_fini(&lines);
		snprintf(out->id, sizeof out->id, "%s-%s", th, ch);
	}
	image = jstr(json_array_get(jpath(dep, "spec.template.spec.containers"), 0), "image");
	snprintf(out->image, sizeof out->image, "%s", image ? image : "");
}

/* Writes into `spec` of the primary everything it takes from the target. */
static void
copy_spec(json_t *spec, const struct wl_kind *wk, json_t *target, const char *label,
    const char *value, const struct tracked *t, size_t n, json_t *primary_replicas)
{
	json_t *tspec = json_object_get(target, "spec"), *tmpl, *labels, *ann, *pod;
	json_int_t replicas = json_integer_value(json_object_get(tspec, "replicas"));
	size_t i;

	for (i = 0; wk->copied[i] != NULL; i++)
		if (json_object_get(tspec, wk->copied[i]))
			json_object_set(spec, wk->copied[i], json_object_get(tspec, wk->copied[i]));
	if (replicas <= 0)
		replicas = json_integer_value(primary_replicas) > 0 ?
		    json_integer_value(primary_replicas) : 1;
	if (wk->replicas)
		json_object_set_new(spec, "replicas", json_integer(replicas));
	json_object_set_new(spec, "selector", json_pack("{s:{s:s+}}", "matchLabels", label,
	    value, "-primary"));
	tmpl = json_object();
	labels = json_deep_copy(jpath(target, "spec.template.metadata.labels"));
	labels = labels ? labels : json_object();
	json_object_set_new(labels, label, json_sprintf("%s-primary", value));
	ann = json_deep_copy(jpath(target, "spec.template.metadata.annotations"));
	ann = ann ? ann : json_object();
	json_object_set_new(ann, "flagger-id", new_flagger_id());
	json_object_set_new(tmpl, "metadata", json_pack("{s:o, s:o}", "labels", labels,
	    "annotations", ann));
	pod = primary_pod_spec(jpath(target, "spec.template.spec"), t, n);
	/* A target scaled to zero by its nodeSelector: the primary runs. */
	json_object_del(json_object_get(pod, "nodeSelector"), SCALE_TO_ZERO);
	json_object_set_new(tmpl, "spec", pod);
	json_object_set_new(spec, "template", tmpl);
}

/* The primary's annotations: the target's, and the revision it is made
 * from (wl_primary_revision reads it back). */
static json_t *
primary_annotations(const struct wl_kind *wk, json_t *target, const struct tracked *t, size_t n)
{
	json_t *ann = json_object(), *v;
	struct revision rev;
	const char *k;

	json_object_foreach(jpath(target, "metadata.annotations"), k, v)
		if (!strstr(k, "toolkit.fluxcd.io") &&
		    strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") != 0)
			json_object_set(ann, k, v);
	revision_of(wk, target, t, n, &rev);
	json_object_set_new(ann, REVISION_ANNOTATION, json_string(rev.id));
	return ann;
}

int
wl_ensure_primary(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner,
    char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	struct tracked t[MAX_TRACKED];
	json_t *target, *prim, *spec;
	const char *label, *value;
	struct k8s_err e;
	char name[300];
	size_t n;
	int st;

	if (wk == NULL)
		return wl_unsupported(cfg, err);
	if (wk->sync != NULL)
		return wk->sync(c, cfg, owner, err);
	if ((st = k8s_get(c, wk->res, cfg->ns, cfg->target, &target, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", wk->noun, cfg->target, cfg->ns, e.msg);
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	if ((wk->refuse != NULL && (st = wk->refuse(target, err)) != ST_OK) ||
	    (st = wl_selector(target, wk->noun, &label, &value, err)) != ST_OK ||
	    (st = wl_tracked(c, cfg->ns, wk->noun, target, t, &n, err)) != ST_OK ||
	    (st = wl_sync_configs(c, cfg->ns, t, n, owner, err)) != ST_OK)
		goto out;
	st = k8s_get(c, wk->res, cfg->ns, name, &prim, &e);
	if (st == ST_OK) {
		json_decref(prim);
		goto out;	/* created once; updated by promote */
	}
	if (st != ST_NOTFOUND) {
		st = kerr(err, st, &e);
		goto out;
	}
	spec = json_object();
	copy_spec(spec, wk, target, label, value, t, n, NULL);
	prim = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s+}, s:o}, s:o}", "apiVersion", "apps/v1",
	    "kind", wk->kind, "metadata", "name", name, "namespace", cfg->ns, "labels", label,
	    value, "-primary", "annotations", primary_annotations(wk, target, t, n), "spec", spec);
	own(prim, owner);
	st = k8s_create(c, wk->res, cfg->ns, prim, NULL, &e);
	json_decref(prim);
	if (st != ST_OK)
		st = errf(err, st, "creating %s %s.%s: %s", wk->noun, name, cfg->ns, e.msg);
out:
	json_decref(target);
	return st;
}

/* ---- ops ------------------------------------------------------------------- */

int
wl_revision(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	struct tracked t[MAX_TRACKED];
	struct k8s_err e;
	json_t *dep;
	size_t n;
	int st;

	memset(out, 0, sizeof *out);
	if (wk == NULL)
		return wl_unsupported(cfg, err);
	if (wk->revision != NULL)
		return wk->revision(k, cfg, out, err);
	if ((st = cached_get(k, wk->res, cfg->ns, cfg->target, &dep, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", wk->noun, cfg->target, cfg->ns, e.msg);
	if ((st = wl_tracked(k->c, cfg->ns, wk->noun, dep, t, &n, err)) == ST_OK)
		revision_of(wk, dep, t, n, out);
	json_decref(dep);
	return st;
}

int
wl_primary_revision(struct k8s_cluster *k, const struct canary_cfg *cfg, struct revision *out,
    char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	const char *id, *image;
	struct k8s_err e;
	char name[300];
	json_t *prim;
	int st;

	memset(out, 0, sizeof *out);
	if (wk == NULL)
		return wl_unsupported(cfg, err);
	if (wk->primary_revision != NULL)
		return wk->primary_revision(k, cfg, out, err);
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	if ((st = cached_get(k, wk->res, cfg->ns, name, &prim, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", wk->noun, name, cfg->ns, e.msg);
	id = json_string_value(json_object_get(jpath(prim, "metadata.annotations"),
	    REVISION_ANNOTATION));
	image = jstr(json_array_get(jpath(prim, "spec.template.spec.containers"), 0), "image");
	if (id != NULL && strlen(id) < sizeof out->id) {	/* else made by someone else */
		snprintf(out->id, sizeof out->id, "%s", id);
		snprintf(out->image, sizeof out->image, "%s", image ? image : "");
	}
	json_decref(prim);
	return ST_OK;
}

static const char *
condition(json_t *dep, const char *type, const char *field)
{
	json_t *c;
	size_t i;

	json_array_foreach(jpath(dep, "status.conditions"), i, c)
		if (jstr(c, "type") && strcmp(jstr(c, "type"), type) == 0)
			return jstr(c, field);
	return NULL;
}

/* Reference §2.6, for one Deployment object. */
void
wl_ready(json_t *dep, int threshold, long now, struct readiness *out, char *msg, size_t msgsz)
{
	json_int_t gen = json_integer_value(jpath(dep, "metadata.generation"));
	json_int_t obs = json_integer_value(jpath(dep, "status.observedGeneration"));
	json_int_t want = json_is_integer(jpath(dep, "spec.replicas")) ?
	    json_integer_value(jpath(dep, "spec.replicas")) : 1;
	json_int_t updated = json_integer_value(jpath(dep, "status.updatedReplicas"));
	json_int_t total = json_integer_value(jpath(dep, "status.replicas"));
	json_int_t avail = json_integer_value(jpath(dep, "status.availableReplicas"));
	json_int_t deadline = json_is_integer(jpath(dep, "spec.progressDeadlineSeconds")) ?
	    json_integer_value(jpath(dep, "spec.progressDeadlineSeconds")) : 600;
	json_int_t need = (json_int_t)((float)updated * (float)threshold / 100.0f);
	const char *reason = condition(dep, "Progressing", "reason"), *upd;
	time_t t;

	out->ready = false;
	out->retriable = true;
	if (gen > obs) {
		snprintf(msg, msgsz, "waiting for rollout to finish: observed deployment generation "
		    "less than desired generation");
		return;
	}
	if (condition(dep, "Available", "status") && strcmp(condition(dep, "Available", "status"),
	    "False") == 0 && condition(dep, "Available", "reason") &&
	    strcmp(condition(dep, "Available", "reason"), "MinimumReplicasUnavailable") == 0 &&
	    (upd = condition(dep, "Available", "lastUpdateTime")) &&
	    k8s_parse_time(upd, &t) == ST_OK && (long)t + deadline < now)
		out->retriable = false;
	if (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0) {
		out->retriable = false;
		snprintf(msg, msgsz, "deployment \"%s\" exceeded its progress deadline",
		    jstr(dep, "metadata.name"));
	} else if (updated < want) {
		snprintf(msg, msgsz, "waiting for rollout to finish: %lld out of %lld new replicas "
		    "have been updated", (long long)updated, (long long)want);
	} else if (total > updated) {
		snprintf(msg, msgsz, "waiting for rollout to finish: %lld old replicas are pending "
		    "termination", (long long)(total - updated));
	} else if (avail < need) {
		snprintf(msg, msgsz, "waiting for rollout to finish: %lld of %lld (readyThreshold "
		    "%d%%) updated replicas are available", (long long)avail, (long long)updated,
		    threshold);
	} else {
		out->ready = true;
		out->retriable = true;
		msg[0] = '\0';
	}
}

int
wl_readiness(struct k8s_cluster *k, const struct canary_cfg *cfg, enum workload w, int64_t now_ms,
    struct readiness *out)
{
	const struct wl_kind *wk = wl_kind_of(cfg);
	char name[300], msg[ERRMSG_MAX];
	int threshold = w == WL_PRIMARY ? cfg->primary_ready_threshold : cfg->canary_ready_threshold;
	struct k8s_err e;
	json_t *dep;
	int st;

	memset(out, 0, sizeof *out);
	out->retriable = true;
	if (wk == NULL)
		return wl_unsupported(cfg, out->msg);
	if (wk->readiness != NULL)
		return wk->readiness(k, cfg, w, out);
	snprintf(name, sizeof name, "%s%s", cfg->target, w == WL_PRIMARY ? "-primary" : "");
	if ((st = cached_get(k, wk->res, cfg->ns, name, &dep, &e)) != ST_OK) {
		errf(out->msg, st, "%s %s.%s: %s", wk->noun, name, cfg->ns, e.msg);
		return st;
	}
	/* The Deployment's condition times are the cluster's wall clock, not the
	 * engine's (which PERCH_TIME_SCALE runs faster): its progress deadline
	 * is judged on the wall clock. */
	(void)now_ms;
	wk->ready(dep, threshold > 0 ? threshold : 100, (long)time(NULL), out, msg, sizeof msg);
	/* The engine adds "<name>.<ns> not ready: " (reference §2.6 wording). */
	errf(out->msg, ST_OK, "%s", msg);
	json_decref(dep);
	return ST_OK;
}

static int
deployment_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err)
{
	json_int_t n = 0;
	struct k8s_err e;
	json_t *dep, *patch;
	char name[300];
	int st;

	if (up) {
		if ((st = k8s_get(c, K8S_RES(DEPLOYMENTS), cfg->ns, cfg->target, &dep, &e)) != ST_OK)
			return errf(err, st, "deployment %s.%s: %s", cfg->target, cfg->ns, e.msg);
		n = json_integer_value(jpath(dep, "spec.replicas"));
		json_decref(dep);
		if (n > 0)
			return ST_OK;
		snprintf(name, sizeof name, "%s-primary", cfg->target);
		if (k8s_get(c, K8S_RES(DEPLOYMENTS), cfg->ns, name, &dep, &e) == ST_OK) {
			n = json_integer_value(jpath(dep, "spec.replicas"));
			json_decref(dep);
		}
		n = n > 0 ? n : 1;
	}
	patch = json_pack("{s:{s:I}}", "spec", "replicas", n);
	st = k8s_patch(c, K8S_RES(DEPLOYMENTS), cfg->ns, cfg->target, K8S_PATCH_MERGE, patch, NULL, &e);
	json_decref(patch);
	return st == ST_OK ? ST_OK : errf(err, st, "scaling deployment %s.%s to %lld: %s",
	    cfg->target, cfg->ns, (long long)n, e.msg);
}

struct promote_arg {
	const struct wl_kind *wk;
	json_t *target;
	const char *label, *value;
	const struct tracked *t;
	size_t n;
};

static int
promote_fn(json_t *prim, void *arg)
{
	struct promote_arg *a = arg;
	json_t *spec = json_object_get(prim, "spec");

	if (!json_is_object(spec))
		return ST_CORRUPT;
	copy_spec(spec, a->wk, a->target, a->label, a->value, a->t, a->n,
	    json_object_get(spec, "replicas"));
	json_object_set_new(json_object_get(prim, "metadata"), "annotations",
	    primary_annotations(a->wk, a->target, a->t, a->n));
	return ST_OK;
}

int
wl_promote(struct k8s_client *c, const struct canary_cfg *cfg, json_t *owner, char *err)
{
	struct tracked t[MAX_TRACKED];
	struct promote_arg a = { .wk = wl_kind_of(cfg), .t = t };
	struct k8s_err e;
	char name[300];
	int st;

	if (a.wk == NULL)
		return wl_unsupported(cfg, err);
	if (a.wk->promote != NULL)
		return a.wk->promote(c, cfg, owner, err);
	if ((st = k8s_get(c, a.wk->res, cfg->ns, cfg->target, &a.target, &e)) != ST_OK)
		return errf(err, st, "%s %s.%s: %s", a.wk->noun, cfg->target, cfg->ns, e.msg);
	if ((st = wl_selector(a.target, a.wk->noun, &a.label, &a.value, err)) != ST_OK ||
	    (st = wl_tracked(c, cfg->ns, a.wk->noun, a.target, t, &a.n, err)) != ST_OK ||
	    (st = wl_sync_configs(c, cfg->ns, t, a.n, owner, err)) != ST_OK)
		goto out;
	snprintf(name, sizeof name, "%s-primary", cfg->target);
	st = k8s_modify(c, a.wk->res, cfg->ns, name, promote_fn, &a, NULL, &e);
	if (st != ST_OK)
		st = errf(err, st, "promoting %s.%s to %s: %s", cfg->target, cfg->ns, name, e.msg);
out:
	json_decref(a.target);
	return st;
}

/* ---- DaemonSets (routers-providers §3.2) ----------------------------------- */

/* Reference §3.2: a DaemonSet target must roll its pods over. */
static int
daemonset_refuse(json_t *ds, char *err)
{
	const char *type = jstr(ds, "spec.updateStrategy.type");

	if (type == NULL || *type == '\0' || strcmp(type, "RollingUpdate") == 0)
		return ST_OK;
	return errf(err, ST_UNSUPPORTED, "daemonset %s.%s must have RollingUpdate strategy but "
	    "have %s", jstr(ds, "metadata.name"), jstr(ds, "metadata.namespace"), type);
}

/* Reference §3.2 (isDaemonSetReady): always retriable; the engine gives up
 * past the Canary's progressDeadlineSeconds. */
static void
daemonset_ready(json_t *ds, int threshold, long now, struct readiness *out, char *msg,
    size_t msgsz)
{
	json_int_t gen = json_integer_value(jpath(ds, "metadata.generation"));
	json_int_t obs = json_integer_value(jpath(ds, "status.observedGeneration"));
	json_int_t desired = json_integer_value(jpath(ds, "status.desiredNumberScheduled"));
	json_int_t updated = json_integer_value(jpath(ds, "status.updatedNumberScheduled"));
	json_int_t avail = json_integer_value(jpath(ds, "status.numberAvailable"));
	json_int_t need = (json_int_t)((float)desired * (float)threshold / 100.0f);

	(void)now;
	out->ready = false;
	out->retriable = true;
	if (gen > obs)
		snprintf(msg, msgsz, "waiting for rollout to finish: observed daemonset generation "
		    "less than desired generation");
	else if (updated < desired)
		snprintf(msg, msgsz, "waiting for rollout to finish: %lld out of %lld new pods have "
		    "been updated", (long long)updated, (long long)desired);
	else if (avail < need)
		snprintf(msg, msgsz, "waiting for rollout to finish: %lld of %lld (readyThreshold "
		    "%d%%) updated pods are available", (long long)avail, (long long)need, threshold);
	else {
		out->ready = true;
		msg[0] = '\0';
	}
}

static int
zero_fn(json_t *ds, void *arg)
{
	json_t *pod = jpath(ds, "spec.template.spec"), *sel;

	if (!json_is_object(pod))
		return ST_CORRUPT;
	sel = json_object_get(pod, "nodeSelector");
	if (*(bool *)arg) {
		json_object_del(sel, SCALE_TO_ZERO);
		if (json_is_object(sel) && json_object_size(sel) == 0)
			json_object_del(pod, "nodeSelector");
		return ST_OK;
	}
	if (!json_is_object(sel)) {
		sel = json_object();
		json_object_set_new(pod, "nodeSelector", sel);
	}
	json_object_set_new(sel, SCALE_TO_ZERO, json_string("true"));
	return ST_OK;
}

/* A DaemonSet has no replicas: scaled to zero by a nodeSelector no node
 * carries, back by removing it. */
static int
daemonset_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err)
{
	struct k8s_err e;
	json_t *ds;
	bool zeroed;
	int st;

	if ((st = k8s_get(c, K8S_RES(DAEMONSETS), cfg->ns, cfg->target, &ds, &e)) != ST_OK)
		return errf(err, st, "daemonset %s.%s: %s", cfg->target, cfg->ns, e.msg);
	zeroed = json_object_get(jpath(ds, "spec.template.spec.nodeSelector"), SCALE_TO_ZERO) != NULL;
	json_decref(ds);
	if (zeroed != up)
		return ST_OK;
	st = k8s_modify(c, K8S_RES(DAEMONSETS), cfg->ns, cfg->target, zero_fn, &up, NULL, &e);
	return st == ST_OK ? ST_OK : errf(err, st, "scaling daemonset %s.%s %s zero: %s",
	    cfg->target, cfg->ns, up ? "from" : "to", e.msg);
}

/* ---- the kinds ------------------------------------------------------------- */

static const char *const deployment_copied[] = { "progressDeadlineSeconds", "minReadySeconds",
	"revisionHistoryLimit", "strategy", NULL };
static const char *const daemonset_copied[] = { "minReadySeconds", "revisionHistoryLimit",
	"updateStrategy", NULL };

static const struct wl_kind wl_kinds[] = {
	{ .kind = "Deployment", .noun = "deployment", .res = K8S_RES(DEPLOYMENTS),
	  .copied = deployment_copied, .replicas = true, .ready = wl_ready,
	  .scale = deployment_scale },
	{ .kind = "DaemonSet", .noun = "daemonset", .res = K8S_RES(DAEMONSETS),
	  .copied = daemonset_copied, .replicas = false, .refuse = daemonset_refuse,
	  .ready = daemonset_ready, .scale = daemonset_scale },
	{ .kind = "Service", .noun = "service", .res = K8S_RES(SERVICES), .copied = NULL,
	  .service = true, .ready = svc_target_ready, .scale = svc_target_scale,
	  .sync = svc_target_sync, .promote = svc_target_promote },
};

/* A Knative Service (routers-providers §3.4): its Revisions are the
 * primary and the canary (knative_target.c). */
static const struct wl_kind knative_kind = {
	.kind = "Service", .noun = "Knative Service", .res = K8S_RES(KNATIVE_SERVICES),
	.copied = NULL, .service = true, .ready = svc_target_ready, .scale = svc_target_scale,
	.sync = kn_target_sync, .promote = kn_target_promote, .revision = kn_target_revision,
	.primary_revision = kn_target_primary_revision, .readiness = kn_target_readiness,
};

const struct wl_kind *
wl_kind_of(const struct canary_cfg *cfg)
{
	const char *kind = cfg->target_kind != NULL ? cfg->target_kind : "Deployment";
	size_t i;

	/* A Knative Service is no plain Service (routers-providers §3.4). */
	if (cfg->target_api != NULL && strncmp(cfg->target_api, "serving.knative.dev/", 20) == 0)
		return strcmp(kind, knative_kind.kind) == 0 ? &knative_kind : NULL;
	for (i = 0; i < sizeof wl_kinds / sizeof wl_kinds[0]; i++)
		if (strcmp(wl_kinds[i].kind, kind) == 0)
			return &wl_kinds[i];
	return NULL;
}

int
wl_unsupported(const struct canary_cfg *cfg, char *err)
{
	return errf(err, ST_UNSUPPORTED, "canary %s/%s: target kind %s%s%s is not supported on "
	    "a cluster (Deployment, DaemonSet, v1 Service or serving.knative.dev/v1 Service)", cfg->ns, cfg->name,
	    cfg->target_kind, cfg->target_api != NULL ? " of " : "",
	    cfg->target_api != NULL ? cfg->target_api : "");
}

int
wl_scale(struct k8s_client *c, const struct canary_cfg *cfg, bool up, char *err)
{
	const struct wl_kind *wk = wl_kind_of(cfg);

	return wk == NULL ? wl_unsupported(cfg, err) : wk->scale(c, cfg, up, err);
}
