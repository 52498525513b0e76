/*
 * k8s_core.h — what the files of the cluster store share (k8s.c,
 * k8s_journal.c, k8s_lease.c, k8s_beat.c), defined in k8s_core.c: the
 * handle, canary keys and object names, and the reads and merge patches
 * of a canary's ConfigMap.  Not for other modules: use k8s.h.  The
 * layers: k8s.c (the store_ops) -> k8s_journal.c, k8s_lease.c ->
 * k8s_core.c; k8s_beat.c (the heartbeat) -> k8s_core.c.
 */
#ifndef PERCH_STORE_K8S_CORE_H
#define PERCH_STORE_K8S_CORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/providers.h"
#include "k8s/informer.h"
#include "k8s/rest.h"

#define STORE_K8S_JOURNAL	200	/* records kept in the ConfigMap */
#define STORE_K8S_LEASE_S	30	/* default lease duration, seconds */
#define STORE_K8S_STATUS_WRITERS 4	/* threads writing Canary statuses */

struct store_k8s {
	struct k8s_client *c;
	bool read_only;
	int lease_s;
	size_t journal_max;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t renewer;
	bool running, stopping;
	char id[160];			/* our holderIdentity */
	pthread_mutex_t hlock;		/* held alone, never for a request */
	json_t *held;			/* "ns/name" of each held lease -> true, in
					 * the order taken (no cap; hlock) */
	json_t *leases;			/* "ns/name" -> our Lease as last written
					 * (hlock) */
	json_t *lbusy;			/* "ns/name" -> true while a thread takes,
					 * renews or gives back that Lease: one at a
					 * time per Lease, several Leases at once
					 * (hlock; hcond signals the end of one) */
	pthread_cond_t hcond;
	json_t *cstatus;		/* "ns/name" -> the Canary status last written, or
					 * null: no Canary object (k8s_status.c; hlock) */
	json_t *ckind;			/* "ns/name" -> its target's kind (hlock) */

	/* The Canary status writers (k8s_status.c), under wlock: the newest
	 * status not yet written per canary (wq), the canaries being written
	 * (wbusy); wcond signals a new one, a write done, and stop. */
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	pthread_t wth[STORE_K8S_STATUS_WRITERS];
	size_t n_wth;
	bool wstarted, wstop;
	json_t *wq;
	json_t *wbusy;
	struct k8s_informer *cms;	/* store_k8s_watch: the perch ConfigMaps, or NULL */
	bool all_ns;			/* store_k8s_all_namespaces: list and watch every one */
	char cms_ns[64];		/* their namespace; "" every namespace */
	json_t *acks;			/* "ns/name" -> {"ack.<h>": text} staged for its
					 * next save (k8s_request.c; lock) */
	json_t *acked;			/* "ns/name" -> {"ack.<h>": seq} staged or
					 * written by this store (lock) */
	json_t *asked;			/* "ns/name" -> {seq, timeMs} of the last
					 * request this store wrote (lock) */

	/* The journal writer (see "the journal" below). */
	pthread_mutex_t jlock;		/* jqueue and the flags */
	pthread_cond_t jcond;
	pthread_t jthread;
	bool jrunning, jstop, jbusy, jflushing;
	json_t *jqueue;			/* "ns/name" -> [records] not yet written */
	json_t *jstate;			/* writer thread: "ns/name" -> newest segment */
	json_t *jfail;			/* "ns/name" -> why its last write failed (jlock) */
	bool jwarned;			/* writer thread: a failure was logged */

	/* The heartbeat (see "the heartbeat" below), under blk. */
	pthread_mutex_t blk;
	json_t *beat_ns;		/* namespaces a beat was written to -> true */
	struct seen_beat {		/* reader: when each controller's beat
					 * was first seen, on this clock */
		char id[160];
		int64_t beat_ms, seen_mono, age_at_seen;
	} seen[16];
	size_t n_seen;
};

bool sk_holds(struct store_k8s *s, const char *key);
int sk_cached_cm(struct store_k8s *s, const char *ns, const char *name, json_t **cm);
int sk_split_key(const char *key, char *ns, char *obj, char *err);
void sk_now_micro(char *out, size_t sz);
const char *sk_data_get(json_t *cm, const char *key);
int sk_refuse(struct store_k8s *s);
int sk_cm_get(struct store_k8s *s, const char *key, json_t **cm, char *err);
int sk_cm_patch(struct store_k8s *s, const char *key, json_t *data, char *err);
int sk_put_field(struct store_k8s *s, const char *key, const char *field, json_t *value,
    char *err);
int sk_get_field(struct store_k8s *s, const char *key, const char *field, json_t **out,
    char *err);

#endif
