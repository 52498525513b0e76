/*
 * spec_json.h — a spec YAML node as JSON (for route objects built from the
 * Canary's passed-through fields).
 *
 * Ownership: the result is a new reference (json_decref it); the node is
 * borrowed.  Threads: pure, no shared state.
 */
#ifndef PERCH_APP_SPEC_JSON_H
#define PERCH_APP_SPEC_JSON_H

#include <jansson.h>

#include "spec/spec.h"

/* Mappings become objects, sequences arrays; an unquoted scalar that is
 * true/false, null (~, null, empty) or a decimal integer is typed as such,
 * as a Kubernetes API server reads YAML; every other scalar is a string.
 * NULL gives JSON null. */
json_t *spec_node_json(const struct spec_node *n);

#endif
