/*
 * alert_providers.h — the AlertProviders (reference §1.3) a run's alerts go
 * to, resolved for the notifier (metrics/notify.h): for every
 * analysis.alerts entry of a canary, the AlertProvider named by providerRef
 * (namespace: providerRef.namespace, else the canary's) among the
 * documents loaded (the -f files, or the namespace's objects), else the
 * alertproviders.flagger.app object on the cluster; its secretRef Secret
 * read from the cluster in the provider's namespace (key `address`
 * required, it replaces spec.address; key `token` optional).
 *
 * A provider that cannot be used (missing, unknown type, Secret unreadable
 * or without address) does not stop the run: it is registered as broken,
 * so each alert to it becomes a Warning event saying why, and a warning is
 * written to `warn` (may be NULL) now.  Reasons name the objects and keys
 * only, never an address or a token.
 *
 * Ownership: everything is borrowed; what the notifier keeps it copies,
 * and secrets read here are wiped.  Threads: before the engine starts.
 */
#ifndef PERCH_APP_ALERT_PROVIDERS_H
#define PERCH_APP_ALERT_PROVIDERS_H

#include <stdio.h>

#include "k8s/rest.h"
#include "metrics/notify.h"
#include "spec/spec.h"

/* Registers the providers of cfg's alerts (cfg: the canary as loaded, its
 * namespace final) with n; sc is its spec (in set).  kc may be NULL (no
 * cluster: a provider not in set, or with a secretRef, is broken).
 * Returns the number of broken providers found. */
size_t alert_providers_register(struct k8s_client *kc, const struct spec_set *set,
    const struct canary_cfg *cfg, struct notifier *n, FILE *warn);

#endif
