/*
 * k8s_journal.h — the journal of the cluster store (k8s_journal.c): the
 * store_ops append and tail of store_k8s_ops, and the writer thread that
 * store_k8s_open starts (ctx: the store).
 */
#ifndef PERCH_STORE_K8S_JOURNAL_H
#define PERCH_STORE_K8S_JOURNAL_H

#include "store/k8s_core.h"

void *sk_journal_writer(void *arg);
int sk_append(void *ctx, const struct journal_rec *rec, char *err);
size_t sk_tail(void *ctx, const char *key, struct journal_rec *out, size_t max);

#endif
