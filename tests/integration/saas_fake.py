#!/usr/bin/env python3
"""saas_fake.py — stand-ins for the SaaS metric providers perch queries
(Dynatrace Metrics API v2, ...), on 127.0.0.1 only.

    saas_fake.py --provider dynatrace --log FILE --secret TOKEN --window-ms MS

Each follows the provider's documented API: its paths, its auth header,
its JSON answers, its error and empty answers.  It CHECKS every request
perch sends — the auth header and its value, the time range (the window
perch was told to use, ending near now), the query's encoding — and
answers a wrong one with the provider's 400/401 error and a line
"BAD: why" in --log, which the test looks for.  Every request is logged
(path and query, never the secret: the log holds "auth=ok" or "BAD").

The answer depends on the words of the query: "nodata" → the empty answer,
"broken" → the provider's error answer (400), "down" → HTTP 503,
"app-primary" → 500.0, otherwise 812.4 (the canary "app").

Prints "listening on http://127.0.0.1:PORT" once it serves.
"""
import argparse
import json
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None


def log(line):
    with open(ARGS.log, "a") as f:
        f.write(line + "\n")


def value_for(query):
    if "nodata" in query:
        return None
    if "app-primary" in query:
        return 500.0
    return 812.4


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, obj, ctype="application/json"):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def bad(self, code, why, obj):
        log("BAD: " + why)
        self.send(code, obj)

    def window(self, frm, to, unit_ms):
        """Checks a time range (in units of unit_ms); None when right."""
        try:
            frm, to = int(frm) * unit_ms, int(to) * unit_ms
        except (TypeError, ValueError):
            return "from/to are not integers: %r %r" % (frm, to)
        now = time.time() * 1000
        if to - frm != ARGS.window_ms:
            return "window is %d ms, want %d" % (to - frm, ARGS.window_ms)
        if abs(to - now) > 120000:
            return "the window ends %d ms away from now" % (to - now)
        return None

    # ---- Dynatrace Metrics API v2 -------------------------------------
    def dt_error(self, code, msg):
        return {"error": {"code": code, "message": msg}}

    def dynatrace(self):
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if self.headers.get("Authorization") != "Api-Token " + ARGS.secret:
            return self.bad(401, "Authorization is not Api-Token <dynatrace_token>",
                            self.dt_error(401, "Missing authorization parameter."))
        if url.path == "/api/v2/metrics":
            log("probe pageSize=%s auth=ok" % params.get("pageSize"))
            return self.send(200, {"totalCount": 1, "nextPageKey": None, "metrics": [
                {"metricId": "builtin:service.response.time"}]})
        if url.path != "/api/v2/metrics/query":
            return self.bad(404, "path " + url.path, self.dt_error(404, "not found"))
        # Every parameter exactly once, the selector percent-encoded.
        if any(len(v) != 1 for v in params.values()) or \
                sorted(params) != ["from", "metricSelector", "resolution", "to"]:
            return self.bad(400, "parameters " + url.query, self.dt_error(400, "bad params"))
        raw = [p for p in url.query.split("&") if p.startswith("metricSelector=")][0]
        if any(c in raw[len("metricSelector="):] for c in ' "(),:+'):
            return self.bad(400, "metricSelector is not percent-encoded: " + raw,
                            self.dt_error(400, "bad selector"))
        why = self.window(params["from"][0], params["to"][0], 1)
        if why:
            return self.bad(400, why, self.dt_error(400, why))
        if params["resolution"][0] != "Inf":
            return self.bad(400, "resolution", self.dt_error(400, "resolution"))
        sel = params["metricSelector"][0]
        log("query %s auth=ok" % sel)
        if "down" in sel:
            return self.send(503, self.dt_error(503, "Service unavailable"))
        if "broken" in sel:
            return self.send(400, self.dt_error(400, "The metric selector is invalid"))
        v = value_for(sel)
        res = {"metricId": sel, "dataPointCountRatio": 0.0001, "dimensionCountRatio": 0.001,
               "data": []}
        if v is not None:
            to = int(params["to"][0])
            res["data"] = [{"dimensions": ["SERVICE-0"], "dimensionMap": {},
                            "timestamps": [to], "values": [1.5]},
                           {"dimensions": ["SERVICE-1"], "dimensionMap": {},
                            "timestamps": [to], "values": [v]}]
        self.send(200, {"totalCount": 1, "nextPageKey": None, "resolution": "Inf",
                        "result": [res]})

    def do_GET(self):
        getattr(self, ARGS.provider)()

    def do_POST(self):
        getattr(self, ARGS.provider)()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True, choices=["dynatrace"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--window-ms", type=int, default=600000)
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
