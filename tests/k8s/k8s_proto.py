"""Decodes the Kubernetes protobuf bodies that kubectl sends, into the JSON a
real API server would have read.

kubectl's typed clients (`kubectl create namespace|secret|configmap|
deployment|service ...`) send `application/vnd.kubernetes.protobuf`: the
magic bytes "k8s\\0", then a runtime.Unknown message whose typeMeta names the
kind and whose raw bytes are the object's own message.  Only the messages of
the kinds kubectl creates are described below (field numbers from the
published generated.proto files); a field this table does not know is an
error naming the message and the field number, never silently dropped.

Go's JSON encoder leaves out empty optional fields while gogo-protobuf writes
every non-pointer field, so zero scalars are dropped here unless the field is
a pointer in Go (`keep`), which is what a round trip through a real server
gives.
"""

import base64
import datetime

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"


class ProtoError(Exception):
    pass


# Field types: "string", "bytes", "int", "bool", "time", "intstr", "quantity",
# a message name, or ("map", key, value) / ("list", type).
def _f(name, typ, keep=False):
    return (name, typ, keep)


MESSAGES = {
    "Unknown": {1: _f("typeMeta", "TypeMeta"), 2: _f("raw", "bytes"),
                3: _f("contentEncoding", "string"), 4: _f("contentType", "string")},
    "TypeMeta": {1: _f("apiVersion", "string"), 2: _f("kind", "string")},
    "ObjectMeta": {
        1: _f("name", "string"), 2: _f("generateName", "string"), 3: _f("namespace", "string"),
        4: _f("selfLink", "string"), 5: _f("uid", "string"), 6: _f("resourceVersion", "string"),
        7: _f("generation", "int"), 8: _f("creationTimestamp", "time", True),
        9: _f("deletionTimestamp", "time"), 10: _f("deletionGracePeriodSeconds", "int", True),
        11: _f("labels", ("map", "string", "string")),
        12: _f("annotations", ("map", "string", "string")),
        13: _f("ownerReferences", ("list", "OwnerReference")),
        14: _f("finalizers", ("list", "string")),
        17: _f("managedFields", ("list", "ManagedFieldsEntry"))},
    "OwnerReference": {1: _f("kind", "string"), 3: _f("name", "string"), 4: _f("uid", "string"),
                       5: _f("apiVersion", "string"), 6: _f("controller", "bool", True),
                       7: _f("blockOwnerDeletion", "bool", True)},
    "ManagedFieldsEntry": {1: _f("manager", "string"), 2: _f("operation", "string"),
                           3: _f("apiVersion", "string"), 4: _f("time", "time"),
                           6: _f("fieldsType", "string"), 7: _f("fieldsV1", "FieldsV1"),
                           8: _f("subresource", "string")},
    "FieldsV1": {1: _f("Raw", "bytes")},
    "LabelSelector": {1: _f("matchLabels", ("map", "string", "string")),
                      2: _f("matchExpressions", ("list", "LabelSelectorRequirement"))},
    "LabelSelectorRequirement": {1: _f("key", "string"), 2: _f("operator", "string"),
                                 3: _f("values", ("list", "string"))},
    # core/v1
    "Namespace": {1: _f("metadata", "ObjectMeta"), 2: _f("spec", "NamespaceSpec"),
                  3: _f("status", "NamespaceStatus")},
    "NamespaceSpec": {1: _f("finalizers", ("list", "string"))},
    "NamespaceStatus": {1: _f("phase", "string")},
    "ConfigMap": {1: _f("metadata", "ObjectMeta"), 2: _f("data", ("map", "string", "string")),
                  3: _f("binaryData", ("map", "string", "bytes")),
                  4: _f("immutable", "bool", True)},
    "Secret": {1: _f("metadata", "ObjectMeta"), 2: _f("data", ("map", "string", "bytes")),
               3: _f("type", "string"), 4: _f("stringData", ("map", "string", "string")),
               5: _f("immutable", "bool", True)},
    "Service": {1: _f("metadata", "ObjectMeta"), 2: _f("spec", "ServiceSpec"),
                3: _f("status", "ServiceStatus")},
    "ServiceSpec": {1: _f("ports", ("list", "ServicePort")),
                    2: _f("selector", ("map", "string", "string")),
                    3: _f("clusterIP", "string"), 4: _f("type", "string"),
                    5: _f("externalIPs", ("list", "string")),
                    7: _f("sessionAffinity", "string"), 8: _f("loadBalancerIP", "string"),
                    9: _f("loadBalancerSourceRanges", ("list", "string")),
                    10: _f("externalName", "string"), 11: _f("externalTrafficPolicy", "string"),
                    12: _f("healthCheckNodePort", "int"),
                    13: _f("publishNotReadyAddresses", "bool")},
    "ServicePort": {1: _f("name", "string"), 2: _f("protocol", "string"),
                    3: _f("port", "int", True), 4: _f("targetPort", "intstr"),
                    5: _f("nodePort", "int"), 6: _f("appProtocol", "string")},
    "ServiceStatus": {1: _f("loadBalancer", "LoadBalancerStatus")},
    "LoadBalancerStatus": {},
    # apps/v1
    "Deployment": {1: _f("metadata", "ObjectMeta"), 2: _f("spec", "DeploymentSpec"),
                   3: _f("status", "DeploymentStatus")},
    "DeploymentSpec": {1: _f("replicas", "int", True), 2: _f("selector", "LabelSelector"),
                       3: _f("template", "PodTemplateSpec"),
                       4: _f("strategy", "DeploymentStrategy"),
                       5: _f("minReadySeconds", "int"),
                       6: _f("revisionHistoryLimit", "int", True),
                       7: _f("paused", "bool"), 9: _f("progressDeadlineSeconds", "int", True)},
    "DeploymentStrategy": {1: _f("type", "string")},
    "DeploymentStatus": {1: _f("observedGeneration", "int"), 2: _f("replicas", "int"),
                         3: _f("updatedReplicas", "int"), 4: _f("availableReplicas", "int"),
                         5: _f("unavailableReplicas", "int"), 7: _f("readyReplicas", "int"),
                         8: _f("collisionCount", "int", True)},
    "PodTemplateSpec": {1: _f("metadata", "ObjectMeta"), 2: _f("spec", "PodSpec")},
    "PodSpec": {2: _f("containers", ("list", "Container")), 3: _f("restartPolicy", "string"),
                6: _f("dnsPolicy", "string"), 8: _f("serviceAccountName", "string"),
                9: _f("serviceAccount", "string"), 10: _f("nodeName", "string"),
                11: _f("hostNetwork", "bool"), 12: _f("hostPID", "bool"),
                13: _f("hostIPC", "bool"), 16: _f("hostname", "string"),
                17: _f("subdomain", "string"), 19: _f("schedulerName", "string"),
                24: _f("priorityClassName", "string"), 35: _f("setHostnameAsFQDN", "bool", True)},
    "Container": {1: _f("name", "string", True), 2: _f("image", "string"),
                  3: _f("command", ("list", "string")), 4: _f("args", ("list", "string")),
                  5: _f("workingDir", "string"),
                  6: _f("ports", ("list", "ContainerPort")), 7: _f("env", ("list", "EnvVar")),
                  8: _f("resources", "ResourceRequirements"),
                  13: _f("terminationMessagePath", "string"),
                  14: _f("imagePullPolicy", "string"), 16: _f("stdin", "bool"),
                  17: _f("stdinOnce", "bool"), 18: _f("tty", "bool"),
                  20: _f("terminationMessagePolicy", "string")},
    "ContainerPort": {1: _f("name", "string"), 2: _f("hostPort", "int"),
                      3: _f("containerPort", "int", True), 4: _f("protocol", "string"),
                      5: _f("hostIP", "string")},
    "EnvVar": {1: _f("name", "string", True), 2: _f("value", "string")},
    "ResourceRequirements": {1: _f("limits", ("map", "string", "quantity")),
                             2: _f("requests", ("map", "string", "quantity"))},
}

