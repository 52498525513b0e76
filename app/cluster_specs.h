/*
 * cluster_specs.h — Canary and MetricTemplate objects read from the cluster
 * into a spec set (spec/spec.h), as if from a file: shared by perch run and
 * perch watch.  Main or engine thread; nothing is kept.
 */
#ifndef PERCH_APP_CLUSTER_SPECS_H
#define PERCH_APP_CLUSTER_SPECS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "k8s/rest.h"
#include "spec/diag.h"
#include "spec/spec.h"

/* metrictemplates.flagger.app */
extern const struct k8s_res cluster_spec_templates;

/* One object of the cluster (item, borrowed; its status left out) into
 * set, named "plural ns/name" in messages; ns NULL: the object's own. */
void cluster_spec_object(struct spec_set *set, const struct k8s_res *res, const char *ns,
    json_t *item, struct diag_list *dl);

/* Called for each Canary object cluster_specs_load lists (item borrowed). */
struct cluster_specs_each {
	void (*fn)(void *arg, json_t *item);
	void *arg;
};

/* Loads the MetricTemplates of namespace ns (NULL: of every namespace)
 * and, unless only_templates, its canaries.flagger.app into set; each
 * Canary is also handed to each (may be NULL).  ST_OK (also when the
 * MetricTemplate CRD is missing), or the error of listing with err saying
 * which. */
int cluster_specs_load(struct k8s_client *c, const char *ns, struct spec_set *set,
    bool only_templates, struct diag_list *dl, const struct cluster_specs_each *each,
    char *err, size_t errsz);

#endif
