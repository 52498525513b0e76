/*
 * k8s_lease.c — control of a canary through its Lease perch-<name> (see
 * k8s.h for the rules, k8s_lease.h): taken when it is free, expired, or
 * held by a process of this host that is gone; renewed by a thread of the
 * store each third of its duration; released at the end.
 *
 * Threads: several Leases are taken, renewed and given back at once (the
 * engine's take workers, the renewer), each on a connection of the client's;
 * one Lease by one thread at a time (lease_begin).  No lock is held for a
 * request: hlock guards the tables of held Leases and of our Lease objects,
 * s->lock only our identity and the renewer's wait.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/k8s_lease.h"
#include "util/log.h"
#include "util/sanitize.h"
#include "util/status.h"
#include "util/xalloc.h"

struct lease_arg {
	struct store_k8s *s;
	enum lease_op op;
	char holder[160];	/* the other holder, when locked */
};

static bool
lease_live(json_t *spec, time_t now)
{
	const char *renew = json_string_value(json_object_get(spec, "renewTime"));
	json_int_t dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	time_t t;

	if (!renew || k8s_parse_time(renew, &t) != ST_OK)
		return false;
	return (json_int_t)t + (dur > 0 ? dur : STORE_K8S_LEASE_S) > (json_int_t)now;
}

/* Whether the holder ("user@host pid N") is a process of this host that
 * no longer exists: its lease is taken over at once, not when it expires
 * (a controller killed without releasing it, on this machine). */
static bool
holder_gone(const char *holder)
{
	char host[64] = "";	/* as the actor names it (cli_actor) */
	const char *at = strrchr(holder, '@'), *pid = strstr(holder, " pid ");
	char *end;
	long n;

	if (at == NULL || pid == NULL || pid < at || gethostname(host, sizeof host) != 0)
		return false;
	host[sizeof host - 1] = '\0';
	if ((size_t)(pid - at - 1) != strlen(host) || strncmp(at + 1, host, strlen(host)) != 0)
		return false;
	n = strtol(pid + 5, &end, 10);
	if (n <= 0 || *end != '\0' || n == (long)getpid())
		return false;
	return kill((pid_t)n, 0) != 0 && errno == ESRCH;
}

/* ST_OK to write, ST_AGAIN for nothing to do, ST_LOCKED when someone else has it. */
static int
lease_fn(json_t *obj, void *arg)
{
	struct lease_arg *a = arg;
	json_t *spec = json_object_get(obj, "spec");
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	bool ours = holder && strcmp(holder, a->s->id) == 0;
	char now[64];

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	if (!ours && holder && *holder && lease_live(spec, time(NULL)) && !holder_gone(holder)) {
		snprintf(a->holder, sizeof a->holder, "%s", holder);
		return a->op == L_RELEASE ? ST_AGAIN : ST_LOCKED;
	}
	if (a->op == L_RELEASE) {
		if (!ours)
			return ST_AGAIN;
		json_object_set_new(spec, "holderIdentity", json_string(""));
		return ST_OK;
	}
	if (a->op == L_RENEW && !ours && holder && *holder) {
		snprintf(a->holder, sizeof a->holder, "%s", holder);
		return ST_LOCKED;
	}
	sk_now_micro(now, sizeof now);
	if (!ours) {
		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions", json_integer(
		    json_integer_value(json_object_get(spec, "leaseTransitions")) + (holder ? 1 : 0)));
	}
	json_object_set_new(spec, "holderIdentity", json_string(a->s->id));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(a->s->lease_s));
	json_object_set_new(spec, "renewTime", json_string(now));
	return ST_OK;
}

