/*
 * metric_kube.h — the cluster connection of the metric backends that read
 * the cluster (metrics/kube.h), over a k8s client (k8s/rest.h): perch run
 * and perch check fill one with their client and give it to their
 * metric_backends (struct metric_backend_opts.kube).
 *
 * Ownership: the client is borrowed and must outlive mk.  Threads: as the
 * client (any thread).
 */
#ifndef PERCH_APP_METRIC_KUBE_H
#define PERCH_APP_METRIC_KUBE_H

#include "k8s/rest.h"
#include "metrics/kube.h"

void metric_kube_init(struct metric_kube *mk, struct k8s_client *c);

#endif
