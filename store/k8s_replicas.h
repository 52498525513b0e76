/*
 * k8s_replicas.h — the live replicas of `perch controller`, for the fair
 * share of the per-canary Leases (k8s_replicas.c).
 *
 * Each replica keeps one coordination.k8s.io/v1 Lease of its own,
 * perch-replica-<identity> (labelled perch.dev/role=controller) in its
 * namespace: renewed each third of the lease duration by a thread of its
 * own, which lists the namespace's replica Leases at the same time:
 * live are those whose renewTime + leaseDurationSeconds is in the future,
 * itself included.  A replica that dies stops renewing and drops out of
 * the count within one lease duration; one that stops deletes its Lease.
 *
 * Ownership: replicas_start returns a handle freed by replicas_stop; the
 * client is borrowed and must outlive it.  Threads: replicas_live from any
 * thread.
 */
#ifndef PERCH_STORE_K8S_REPLICAS_H
#define PERCH_STORE_K8S_REPLICAS_H

#include <stddef.h>

#include "k8s/rest.h"

struct replicas;

/* Writes this replica's Lease once (a failure is logged, not fatal: the
 * thread tries again) and starts the renewing thread; NULL only when the
 * thread cannot start.  identity names the Lease: its characters outside
 * [a-z0-9.-] become '-', lowercase. */
struct replicas *replicas_start(struct k8s_client *c, const char *ns, const char *identity,
    int lease_s);
/* The live replicas now, at least 1 (this one): the others whose Lease,
 * as last listed, has not expired.  A replica that died drops out when
 * its Lease expires, as its canaries' Leases do. */
size_t replicas_live(struct replicas *rs);
/* Stops the thread and deletes this replica's Lease.  NULL is ignored. */
void replicas_stop(struct replicas *rs);

#endif
