#!/usr/bin/env python3
"""A small Kubernetes API server for perch's tests and for trying perch by hand.

No real API server can be installed where perch is tested, so this one serves
the subset of the Kubernetes API that perch and `kubectl` rely on, held honest
by driving it with the real `kubectl`:

  core/v1                       namespaces, services, configmaps, secrets, events
  apps/v1                       deployments (+ a status simulation, /status, /scale),
                                daemonsets (+ a status simulation on NODES nodes, /status)
  core/v1                       serviceaccounts (stored only: deploy/ is applied to it)
  coordination.k8s.io/v1        leases
  rbac.authorization.k8s.io/v1  clusterroles, clusterrolebindings (stored; not enforced)
  networking.k8s.io/v1          ingresses
  gateway.networking.k8s.io     httproutes (v1, v1beta1)
  split.smi-spec.io             trafficsplits (v1alpha1, v1alpha2, v1alpha3)
  networking.istio.io/v1beta1   virtualservices, destinationrules
  serving.knative.dev/v1        services, revisions (+ a Knative simulation, /status)
  appmesh.k8s.aws               virtualnodes, virtualservices (v1beta2, v1beta1), virtualrouters (v1beta2)
  flagger.app/v1beta1           canaries (+ /status), metrictemplates, alertproviders
  metrics.keptn.sh/v1beta1      keptnmetrics, analyses (+ /status)

The external metrics API, /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC,
answers from the ConfigMap external-metrics of NS (key METRIC, a quantity).

The service proxy, /api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH,
forwards to 127.0.0.1:LOCALPORT for each --service-proxy NS/NAME:PORT=LOCALPORT
(the Service must exist: 404; no mapping for it: 503 "no endpoints
available"), as a real API server forwards to the Service's endpoints.

Discovery (legacy and aggregated), a minimal OpenAPI v3 index, Tables for
`kubectl get` (lists, objects and watch events; a CRD's printer columns),
resourceVersion / generation / uid / creationTimestamp kept as the real
server keeps them (generation only for the kinds that have one: spec changes
of Deployments and Ingresses, Deployment annotations, any change but metadata
and status of a custom resource; a write that changes nothing keeps the
resourceVersion), 401/403/404/409/410/422 Status objects, JSON and protobuf
request bodies (kubectl's typed clients send protobuf: see k8s_proto.py),
a Secret's stringData folded into base64 data, the status and scale
subresources, merge, JSON and strategic merge patch (and server-side apply,
approximated as create-or-merge-patch), watch streams, label and field
selectors, bearer tokens (or, with TLS, client certificates with CN rw / ro) for a
read-write and a read-only identity, TLS with a generated CA, an audit log, a
log of every object written and fault injection.

Usage:
  python3 tests/k8s/apiserver.py [--port N] [--token-rw TOKEN] [--token-ro TOKEN]
      [--audit-log FILE] [--objects-log FILE] [--tls-dir DIR] [--kubeconfig-out FILE]
      [--ready-delay SECONDS] [--fault-latency MS] [--fault-5xx N]
      [--fault-409 N] [--fault-drop N] [--fault-path REGEX]
      [--faults RATE] [--seed N] [--fault-mix KIND:WEIGHT,...] [--fault-match REGEX]
      [--fault-slow-ms MS] [--fault-users USER,...] [--objects-log-match REGEX]
      [--token NAME=TOKEN]... [--tokens-file FILE] [--token-readonly NAME=TOKEN]...

Deployment status simulation: after a change of spec a Deployment reports its
new replicas as updated but unavailable; --ready-delay seconds later it is
available.  The annotation test.perch.dev/never-ready: "true" keeps one replica
unavailable; past spec.progressDeadlineSeconds its Progressing condition turns
False with reason ProgressDeadlineExceeded.  A DaemonSet runs one pod on each
of the NODES (3) simulated nodes its pod template's nodeSelector matches (the
nodes carry kubernetes.io/os=linux and kubernetes.io/hostname=node-N); its
status counters move the same way, never-ready keeping one pod unavailable.

Knative simulation: creating a Knative Service, or changing its
spec.template, creates the Revision <svc>-0000N (N counting up) with the
template's spec; --ready-delay seconds later its Ready condition turns True
(False, reason RevisionFailed, when the template carries the annotation
test.perch.dev/never-ready: "true").  The Service's status keeps
latestCreatedRevisionName, latestReadyRevisionName and traffic: spec.traffic
(default: all to the latest revision) with each latestRevision entry resolved
to the latest ready revision, recomputed when the spec or a Revision changes.
Deleting the Service deletes its Revisions.

Random faults (--faults RATE --seed N; see chaos.py): a seeded share RATE of
the requests to resource paths gets one of 500, 503, 429 (with Retry-After),
409 (on an update), 410 Gone (a watch from a resourceVersion), a watch cut
mid-stream, an answer held back past the client's timeout (--fault-slow-ms,
the request carried out), or a connection reset mid-body (carried out).
--fault-mix weighs the kinds, --fault-match limits them to matching paths,
--fault-users to some identities (NAME* matches a prefix).  --token
NAME=TOKEN adds a read-write identity named NAME in the logs (a soak gives
each process its own; --tokens-file FILE reads one NAME=TOKEN a line).
--token-readonly NAME=TOKEN adds an identity whose role may only get, list
and watch (as ro, and as deploy/'s ClusterRole perch-watcher): any other
verb answers 403 Forbidden naming the identity, the verb and the resource.

Counted faults (flags at start, or at run time through the control endpoint):
  POST /_test/faults   {"latency_ms": 200, "error_5xx": 3, "conflict": 2,
                        "drop": 1, "path": "deployments", "methods": "PUT,PATCH"}
      latency_ms  delay added to every matching request
      error_5xx   the next N matching requests answer 503
      conflict    the next N matching writes (PUT/PATCH/POST) answer 409
      drop        the next N matching requests get their connection closed
                  without an answer (a running watch on a matching path is cut)
      path        a regular expression the request path must match (default: all)
      methods     the HTTP methods faults apply to, comma-separated (default: all)
      The random faults' settings go in the same object: "rate", "seed",
      "mix", "match", "slow_ms", "methods", "users", "watch_rate", "count"
      (see chaos.py).
  GET  /_test/faults   the current settings, and "injected": the random
                       faults so far, by kind
  POST /_test/compact  forget the watch history: older resourceVersions get 410
The control endpoints need no token; they are logged like every request.

Audit log: one line per request, `METHOD PATH?QUERY USER STATUS`, USER being
rw, ro or - (no valid token), followed by ` fault=KIND` when a fault was
injected (KIND: 500, 503, 429, 409, 410, cut, slow, reset, drop).  A dropped
connection is logged with status 0.

Objects log (--objects-log): one JSON line per write a client made (create,
update, patch, apply, and their status and scale subresources):
{"verb", "user", "agent", "path", "time", "object"}, the object as stored
after the write, with the apiVersion the client used (--objects-log-match:
only writes to matching paths).  tests/schema/check.mjs checks
each against its kind's schema.
"""

import argparse
import base64
import bisect
import copy
import datetime
import json
import os
import re
import socket
import http.client
import itertools
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import chaos
import k8s_proto

# ---------------------------------------------------------------------------
# Resource catalogue

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class Res:
    """One resource type: where it is served and how it is stored."""

    def __init__(self, group, versions, plural, kind, namespaced=True, short=(),
                 status=False, scale=False, categories=(), generation=None, columns=None):
        self.group = group
        self.versions = versions
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short = list(short)
        self.status = status
        self.scale = scale
        self.categories = list(categories)
        self.singular = kind.lower()
        # How metadata.generation is kept, as the real server's strategy for
        # the kind: None (the kind has none), "spec" (spec changes),
        # "spec+annotations" (Deployments), or "crd" (custom resources:
        # every change but metadata and status).
        self.generation = generation
        # kubectl get columns after NAME: (header, type, path, priority);
        # None: the default AGE column.
        self.columns = columns


