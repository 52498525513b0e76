/*
 * k8s.c — canary state in a ConfigMap and control in a Lease on the
 * cluster (see k8s.h for the layout and the rules): the store_ops table,
 * status and spec, the list of canaries, open and close.  The journal is
 * k8s_journal.c, the Lease k8s_lease.c, the heartbeat k8s_beat.c, what
 * they share k8s_core.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/k8s.h"
#include "store/k8s_core.h"
#include "store/k8s_journal.h"
#include "store/k8s_lease.h"
#include "store/k8s_request.h"
#include "store/k8s_status.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

#define PERCH_SELECTOR "app.kubernetes.io/managed-by=perch"

/* data.status and the acknowledgements staged for the canary
 * (k8s_request.c), in one merge patch: a request is acknowledged exactly
 * when the status it changed is written. */
static int
save_with_acks(struct store_k8s *s, const char *key, json_t *status, char *err)
{
	char *text = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS);
	json_t *acks = sk_acks_take(s, key), *data = json_pack("{s:s}", "status", text ? text : "null");
	int rc;

	if (acks != NULL)
		json_object_update(data, acks);
	rc = sk_cm_patch(s, key, data, err);
	if (rc != ST_OK)
		sk_acks_restore(s, key, acks);
	else
		json_decref(acks);
	free(text);
	json_decref(data);
	return rc;
}

static int
sk_save(void *ctx, const char *key, const struct canary_status *st, char *err)
{
	struct store_k8s *s = ctx;
	json_t *j;
	int rc;

	if ((rc = sk_refuse(s)) != ST_OK)
		return rc;
	j = status_to_json(st);
	rc = save_with_acks(s, key, j, err);
	json_decref(j);
	/* The Canary object's own status follows, written by the status
	 * writers (k8s_status.h); the ConfigMap is what counts: a failure
	 * there is logged, not the save's. */
	if (rc == ST_OK)
		sk_canary_status_queue(s, key, st);
	return rc;
}

/* The Lease is given back once the canary's status is written: no status
 * of ours follows the next holder's. */
static int
sk_release_written(void *ctx, const char *key)
{
	sk_canary_status_settle(ctx, key);
	return sk_release(ctx, key);
}

static int
sk_load(void *ctx, const char *key, struct canary_status *out, char *err)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *j;
	int st;

	if ((st = sk_get_field(s, key, "status", &j, err)) != ST_OK)
		return st;
	st = status_from_json(j, out, why, sizeof why);
	json_decref(j);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.status: %.120s", key, why);
	return st == ST_OK ? ST_OK : ST_CORRUPT;
}

/* The spec, and who controls the canary (data.controller: its watchers
 * find the controller's heartbeat by it), in one write. */
static int
sk_save_spec(void *ctx, const char *key, const struct canary_cfg *cfg, char *err)
{
	struct store_k8s *s = ctx;
	json_t *j, *data;
	char *text;
	int rc;

	if ((rc = sk_refuse(s)) != ST_OK)
		return rc;
	/* (Again) controlled: its Canary object's status is looked up anew. */
	pthread_mutex_lock(&s->hlock);
	json_object_del(s->cstatus, key);
	json_object_set_new(s->ckind, key, json_string(cfg->target_kind ? cfg->target_kind : ""));
	pthread_mutex_unlock(&s->hlock);
	j = spec_to_json(cfg);
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	data = json_pack("{s:s}", "spec", text ? text : "null");
	pthread_mutex_lock(&s->lock);
	if (s->id[0] != '\0')
		json_object_set_new(data, "controller", json_string(s->id));
	pthread_mutex_unlock(&s->lock);
	rc = sk_cm_patch(s, key, data, err);
	free(text);
	json_decref(data);
	json_decref(j);
	return rc;
}

