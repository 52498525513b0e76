/*
 * dir_journal.h — the journal of the state-directory store (dir_journal.c):
 * the store_ops append and tail of store_dir_ops, and the batched fsync
 * that dir.c asks for before a status save, at release and at close.
 * Threads: as store_dir_ops (dir.h).
 */
#ifndef PERCH_STORE_DIR_JOURNAL_H
#define PERCH_STORE_DIR_JOURNAL_H

#include "engine/providers.h"
#include "store/dir_core.h"

int sd_append(void *ctx, const struct journal_rec *rec, char *err);
/* Makes the canary's journal durable (fdatasync) when it has appends that
 * are not yet; before a status save, at release and at close.  Mutex not
 * held. */
void sd_journal_sync(struct store_dir *sd, const char *canary);
size_t sd_tail(void *ctx, const char *canary, struct journal_rec *out, size_t max);

#endif