RESOURCES = [
    Res("", ["v1"], "namespaces", "Namespace", namespaced=False, short=["ns"], status=True),
    Res("", ["v1"], "services", "Service", short=["svc"], status=True, categories=["all"]),
    Res("", ["v1"], "configmaps", "ConfigMap", short=["cm"]),
    Res("", ["v1"], "secrets", "Secret"),
    Res("", ["v1"], "events", "Event", short=["ev"]),
    Res("", ["v1"], "serviceaccounts", "ServiceAccount", short=["sa"]),
    Res("apps", ["v1"], "deployments", "Deployment", short=["deploy"], status=True, scale=True,
        categories=["all"], generation="spec+annotations"),
    Res("apps", ["v1"], "daemonsets", "DaemonSet", short=["ds"], status=True,
        categories=["all"], generation="spec"),
    Res("coordination.k8s.io", ["v1"], "leases", "Lease"),
    Res("rbac.authorization.k8s.io", ["v1"], "clusterroles", "ClusterRole", namespaced=False),
    Res("rbac.authorization.k8s.io", ["v1"], "clusterrolebindings", "ClusterRoleBinding",
        namespaced=False),
    Res("networking.k8s.io", ["v1"], "ingresses", "Ingress", short=["ing"], status=True,
        generation="spec"),
    Res("gateway.networking.k8s.io", ["v1", "v1beta1"], "httproutes", "HTTPRoute", status=True,
        generation="crd"),
    Res("split.smi-spec.io", ["v1alpha3", "v1alpha2", "v1alpha1"], "trafficsplits", "TrafficSplit",
        short=["ts"], generation="crd"),
    Res("networking.istio.io", ["v1beta1"], "virtualservices", "VirtualService", short=["vs"],
        generation="crd"),
    Res("networking.istio.io", ["v1beta1"], "destinationrules", "DestinationRule", short=["dr"],
        generation="crd"),
    Res("projectcontour.io", ["v1"], "httpproxies", "HTTPProxy", short=["proxy", "proxies"],
        status=True, generation="crd"),
    Res("gloo.solo.io", ["v1"], "upstreams", "Upstream", short=["us"], status=True,
        generation="crd"),
    Res("gateway.solo.io", ["v1"], "routetables", "RouteTable", short=["rt"], status=True,
        generation="crd"),
    Res("traefik.io", ["v1alpha1"], "traefikservices", "TraefikService", generation="crd"),
    Res("kuma.io", ["v1alpha1"], "trafficroutes", "TrafficRoute", namespaced=False,
        generation="crd"),
    Res("apisix.apache.org", ["v2"], "apisixroutes", "ApisixRoute", short=["ar"], status=True,
        generation="crd"),
    Res("serving.knative.dev", ["v1"], "services", "Service", short=["ksvc"], status=True,
        generation="crd"),
    Res("serving.knative.dev", ["v1"], "revisions", "Revision", short=["rev"], status=True,
        generation="crd"),
    Res("appmesh.k8s.aws", ["v1beta2", "v1beta1"], "virtualnodes", "VirtualNode",
        generation="crd"),
    Res("appmesh.k8s.aws", ["v1beta2"], "virtualrouters", "VirtualRouter", generation="crd"),
    Res("appmesh.k8s.aws", ["v1beta2", "v1beta1"], "virtualservices", "VirtualService",
        generation="crd"),
    # Flagger's CRD: its printer columns, the wide ones at priority 1.
    Res("flagger.app", ["v1beta1"], "canaries", "Canary", short=["canary"], status=True,
        categories=["all"], generation="crd", columns=[
            ("Status", "string", "status.phase", 0),
            ("Weight", "string", "status.canaryWeight", 0),
            ("Suspended", "boolean", "spec.suspend", 1),
            ("FailedChecks", "string", "status.failedChecks", 1),
            ("Interval", "string", "spec.analysis.interval", 1),
            ("Mirror", "boolean", "spec.analysis.mirror", 1),
            ("StepWeight", "string", "spec.analysis.stepWeight", 1),
            ("StepWeights", "string", "spec.analysis.stepWeights", 1),
            ("MaxWeight", "string", "spec.analysis.maxWeight", 1),
            ("LastTransitionTime", "string", "status.lastTransitionTime", 0)]),
    Res("flagger.app", ["v1beta1"], "metrictemplates", "MetricTemplate", short=["mt"],
        generation="crd", columns=[("Provider", "string", "spec.provider.type", 0)]),
    Res("flagger.app", ["v1beta1"], "alertproviders", "AlertProvider", generation="crd",
        columns=[("Type", "string", "spec.type", 0)]),
    # Keptn's, read by the keptn metric provider.
    Res("metrics.keptn.sh", ["v1beta1"], "keptnmetrics", "KeptnMetric", status=True,
        generation="crd", columns=[("Provider", "string", "spec.provider.name", 0),
                                   ("Query", "string", "spec.query", 0),
                                   ("Value", "string", "status.value", 0)]),
    Res("metrics.keptn.sh", ["v1beta1"], "analyses", "Analysis", status=True, generation="crd",
        columns=[("AnalysisDefinition", "string", "spec.analysisDefinition.name", 0),
                 ("State", "string", "status.state", 0),
                 ("Pass", "string", "status.pass", 0)]),
]

BY_GROUP = {}
for _r in RESOURCES:
    for _v in _r.versions:
        BY_GROUP.setdefault((_r.group, _v), {})[_r.plural] = _r
GROUP_ORDER = []
for _r in RESOURCES:
    if _r.group not in GROUP_ORDER:
        GROUP_ORDER.append(_r.group)


def api_version(group, version):
    return version if group == "" else group + "/" + version


# Strategic merge patch: list fields merged by a key instead of replaced.
MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumes": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "conditions": "type", "ownerReferences": "uid", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "tolerations": "key",
}
# "ports" merges by containerPort inside a container, by port in a Service.
PORTS_KEY = {"container": "containerPort", "service": "port"}


def now_rfc3339(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details


def status_obj(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason, "code": code}
    if details:
        s["details"] = details
    return s


# ---------------------------------------------------------------------------
# Patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", "invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, list):
            cur = cur[int(p)]
        else:
            cur = cur[p]
    return cur


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    doc = copy.deepcopy(doc)
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
    for op in ops:
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            if kind in ("add", "replace", "test"):
                value = op["value"]
            if kind in ("move", "copy"):
                value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
                if kind == "move":
                    doc = json_patch(doc, [{"op": "remove", "path": op["from"]}])
                kind = "add"
            if kind == "test":
                if _walk(doc, parts) != value:
                    raise ApiError(422, "Invalid", "test operation failed at %s" % op["path"])
                continue
            if not parts:
                if kind in ("add", "replace"):
                    doc = copy.deepcopy(value)
                    continue
                raise ApiError(422, "Invalid", "cannot remove the whole document")
            parent = _walk(doc, parts[:-1])
            last = parts[-1]
            if isinstance(parent, list):
                if kind == "add":
                    idx = len(parent) if last == "-" else int(last)
                    if idx > len(parent) or idx < 0:
                        raise IndexError(idx)
                    parent.insert(idx, copy.deepcopy(value))
                elif kind == "replace":
                    parent[int(last)] = copy.deepcopy(value)
                elif kind == "remove":
                    del parent[int(last)]
                else:
                    raise ApiError(422, "Invalid", "unknown operation %r" % kind)
            elif isinstance(parent, dict):
                if kind == "add":
                    parent[last] = copy.deepcopy(value)
                elif kind == "replace":
                    if last not in parent:
                        raise KeyError(last)
                    parent[last] = copy.deepcopy(value)
                elif kind == "remove":
                    del parent[last]
                else:
                    raise ApiError(422, "Invalid", "unknown operation %r" % kind)
            else:
                raise KeyError(last)
        except ApiError:
            raise
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "Invalid",
                           "the JSON patch could not be applied: %s %s: %s"
                           % (op.get("op") if isinstance(op, dict) else op,
                              op.get("path") if isinstance(op, dict) else "", e))
    return doc


def _merge_key(field, context):
    if field == "ports":
        return PORTS_KEY.get(context)
    return MERGE_KEYS.get(field)


def _context_for(field, context):
    if field in ("containers", "initContainers", "ephemeralContainers"):
        return "container"
    if field == "spec" and context == "service":
        return "service"
    return context


