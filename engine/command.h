/*
 * command.h — whether a manual command may run now, and why not: the one
 * judge of COMMAND_LIST's phases and preconditions (engine/canary.h).
 *
 * A struct cmd_facts holds what the preconditions are judged on: the
 * canary's phase and status, who controls it, the gates it waits at, and
 * the readiness of its primary and canary pods.  The engine builds it
 * (machine_facts, engine/machine.h) from the status and, for the commands
 * whose preconditions ask for readiness, observations made just before the
 * command; it refuses a command command_refusal() refuses, and says why.
 * Every snapshot carries the facts the engine last knew of each canary, so
 * the front end judges a key with the same function: its footer shows only
 * the keys that apply, a key that does not apply answers with the reason
 * without sending anything, and its confirmations ask for the commands the
 * table marks so.  The engine still judges again with fresh observations
 * (a pod may have become unready since).
 *
 * Pure functions and plain data; any thread.
 */
#ifndef PERCH_ENGINE_COMMAND_H
#define PERCH_ENGINE_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/canary.h"

/* A workload's readiness as last observed. */
enum ready_state { READY_UNKNOWN, READY_YES, READY_NO };

struct cmd_facts {
	enum phase phase;
	/* Control: false in perch watch (watch), for a canary whose saved
	 * status is damaged (corrupt), whose object was deleted (deleted),
	 * that cannot be driven (refused) or held by another process (holder). */
	bool control;
	bool watch;
	bool corrupt;
	bool deleted;			/* its Canary object was deleted: let go */
	bool refused;			/* its configuration or provider cannot be
					 * driven ... */
	char refused_why[200];		/* ... and why ("cannot drive shop/cart: ..."), "" */
	char holder[96];		/* who controls it instead, or "" */
	/* Held by another process that takes requests (store_ops.request):
	 * a command is asked of the holder instead (engine/runner_request.c),
	 * so control does not refuse it. */
	bool requestable;
	bool paused;
	bool skip_requested;
	unsigned manual_gate;		/* CONFIRM_* gate waiting for a person now, 0 = none */
	bool pre_rollout_pending;	/* first step: its pre-rollout webhooks have not run */
	bool traffic_gate;		/* a confirm-traffic-increase webhook holds the weight */
	bool promotion_next;		/* the next step is the promotion ... */
	bool promotion_gated;		/* ... and it waits for approval (gate or webhook) */
	char failed_rev[72];		/* the failed revision, "" = none known */
	char target_rev[72];		/* the target's revision when observed, "" = unknown */
	enum ready_state primary, canary;
	char primary_why[200];		/* "checkout-primary.shop not ready: ...", "" */
	char canary_why[200];		/* "canary deployment cart.shop not ready: ...", "" */
	/* A canary another controller drives (Flagger): its commands are that
	 * controller's controls (cluster_ops.external_command), judged by
	 * command_allowed on its webhooks (1u << HOOK_*) alone. */
	bool driven;
	unsigned driven_hooks;
};

/* The table's columns. */
unsigned command_phases(enum command_kind c);	/* 1u << PHASE_* */
unsigned command_preconds(enum command_kind c);	/* 1u << PRE_* */
bool command_asks(enum command_kind c);		/* a person confirms it first */
const char *precond_text(enum precond p);

/* Judges command c against f: true when it may run.  When it may not,
 * writes why (at most whysz bytes, may be NULL/0), e.g. "canary deployment
 * cart.shop not ready: 2 of 3 updated replicas are available", and the
 * precondition that failed into *failed (may be NULL). */
bool command_allowed(enum command_kind c, const struct cmd_facts *f, char *why, size_t whysz,
    enum precond *failed);

/* The words of a skipped or forced promotion recorded in st (st->override),
 * e.g. "promoted with analysis skipped by alice@host, 3 of 5 checks
 * failed"; "" when there is none.  Returns out. */
char *override_text(const struct canary_status *st, char *out, size_t outsz);

#endif
