/*
 * k8s.h — durable canary state on the cluster: the `store` provider of
 * engine/providers.h for `perch run` / `perch watch` on a cluster.
 *
 * Per canary "ns/name", in namespace ns:
 *   ConfigMap perch-<name>   labels app.kubernetes.io/managed-by=perch,
 *                            perch.dev/canary=<name>; data:
 *                              status     the canary_status (store/codec.h)
 *                              spec       the canary_cfg, for watchers
 *                              journal.0 .. journal.4
 *                                         the journal (events and check
 *                                         results) in segments, each
 *                                         {"seq":N,"records":[...]} oldest
 *                                         first, segment N in journal.<N%5>;
 *                                         read in seq order they hold at
 *                                         least the last STORE_K8S_JOURNAL
 *                                         records (segments of a quarter of
 *                                         it; a full one starts the next,
 *                                         which replaces the oldest)
 *                              journal    (perch before segments: one JSON
 *                                         array; read first, and folded
 *                                         into segments at the first write)
 *                            every write is one JSON merge patch of the keys
 *                            it changes (created when missing; 409 tried
 *                            again), so each is atomic and none rewrites the
 *                            rest.  append() queues: a thread of the store
 *                            writes the records gathered over 20 ms (a tick's)
 *                            in one patch, keeps them when it fails and tries
 *                            again a second later; close writes what is left;
 *                            tail() first waits (up to 2 s) for what this
 *                            store queued for that canary.
 *                              request.<h>  a command asked of the
 *                                         canary's holder by another perch
 *                                         (h: a hash of that one's identity,
 *                                         one key per requester):
 *                                         {requester, seq, command, actor,
 *                                         timeMs}; written with the
 *                                         ConfigMap's resourceVersion (409:
 *                                         read again, seq recomputed)
 *                              ack.<h>    the holder's answer: {requester,
 *                                         seq, appliedBy, result, timeMs},
 *                                         written in the same patch as the
 *                                         status the command changed, so a
 *                                         request is applied exactly once
 *                                         across restarts and takeovers
 *   Lease perch-<name>       coordination.k8s.io/v1: holderIdentity
 *                            "user@host pid N", leaseDurationSeconds,
 *                            renewTime.  acquire takes it when it is free,
 *                            expired or already ours; otherwise ST_LOCKED
 *                            naming the holder.  A thread of the store renews
 *                            every held lease each third of its duration;
 *                            release (and store_k8s_close) clears the holder.
 *
 * STORE_K8S_JOURNAL is 200 records, STORE_K8S_LEASE_S 30 seconds
 * (store/k8s_core.h).  It shares the state directory's JSON codec
 * (store/codec.h).  A read-only store (watch, status) issues only get,
 * list and watch requests: every mutating op returns ST_REFUSED first.
 *
 * Ownership and threads: store_k8s_open borrows the client (it must outlive
 * the store) and returns a handle freed with store_k8s_close.  Ops may be
 * called from any thread; the renew and journal threads, and the writers of
 * the Canary objects' status (store/k8s_status.h), are the store's own.
 */
#ifndef PERCH_STORE_K8S_H
#define PERCH_STORE_K8S_H

#include <stdbool.h>

#include "engine/providers.h"
#include "k8s/informer.h"
#include "k8s/rest.h"

struct store_k8s;

/* lease_s <= 0 means STORE_K8S_LEASE_S. */
struct store_k8s *store_k8s_open(struct k8s_client *c, bool read_only, int lease_s);
void store_k8s_close(struct store_k8s *s);
/* Watches the perch ConfigMaps of the client's namespace (k8s/informer.h):
 * from then on load, load_spec, tail and list read a local cache fed by the
 * watch while it is in step with the server, and the server otherwise (a
 * watcher sees the controller's writes as soon as they are made, and sends
 * nothing between them).  ST_OK or an error (reads then go to the server).
 * Meant for observers (perch watch); perch run and perch controller use
 * store_k8s_watch_in.  Stopped by store_k8s_close. */
int  store_k8s_watch(struct store_k8s *s);
/* The same for the perch ConfigMaps of namespace ns (NULL: of every
 * namespace), as perch run and perch controller watch them: a canary this
 * store does not hold (another replica's, a controller's) is read from the
 * cache, one it holds always from the server; the requests to the
 * canaries it holds and the answers to its own (store_ops pending and
 * answer) are read from the cache too, so an idle canary costs no request
 * for them.  ST_OK or ST_ERR (then everything is read from the server, and
 * pending finds no request); call once, before other threads use the
 * store. */
int  store_k8s_watch_in(struct store_k8s *s, const char *ns);
void store_k8s_watch_stats(struct store_k8s *s, struct k8s_informer_stats *out);
/* Journal records kept (tests lower it); 0 = STORE_K8S_JOURNAL. */
void store_k8s_set_journal_max(struct store_k8s *s, size_t n);

extern const struct store_ops store_k8s_ops;

/* From now on list (and watch, store_k8s_watch) the canaries of every
 * namespace instead of the client's (-A of perch watch and perch status).
 * Before store_k8s_watch and any list. */
void store_k8s_all_namespaces(struct store_k8s *s);
/* The canaries with saved state in the client's namespace ("ns/name"; the
 * caller frees each and the array): ST_OK, or the error of listing them
 * with err (ERRMSG_MAX, may be NULL) saying why.  store_k8s_ops.list is
 * this with an error taken for no canaries. */
int store_k8s_list(struct store_k8s *s, char ***out, size_t *n, char *err);
/* Who holds the canary's Lease now (perch status): ST_OK with holder
 * filled ("user@host pid N", sanitized) when a live Lease names one,
 * ST_NOTFOUND when nobody holds it (none, released, expired, or held by a
 * process of this host that is gone), or the error of reading the Lease
 * (err, ERRMSG_MAX, may be NULL).  One get request; changes nothing. */
int store_k8s_holder(struct store_k8s *s, const char *canary, char *holder, size_t holdersz,
    char *err);

/* The controller's heartbeat on the cluster (app/heartbeat.h):
 *   ConfigMap perch.heartbeat  in each namespace the controller holds
 *                              canaries in, labels
 *                              app.kubernetes.io/managed-by=perch,
 *                              perch.dev/heartbeat=true; one key per
 *                              controller, beat-<hash of "user@host pid N">:
 *                              {"controller","context","beatMs","everyMs",
 *                              "stopped","apiOk","metricsOk"}
 *   data.controller            of each canary's ConfigMap: who controls it
 *                              (written with its spec)
 * store_k8s_beat is the beat_target write (ctx: the store; one merge patch
 * per namespace); a read-only store refuses it.  The heartbeat ops read
 * both from the watch's cache (store_k8s_watch): a watcher sends nothing
 * for them; ctx is the store. */
int store_k8s_beat(void *ctx, const struct heartbeat *hb, char *err);
extern const struct heartbeat_ops store_k8s_heartbeat_ops;

#endif
