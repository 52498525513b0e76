/*
 * k8s_lease.h — control of a canary through its Lease perch-<name>
 * (k8s_lease.c): the store_ops acquire, renew and release of
 * store_k8s_ops, the renewer thread that store_k8s_open starts, and one
 * lease operation for store_k8s_close to give the held ones back.
 */
#ifndef PERCH_STORE_K8S_LEASE_H
#define PERCH_STORE_K8S_LEASE_H

#include "store/k8s_core.h"

enum lease_op { L_ACQUIRE, L_RENEW, L_RELEASE };

int sk_lease_do(struct store_k8s *s, const char *key, enum lease_op op, char *holder,
    size_t holdersz, char *err);
int sk_acquire(void *ctx, const char *key, const char *actor, char *holder,
    size_t holdersz, char *err);
int sk_renew(void *ctx, const char *key);
int sk_release(void *ctx, const char *key);
void *sk_renewer(void *arg);
/* store_k8s_holder (k8s.h): who holds the canary's Lease now; one get. */
int sk_lease_holder(struct store_k8s *s, const char *key, char *holder, size_t holdersz,
    char *err);

#endif
