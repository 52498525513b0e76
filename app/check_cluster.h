/*
 * check_cluster.h — `perch check` with --kubeconfig / --context / -n: the
 * MetricTemplates a Canary refers to that the files do not hold are read
 * from the cluster, and a template's secretRef credentials are used for
 * --prometheus (reference §1.2, issue 7).
 *
 * Ownership: struct check_cluster owns its kubeconfig and client
 * (check_cluster_close frees them); set and b are borrowed.  Threads: one
 * thread, before any query runs.
 */
#ifndef PERCH_APP_CHECK_CLUSTER_H
#define PERCH_APP_CHECK_CLUSTER_H

#include <stddef.h>

#include "k8s/kubeconfig.h"
#include "k8s/rest.h"
#include "metrics/backend.h"
#include "metrics/kube.h"
#include "spec/diag.h"
#include "spec/spec.h"

struct check_cluster {
	struct k8s_config *kc;
	struct k8s_client *client;
	struct metric_kube kube;	/* the client, for the keptn backend */
	/* Templates fetched from another namespace than the Canary looks in:
	 * their Secrets live where they came from. */
	struct { char *as, *name, *from; } *moved;
	size_t n_moved;
};

/* Opens the kubeconfig (path, else $KUBECONFIG, else ~/.kube/config) at
 * context (NULL = current) with namespace ns (NULL = the context's).  ST_OK
 * or an error with a one-line reason in err. */
int check_cluster_open(struct check_cluster *cc, const char *path, const char *context,
    const char *ns, char *err, size_t errsz);
void check_cluster_close(struct check_cluster *cc);

/* Loads into set (before spec_validate) every MetricTemplate the Canaries
 * refer to that set lacks, from templateRef.namespace, else the Canary's
 * metadata.namespace, else -n / the context's.  A template that is not on
 * the cluster either is left to the validator to report.  ST_OK, or an
 * API error (err names the template). */
int check_cluster_templates(struct check_cluster *cc, struct spec_set *set,
    struct diag_list *dl, char *err, size_t errsz);

/* Registers `server` (the default backend's, NULL: none) with the
 * credentials of the secretRef of the first template of the default type
 * that has one, and every template of another type with a secretRef with
 * its own server and credentials; ST_OK when none has. */
int check_cluster_creds(struct check_cluster *cc, const struct spec_set *set,
    struct metric_backends *b, const struct metric_provider *server, char *err, size_t errsz);

#endif