int
sk_lease_do(struct store_k8s *s, const char *key, enum lease_op op, char *holder, size_t holdersz,
    char *err)
{
	struct lease_arg a = { .s = s, .op = op };
	char ns[64], name[256];
	struct k8s_err e;
	json_t *obj, *out = NULL;
	int st, i;

	if ((st = sk_split_key(key, ns, name, NULL)) != ST_OK)
		return st;
	pthread_mutex_lock(&s->hlock);
	json_object_del(s->leases, key);
	pthread_mutex_unlock(&s->hlock);
	for (i = 0; i < 3; i++) {
		st = k8s_modify(s->c, K8S_RES(LEASES), ns, name, lease_fn, &a, &out, &e);
		if (st != ST_NOTFOUND || op == L_RELEASE)
			break;
		obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{}}", "apiVersion",
		    "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", name, "namespace", ns,
		    "labels", "app.kubernetes.io/managed-by", "perch", "spec");
		lease_fn(obj, &a);
		st = k8s_create(s->c, K8S_RES(LEASES), ns, obj, &out, &e);
		json_decref(obj);
		if (st != ST_CONFLICT)
			break;
	}
	if (st == ST_OK && op != L_RELEASE && out != NULL) {
		pthread_mutex_lock(&s->hlock);
		json_object_set(s->leases, key, out);
		pthread_mutex_unlock(&s->hlock);
	}
	json_decref(out);
	if (st == ST_NOTFOUND && op == L_RELEASE)
		st = ST_OK;
	if (st == ST_CONFLICT) {
		/* Every write lost a race: someone else is taking it right now. */
		snprintf(a.holder, sizeof a.holder, "%s", a.holder[0] ? a.holder : "another controller");
		st = ST_LOCKED;
	}
	if (st == ST_LOCKED && holder)
		sanitize(holder, holdersz, a.holder, strlen(a.holder));
	if (st != ST_OK && st != ST_LOCKED) {
		log_warn("store: lease %s/%s: %s", ns, name, e.msg);
		if (err)
			snprintf(err, ERRMSG_MAX, "lease %.60s/%.80s: %.340s", ns, name, e.msg);
	}
	return st;
}

/* Renews a held lease in one request: our Lease as last written, with a new
 * renewTime, put back under its resourceVersion.  When that fails (someone
 * else wrote it, or it is gone), the full read-modify-write decides. */
static int
lease_renew(struct store_k8s *s, const char *key)
{
	json_t *obj, *out = NULL;
	char ns[64], name[256], now[64];
	struct k8s_err e;
	int st;

	pthread_mutex_lock(&s->hlock);
	obj = json_deep_copy(json_object_get(s->leases, key));
	pthread_mutex_unlock(&s->hlock);
	if (obj == NULL || sk_split_key(key, ns, name, NULL) != ST_OK) {
		json_decref(obj);
		return sk_lease_do(s, key, L_RENEW, NULL, 0, NULL);
	}
	sk_now_micro(now, sizeof now);
	json_object_set_new(json_object_get(obj, "spec"), "renewTime", json_string(now));
	st = k8s_update(s->c, K8S_RES(LEASES), ns, obj, &out, &e);
	json_decref(obj);
	if (st == ST_OK && out != NULL) {
		pthread_mutex_lock(&s->hlock);
		json_object_set_new(s->leases, key, out);
		pthread_mutex_unlock(&s->hlock);
		return ST_OK;
	}
	json_decref(out);
	return sk_lease_do(s, key, L_RENEW, NULL, 0, NULL);
}

static bool
is_held(struct store_k8s *s, const char *key)
{
	return sk_holds(s, key);
}

static void
held_set(struct store_k8s *s, const char *key, bool on)
{
	pthread_mutex_lock(&s->hlock);
	if (on)
		json_object_set_new(s->held, key, json_true());
	else
		json_object_del(s->held, key);
	pthread_mutex_unlock(&s->hlock);
}

/* The keys held now, a new array of copies ending in NULL (hlock taken). */
static char **
held_keys(struct store_k8s *s)
{
	char **keys;
	const char *key;
	json_t *v;
	size_t i = 0;

	pthread_mutex_lock(&s->hlock);
	keys = xcalloc(json_object_size(s->held) + 1, sizeof *keys);
	json_object_foreach(s->held, key, v)
		keys[i++] = xstrdup(key);
	pthread_mutex_unlock(&s->hlock);
	return keys;
}

/* One thread at a time works on the Lease of key (any others at once). */
static void
lease_begin(struct store_k8s *s, const char *key)
{
	pthread_mutex_lock(&s->hlock);
	while (json_object_get(s->lbusy, key) != NULL)
		pthread_cond_wait(&s->hcond, &s->hlock);
	json_object_set_new(s->lbusy, key, json_true());
	pthread_mutex_unlock(&s->hlock);
}