static int
sk_load_spec(void *ctx, const char *key, struct canary_cfg **out, char *err)
{
	struct store_k8s *s = ctx;
	char why[ERRMSG_MAX];
	json_t *j;
	int st;

	*out = NULL;
	if ((st = sk_get_field(s, key, "spec", &j, err)) != ST_OK)
		return st;
	st = spec_from_json(j, out, why, sizeof why);
	json_decref(j);
	if (st != ST_OK && err)
		snprintf(err, ERRMSG_MAX, "the ConfigMap of %.100s: data.spec: %.120s", key, why);
	return st == ST_OK ? ST_OK : ST_CORRUPT;
}

int
store_k8s_list(struct store_k8s *s, char ***out, size_t *n_out, char *err)
{
	const char *ns = s->all_ns ? NULL : k8s_client_namespace(s->c), *name, *ins;
	json_t *list, *item, *items;
	struct k8s_err e;
	size_t i, n = 0;
	int st;

	*out = NULL;
	*n_out = 0;
	if (s->cms != NULL && strcmp(s->cms_ns, ns != NULL ? ns : "") == 0 &&
	    k8s_informer_list(s->cms, &items) == ST_OK) {
		list = json_pack("{s:o}", "items", items);
	} else if ((st = k8s_list(s->c, K8S_RES(CONFIGMAPS), ns, PERCH_SELECTOR, &list, &e)) != ST_OK) {
		if (err != NULL)
			snprintf(err, ERRMSG_MAX, "configmaps in %.60s: %.400s", ns ? ns :
			    "every namespace", e.msg);
		return st;
	}
	*out = xcalloc(json_array_size(json_object_get(list, "items")) + 1, sizeof **out);
	json_array_foreach(json_object_get(list, "items"), i, item) {
		name = json_string_value(json_object_get(json_object_get(json_object_get(item,
		    "metadata"), "labels"), "perch.dev/canary"));
		ins = json_string_value(json_object_get(json_object_get(item, "metadata"),
		    "namespace"));
		if (name && *name && sk_data_get(item, "status") && (ns || (ins && *ins)))
			(*out)[n++] = xasprintf("%s/%s", ns ? ns : ins, name);
	}
	json_decref(list);
	*n_out = n;
	return ST_OK;
}

/* The store_ops list: store_k8s_list, an error being no canaries. */
static size_t
sk_list(void *ctx, char ***out)
{
	size_t n;

	store_k8s_list(ctx, out, &n, NULL);
	return n;
}

int
store_k8s_holder(struct store_k8s *s, const char *canary, char *holder, size_t holdersz,
    char *err)
{
	return sk_lease_holder(s, canary, holder, holdersz, err);
}

struct store_k8s *
store_k8s_open(struct k8s_client *c, bool read_only, int lease_s)
{
	struct store_k8s *s = xcalloc(1, sizeof *s);

	s->c = c;
	s->read_only = read_only;
	s->lease_s = lease_s > 0 ? lease_s : STORE_K8S_LEASE_S;
	s->leases = json_object();
	s->held = json_object();
	s->lbusy = json_object();
	s->beat_ns = json_object();
	s->cstatus = json_object();
	s->ckind = json_object();
	s->wq = json_object();
	s->wbusy = json_object();
	s->acks = json_object();
	s->acked = json_object();
	s->asked = json_object();
	s->jqueue = json_object();
	s->jstate = json_object();
	s->jfail = json_object();
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	pthread_mutex_init(&s->jlock, NULL);
	pthread_cond_init(&s->jcond, NULL);
	pthread_mutex_init(&s->blk, NULL);
	pthread_mutex_init(&s->hlock, NULL);
	pthread_cond_init(&s->hcond, NULL);
	pthread_mutex_init(&s->wlock, NULL);
	pthread_cond_init(&s->wcond, NULL);
	if (!read_only) {
		s->running = pthread_create(&s->renewer, NULL, sk_renewer, s) == 0;
		s->jrunning = pthread_create(&s->jthread, NULL, sk_journal_writer, s) == 0;
	}
	return s;
}

