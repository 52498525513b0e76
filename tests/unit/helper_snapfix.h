/*
 * helper_snapfix.h — fixed snapshots for the front end's tests: the canaries
 * of SCREENS.md (progressing, waiting for approval, failed, held, succeeded,
 * blue/green), with metric histories and events, at a fixed time.
 */
#ifndef PERCH_TESTS_HELPER_SNAPFIX_H
#define PERCH_TESTS_HELPER_SNAPFIX_H

#include "engine/snapshot.h"

/* 2026-11-26 14:02:31 UTC */
#define SNAPFIX_NOW_MS 1795701751000LL

/* A snapshot with the fixture canaries; snapshot_unref() frees it. */
struct snapshot *snapfix_new(void);
/* Fills each canary's command facts (engine/command.h) from its fields,
 * as the runner would: phase, control, pause, the manual gate it waits
 * at, the failed revision; readiness unknown.  Call again after changing
 * them. */
void snapfix_facts(struct snapshot *s);

#endif