# apiVersion/kind -> the message of the raw bytes
KINDS = {("v1", "Namespace"): "Namespace", ("v1", "ConfigMap"): "ConfigMap",
         ("v1", "Secret"): "Secret", ("v1", "Service"): "Service",
         ("apps/v1", "Deployment"): "Deployment"}


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def _fields(buf):
    """(number, wire type, value) for each field of a message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtoError("truncated field %d" % num)
            val, i = buf[i:i + n], i + n
        elif wt == 1:
            val, i = buf[i:i + 8], i + 8
        elif wt == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ProtoError("unsupported wire type %d (field %d)" % (wt, num))
        yield num, wt, val


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _scalar(typ, wt, val, where):
    if typ in ("string", "bytes", "quantity", "time", "intstr") or isinstance(typ, tuple) or \
            typ in MESSAGES:
        if wt != 2:
            raise ProtoError("%s: expected a length-delimited field" % where)
    elif wt != 0:
        raise ProtoError("%s: expected a varint" % where)
    if typ == "string":
        try:
            return val.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtoError("%s: not UTF-8" % where)
    if typ == "bytes":
        return base64.b64encode(bytes(val)).decode()
    if typ == "int":
        return _signed(val)
    if typ == "bool":
        return bool(val)
    if typ == "quantity":
        return decode_message("Quantity", val).get("string", "")
    if typ == "time":
        t = decode_message("Time", val)
        if not t.get("seconds"):
            return None
        return datetime.datetime.fromtimestamp(t["seconds"], datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    if typ == "intstr":
        v = decode_message("IntOrString", val)
        return v.get("strVal", "") if v.get("type") == 1 else v.get("intVal", 0)
    return decode_message(typ, val)


MESSAGES["Quantity"] = {1: _f("string", "string")}
MESSAGES["Time"] = {1: _f("seconds", "int"), 2: _f("nanos", "int")}
MESSAGES["IntOrString"] = {1: _f("type", "int", True), 2: _f("intVal", "int", True),
                           3: _f("strVal", "string")}


def _empty(v):
    return v in (0, "", False) and not isinstance(v, dict)


def decode_message(name, buf):
    desc = MESSAGES[name]
    out = {}
    for num, wt, val in _fields(bytes(buf)):
        if num not in desc:
            raise ProtoError("%s: field %d (wire type %d, %r) is not known to the test API "
                             "server" % (name, num, wt, bytes(val[:40]) if wt == 2 else val))
        fname, typ, keep = desc[num]
        where = "%s.%s" % (name, fname)
        if isinstance(typ, tuple) and typ[0] == "map":
            entry = {1: None, 2: None}
            for n2, wt2, v2 in _fields(bytes(val)):
                entry[n2] = _scalar(typ[1] if n2 == 1 else typ[2], wt2, v2, where)
            out.setdefault(fname, {})[entry[1] or ""] = entry[2] if entry[2] is not None else ""
        elif isinstance(typ, tuple) and typ[0] == "list":
            out.setdefault(fname, []).append(_scalar(typ[1], wt, val, where))
        else:
            v = _scalar(typ, wt, val, where)
            if v is None:
                if keep:
                    out[fname] = None
            elif keep or not _empty(v):
                out[fname] = v
    return out


def decode(body):
    """The JSON object of a protobuf request body; ProtoError when it cannot be read."""
    if not body.startswith(MAGIC):
        raise ProtoError("the body does not start with the Kubernetes protobuf magic bytes")
    env = decode_message("Unknown", body[len(MAGIC):])
    tm = env.get("typeMeta") or {}
    key = (tm.get("apiVersion", ""), tm.get("kind", ""))
    if key not in KINDS:
        raise ProtoError("protobuf bodies of %s %s are not understood by the test API server; "
                         "send JSON" % key)
    if env.get("contentEncoding"):
        raise ProtoError("content encoding %r is not supported" % env["contentEncoding"])
    raw = base64.b64decode(env.get("raw", ""))
    obj = decode_message(KINDS[key], raw)
    obj["apiVersion"], obj["kind"] = key
    return obj