def strategic_merge(target, patch, context=""):
    """Strategic merge patch, enough for kubectl apply and kubectl set image."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target)
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k.startswith("$setElementOrder/") or k in ("$retainKeys", "$patch"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
            continue
        sub = _context_for(k, context)
        if isinstance(v, list):
            key = _merge_key(k, sub)
            out[k] = _merge_list(out.get(k), v, key, sub,
                                 patch.get("$setElementOrder/" + k))
        elif isinstance(v, dict):
            merged = strategic_merge(out.get(k), v, sub)
            if merged is None:
                out.pop(k, None)
            else:
                out[k] = merged
        else:
            out[k] = v
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(current, patch, key, context, order):
    if key is None or not isinstance(current, list) or \
            not all(isinstance(x, dict) for x in patch):
        if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
            return [copy.deepcopy(x) for x in patch if x.get("$patch") != "replace"]
        return copy.deepcopy(patch)
    out = [copy.deepcopy(x) for x in current]
    for item in patch:
        if item.get("$patch") == "replace":
            return [copy.deepcopy(x) for x in patch if x is not item]
        idx = next((i for i, x in enumerate(out)
                    if isinstance(x, dict) and x.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del out[idx]
            continue
        if idx is None:
            merged = strategic_merge({}, item, context)
            out.append(merged)
        else:
            out[idx] = strategic_merge(out[idx], item, context)
    if isinstance(order, list):
        keyed = {x.get(key): x for x in out if isinstance(x, dict)}
        ordered = [keyed.pop(o.get(key)) for o in order
                   if isinstance(o, dict) and o.get(key) in keyed]
        out = ordered + [x for x in out if isinstance(x, dict) and x.get(key) in keyed]
    return out


# ---------------------------------------------------------------------------
# Selectors

_SEL_SET = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(sel):
    parts, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_label_selector(sel):
    """Returns a list of predicates over a labels dict."""
    preds = []
    for term in _split_selector(sel or ""):
        term = term.strip()
        m = _SEL_SET.match(term)
        if m:
            key, op = m.group(1), m.group(2)
            vals = [v.strip() for v in m.group(3).split(",") if v.strip()]
            if op == "in":
                preds.append(lambda l, k=key, vs=vals: l.get(k) in vs)
            else:
                preds.append(lambda l, k=key, vs=vals: l.get(k) not in vs)
        elif "!=" in term:
            k, v = [x.strip() for x in term.split("!=", 1)]
            preds.append(lambda l, k=k, v=v: l.get(k) != v)
        elif "==" in term or "=" in term:
            k, v = [x.strip() for x in re.split("==?", term, maxsplit=1)]
            preds.append(lambda l, k=k, v=v: l.get(k) == v)
        elif term.startswith("!"):
            preds.append(lambda l, k=term[1:].strip(): k not in l)
        elif re.match(r"^[A-Za-z0-9./_-]+$", term):
            preds.append(lambda l, k=term: k in l)
        else:
            raise ApiError(400, "BadRequest", "unable to parse requirement: %r" % term)
    return preds


def _field_value(obj, path):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return None if cur is None else str(cur)


def parse_field_selector(sel):
    preds = []
    for term in _split_selector(sel or ""):
        term = term.strip()
        if "!=" in term:
            k, v = term.split("!=", 1)
            preds.append(lambda o, k=k.strip(), v=v.strip(): _field_value(o, k) != v)
        elif "=" in term:
            k, v = re.split("==?", term, maxsplit=1)
            preds.append(lambda o, k=k.strip(), v=v.strip(): (_field_value(o, k) or "") == v)
        else:
            raise ApiError(400, "BadRequest", "invalid field selector: %r" % term)
    return preds


def matches(obj, label_preds, field_preds):
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(p(labels) for p in label_preds) and all(p(obj) for p in field_preds)


# ---------------------------------------------------------------------------
# The store: every object, one resourceVersion counter, a watch history.

class Store:
    HISTORY = 5000

    def __init__(self, ready_delay):
        self.lock = threading.Condition()
        self.rv = 1
        self.objects = {}          # (group, plural) -> {(ns, name): obj}
        self.history = []          # (rv, (group, plural), type, obj)
        self.gone_upto = 0         # watches from here or older get 410 (compaction)
        self.trimmed_upto = 0      # the newest rv dropped from the history
        self.ready_delay = ready_delay
        self.changed_at = {}       # (plural, ns, name) of a workload -> its last spec change
        self.quiet = set()         # (plural, ns, name) of workloads whose status no longer
                                   # moves until they are written (simulate skips them)
        for ns in ("default", "kube-system"):
            self.create(BY_GROUP[("", "v1")]["namespaces"], None,
                        {"metadata": {"name": ns}, "spec": {"finalizers": ["kubernetes"]}})

    # -- helpers (callers hold the lock) --
    def _bucket(self, res):
        return self.objects.setdefault((res.group, res.plural), {})

    def _record(self, res, etype, obj):
        md = obj["metadata"]
        self.quiet.discard((res.plural, md.get("namespace"), md["name"]))
        self.history.append((int(obj["metadata"]["resourceVersion"]),
                             (res.group, res.plural), etype, copy.deepcopy(obj)))
        if len(self.history) > self.HISTORY:
            drop = len(self.history) - self.HISTORY
            self.trimmed_upto = self.history[drop - 1][0]
            del self.history[:drop]
        self.lock.notify_all()

    def _next_rv(self):
        self.rv += 1
        return str(self.rv)

    def compact(self):
        """Every resourceVersion up to now becomes too old to start a watch from;
        running watches go on."""
        with self.lock:
            self.gone_upto = self.rv
            self.rv += 1
            self.lock.notify_all()

    # -- operations --
    def get(self, res, ns, name):
        with self.lock:
            obj = self._bucket(res).get((ns, name))
            if obj is None:
                raise not_found(res, name)
            return copy.deepcopy(obj)

    def list(self, res, ns, label_preds, field_preds):
        with self.lock:
            items = [copy.deepcopy(o) for (ons, _), o in sorted(self._bucket(res).items())
                     if (ns is None or ons == ns) and matches(o, label_preds, field_preds)]
            return items, str(self.rv)

    def create(self, res, ns, obj):
        with self.lock:
            md = obj.setdefault("metadata", {})
            if not isinstance(md, dict):
                raise ApiError(422, "Invalid", "metadata: must be an object")
            if not md.get("name") and md.get("generateName"):
                md["name"] = md["generateName"] + uuid.uuid4().hex[:5]
            name = md.get("name")
            if not name or not isinstance(name, str):
                raise ApiError(422, "Invalid", "%s.%s \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is required"
                               % (res.kind, res.group) if res.group else
                               "%s \"\" is invalid: metadata.name: Required value: "
                               "name or generateName is required" % res.kind,
                               {"kind": res.plural, "group": res.group})
            if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name) or len(name) > 253:
                raise ApiError(422, "Invalid", "%s \"%s\" is invalid: metadata.name: Invalid "
                               "value: \"%s\": must be a lowercase RFC 1123 subdomain"
                               % (res.kind, name, name),
                               {"name": name, "kind": res.plural, "group": res.group,
                                "causes": [{"reason": "FieldValueInvalid", "field": "metadata.name",
                                            "message": "Invalid value: \"%s\": must be a "
                                            "lowercase RFC 1123 subdomain" % name}]})
            if res.namespaced:
                if md.get("namespace") not in (None, "", ns):
                    raise ApiError(400, "BadRequest", "the namespace of the provided object "
                                   "does not match the namespace sent on the request")
                if ("", "namespaces") in self.objects and \
                        (None, ns) not in self.objects[("", "namespaces")]:
                    raise ApiError(404, "NotFound", "namespaces \"%s\" not found" % ns,
                                   {"name": ns, "kind": "namespaces"})
                md["namespace"] = ns
            else:
                md.pop("namespace", None)
                ns = None
            bucket = self._bucket(res)
            if (ns, name) in bucket:
                raise ApiError(409, "AlreadyExists", "%s \"%s\" already exists"
                               % (gr_name(res), name),
                               {"name": name, "group": res.group, "kind": res.plural})
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_rfc3339()
            md.pop("deletionTimestamp", None)
            if res.generation:
                md["generation"] = 1
            else:
                md.pop("generation", None)
            md["resourceVersion"] = self._next_rv()
            if res.status:
                obj.pop("status", None)     # a create never sets the status subresource
            self._defaults(res, obj)
            if res.kind in WORKLOAD_STATUS:
                self.changed_at[(res.plural, ns, name)] = time.time()
                obj["status"] = WORKLOAD_STATUS[res.kind](obj, obj.get("status") or {},
                                                          time.time(), self.ready_delay, True)
            if is_ksvc(res):
                self._knative_write(ns, None, obj)
            bucket[(ns, name)] = obj
            self._record(res, "ADDED", obj)
            return copy.deepcopy(obj)

    def _defaults(self, res, obj):
        if res.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        if res.kind == "Deployment":
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("revisionHistoryLimit", 10)
            if not isinstance(spec.get("strategy"), dict) or not spec["strategy"].get("type"):
                spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate":
                                    {"maxSurge": "25%", "maxUnavailable": "25%"}}
        if res.kind == "DaemonSet":
            spec = obj.setdefault("spec", {})
            spec.setdefault("revisionHistoryLimit", 10)
            if not isinstance(spec.get("updateStrategy"), dict) or \
                    not spec["updateStrategy"].get("type"):
                spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate":
                                          {"maxUnavailable": 1, "maxSurge": 0}}
        if res.kind == "Service" and res.group == "":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if spec.get("clusterIP") != "None":
                spec.setdefault("clusterIP", "10.96.%d.%d" % (self.rv // 250 % 250,
                                                              self.rv % 250 + 1))
            for p in spec.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")
                    p.setdefault("targetPort", p.get("port"))
        if res.kind == "Secret":
            obj.setdefault("type", "Opaque")
            fold_string_data(obj)

    def update(self, res, ns, name, obj, subresource=None, check_rv=True):
        with self.lock:
            bucket = self._bucket(res)
            key = (ns if res.namespaced else None, name)
            old = bucket.get(key)
            if old is None:
                raise not_found(res, name)
            md = obj.setdefault("metadata", {})
            if not isinstance(md, dict):
                raise ApiError(422, "Invalid", "metadata: must be an object")
            if md.get("name", name) != name:
                raise ApiError(400, "BadRequest", "the name of the object (%s) does not "
                               "match the name on the URL (%s)" % (md.get("name"), name))
            rv = md.get("resourceVersion")
            if check_rv and rv and rv != old["metadata"]["resourceVersion"]:
                raise conflict(res, name)
            new = copy.deepcopy(old)
            if subresource == "status":
                new["status"] = copy.deepcopy(obj.get("status"))
            elif subresource == "scale":
                new.setdefault("spec", {})["replicas"] = (obj.get("spec") or {}).get("replicas", 0)
            else:
                keep = {k: old["metadata"][k] for k in
                        ("uid", "creationTimestamp", "generation", "resourceVersion",
                         "deletionTimestamp", "deletionGracePeriodSeconds")
                        if k in old["metadata"]}
                new = copy.deepcopy(obj)
                new["metadata"].pop("generation", None)
                new["metadata"].update(keep)
                if res.namespaced:
                    new["metadata"]["namespace"] = ns
                if res.status:
                    if "status" in old:
                        new["status"] = copy.deepcopy(old["status"])
                    else:
                        new.pop("status", None)
                self._defaults(res, new)
            old_body = {k: v for k, v in old.items() if k not in ("metadata", "status")}
            new_body = {k: v for k, v in new.items() if k not in ("metadata", "status")}
            if generation_changes(res, old, new):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            if res.kind in WORKLOAD_STATUS and subresource != "status":
                annotations_changed = (old["metadata"].get("annotations") !=
                                       new["metadata"].get("annotations"))
                if old_body != new_body or annotations_changed:
                    self.changed_at[(res.plural,) + key] = time.time()
                    new["status"] = WORKLOAD_STATUS[res.kind](
                        new, new.get("status") or {}, time.time(), self.ready_delay,
                        old.get("spec", {}).get("template") != new.get("spec", {}).get("template"))
            if is_ksvc(res) and subresource != "status":
                self._knative_write(ns, old, new)
            if new == old:
                return copy.deepcopy(old)
            new["metadata"]["resourceVersion"] = self._next_rv()
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                # the last finalizer of an object being deleted is gone: it goes
                del bucket[key]
                self.changed_at.pop((res.plural,) + key, None)
                self._record(res, "DELETED", new)
                return copy.deepcopy(new)
            bucket[key] = new
            self._record(res, "MODIFIED", new)
            return copy.deepcopy(new)

    def delete(self, res, ns, name):
        with self.lock:
            bucket = self._bucket(res)
            key = (ns if res.namespaced else None, name)
            old = bucket.get(key)
            if old is None:
                raise not_found(res, name)
            if old["metadata"].get("finalizers"):
                # as the real API server: an object with finalizers is only
                # marked (deletionTimestamp); it goes once they are removed
                if not old["metadata"].get("deletionTimestamp"):
                    old["metadata"]["deletionTimestamp"] = now_rfc3339()
                    old["metadata"]["deletionGracePeriodSeconds"] = 0
                    old["metadata"]["resourceVersion"] = self._next_rv()
                    self._record(res, "MODIFIED", old)
                return copy.deepcopy(old)
            del bucket[key]
            self.changed_at.pop((res.plural,) + key, None)
            old["metadata"]["resourceVersion"] = self._next_rv()
            self._record(res, "DELETED", old)
            if is_ksvc(res):
                for rev in self._revisions_of(ns, name):
                    self.delete(KNATIVE_REVISIONS, ns, rev["metadata"]["name"])
            if res.kind == "Namespace":
                for (g, p), objs in list(self.objects.items()):
                    r = BY_GROUP_ANY[(g, p)]
                    for k in [k for k in objs if r.namespaced and k[0] == name]:
                        gone = objs.pop(k)
                        gone["metadata"]["resourceVersion"] = self._next_rv()
                        self._record(r, "DELETED", gone)
            return copy.deepcopy(old)

    def too_old(self, rv, starting):
        return rv < self.trimmed_upto or (starting and rv <= self.gone_upto)

    def events_since(self, gp, rv):
        """History entries of (group, plural) newer than rv; None when some were dropped."""
        if self.too_old(rv, False):
            return None
        # The history is in resourceVersion order: only its tail is looked at.
        start = bisect.bisect_right(self.history, rv, key=lambda h: h[0])
        return [h for h in itertools.islice(self.history, start, None) if h[1] == gp]

    # -- the Knative simulation (callers hold the lock) --
    def _revisions_of(self, ns, svc):
        """The Revisions of Knative Service ns/svc, oldest first."""
        return [o for (ons, _), o in sorted(self._bucket(KNATIVE_REVISIONS).items())
                if ons == ns and ((o["metadata"].get("labels") or {})
                                  .get("serving.knative.dev/service") == svc)]

    def _knative_write(self, ns, old, new):
        """A write of a Knative Service: a new Revision when its template changed, and
        its status brought up to date."""
        tmpl = (new.get("spec") or {}).get("template") or {}
        if old is None or tmpl != ((old.get("spec") or {}).get("template") or {}):
            name = new["metadata"]["name"]
            revs = self._revisions_of(ns, name)
            n = 1 + max([int(r["metadata"]["name"].rsplit("-", 1)[1]) for r in revs] or [0])
            rev = "%s-%05d" % (name, n)
            md = tmpl.get("metadata") or {}
            self.create(KNATIVE_REVISIONS, ns, {
                "apiVersion": "serving.knative.dev/v1", "kind": "Revision",
                "metadata": {"name": rev, "labels": dict(md.get("labels") or {}, **{
                    "serving.knative.dev/service": name,
                    "serving.knative.dev/configuration": name}),
                    "annotations": dict(md.get("annotations") or {})},
                "spec": copy.deepcopy(tmpl.get("spec") or {})})
            self.changed_at[("revisions", ns, rev)] = time.time()
            st = new.setdefault("status", {})
            st["latestCreatedRevisionName"] = rev
        new["status"] = knative_status(new, self._revisions_of(ns, new["metadata"]["name"]))

    def _knative_simulate(self, now):
        """Revisions become Ready (or fail) ready_delay after they were created."""
        for key, rev in list(self._bucket(KNATIVE_REVISIONS).items()):
            if any(c.get("type") == "Ready" and c.get("status") != "Unknown"
                   for c in (rev.get("status") or {}).get("conditions") or []):
                continue
            done = now - self.changed_at.get(("revisions",) + key, 0) >= self.ready_delay
            never = (rev["metadata"].get("annotations") or {}).get(
                "test.perch.dev/never-ready") == "true"
            cond = _condition("Ready", "Unknown", "Deploying", "", now)
            if done:
                cond = _condition("Ready", "False" if never else "True",
                                  "RevisionFailed" if never else "", "", now)
            st = {"observedGeneration": rev["metadata"].get("generation", 1),
                  "conditions": [cond]}
            if st == rev.get("status"):
                continue
            rev = copy.deepcopy(rev)
            rev["status"] = st
            rev["metadata"]["resourceVersion"] = self._next_rv()
            self._bucket(KNATIVE_REVISIONS)[key] = rev
            self._record(KNATIVE_REVISIONS, "MODIFIED", rev)
            svc_key = (key[0], rev["metadata"]["labels"].get("serving.knative.dev/service"))
            svc = self._bucket(KNATIVE_SERVICES).get(svc_key)
            if svc is None:
                continue
            st = knative_status(svc, self._revisions_of(*svc_key))
            if st != svc.get("status"):
                svc = copy.deepcopy(svc)
                svc["status"] = st
                svc["metadata"]["resourceVersion"] = self._next_rv()
                self._bucket(KNATIVE_SERVICES)[svc_key] = svc
                self._record(KNATIVE_SERVICES, "MODIFIED", svc)

    def simulate(self):
        """Moves Deployment, DaemonSet and Revision statuses along (called by the ticker
        thread)."""
        with self.lock:
            now = time.time()
            self._knative_simulate(now)
            for plural in ("deployments", "daemonsets"):
                res = BY_GROUP[("apps", "v1")][plural]
                for key, obj in list(self._bucket(res).items()):
                    if (plural,) + key in self.quiet:
                        continue
                    changed = self.changed_at.get((plural,) + key, 0)
                    st = WORKLOAD_STATUS[res.kind](obj, obj.get("status") or {}, now,
                                                   self.ready_delay, False, changed)
                    if st == obj.get("status") and settled_for_good(obj, now - changed,
                                                                    self.ready_delay):
                        self.quiet.add((plural,) + key)
                    if st != obj.get("status"):
                        obj = copy.deepcopy(obj)
                        obj["status"] = st
                        obj["metadata"]["resourceVersion"] = self._next_rv()
                        self._bucket(res)[key] = obj
                        self._record(res, "MODIFIED", obj)


BY_GROUP_ANY = {(r.group, r.plural): r for r in RESOURCES}
KNATIVE_SERVICES = BY_GROUP_ANY[("serving.knative.dev", "services")]
KNATIVE_REVISIONS = BY_GROUP_ANY[("serving.knative.dev", "revisions")]


def is_ksvc(res):
    return res is KNATIVE_SERVICES


def _rev_ready(rev):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (rev.get("status") or {}).get("conditions") or [])


def knative_status(svc, revs):
    """The status a Knative Service reports with these Revisions (oldest first): the
    latest created and latest ready ones, and spec.traffic resolved (Knative sends a
    latestRevision entry to the latest ready revision)."""
    st = copy.deepcopy(svc.get("status") or {})
    ready = [r["metadata"]["name"] for r in revs if _rev_ready(r)]
    if revs:
        st["latestCreatedRevisionName"] = revs[-1]["metadata"]["name"]
    if ready:
        st["latestReadyRevisionName"] = ready[-1]
    spec_traffic = (svc.get("spec") or {}).get("traffic") or [{"latestRevision": True,
                                                               "percent": 100}]
    traffic = []
    for t in spec_traffic:
        if not isinstance(t, dict):
            continue
        t = copy.deepcopy(t)
        if t.get("latestRevision") is True:
            if not ready:
                continue
            t["revisionName"] = ready[-1]
        else:
            t["latestRevision"] = False
        traffic.append(t)
    st["traffic"] = traffic
    st["observedGeneration"] = svc["metadata"].get("generation", 1)
    all_ready = bool(ready) and ready[-1] == st.get("latestCreatedRevisionName")
    st["conditions"] = [{"type": "Ready", "status": "True" if all_ready else "Unknown"}]
    return st


def fold_string_data(obj):
    """A Secret's stringData is write-only: merged into data as base64, never stored;
    data must be base64, as the real server's decoding of []byte fields demands."""
    for k, v in (obj.get("data") or {}).items():
        try:
            if not isinstance(v, str):
                raise ValueError("not a string")
            base64.b64decode(v, validate=True)
        except ValueError:
            raise ApiError(400, "BadRequest", "Secret in version \"v1\" cannot be handled as a "
                           "Secret: illegal base64 data in data[%s]" % json.dumps(k))
    sd = obj.pop("stringData", None)
    if sd is None:
        return
    if not isinstance(sd, dict) or not all(isinstance(v, str) for v in sd.values()):
        raise ApiError(422, "Invalid", "Secret \"%s\" is invalid: stringData: Invalid value: "
                       "must be a map of strings" % obj.get("metadata", {}).get("name", ""))
    data = obj.get("data")
    if not isinstance(data, dict):
        data = obj["data"] = {}
    for k, v in sd.items():
        data[k] = base64.b64encode(v.encode()).decode()


