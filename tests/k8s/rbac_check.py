#!/usr/bin/env python3
"""Checks that every request one identity made is allowed by a ClusterRole.

  python3 tests/k8s/rbac_check.py ROLE.json AUDIT USER

ROLE.json is a ClusterRole as `kubectl get clusterrole NAME -o json` prints
it; AUDIT the test API server's audit log (tests/k8s/apiserver.py: one line
per request, `METHOD PATH?QUERY USER STATUS`); USER the identity whose lines
are checked (the server's --token NAME=TOKEN).  Each request is turned into
what the real API server's authorizer asks: verb (get, list, watch, create,
update, patch, delete, deletecollection), API group, resource and
subresource, object name; a rule allows it when its apiGroups, resources
(or resource/subresource), verbs and resourceNames (empty: any) match, "*"
matching anything.  Discovery and version paths (/api, /apis, /apis/GROUP,
/apis/GROUP/VERSION, /version, /openapi/...) are what the built-in
ClusterRole system:discovery grants to every authenticated identity.

Prints one line per distinct request kind (`ok` or `DENIED`, with how many
times it was made) and the rules' verbs that no request used; exits 1 when a
request is denied or when USER made no request at all (nothing was checked),
2 on a bad argument.  It does not care which command made the requests:
a `perch run`, a `perch controller`, anything run with USER's credentials.
"""

import json
import sys
import urllib.parse

DISCOVERY_PREFIXES = ("/version", "/openapi/", "/healthz", "/livez", "/readyz")


def request_attrs(method, path, query):
    """(verb, group, resource, subresource, name), or None for a discovery path."""
    if path in ("/api", "/apis", "/openapi/v2", "/openapi/v3") or path.startswith(DISCOVERY_PREFIXES):
        return None
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = (parts[1] if len(parts) > 1 else ""), parts[3:]
    else:
        raise ValueError("not an API path: " + path)
    if not rest:
        return None		# /api/v1, /apis/GROUP/VERSION: discovery
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]		# a namespaced resource
    res = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    q = urllib.parse.parse_qs(query)
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method)
    if method in ("GET", "HEAD"):
        watch = q.get("watch", [""])[0] in ("1", "true")
        verb = "get" if name else ("watch" if watch else "list")
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    if verb is None:
        raise ValueError("unknown method %s" % method)
    return verb, group, res, sub, name


def allowed(rules, verb, group, res, sub, name):
    want = res + "/" + sub if sub else res
    for r in rules:
        if not ({"*", group} & set(r.get("apiGroups", []))):
            continue
        if not ({"*", want} & set(r.get("resources", []))):
            continue
        if not ({"*", verb} & set(r.get("verbs", []))):
            continue
        names = r.get("resourceNames") or []
        if names and name not in names:
            continue
        return r
    return None


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        role = json.load(f)
    rules = role.get("rules") or []
    seen, used, denied = {}, set(), 0
    with open(argv[2]) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 4 or fields[2] != argv[3]:
                continue
            url = urllib.parse.urlsplit(fields[1])
            attrs = request_attrs(fields[0], url.path, url.query)
            key = attrs[:4] if attrs else ("discovery", url.path)
            seen[key] = seen.get(key, 0) + 1
            if attrs is None:
                continue
            r = allowed(rules, *attrs)
            if r is None:
                denied += 1
            else:
                used.add((id(r), attrs[0]))
    if not seen:
        print("rbac: %s made no request in %s: nothing checked" % (argv[3], argv[2]))
        return 1
    name = role.get("metadata", {}).get("name", "?")
    for key, n in sorted(seen.items()):
        if key[0] == "discovery":
            print("ok       %-60s %4d  (system:discovery)" % (key[1], n))
            continue
        verb, group, res, sub = key
        what = "%s %s%s%s" % (verb, res + ("/" + sub if sub else ""), "." if group else "", group)
        ok = allowed(rules, verb, group, res, sub, "") is not None
        print("%-8s %-60s %4d" % ("ok" if ok else "DENIED", what, n))
    unused = []
    for r in rules:
        for v in r.get("verbs", []):
            if (id(r), v) not in used:
                unused.append("%s %s" % (v, ",".join(r.get("resources", []))))
    print("rbac: %d request kinds of %s checked against ClusterRole %s: %d denied; "
          "verbs of the role no request used: %s" % (len(seen), argv[3], name, denied,
                                                     "; ".join(unused) or "none"))
    return 1 if denied else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
