/*
 * helper_canary.h — the Canary the engine's tests share (test_machine,
 * test_runner, test_runner_slow): issue 4's canonical checkout canary
 * (interval 30s, threshold 5, maxWeight 50, stepWeight 10) with its two
 * built-in metrics, and webhooks added to it.
 *
 * Ownership: fixture_canary returns a new canary_cfg (canary_cfg_free);
 * fixture_add_hook's hook belongs to the canary.  Any thread.
 */
#ifndef PERCH_TESTS_HELPER_CANARY_H
#define PERCH_TESTS_HELPER_CANARY_H

#include <stddef.h>

#include "engine/canary.h"

/* shop/NAME targeting the Deployment NAME through linkerd: interval 30s,
 * threshold 5, maxWeight 50, stepWeight 10, progressDeadline 600s, no-data
 * holds; the first n_metrics (0..2) of request-success-rate >= 99 and
 * request-duration <= 500 ms. */
struct canary_cfg *fixture_canary(const char *name, size_t n_metrics);

/* Adds a webhook NAME of type t (URL http://127.0.0.1:9/, which nothing
 * serves: the tests answer through their own webhook_ops). */
struct hook_cfg *fixture_add_hook(struct canary_cfg *c, const char *name, enum hook_type t);

#endif