def generation_changes(res, old, new):
    """Whether an update bumps metadata.generation, as the real server's strategy does."""
    if res.generation is None:
        return False
    if res.generation == "crd":
        strip = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status")}
        return strip(old) != strip(new)
    if old.get("spec") != new.get("spec"):
        return True
    return res.generation == "spec+annotations" and \
        old["metadata"].get("annotations") != new["metadata"].get("annotations")


def gr_name(res):
    return res.plural if not res.group else res.plural + "." + res.group


def not_found(res, name):
    return ApiError(404, "NotFound", "%s \"%s\" not found" % (gr_name(res), name),
                    {"name": name, "group": res.group, "kind": res.plural})


def conflict(res, name):
    return ApiError(409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": the object "
                    "has been modified; please apply your changes to the latest version "
                    "and try again" % (gr_name(res), name),
                    {"name": name, "group": res.group, "kind": res.plural})


def _condition(ctype, status, reason, message, t):
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": now_rfc3339(t), "lastTransitionTime": now_rfc3339(t)}


def _keep_times(new_conds, old_conds):
    """Keeps a condition's times when neither its status nor reason changed."""
    old = {c.get("type"): c for c in old_conds or [] if isinstance(c, dict)}
    for c in new_conds:
        o = old.get(c["type"])
        if o and o.get("status") == c["status"] and o.get("reason") == c["reason"]:
            c["lastUpdateTime"] = o.get("lastUpdateTime", c["lastUpdateTime"])
            c["lastTransitionTime"] = o.get("lastTransitionTime", c["lastTransitionTime"])
    return new_conds