static void
lease_end(struct store_k8s *s, const char *key)
{
	pthread_mutex_lock(&s->hlock);
	json_object_del(s->lbusy, key);
	pthread_cond_broadcast(&s->hcond);
	pthread_mutex_unlock(&s->hlock);
}

int
sk_acquire(void *ctx, const char *key, const char *actor, char *holder, size_t holdersz,
    char *err)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = sk_refuse(s)) != ST_OK) {
		if (err)
			snprintf(err, ERRMSG_MAX, "the store is read-only");
		return st;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->id[0])
		snprintf(s->id, sizeof s->id, "%.120s pid %ld", actor && *actor ? actor : "perch",
		    (long)getpid());
	pthread_mutex_unlock(&s->lock);
	lease_begin(s, key);
	st = sk_lease_do(s, key, L_ACQUIRE, holder, holdersz, err);
	if (st == ST_OK)
		held_set(s, key, true);
	lease_end(s, key);
	return st;
}

int
sk_renew(void *ctx, const char *key)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = sk_refuse(s)) != ST_OK)
		return st;
	/* The store's own thread keeps every held lease renewed: the engine
	 * only learns whether it still holds it, without a request, and
	 * without waiting for a round of renewals. */
	if (s->running)	/* set at the open, never changed */
		return is_held(s, key) ? ST_OK : ST_LOCKED;
	lease_begin(s, key);
	if ((st = lease_renew(s, key)) == ST_LOCKED)
		held_set(s, key, false);
	lease_end(s, key);
	return st;
}

int
sk_release(void *ctx, const char *key)
{
	struct store_k8s *s = ctx;
	int st;

	if ((st = sk_refuse(s)) != ST_OK)
		return st;
	lease_begin(s, key);
	if (is_held(s, key))	/* nothing to give back otherwise */
		st = sk_lease_do(s, key, L_RELEASE, NULL, 0, NULL);
	held_set(s, key, false);
	lease_end(s, key);
	return st;
}

/* Renews one held lease (the renewer thread). */
static void
renew_one(struct store_k8s *s, const char *key)
{
	lease_begin(s, key);
	if (is_held(s, key) && lease_renew(s, key) == ST_LOCKED)
		held_set(s, key, false);
	lease_end(s, key);
}

/* Renews every held lease each third of the lease duration.  s->lock is
 * held only for the wait: a round of requests holds up no take, renewal
 * or release of another Lease. */
void *
sk_renewer(void *arg)
{
	struct store_k8s *s = arg;
	struct timespec until;
	char **keys;
	bool stop;
	size_t i;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->lease_s / 3 > 0 ? s->lease_s / 3 : 1;
		while (!s->stopping && pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&s->lock);
		keys = held_keys(s);
		for (i = 0; keys[i] != NULL; i++) {
			pthread_mutex_lock(&s->lock);
			stop = s->stopping;
			pthread_mutex_unlock(&s->lock);
			if (!stop)
				renew_one(s, keys[i]);
			free(keys[i]);
		}
		free(keys);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int
sk_lease_holder(struct store_k8s *s, const char *key, char *holder, size_t holdersz, char *err)
{
	char ns[64], name[256];
	struct k8s_err e;
	json_t *obj = NULL, *spec;
	const char *who;
	int st;

	if ((st = sk_split_key(key, ns, name, err)) != ST_OK)
		return st;
	st = k8s_get(s->c, K8S_RES(LEASES), ns, name, &obj, &e);
	if (st != ST_OK) {
		if (st != ST_NOTFOUND && err != NULL)
			snprintf(err, ERRMSG_MAX, "lease %.60s/%.80s: %.340s", ns, name, e.msg);
		return st;
	}
	spec = json_object_get(obj, "spec");
	who = json_string_value(json_object_get(spec, "holderIdentity"));
	if (who == NULL || who[0] == '\0' || !lease_live(spec, time(NULL)) || holder_gone(who))
		st = ST_NOTFOUND;
	else
		sanitize(holder, holdersz, who, strlen(who));
	json_decref(obj);
	return st;
}
