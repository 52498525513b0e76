/*
 * k8s_replicas.c — the replicas of `perch controller` and their Leases
 * (see k8s_replicas.h).
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/kubeconfig.h"
#include "store/k8s_core.h"
#include "store/k8s_replicas.h"
#include "util/log.h"
#include "util/status.h"
#include "util/xalloc.h"

#define MAX_REPLICAS 256
#define ROLE_SELECTOR "perch.dev/role=controller"

struct replicas {
	struct k8s_client *c;
	char ns[64], name[254], id[160];
	int lease_s;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool stopping;
	time_t until[MAX_REPLICAS];	/* mu: when each other replica's Lease expires */
	size_t n_until;
	size_t last_live;		/* mu: as last logged */
};

static void
lease_name(char *out, size_t sz, const char *identity)
{
	size_t i, n = (size_t)snprintf(out, sz, "perch-replica-%s", identity);

	for (i = strlen("perch-replica-"); i < n && i < sz - 1; i++) {
		out[i] = (char)tolower((unsigned char)out[i]);
		if (!isalnum((unsigned char)out[i]) && out[i] != '-' && out[i] != '.')
			out[i] = '-';
	}
	while (n > 0 && n < sz && (out[n - 1] == '-' || out[n - 1] == '.'))
		out[--n] = '\0';
}

/* Our Lease with a new renewTime: created, or replaced whatever it was. */
static void
renew_own(struct replicas *rs)
{
	char now[64];
	struct k8s_err e;
	json_t *obj, *out = NULL, *cur = NULL;
	int st;

	sk_now_micro(now, sizeof now);
	obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:i, s:s}}",
	    "apiVersion", "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", rs->name,
	    "namespace", rs->ns, "labels", "app.kubernetes.io/managed-by", "perch", "perch.dev/role",
	    "controller", "spec", "holderIdentity", rs->id, "leaseDurationSeconds", rs->lease_s,
	    "renewTime", now);
	st = k8s_get(rs->c, K8S_RES(LEASES), rs->ns, rs->name, &cur, &e);
	if (st == ST_OK) {
		json_object_set(json_object_get(obj, "metadata"), "resourceVersion",
		    json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
		st = k8s_update(rs->c, K8S_RES(LEASES), rs->ns, obj, &out, &e);
	} else if (st == ST_NOTFOUND) {
		st = k8s_create(rs->c, K8S_RES(LEASES), rs->ns, obj, &out, &e);
	}
	if (st != ST_OK)
		log_warn("controller: replica lease %s/%s: %s", rs->ns, rs->name, e.msg);
	json_decref(cur);
	json_decref(out);
	json_decref(obj);
}

/* When each other replica's Lease expires, from one list of the
 * namespace's replica Leases: into until[], *n; false when the list
 * failed (the last one stays). */
static bool
list_others(struct replicas *rs, time_t *until, size_t *n)
{
	json_t *list = NULL, *item, *spec;
	struct k8s_err e;
	size_t i;
	time_t t;
	json_int_t dur;
	const char *renew, *name;

	*n = 0;
	if (k8s_list(rs->c, K8S_RES(LEASES), rs->ns, ROLE_SELECTOR, &list, &e) != ST_OK) {
		log_warn("controller: listing the replica leases of %s: %s", rs->ns, e.msg);
		return false;
	}
	json_array_foreach(json_object_get(list, "items"), i, item) {
		spec = json_object_get(item, "spec");
		name = json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
		renew = json_string_value(json_object_get(spec, "renewTime"));
		dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
		if (name && strcmp(name, rs->name) != 0 && renew && k8s_parse_time(renew, &t) == ST_OK &&
		    *n < MAX_REPLICAS)
			until[(*n)++] = t + (time_t)dur;
	}
	json_decref(list);
	return true;
}

static void
refresh(struct replicas *rs)
{
	time_t until[MAX_REPLICAS];
	size_t n;

	renew_own(rs);
	if (!list_others(rs, until, &n))
		return;
	pthread_mutex_lock(&rs->mu);
	memcpy(rs->until, until, n * sizeof *until);
	rs->n_until = n;
	pthread_mutex_unlock(&rs->mu);
}

static void *
replicas_main(void *arg)
{
	struct replicas *rs = arg;
	struct timespec until;

	pthread_mutex_lock(&rs->mu);
	while (!rs->stopping) {
		pthread_mutex_unlock(&rs->mu);
		refresh(rs);
		pthread_mutex_lock(&rs->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += rs->lease_s / 3 > 0 ? rs->lease_s / 3 : 1;
		while (!rs->stopping && pthread_cond_timedwait(&rs->cond, &rs->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&rs->mu);
	return NULL;
}

struct replicas *
replicas_start(struct k8s_client *c, const char *ns, const char *identity, int lease_s)
{
	struct replicas *rs = xcalloc(1, sizeof *rs);

	rs->c = c;
	rs->lease_s = lease_s > 0 ? lease_s : STORE_K8S_LEASE_S;
	snprintf(rs->ns, sizeof rs->ns, "%s", ns);
	snprintf(rs->id, sizeof rs->id, "%s", identity);
	lease_name(rs->name, sizeof rs->name, identity);
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cond, NULL);
	refresh(rs);
	if (pthread_create(&rs->thread, NULL, replicas_main, rs) != 0) {
		pthread_mutex_destroy(&rs->mu);
		pthread_cond_destroy(&rs->cond);
		free(rs);
		return NULL;
	}
	return rs;
}

size_t
replicas_live(struct replicas *rs)
{
	time_t now = time(NULL);
	size_t i, n = 1;

	pthread_mutex_lock(&rs->mu);
	for (i = 0; i < rs->n_until; i++)
		n += rs->until[i] > now;
	if (n != rs->last_live)
		log_info("controller: %zu live replica%s", n, n == 1 ? "" : "s");
	rs->last_live = n;
	pthread_mutex_unlock(&rs->mu);
	return n;
}

void
replicas_stop(struct replicas *rs)
{
	struct k8s_err e;

	if (rs == NULL)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->stopping = true;
	pthread_cond_broadcast(&rs->cond);
	pthread_mutex_unlock(&rs->mu);
	pthread_join(rs->thread, NULL);
	if (k8s_delete(rs->c, K8S_RES(LEASES), rs->ns, rs->name, &e) != ST_OK)
		log_warn("controller: deleting the replica lease %s/%s: %s", rs->ns, rs->name, e.msg);
	pthread_mutex_destroy(&rs->mu);
	pthread_cond_destroy(&rs->cond);
	free(rs);
}