/* Starts an informer on the perch ConfigMaps of ns (NULL: every
 * namespace) into *slot, unless one runs there already. */
static int
watch_cms(struct store_k8s *s, struct k8s_informer **slot, const char *ns)
{
	struct k8s_informer_opts o = { .res = K8S_RES(CONFIGMAPS), .ns = ns,
		.selector = PERCH_SELECTOR };

	if (*slot != NULL)
		return ST_OK;
	*slot = k8s_informer_new(s->c, &o);
	if (k8s_informer_start(*slot) != ST_OK) {
		k8s_informer_free(*slot);
		*slot = NULL;
		return ST_ERR;
	}
	return ST_OK;
}

void
store_k8s_all_namespaces(struct store_k8s *s)
{
	s->all_ns = true;
}

int
store_k8s_watch(struct store_k8s *s)
{
	return store_k8s_watch_in(s, s->all_ns ? NULL : k8s_client_namespace(s->c));
}

int
store_k8s_watch_in(struct store_k8s *s, const char *ns)
{
	if (s->cms == NULL)
		snprintf(s->cms_ns, sizeof s->cms_ns, "%s", ns != NULL ? ns : "");
	return watch_cms(s, &s->cms, ns);
}

void
store_k8s_watch_stats(struct store_k8s *s, struct k8s_informer_stats *out)
{
	memset(out, 0, sizeof *out);
	if (s->cms != NULL)
		k8s_informer_stats(s->cms, out);
}

void
store_k8s_set_journal_max(struct store_k8s *s, size_t n)
{
	s->journal_max = n;
}

/* Gives back every lease still held, the last taken first. */
static void
release_all(struct store_k8s *s)
{
	size_t n = json_object_size(s->held);
	const char **keys = xcalloc(n + 1, sizeof *keys);
	const char *key;
	json_t *v;
	size_t i = 0;

	json_object_foreach(s->held, key, v)
		keys[i++] = key;
	while (i-- > 0)
		sk_lease_do(s, keys[i], L_RELEASE, NULL, 0, NULL);
	free(keys);
	json_object_clear(s->held);
}

void
store_k8s_close(struct store_k8s *s)
{
	if (!s)
		return;
	k8s_informer_free(s->cms);
	pthread_mutex_lock(&s->jlock);	/* what is queued is written first */
	s->jstop = true;
	pthread_cond_broadcast(&s->jcond);
	pthread_mutex_unlock(&s->jlock);
	if (s->jrunning)
		pthread_join(s->jthread, NULL);
	sk_canary_status_stop(s);	/* written while the Leases are held */
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->running)
		pthread_join(s->renewer, NULL);
	release_all(s);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	json_decref(s->leases);
	json_decref(s->held);
	json_decref(s->lbusy);
	json_decref(s->beat_ns);
	json_decref(s->cstatus);
	json_decref(s->ckind);
	json_decref(s->wq);
	json_decref(s->wbusy);
	pthread_cond_destroy(&s->wcond);
	pthread_mutex_destroy(&s->wlock);
	json_decref(s->acks);
	json_decref(s->acked);
	json_decref(s->asked);
	json_decref(s->jqueue);
	json_decref(s->jstate);
	json_decref(s->jfail);
	pthread_cond_destroy(&s->jcond);
	pthread_mutex_destroy(&s->jlock);
	pthread_mutex_destroy(&s->blk);
	pthread_cond_destroy(&s->hcond);
	pthread_mutex_destroy(&s->hlock);
	free(s);
}

const struct store_ops store_k8s_ops = {
	.name = "k8s",
	.acquire = sk_acquire,
	.renew = sk_renew,
	.release = sk_release_written,
	.load = sk_load,
	.save = sk_save,
	.append = sk_append,
	.save_spec = sk_save_spec,
	.load_spec = sk_load_spec,
	.tail = sk_tail,
	.list = sk_list,
	.request = sk_request,
	.pending = sk_pending,
	.ack = sk_ack,
	.answer = sk_answer,
};