def deployment_status(obj, old, now, delay, template_changed, changed_at=None):
    """The status a Deployment reports `now`, its spec having changed at changed_at."""
    spec = obj.get("spec") or {}
    md = obj.get("metadata") or {}
    want = spec.get("replicas", 1)
    want = want if isinstance(want, int) and want >= 0 else 1
    never = (md.get("annotations") or {}).get("test.perch.dev/never-ready") == "true"
    deadline = spec.get("progressDeadlineSeconds", 600)
    if changed_at is None:          # the change happens now
        changed_at = now
    settled = now - changed_at >= delay
    name = md.get("name", "")
    if settled:
        avail = max(want - 1, 0) if never and want > 0 else want
        updated = want
    else:
        prev_updated = old.get("updatedReplicas", 0) if not template_changed else 0
        updated = min(prev_updated, want)
        avail = min(old.get("availableReplicas", 0), want) if not template_changed else \
            min(old.get("availableReplicas", 0), want)
    total = max(want, updated)
    st = {"observedGeneration": md.get("generation", 1), "replicas": total,
          "updatedReplicas": updated, "readyReplicas": avail, "availableReplicas": avail}
    if total - avail > 0:
        st["unavailableReplicas"] = total - avail
    for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
        if st[k] == 0:
            del st[k]
    min_avail = avail >= want - (want // 4)
    conds = [_condition("Available", "True" if min_avail else "False",
                        "MinimumReplicasAvailable" if min_avail else "MinimumReplicasUnavailable",
                        "Deployment has minimum availability." if min_avail else
                        "Deployment does not have minimum availability.", now)]
    if settled and avail >= want:
        conds.append(_condition("Progressing", "True", "NewReplicaSetAvailable",
                                "ReplicaSet \"%s\" has successfully progressed." % name, now))
    elif now - changed_at > deadline:
        conds.append(_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                "ReplicaSet \"%s\" has timed out progressing." % name, now))
    else:
        conds.append(_condition("Progressing", "True", "ReplicaSetUpdated",
                                "ReplicaSet \"%s\" is progressing." % name, now))
    st["conditions"] = _keep_times(conds, old.get("conditions"))
    return st


NODES = [{"kubernetes.io/os": "linux", "kubernetes.io/hostname": "node-%d" % i}
         for i in range(1, 4)]


def daemonset_status(obj, old, now, delay, template_changed, changed_at=None):
    """The status a DaemonSet reports `now`: one pod on each node its pod template's
    nodeSelector matches, updated ones available `delay` after the change."""
    spec = obj.get("spec") or {}
    md = obj.get("metadata") or {}
    sel = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    desired = sum(1 for n in NODES if all(n.get(k) == v for k, v in sel.items()))
    never = (md.get("annotations") or {}).get("test.perch.dev/never-ready") == "true"
    if changed_at is None:
        changed_at = now
    if now - changed_at >= delay:
        updated = desired
        avail = max(desired - 1, 0) if never else desired
    else:
        updated = 0 if template_changed else min(old.get("updatedNumberScheduled", 0), desired)
        avail = min(old.get("numberAvailable", 0), desired, updated)
    st = {"currentNumberScheduled": desired, "desiredNumberScheduled": desired,
          "numberMisscheduled": 0, "numberReady": avail, "observedGeneration":
          md.get("generation", 1), "updatedNumberScheduled": updated,
          "numberAvailable": avail, "numberUnavailable": desired - avail}
    for k in ("numberAvailable", "numberUnavailable", "updatedNumberScheduled"):
        if st[k] == 0:
            del st[k]
    return st


WORKLOAD_STATUS = {"Deployment": deployment_status, "DaemonSet": daemonset_status}


def settled_for_good(obj, elapsed, delay):
    """Whether a workload's simulated status, `elapsed` seconds after its last
    change, stays as it is until the workload is written again: past the ready
    delay, and past the progress deadline for one that never gets ready."""
    md = obj.get("metadata") or {}
    never = (md.get("annotations") or {}).get("test.perch.dev/never-ready") == "true"
    deadline = (obj.get("spec") or {}).get("progressDeadlineSeconds", 600)
    if not isinstance(deadline, (int, float)):
        deadline = 600
    return elapsed > delay + 1 and (not never or elapsed > deadline + 1)


# ---------------------------------------------------------------------------
# Discovery documents

def resource_entries(group, version):
    out = []
    for r in BY_GROUP[(group, version)].values():
        e = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
             "kind": r.kind, "verbs": ALL_VERBS}
        if r.short:
            e["shortNames"] = r.short
        if r.categories:
            e["categories"] = r.categories
        out.append(e)
        if r.status:
            out.append({"name": r.plural + "/status", "singularName": "",
                        "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": ["get", "patch", "update"]})
        if r.scale:
            out.append({"name": r.plural + "/scale", "singularName": "",
                        "namespaced": r.namespaced, "group": "autoscaling", "version": "v1",
                        "kind": "Scale", "verbs": ["get", "patch", "update"]})
    return out


def group_versions(group):
    return [r.versions for r in RESOURCES if r.group == group][0] if group else ["v1"]


def all_versions(group):
    vs = []
    for r in RESOURCES:
        if r.group == group:
            for v in r.versions:
                if v not in vs:
                    vs.append(v)
    return vs


