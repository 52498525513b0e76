/*
 * k8s_core.c — what the files of the cluster store share (see
 * k8s_core.h): canary keys to object names, and a canary's ConfigMap read
 * (from the watch's cache when it is in step) or changed one merge patch
 * at a time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/k8s_core.h"
#include "util/status.h"

/* The ConfigMap ns/name from the watch's cache: ST_OK, ST_NOTFOUND, or
 * ST_AGAIN when there is no cache for ns or it is out of step. */
int
sk_cached_cm(struct store_k8s *s, const char *ns, const char *name, json_t **cm)
{
	*cm = NULL;
	if (s->cms == NULL || (s->cms_ns[0] != '\0' && strcmp(ns, s->cms_ns) != 0))
		return ST_AGAIN;
	return k8s_informer_get(s->cms, ns, name, cm);
}

/* Whether this store holds the Lease of key (any thread; it waits for no
 * request: hlock is never held for one). */
bool
sk_holds(struct store_k8s *s, const char *key)
{
	bool on;

	pthread_mutex_lock(&s->hlock);
	on = json_object_get(s->held, key) != NULL;
	pthread_mutex_unlock(&s->hlock);
	return on;
}

int
sk_split_key(const char *key, char *ns, char *obj, char *err)
{
	const char *slash = strchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : 0;

	if (!slash || n == 0 || n > 63 || strlen(slash + 1) == 0 || strlen(slash + 1) > 240) {
		if (err)
			snprintf(err, ERRMSG_MAX, "%.100s: not a canary name (ns/name)", key);
		return ST_INVALID;
	}
	memcpy(ns, key, n);
	ns[n] = '\0';
	snprintf(obj, 256, "perch-%s", slash + 1);
	return ST_OK;
}

void
sk_now_micro(char *out, size_t sz)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, sz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

const char *
sk_data_get(json_t *cm, const char *key)
{
	return json_string_value(json_object_get(json_object_get(cm, "data"), key));
}

int
sk_refuse(struct store_k8s *s)
{
	return s->read_only ? ST_REFUSED : ST_OK;
}

int
sk_cm_get(struct store_k8s *s, const char *key, json_t **cm, char *err)
{
	char ns[64], name[256];
	struct k8s_err e;
	int st;

	*cm = NULL;
	if ((st = sk_split_key(key, ns, name, err)) != ST_OK)
		return st;
	/* What this store writes is read back from the server: the cache
	 * may lag behind its own last write. */
	if (!sk_holds(s, key) && (st = sk_cached_cm(s, ns, name, cm)) != ST_AGAIN)
		return st;
	st = k8s_get(s->c, K8S_RES(CONFIGMAPS), ns, name, cm, &e);
	if (st != ST_OK && st != ST_NOTFOUND && err)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.340s", ns, name, e.msg);
	return st;
}

/* Merges `data` (keys to set, or null to remove) into the ConfigMap of key:
 * one merge patch, which touches nothing else; the ConfigMap is created
 * when it does not exist yet.  A 409 (a creation race, or an API server
 * that answers one to a patch) is tried again, a bounded number of times. */
int
sk_cm_patch(struct store_k8s *s, const char *key, json_t *data, char *err)
{
	char ns[64], name[256];
	struct k8s_err e = { 0 };
	json_t *patch, *obj, *d;
	const char *k;
	json_t *v;
	int st, i;

	if ((st = sk_split_key(key, ns, name, err)) != ST_OK)
		return st;
	patch = json_pack("{s:O}", "data", data);
	for (i = 0; i < 4; i++) {
		st = k8s_patch(s->c, K8S_RES(CONFIGMAPS), ns, name, K8S_PATCH_MERGE, patch, NULL, &e);
		if (st != ST_NOTFOUND)
			goto next;
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{}}", "apiVersion", "v1",
		    "kind", "ConfigMap", "metadata", "name", name, "namespace", ns, "labels",
		    "app.kubernetes.io/managed-by", "perch", "perch.dev/canary", name + 6, "data");
		d = json_object_get(obj, "data");
		json_object_foreach(data, k, v) {
			if (!json_is_null(v))
				json_object_set(d, k, v);
		}
		st = k8s_create(s->c, K8S_RES(CONFIGMAPS), ns, obj, NULL, &e);
		json_decref(obj);
next:
		if (st != ST_CONFLICT)
			break;	/* written, or a real error; on a race, patch again */
	}
	json_decref(patch);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "configmap %.60s/%.80s: %.340s", ns, name, e.msg);
	return st;
}

/* Sets data.<field> to value as compact JSON. */
int
sk_put_field(struct store_k8s *s, const char *key, const char *field, json_t *value, char *err)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *data = json_pack("{s:s}", field, text ? text : "null");
	int st = sk_cm_patch(s, key, data, err);

	free(text);
	json_decref(data);
	return st;
}

/* Parses data.<field> of the ConfigMap; ST_NOTFOUND when absent. */
int
sk_get_field(struct store_k8s *s, const char *key, const char *field, json_t **out, char *err)
{
	json_error_t je;
	const char *text;
	json_t *cm;
	int st;

	*out = NULL;
	if ((st = sk_cm_get(s, key, &cm, err)) != ST_OK)
		return st;
	text = sk_data_get(cm, field);
	if (!text) {
		json_decref(cm);
		return ST_NOTFOUND;
	}
	*out = json_loads(text, 0, &je);
	if (!*out && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.%s is not JSON (line %d: %.80s)",
		    key, field, je.line, je.text);
	json_decref(cm);
	return *out ? ST_OK : ST_CORRUPT;
}
