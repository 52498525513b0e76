#!/usr/bin/env python3
"""saas_fake.py — stand-ins for the SaaS metric providers perch queries
(Dynatrace Metrics API v2, CloudWatch GetMetricData over its JSON
protocol with SigV4 checked by an independent implementation, Splunk
Observability SignalFlow's REST execute endpoint answering Server-Sent
Events, Google Cloud Monitoring's REST timeSeries:query with the
metadata server's token or a service account's, signed in at /token with
an RS256 JWT), on 127.0.0.1 only.

    saas_fake.py --provider dynatrace --log FILE --secret TOKEN --window-ms MS

Each follows the provider's documented API: its paths, its auth header,
its JSON answers, its error and empty answers.  It CHECKS every request
perch sends — the auth header and its value, the time range (the window
perch was told to use, ending near now or at one of --ends-at), the
query's encoding — and
answers a wrong one with the provider's 400/401 error and a line
"BAD: why" in --log, which the test looks for.  Every request is logged
(path and query, never the secret: the log holds "auth=ok" or "BAD").

The answer depends on the words of the query: "nodata" → the empty answer,
"broken" → the provider's error answer (400), "down" → HTTP 503,
"app-primary" → 500.0, otherwise 812.4 (the canary "app").

Prints "listening on http://127.0.0.1:PORT" once it serves.
"""
import argparse
import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
SA_TOKENS = []	# the service account's tokens handed out; the last one is valid
REVOKED = []	# the token refused once (a query with "revoke")


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
        if to // 1000 in ARGS.ends_at:      # a past window perch replay asks for
            log("window ends %d" % (to // 1000))
            return None
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

    # ---- CloudWatch GetMetricData, JSON protocol, SigV4 -----------------
    def sigv4_check(self, body):
        """None when the Authorization header is AWS's SigV4 of this request
        with --access-key/--secret and --region, service monitoring."""
        auth = self.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/monitoring/aws4_request, "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
        if not m:
            return "Authorization is not SigV4: %r" % auth[:60]
        key_id, day, region, signed, sig = m.groups()
        if key_id != ARGS.access_key or region != ARGS.region:
            return "credential scope %s/%s" % (key_id, region)
        date = self.headers.get("X-Amz-Date", "")
        if not date.startswith(day):
            return "X-Amz-Date %s does not match the scope" % date
        names = signed.split(";")
        need = {"host", "x-amz-date", "content-type", "x-amz-target"}
        if ARGS.session_token:
            need.add("x-amz-security-token")
        if not need <= set(names) or names != sorted(names):
            return "SignedHeaders %s" % signed
        creq = "\n".join(["POST", "/", ""] +
                         ["%s:%s" % (n, " ".join(self.headers.get(n, "").split())) for n in names] +
                         ["", signed, hashlib.sha256(body).hexdigest()])
        scope = "%s/%s/monitoring/aws4_request" % (day, region)
        sts = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (date, scope,
                                                 hashlib.sha256(creq.encode()).hexdigest())
        k = ("AWS4" + ARGS.secret).encode()
        for part in (day, region, "monitoring", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() != sig:
            return "the signature does not match the request"
        return None

    def cw_error(self, code, typ, msg):
        return self.send(code, {"__type": typ, "message": msg}, "application/x-amz-json-1.0")

    def cloudwatch(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.command != "POST" or self.path != "/":
            log("BAD: %s %s" % (self.command, self.path))
            return self.cw_error(404, "UnknownOperationException", "")
        if self.headers.get("X-Amz-Target") != "GraniteServiceVersion20100801.GetMetricData" or \
                self.headers.get("Content-Type") != "application/x-amz-json-1.0":
            log("BAD: X-Amz-Target or Content-Type")
            return self.cw_error(400, "UnknownOperationException", "")
        why = self.sigv4_check(body)
        if why is None and ARGS.session_token and \
                self.headers.get("X-Amz-Security-Token") != ARGS.session_token:
            why = "X-Amz-Security-Token"
        if why:
            log("BAD: " + why)
            return self.cw_error(403, "SignatureDoesNotMatch", "The request signature we "
                                 "calculated does not match the signature you provided.")
        req = json.loads(body)
        if req.get("StartTime") == 0 and req.get("MetricDataQueries") == []:
            log("probe auth=ok")
            return self.cw_error(400, "ValidationError", "The parameter StartTime must be "
                                 "greater than 0.")
        why = self.window(req.get("StartTime"), req.get("EndTime"), 1000)
        if why is None and req.get("MaxDatapoints") != 20:
            why = "MaxDatapoints %r" % req.get("MaxDatapoints")
        qs = req.get("MetricDataQueries")
        if why is None and (not isinstance(qs, list) or not all("Id" in q for q in qs)):
            why = "MetricDataQueries %r" % qs
        if why:
            log("BAD: " + why)
            return self.cw_error(400, "ValidationError", why)
        text = json.dumps(qs, sort_keys=True)
        log("query %s auth=ok" % text)
        if "broken" in text:
            return self.cw_error(400, "InvalidParameterValueException",
                                 "Unrecognized metric math expression")
        if "down" in text:
            return self.cw_error(503, "ServiceUnavailable", "")
        v = value_for(text)
        res = {"Id": qs[-1]["Id"], "Label": "result", "StatusCode": "Complete",
               "Timestamps": [], "Values": []}
        if v is not None:
            res["Timestamps"] = [req["EndTime"] - 60, req["EndTime"] - 120]
            res["Values"] = [v, 1.0]
        self.send(200, {"MetricDataResults": [res], "Messages": []},
                  "application/x-amz-json-1.0")

    # ---- Splunk Observability SignalFlow, REST execute (SSE) ------------
    def sse(self, messages):
        out = ""
        for m in messages:
            out += "event: %s\n" % m["type"]
            for line in json.dumps(m, indent=1).split("\n"):	# multi-line data, as SSE allows
                out += "data: %s\n" % line
            out += "\n"
        self.send(200, out.encode(), "text/event-stream")

    def splunk(self):
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("X-SF-Token") != ARGS.secret:
            log("BAD: X-SF-Token is not sf_token_key")
            return self.send(401, {"code": 401, "message": "Unauthorized"})
        if self.command == "GET" and url.path == "/v2/metric":
            log("probe limit=%s auth=ok" % params.get("limit"))
            return self.send(200, {"count": 1, "results": [{"name": "demo.latency"}]})
        if self.command != "POST" or url.path != "/v2/signalflow/execute":
            log("BAD: %s %s" % (self.command, url.path))
            return self.send(404, {"code": 404, "message": "not found"})
        if not self.headers.get("Content-Type", "").startswith("text/plain"):
            log("BAD: Content-Type %s" % self.headers.get("Content-Type"))
            return self.send(415, {"code": 415, "message": "Unsupported Media Type"})
        why = self.window(params.get("start", [""])[0], params.get("stop", [""])[0], 1)
        if why is None and params.get("immediate") != ["true"]:
            why = "immediate is not true"
        if why:
            log("BAD: " + why)
            return self.send(400, {"code": 400, "message": why})
        prog = body.decode()
        log("query %s auth=ok" % prog)
        if "down" in prog:
            return self.send(503, {"code": 503, "message": "Service Unavailable"})
        ch = "R0"
        msgs = [{"type": "control-message", "channel": ch, "event": "STREAM_START",
                 "timestampMs": 0},
                {"type": "control-message", "channel": ch, "event": "JOB_START",
                 "handle": "DxyZ", "timestampMs": 0}]
        if "broken" in prog:
            msgs.append({"type": "error", "channel": ch, "error": 400, "errorType": "ANALYTICS_PROGRAM_ERROR",
                         "message": "Invalid SignalFlow program"})
            return self.sse(msgs)
        v = value_for(prog)
        if v is not None:
            ids = ["AAAAAKhAx1Y"] + (["AAAAAB8d2zE"] if "several" in prog else [])
            for tid in ids:
                msgs.append({"type": "metadata", "channel": ch, "tsId": tid,
                             "properties": {"sf_metric": "demo.latency"}})
            stop = int(params["stop"][0])
            for i, val in enumerate([1.0, v]):
                msgs.append({"type": "data", "channel": ch, "logicalTimestampMs": stop - 60000 * (1 - i),
                             "data": [{"tsId": tid, "value": val} for tid in ids]})
        msgs.append({"type": "control-message", "channel": ch, "event": "END_OF_CHANNEL",
                     "timestampMs": 0})
        self.sse(msgs)

    # ---- Google Cloud Monitoring, REST timeSeries:query (MQL) ----------
    #      and the metadata server's access token
    def g_error(self, code, status, msg):
        return self.send(code, {"error": {"code": code, "message": msg, "status": status}})

    # The service-account flow (OAuth 2.0 JWT bearer grant): the assertion's
    # RS256 signature is checked with openssl against --sa-public-key, and
    # its header and claims (iss, scope, aud = this endpoint, iat near now,
    # exp = iat + 3600) before a token is handed out.
    def jwt_why(self, form):
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return "Content-Type is not application/x-www-form-urlencoded"
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return "grant_type is not jwt-bearer"
        parts = form.get("assertion", [""])[0].split(".")
        if len(parts) != 3:
            return "the assertion is not a JWT"
        dec = [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in parts]
        with tempfile.TemporaryDirectory() as d:
            open(d + "/in", "w").write(parts[0] + "." + parts[1])
            open(d + "/sig", "wb").write(dec[2])
            ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", ARGS.sa_public_key,
                                 "-signature", d + "/sig", d + "/in"],
                                capture_output=True).returncode == 0
        if not ok:
            return "the RS256 signature does not verify"
        hdr, claims = json.loads(dec[0]), json.loads(dec[1])
        if hdr != {"alg": "RS256", "typ": "JWT", "kid": ARGS.sa_kid}:
            return "header %r" % hdr
        now = time.time()
        if claims.get("iss") != ARGS.sa_email or \
                claims.get("scope") != "https://www.googleapis.com/auth/monitoring.read" or \
                claims.get("aud") != "http://%s/token" % self.headers.get("Host") or \
                abs(claims.get("iat", 0) - now) > 60 or claims.get("exp") != claims["iat"] + 3600:
            return "claims %r" % sorted(claims.items())
        return None

    def sa_token(self, body):
        why = self.jwt_why(urllib.parse.parse_qs(body.decode()))
        if why is not None:
            log("BAD: token request: " + why)
            return self.send(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        SA_TOKENS.append("ya29.s3cr3t-sa-%d-%s" % (len(SA_TOKENS) + 1, ARGS.secret))
        log("sa-token %d" % len(SA_TOKENS))
        return self.send(200, {"access_token": SA_TOKENS[-1], "expires_in": 3599, "token_type": "Bearer"})

    def stackdriver(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        token = "ya29.s3cr3t-access-" + ARGS.secret
        if self.path == "/token" and ARGS.sa_public_key:
            return self.sa_token(body)
        auth = self.headers.get("Authorization", "")
        if SA_TOKENS and auth == "Bearer " + SA_TOKENS[-1]:
            token = SA_TOKENS[-1]
            if b"revoke" in body and not REVOKED:	# once: the token is revoked
                REVOKED.append(token)
                log("sa-revoked")
                return self.g_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.path == "/computeMetadata/v1/instance/service-accounts/default/token":
            if self.headers.get("Metadata-Flavor") != "Google":
                log("BAD: no Metadata-Flavor: Google")
                return self.send(403, b"Missing Metadata-Flavor:Google header.", "text/html")
            log("token")
            return self.send(200, {"access_token": token, "expires_in": 3599,
                                   "token_type": "Bearer"})
        want = "/v3/projects/%s/timeSeries:query" % ARGS.project
        if self.headers.get("Authorization") != "Bearer " + token:
            log("BAD: Authorization is not the metadata server's nor the service account's token")
            return self.g_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if self.command != "POST" or self.path != want:
            log("BAD: %s %s" % (self.command, self.path))
            return self.g_error(404, "NOT_FOUND", "not found")
        try:
            req = json.loads(body)
        except ValueError:
            req = None
        if not isinstance(req, dict) or sorted(req) != ["query"]:
            log("BAD: body %r" % body[:80])
            return self.g_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        mql = req["query"]
        if mql == "":
            log("probe auth=ok")
            return self.g_error(400, "INVALID_ARGUMENT", "Field query had an invalid value: must not be empty")
        log("query %s auth=ok" % mql)
        if "broken" in mql:
            return self.g_error(400, "INVALID_ARGUMENT", "Line 1, column 6: unknown table")
        if "down" in mql:
            return self.g_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        v = value_for(mql)
        out = {"timeSeriesDescriptor": {"pointDescriptors": [{"key": "value.latency",
                                                              "valueType": "DOUBLE"}]}}
        if v is not None:
            val = {"int64Value": str(int(v))} if "int64" in mql else {"doubleValue": v}
            out["timeSeriesData"] = [{"labelValues": [], "pointData": [
                {"values": [val], "timeInterval": {"startTime": "2024-05-01T10:00:00Z",
                                                   "endTime": "2024-05-01T10:01:00Z"}},
                {"values": [{"doubleValue": 1.0}], "timeInterval": {
                    "startTime": "2024-05-01T09:59:00Z", "endTime": "2024-05-01T10:00:00Z"}}]}]
        self.send(200, out)

    def do_GET(self):
        getattr(self, ARGS.provider)()

    def do_POST(self):
        getattr(self, ARGS.provider)()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--provider", required=True, choices=["dynatrace", "cloudwatch", "splunk", "stackdriver"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--access-key")
    ap.add_argument("--region")
    ap.add_argument("--project")
    ap.add_argument("--session-token")
    ap.add_argument("--sa-public-key", help="stackdriver: the service account key's public PEM")
    ap.add_argument("--sa-email")
    ap.add_argument("--sa-kid")
    ap.add_argument("--window-ms", type=int, default=600000)
    ap.add_argument("--ends-at", default="", type=lambda v: [int(x) for x in v.split(",") if x],
                    help="unix seconds a window may also end at (perch replay), comma-separated")
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