def api_group_list():
    groups = []
    for g in GROUP_ORDER:
        if g == "":
            continue
        vs = [{"groupVersion": g + "/" + v, "version": v} for v in all_versions(g)]
        groups.append({"name": g, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def aggregated(legacy):
    items = []
    for g in GROUP_ORDER:
        if (g == "") != legacy:
            continue
        versions = []
        for v in all_versions(g):
            resources = []
            for r in BY_GROUP[(g, v)].values():
                e = {"resource": r.plural, "responseKind": {"group": g, "version": v, "kind": r.kind},
                     "scope": "Namespaced" if r.namespaced else "Cluster",
                     "singularResource": r.singular, "verbs": ALL_VERBS}
                if r.short:
                    e["shortNames"] = r.short
                if r.categories:
                    e["categories"] = r.categories
                subs = []
                if r.status:
                    subs.append({"subresource": "status", "responseKind":
                                 {"group": g, "version": v, "kind": r.kind},
                                 "verbs": ["get", "patch", "update"]})
                if r.scale:
                    subs.append({"subresource": "scale", "responseKind":
                                 {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                                 "verbs": ["get", "patch", "update"]})
                if subs:
                    e["subresources"] = subs
                resources.append(e)
            versions.append({"version": v, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": g, "creationTimestamp": None}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}


AGG_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def openapi_root():
    paths = {}
    for (g, v) in BY_GROUP:
        p = "api/v1" if g == "" else "apis/%s/%s" % (g, v)
        paths[p] = {"serverRelativeURL": "/openapi/v3/%s?hash=perch" % p}
    return {"paths": paths}


def openapi_gv(group, version):
    """Declares, per kind, the fieldValidation parameter kubectl looks for."""
    paths = {}
    for r in BY_GROUP[(group, version)].values():
        base = "/api/v1" if group == "" else "/apis/%s/%s" % (group, version)
        p = base + ("/namespaces/{namespace}/" if r.namespaced else "/") + r.plural + "/{name}"
        paths[p] = {"patch": {
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": r.kind},
            "parameters": [{"name": "fieldValidation", "in": "query",
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "perch test API server", "version": "v1"},
            "paths": paths}


# ---------------------------------------------------------------------------
# Tables (what `kubectl get` asks for when it prints columns)

def age(ts, now=None):
    try:
        t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return "<unknown>"
    d = int((now or time.time()) - t)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= 2 * n or (unit == "m" and d >= n):
            return "%d%s" % (d // n, unit)
    return "%ds" % max(d, 0)


def table_columns(res):
    if res.columns is not None:
        return [{"name": "Name", "type": "string", "format": "name", "description": "",
                 "priority": 0}] + \
            [{"name": n, "type": t, "format": "", "description": "", "priority": p}
             for n, t, _, p in res.columns]
    cols = [("Name", "name")]
    if res.kind == "Deployment":
        cols += [("Ready", ""), ("Up-to-date", ""), ("Available", "")]
    cols.append(("Age", ""))
    return [{"name": n, "type": "integer" if n in ("Up-to-date", "Available") else "string",
             "format": f, "description": "", "priority": 0} for n, f in cols]


def _cell(obj, path):
    cur = obj
    for p in path.split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    if cur is None:
        return None
    return cur if isinstance(cur, (str, bool, int, float)) else json.dumps(cur)


def table_row(res, obj):
    md = obj.get("metadata", {})
    cells = [md.get("name", "")]
    if res.columns is not None:
        cells += [_cell(obj, path) for _, _, path, _ in res.columns]
    elif res.kind == "Deployment":
        st = obj.get("status") or {}
        cells += ["%d/%d" % (st.get("readyReplicas", 0), (obj.get("spec") or {}).get("replicas", 0)),
                  st.get("updatedReplicas", 0), st.get("availableReplicas", 0)]
    if res.columns is None:
        cells.append(age(md.get("creationTimestamp")))
    partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
               "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                "creationTimestamp", "labels", "generation")
                            if k in md}}
    return {"cells": cells, "object": partial}


def table(res, objs, rv, with_columns=True):
    t = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv},
         "rows": [table_row(res, o) for o in objs]}
    if with_columns:
        t["columnDefinitions"] = table_columns(res)
    return t


# ---------------------------------------------------------------------------
# Faults

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency_ms = 0
        self.error_5xx = 0
        self.conflict = 0
        self.drop = 0
        self.path = ""
        self.methods = ""
        self.generation = 0     # bumped by every change: running watches re-check

    def set(self, d):
        with self.lock:
            for k in ("latency_ms", "error_5xx", "conflict", "drop"):
                if k in d:
                    v = d[k]
                    if not isinstance(v, int) or v < 0:
                        raise ApiError(400, "BadRequest", "%s: must be a non-negative integer" % k)
                    setattr(self, k, v)
            if "path" in d:
                if not isinstance(d["path"], str):
                    raise ApiError(400, "BadRequest", "path: must be a string")
                re.compile(d["path"])
                self.path = d["path"]
            if "methods" in d:
                if not isinstance(d["methods"], str):
                    raise ApiError(400, "BadRequest", "methods: must be a string")
                self.methods = d["methods"].upper()
            self.generation += 1

    def snapshot(self):
        with self.lock:
            return {"latency_ms": self.latency_ms, "error_5xx": self.error_5xx,
                    "conflict": self.conflict, "drop": self.drop, "path": self.path,
                    "methods": self.methods}

    def take(self, method, path):
        """The fault for this request: None, 'drop', 503 or 409 (plus a latency)."""
        with self.lock:
            if self.path and not re.search(self.path, path):
                return None, 0
            if self.methods and method not in self.methods.split(","):
                return None, 0
            latency = self.latency_ms
            if self.drop > 0:
                self.drop -= 1
                return "drop", latency
            if self.error_5xx > 0:
                self.error_5xx -= 1
                return 503, latency
            if self.conflict > 0 and method in ("PUT", "PATCH", "POST"):
                self.conflict -= 1
                return 409, latency
            return None, latency

    def watch_cut(self, path):
        with self.lock:
            if self.drop > 0 and (not self.path or re.search(self.path, path)):
                self.drop -= 1
                return True
            return False


# ---------------------------------------------------------------------------
# The HTTP handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "perch-test-apiserver"

    def log_message(self, fmt, *args):  # the audit log replaces the default log
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms to every answer.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # -- plumbing --
    def audit(self, code):
        srv = self.server
        line = "%s %s %s %d%s\n" % (self.command, self.path, self.user, code,
                                     " fault=" + self.fault if self.fault else "")
        with srv.audit_lock:
            if srv.audit:
                srv.audit.write(line)
                srv.audit.flush()

    def written(self, res, version, verb, obj):
        """Keeps a copy of an object as a client's write left it (--objects-log)."""
        srv = self.server
        path = urllib.parse.urlsplit(self.path).path
        if not srv.objects_log or (srv.objects_match and not srv.objects_match.search(path)):
            return
        rec = {"verb": verb, "user": self.user, "agent": self.headers.get("User-Agent", ""),
               "path": path, "time": round(time.time(), 3),
               "object": self.out(res, version, copy.deepcopy(obj))}
        # Lines are in the order of the writes' answers (logged before the
        # answer leaves): a write that changed nothing keeps the object's
        # older resourceVersion, so the order is the lines'.
        with srv.audit_lock:
            srv.objects_log.write(json.dumps(rec, separators=(",", ":")) + "\n")
            srv.objects_log.flush()

    def send_json(self, code, body, ctype="application/json", headers=()):
        data = json.dumps(body, separators=(",", ":")).encode()
        # Logged before the answer leaves, so a client that got its answer
        # finds the line in the audit log.
        self.audit(code)
        if self.fault == "slow":
            # carried out, answered too late: the client has given up
            time.sleep(self.server.chaos.slow_ms / 1000.0)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if self.fault == "reset":
            self.wfile.write(data[:self.server.chaos.split_at(len(data))])
            self.wfile.flush()
            self.reset_connection()
            return
        self.wfile.write(data)

    def reset_connection(self):
        """Ends the connection with a TCP RST (SO_LINGER 0), not a clean close."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def send_error_obj(self, e):
        headers = ()
        if e.code == 429:
            ra = (e.details or {}).get("retryAfterSeconds", 1)
            headers = (("Retry-After", str(ra)),)
        self.send_json(e.code, status_obj(e.code, e.reason, e.message, e.details),
                       headers=headers)

    def slurp(self):
        """Reads the request body up front, so an early error never leaves it unread."""
        n = int(self.headers.get("Content-Length") or 0)
        if n > 3 * 1024 * 1024:
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", "request body too large")
        self.raw_body = self.rfile.read(n) if n > 0 else b""

    def read_body(self):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        raw = self.raw_body
        if ctype == k8s_proto.CONTENT_TYPE and self.command in ("POST", "PUT"):
            try:
                return k8s_proto.decode(raw)
            except k8s_proto.ProtoError as e:
                raise ApiError(415, "UnsupportedMediaType", "the protobuf body could not be "
                               "read: %s" % e)
        if ctype not in ("application/json", "application/merge-patch+json",
                         "application/json-patch+json", "application/strategic-merge-patch+json",
                         "application/apply-patch+yaml"):
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an "
                           "unknown format - accepted media types include: application/json, "
                           "application/vnd.kubernetes.protobuf")
        if not raw:
            raise ApiError(400, "BadRequest", "the request body is empty")
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ApiError(400, "BadRequest", "the request body is not valid JSON: %s" % e)

    def authenticate(self):
        h = self.headers.get("Authorization", "")
        srv = self.server
        if h.startswith("Bearer "):
            tok = h[7:].strip()
            if tok == srv.token_rw:
                return "rw"
            if tok == srv.token_ro:
                return "ro"
            return srv.extra_tokens.get(tok, "-")
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName" and v in ("rw", "ro"):
                    return v
        return "-"

    def do_GET(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_PATCH(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def handle_any(self):
        srv = self.server
        self.user = self.authenticate()
        url = urllib.parse.urlsplit(self.path)
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        path = url.path.rstrip("/") or "/"
        self.raw_body = b""
        self.fault = None
        try:
            self.slurp()
            if path.startswith("/_test/"):
                return self.control(path)
            fault, latency = srv.faults.take(self.command, path)
            if latency:
                time.sleep(latency / 1000.0)
            if fault == "drop":
                self.fault = "drop"
                self.audit(0)
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if self.user == "-":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if self.user == "ro" and self.command not in ("GET", "HEAD"):
                raise ApiError(403, "Forbidden", "user \"ro\" cannot %s at %s: the read-only "
                               "token may only get, list and watch"
                               % (self.command.lower(), path))
            if self.user in srv_readonly(self.server) and self.command not in ("GET", "HEAD"):
                raise ApiError(403, "Forbidden", "user \"%s\" cannot %s at %s: its role may "
                               "only get, list and watch"
                               % (self.user, self.command.lower(), path))
            if fault == 503:
                self.fault = "503"
                raise ApiError(503, "ServiceUnavailable", "injected fault: service unavailable")
            if fault == 409:
                self.fault = "409"
                raise ApiError(409, "Conflict", "injected fault: the object has been modified; "
                               "please apply your changes to the latest version and try again")
            self.fault = srv.chaos.pick(self.command, path, self.query, self.user)
            self.answer_fault(path)
            self.route(path)
        except ApiError as e:
            self.send_error_obj(e)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def answer_fault(self, path):
        """Raises the error of a random fault that answers before anything is done."""
        f = self.fault
        if f == "500":
            raise ApiError(500, "InternalError", "Internal error occurred: injected fault",
                           {"causes": [{"message": "injected fault"}]})
        if f == "503":
            raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle "
                           "the request (injected fault)")
        if f == "429":
            raise ApiError(429, "TooManyRequests", "the server has received too many requests "
                           "and has asked us to try again later (injected fault)",
                           {"retryAfterSeconds": self.server.chaos.retry_after})
        if f == "409":
            parts = [p for p in path.split("/") if p]
            raise ApiError(409, "Conflict", "Operation cannot be fulfilled on %s \"%s\": the "
                           "object has been modified; please apply your changes to the latest "
                           "version and try again (injected fault)"
                           % (parts[-2] if len(parts) > 1 else "", parts[-1] if parts else ""))

    def control(self, path):
        srv = self.server
        if path == "/_test/faults":
            if self.command == "POST":
                try:
                    d = json.loads(self.raw_body or b"{}")
                except ValueError as e:
                    raise ApiError(400, "BadRequest", "faults: not valid JSON: %s" % e)
                if not isinstance(d, dict):
                    raise ApiError(400, "BadRequest", "faults: expected an object")
                try:
                    srv.chaos.set(d)
                except ValueError as e:
                    raise ApiError(400, "BadRequest", "faults: %s" % e)
                srv.faults.set(d)
            snap = srv.faults.snapshot()
            snap.update(srv.chaos.snapshot())
            return self.send_json(200, snap)
        if path == "/_test/compact" and self.command == "POST":
            srv.store.compact()
            return self.send_json(200, {"compacted": True})
        raise ApiError(404, "NotFound", "no such control endpoint %s" % path)

    # -- the service proxy --
    PROXY_RE = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/:]+)(?::([^/]+))?/proxy(/.*)?$")

    def service_proxy(self, m):
        """Forwards to the local port given for the Service (--service-proxy)."""
        ns, name, port, rest = m.group(1), m.group(2), m.group(3) or "", m.group(4) or "/"
        self.server.store.get(BY_GROUP_ANY[("", "services")], ns, name)   # 404 when none
        target = self.server.service_proxy.get("%s/%s:%s" % (ns, name, port or "80"))
        if target is None:
            raise ApiError(503, "ServiceUnavailable",
                           "no endpoints available for service \"%s:%s\"" % (name, port))
        q = urllib.parse.urlsplit(self.path).query
        conn = http.client.HTTPConnection("127.0.0.1", target, timeout=10)
        try:
            hdrs = {"Content-Type": self.headers.get("Content-Type", "application/octet-stream")}
            conn.request(self.command, rest + ("?" + q if q else ""), body=self.raw_body or None,
                         headers=hdrs)
            r = conn.getresponse()
            data, code, ctype = r.read(), r.status, r.getheader("Content-Type", "text/plain")
        except OSError as e:
            raise ApiError(503, "ServiceUnavailable", "error trying to reach service: %s" % e)
        finally:
            conn.close()
        self.audit(code)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- the external metrics API --
    EXTERNAL_RE = re.compile(r"^/apis/external\.metrics\.k8s\.io/v1beta1/namespaces/([^/]+)/([^/]+)$")

    def external_metric(self, m):
        """An external metrics adapter's answer, the values taken from the
        ConfigMap external-metrics of the namespace (key: the metric, value:
        a quantity, "" for no sample); the labelSelector comes back as the
        item's metricLabels."""
        ns, metric = m.group(1), urllib.parse.unquote(m.group(2))
        cm = self.server.store.get(BY_GROUP_ANY[("", "configmaps")], ns, "external-metrics")
        data = cm.get("data") or {}
        if metric not in data:
            raise ApiError(404, "NotFound", "the server could not find the metric %s for "
                           "namespace %s" % (metric, ns))
        labels = dict(kv.split("=", 1) for kv in self.query.get("labelSelector", "").split(",")
                      if "=" in kv)
        items = [] if data[metric] == "" else [{
            "metricName": metric, "metricLabels": labels,
            "timestamp": "2026-01-01T00:00:00Z", "value": data[metric]}]
        return self.send_json(200, {"kind": "ExternalMetricValueList",
                                    "apiVersion": "external.metrics.k8s.io/v1beta1",
                                    "metadata": {}, "items": items})

    # -- routing --
    def route(self, path):
        parts = [p for p in path.split("/") if p]
        m = self.PROXY_RE.match(path)
        if m:
            return self.service_proxy(m)
        m = self.EXTERNAL_RE.match(path)
        if m:
            return self.external_metric(m)
        if path in ("/healthz", "/readyz", "/livez"):
            data = b"ok"
            self.audit(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if path == "/version":
            return self.send_json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-perch",
                                        "platform": "linux/amd64"})
        accept = self.headers.get("Accept", "")
        if path == "/api":
            if "apidiscovery.k8s.io" in accept and "v=v2" in accept:
                return self.send_json(200, aggregated(True), AGG_TYPE)
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": [
                                            {"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]})
        if path == "/apis":
            if "apidiscovery.k8s.io" in accept and "v=v2" in accept:
                return self.send_json(200, aggregated(False), AGG_TYPE)
            return self.send_json(200, api_group_list())
        if path == "/openapi/v3":
            return self.send_json(200, openapi_root())
        if parts[:2] == ["openapi", "v3"]:
            rest = parts[2:]
            gv = ("", "v1") if rest == ["api", "v1"] else \
                (rest[1], rest[2]) if len(rest) == 3 and rest[0] == "apis" else None
            if gv in BY_GROUP:
                return self.send_json(200, openapi_gv(*gv))
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if parts and parts[0] == "api":
            group, rest = "", parts[1:]
        elif parts and parts[0] == "apis":
            if len(parts) == 2 and parts[1] in GROUP_ORDER:
                vs = [{"groupVersion": parts[1] + "/" + v, "version": v}
                      for v in all_versions(parts[1])]
                return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1",
                                            "name": parts[1], "versions": vs,
                                            "preferredVersion": vs[0]})
            if len(parts) < 3:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            group, rest = parts[1], parts[2:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest or (group, rest[0]) not in BY_GROUP:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        version, rest = rest[0], rest[1:]
        if not rest:
            return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                        "groupVersion": api_version(group, version),
                                        "resources": resource_entries(group, version)})
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        res = BY_GROUP[(group, version)].get(rest[0])
        if res is None or (ns is not None and not res.namespaced) or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub not in (None, "status", "scale") or (sub == "status" and not res.status) or \
                (sub == "scale" and not res.scale):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if res.namespaced and ns is None and self.command not in ("GET", "HEAD"):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self.resource(res, version, ns, name, sub)

    def out(self, res, version, obj):
        obj["apiVersion"] = api_version(res.group, version)
        obj["kind"] = res.kind
        return obj

    def scale_of(self, version, obj):
        md = obj["metadata"]
        sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                "creationTimestamp") if k in md},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": ",".join("%s=%s" % kv for kv in sorted(sel.items()))}}

    def resource(self, res, version, ns, name, sub):
        store = self.server.store
        m = self.command
        if name is None:
            if m in ("GET", "HEAD"):
                if self.query.get("watch") in ("1", "true"):
                    return self.watch(res, version, ns)
                lp = parse_label_selector(self.query.get("labelSelector"))
                fp = parse_field_selector(self.query.get("fieldSelector"))
                items, rv = store.list(res, ns, lp, fp)
                if self.wants_table():
                    return self.send_json(200, table(res, items, rv))
                return self.send_json(200, {"kind": res.kind + "List",
                                            "apiVersion": api_version(res.group, version),
                                            "metadata": {"resourceVersion": rv},
                                            "items": [self.out(res, version, o) for o in items]})
            if m == "POST":
                body = self.read_body()
                if not isinstance(body, dict):
                    raise ApiError(400, "BadRequest", "the request body must be an object")
                self.check_kind(res, body)
                if self.query.get("dryRun"):
                    return self.send_json(201, self.out(res, version, body))
                obj = store.create(res, ns, body)
                self.written(res, version, "create", obj)
                return self.send_json(201, self.out(res, version, obj))
            if m == "DELETE":
                lp = parse_label_selector(self.query.get("labelSelector"))
                items, _ = store.list(res, ns, lp, [])
                for o in items:
                    store.delete(res, ns, o["metadata"]["name"])
                return self.send_json(200, {"kind": "Status", "apiVersion": "v1",
                                            "metadata": {}, "status": "Success"})
            raise ApiError(405, "MethodNotAllowed", "method %s not allowed" % m)
        if m in ("GET", "HEAD"):
            obj = store.get(res, ns, name)
            if sub == "scale":
                return self.send_json(200, self.scale_of(version, obj))
            if self.wants_table() and sub is None:
                return self.send_json(200, table(res, [obj], obj["metadata"]["resourceVersion"]))
            return self.send_json(200, self.out(res, version, obj))
        if m == "PUT":
            body = self.read_body()
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the request body must be an object")
            if sub != "scale":
                self.check_kind(res, body)
            obj = store.update(res, ns, name, body, sub)
            self.written(res, version, "update" + ("/" + sub if sub else ""), obj)
            return self.send_json(200, self.scale_of(version, obj) if sub == "scale"
                                  else self.out(res, version, obj))
        if m == "PATCH":
            return self.patch(res, version, ns, name, sub)
        if m == "DELETE":
            obj = store.delete(res, ns, name)
            return self.send_json(200, self.out(res, version, obj))
        raise ApiError(405, "MethodNotAllowed", "method %s not allowed" % m)

    def wants_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def check_kind(self, res, body):
        kind = body.get("kind")
        if kind not in (None, res.kind):
            raise ApiError(400, "BadRequest", "the kind %r of the object does not match the "
                           "resource %s" % (kind, res.plural))
        av = body.get("apiVersion")
        if av is not None and av not in [api_version(res.group, v) for v in res.versions]:
            raise ApiError(400, "BadRequest", "the apiVersion %r of the object does not match "
                           "the resource %s" % (av, gr_name(res)))

    def patch(self, res, version, ns, name, sub):
        store = self.server.store
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        body = self.read_body()
        if ctype == "application/apply-patch+yaml":
            # Server-side apply, approximated: create when missing, else a
            # merge patch (no field ownership).  kubectl sends JSON.
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "an apply patch must be an object")
            self.check_kind(res, body)
            try:
                store.get(res, ns, name)
            except ApiError as e:
                if e.code != 404 or sub:
                    raise
                body.setdefault("metadata", {})["name"] = name
                obj = store.create(res, ns, body)
                self.written(res, version, "apply", obj)
                return self.send_json(201, self.out(res, version, obj))
            ctype = "application/merge-patch+json"
        for _attempt in range(5):
            cur = store.get(res, ns, name)
            if sub == "scale":
                cur = self.scale_of(version, cur)
            else:
                cur = self.out(res, version, cur)
            if ctype == "application/merge-patch+json":
                new = merge_patch(cur, body)
            elif ctype == "application/json-patch+json":
                new = json_patch(cur, body)
            elif ctype == "application/strategic-merge-patch+json":
                if res.group not in ("", "apps", "networking.k8s.io", "coordination.k8s.io"):
                    raise ApiError(415, "UnsupportedMediaType", "strategic merge patch is not "
                                   "supported for %s" % gr_name(res))
                new = strategic_merge(cur, body, "service" if res.kind == "Service" else "")
            else:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted "
                               "media types include: application/json-patch+json, "
                               "application/merge-patch+json, "
                               "application/strategic-merge-patch+json, "
                               "application/apply-patch+yaml")
            if not isinstance(new, dict):
                raise ApiError(422, "Invalid", "the patched object is not an object")
            md = new.setdefault("metadata", {})
            if not isinstance(md, dict):
                raise ApiError(422, "Invalid", "metadata: must be an object")
            pinned = (isinstance(body, dict) and isinstance(body.get("metadata"), dict) and
                      "resourceVersion" in body["metadata"])
            if not pinned:
                md["resourceVersion"] = cur["metadata"]["resourceVersion"]
            try:
                obj = store.update(res, ns, name, new, sub)
            except ApiError as e:
                if e.code == 409 and not pinned:
                    continue
                raise
            self.written(res, version, "patch" + ("/" + sub if sub else ""), obj)
            return self.send_json(200, self.scale_of(version, obj) if sub == "scale"
                                  else self.out(res, version, obj))
        raise conflict(res, name)

    def watch(self, res, version, ns):
        srv = self.server
        store = srv.store
        lp = parse_label_selector(self.query.get("labelSelector"))
        fp = parse_field_selector(self.query.get("fieldSelector"))
        timeout = self.query.get("timeoutSeconds")
        end = time.time() + (int(timeout) if timeout and timeout.isdigit() else 1800)
        gp = (res.group, res.plural)
        path = urllib.parse.urlsplit(self.path).path
        self.audit(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

        def chunk(d):
            data = (json.dumps(d, separators=(",", ":")) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        rvq = self.query.get("resourceVersion", "")
        as_table = self.wants_table()
        first = [True]

        def event(etype, obj):
            if as_table:
                o = table(res, [obj], obj["metadata"]["resourceVersion"], first[0])
                first[0] = False
                return {"type": etype, "object": o}
            return {"type": etype, "object": self.out(res, version, obj)}

        try:
            with store.lock:
                if rvq in ("", "0"):
                    items, rv = store.list(res, ns, lp, fp)
                    start = int(rv)
                    initial = items
                else:
                    start = int(rvq) if rvq.isdigit() else 0
                    initial = []
                    if store.too_old(start, True) or self.fault == "410":
                        chunk({"type": "ERROR", "object": status_obj(
                            410, "Expired", "too old resource version: %d (%d)"
                            % (start, max(store.gone_upto, store.trimmed_upto) + 1))})
                        self.wfile.write(b"0\r\n\r\n")
                        return
            for o in initial:
                chunk(event("ADDED", o))
            seen = start
            cut_at = time.time() + srv.chaos.cut_after() if self.fault == "cut" else None
            while time.time() < end and not srv.stopping:
                if cut_at is not None and time.time() >= cut_at:
                    # mid-stream, mid-chunk: half an event line, then the end
                    self.wfile.write(b"40\r\n{\"type\":\"MODIFIED\",\"object\":{\"kind")
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if srv.faults.watch_cut(path):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                with store.lock:
                    evs = store.events_since(gp, seen)
                    if evs is None:
                        gone = status_obj(410, "Expired", "too old resource version: %d (%d)"
                                          % (seen, store.trimmed_upto + 1))
                        evs_out = [("ERROR", gone)]
                    else:
                        evs_out = []
                        for rv, _, etype, obj in evs:
                            seen = rv
                            o = obj["metadata"]
                            if ns is not None and o.get("namespace") != ns:
                                continue
                            if matches(obj, lp, fp):
                                evs_out.append((etype, copy.deepcopy(obj)))
                        if not evs:
                            store.lock.wait(0.25 if cut_at is None else
                                            min(0.25, max(cut_at - time.time(), 0.01)))
                for etype, obj in evs_out:
                    if etype == "ERROR":
                        chunk({"type": "ERROR", "object": obj})
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    chunk(event(etype, obj))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    stopping = False

    def finish_request(self, request, client_address):
        # The TLS handshake in the request's own thread, not in accept():
        # there a client that stalls mid-handshake (stopped, or slow under
        # TSan) held up every other client's connection.
        if isinstance(request, ssl.SSLSocket):
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


# ---------------------------------------------------------------------------
# TLS and kubeconfig

# P-256 keys: as good for these tests as RSA, and made in a hundredth of the
# time (the tests start many servers side by side).
EC_KEY = ("ec", "-pkeyopt", "ec_paramgen_curve:prime256v1")


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1/localhost, and client
    certificates with CN rw and ro (rw.crt/rw.key, ro.crt/ro.key), made once
    per directory."""
    os.makedirs(d, exist_ok=True)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, crt = os.path.join(d, "server.key"), os.path.join(d, "server.crt")
    names = [ca_key, ca_crt, key, crt] + [os.path.join(d, u + x) for u in ("rw", "ro")
                                           for x in (".crt", ".key")]
    if all(os.path.exists(p) for p in names):
        return ca_crt, crt, key

    def run(*a):
        subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def signed(name, cn, ext_text):
        k, c = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
        csr, ext = os.path.join(d, name + ".csr"), os.path.join(d, name + ".ext")
        run("openssl", "req", "-newkey", *EC_KEY, "-nodes", "-keyout", k, "-out", csr,
            "-subj", "/CN=" + cn)
        with open(ext, "w") as f:
            f.write(ext_text)
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
            "-CAcreateserial", "-out", c, "-days", "30", "-extfile", ext)

    run("openssl", "req", "-x509", "-newkey", *EC_KEY, "-nodes", "-keyout", ca_key,
        "-out", ca_crt, "-days", "30", "-subj", "/CN=perch-test-ca")
    signed("server", "perch-test-apiserver", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    for user in ("rw", "ro"):
        signed(user, user, "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    return ca_crt, crt, key


def srv_readonly(srv):
    return getattr(srv, "readonly_users", ())


def write_kubeconfig(path, url, tok_rw, tok_ro, ca_crt):
    cluster = '    server: "%s"\n' % url
    if ca_crt:
        with open(ca_crt, "rb") as f:
            cluster += '    certificate-authority-data: "%s"\n' % base64.b64encode(f.read()).decode()
    text = ("apiVersion: v1\nkind: Config\n"
            "clusters:\n- name: perch-test\n  cluster:\n" + cluster +
            "users:\n"
            '- name: rw\n  user:\n    token: "%s"\n'
            '- name: ro\n  user:\n    token: "%s"\n'
            "contexts:\n"
            "- name: rw\n  context:\n    cluster: perch-test\n    user: rw\n    namespace: default\n"
            "- name: ro\n  context:\n    cluster: perch-test\n    user: ro\n    namespace: default\n"
            "current-context: rw\n") % (tok_rw, tok_ro)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="perch's test Kubernetes API server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--token-rw", default="perch-rw-token")
    ap.add_argument("--token-ro", default="perch-ro-token")
    ap.add_argument("--audit-log")
    ap.add_argument("--tls-dir")
    ap.add_argument("--kubeconfig-out")
    ap.add_argument("--ready-delay", type=float, default=1.0)
    ap.add_argument("--fault-latency", type=int, default=0, metavar="MS")
    ap.add_argument("--fault-5xx", type=int, default=0, metavar="N")
    ap.add_argument("--fault-409", type=int, default=0, metavar="N")
    ap.add_argument("--fault-drop", type=int, default=0, metavar="N")
    ap.add_argument("--fault-path", default="", metavar="REGEX")
    ap.add_argument("--faults", type=float, default=0.0, metavar="RATE",
                    help="share of requests (0 to 1) that get a random fault")
    ap.add_argument("--seed", type=int, default=1, metavar="N")
    ap.add_argument("--fault-mix", default=chaos.DEFAULT_MIX, metavar="KIND:WEIGHT,...")
    ap.add_argument("--fault-match", default="", metavar="REGEX")
    ap.add_argument("--fault-slow-ms", type=int, default=12000, metavar="MS")
    ap.add_argument("--fault-users", default="", metavar="USER,...",
                    help="random faults only for these identities (default: every one)")
    ap.add_argument("--objects-log", metavar="FILE",
                    help="every object as a client's write left it, one JSON line each")
    ap.add_argument("--objects-log-match", default="", metavar="REGEX",
                    help="log only the writes to paths that match")
    ap.add_argument("--token", action="append", default=[], metavar="NAME=TOKEN",
                    help="one more read-write identity, named NAME in the logs")
    ap.add_argument("--service-proxy", action="append", default=[], metavar="NS/NAME:PORT=LOCALPORT",
                    help="the service proxy forwards to 127.0.0.1:LOCALPORT for that Service port")
    ap.add_argument("--token-readonly", action="append", default=[], metavar="NAME=TOKEN",
                    help="one more identity, NAME in the logs, that may only get, list and watch")
    ap.add_argument("--tokens-file", metavar="FILE",
                    help="more read-write identities, one NAME=TOKEN a line")
    a = ap.parse_args()
    if a.token_rw == a.token_ro:
        ap.error("--token-rw and --token-ro must differ")

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.token_rw, srv.token_ro = a.token_rw, a.token_ro
    srv.extra_tokens = {}
    if a.tokens_file:
        with open(a.tokens_file) as f:
            a.token += [line.strip() for line in f if line.strip()]
    for t in a.token:
        name, _, tok = t.partition("=")
        if not name or not tok or name in ("rw", "ro", "-") or tok in (a.token_rw, a.token_ro):
            ap.error("--token %s: want NAME=TOKEN, a new name and a new token" % t)
        srv.extra_tokens[tok] = name
    srv.readonly_users = set()
    for t in a.token_readonly:
        name, _, tok = t.partition("=")
        if (not name or not tok or name in ("rw", "ro", "-") or tok in (a.token_rw, a.token_ro)
                or tok in srv.extra_tokens):
            ap.error("--token-readonly %s: want NAME=TOKEN, a new name and a new token" % t)
        srv.extra_tokens[tok] = name
        srv.readonly_users.add(name)
    srv.service_proxy = {}
    for sp in a.service_proxy:
        key, _, local = sp.partition("=")
        if not re.match(r"^[a-z0-9.-]+/[a-z0-9.-]+:[0-9]+$", key) or not local.isdigit():
            ap.error("--service-proxy %s: want NS/NAME:PORT=LOCALPORT" % sp)
        srv.service_proxy[key] = int(local)
    srv.audit_lock = threading.Lock()
    srv.audit = open(a.audit_log, "a", buffering=1) if a.audit_log else None
    srv.store = Store(a.ready_delay)
    srv.faults = Faults()
    try:
        srv.chaos = chaos.Chaos(a.faults, a.seed, a.fault_mix, a.fault_match, a.fault_slow_ms)
        srv.chaos.set({"users": a.fault_users})
        srv.objects_match = re.compile(a.objects_log_match) if a.objects_log_match else None
    except (ValueError, re.error) as e:
        ap.error(str(e))
    srv.objects_log = open(a.objects_log, "a", buffering=1) if a.objects_log else None
    srv.faults.set({"latency_ms": a.fault_latency, "error_5xx": a.fault_5xx,
                    "conflict": a.fault_409, "drop": a.fault_drop, "path": a.fault_path})
    scheme, ca_crt = "http", None
    if a.tls_dir:
        ca_crt, crt, key = make_certs(a.tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        ctx.load_verify_locations(ca_crt)
        ctx.verify_mode = ssl.CERT_OPTIONAL    # client certificates: CN rw or ro
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"
    port = srv.server_address[1]
    url = "%s://127.0.0.1:%d" % (scheme, port)
    if a.kubeconfig_out:
        write_kubeconfig(a.kubeconfig_out, url, a.token_rw, a.token_ro, ca_crt)

    def ticker():
        while not srv.stopping:
            srv.store.simulate()
            time.sleep(0.1)

    threading.Thread(target=ticker, daemon=True).start()
    print("listening on %s" % url, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stopping = True
        srv.server_close()


if __name__ == "__main__":
    sys.exit(main())
