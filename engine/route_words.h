/*
 * route_words.h — the object a canary's provider routes through, in words
 * for the detail screen ("TrafficSplit checkout", "Ingress web-canary"):
 * the kind and name each provider's router writes (reference §4,
 * routers-providers §0.3).  Pure; any thread.
 */
#ifndef PERCH_ENGINE_ROUTE_WORDS_H
#define PERCH_ENGINE_ROUTE_WORDS_H

#include <stddef.h>

#include "engine/canary.h"

/* "<Kind> <name>" of c's route object into out (n bytes); "" for a
 * provider the registry does not know. */
void route_words(const struct canary_cfg *c, char *out, size_t n);

#endif
