"""provider_standin.py --config FILE --violations FILE — stand-ins on
127.0.0.1 for the metric providers perch cannot run here, answering as
their documented APIs do, and checking every request perch sends:

  Datadog      GET  /api/v1/query?from=&query=&to=   DD-API-KEY, DD-APPLICATION-KEY
               GET  /api/v1/validate
  New Relic    GET  /v1/accounts/<id>/query?nrql=   X-Query-Key
  InfluxDB 2   POST /api/v2/query?org=              Authorization: Token, JSON body (Flux)
  External metrics API (external.metrics.k8s.io/v1beta1), bearer token
               GET  /apis/external.metrics.k8s.io/v1beta1/namespaces/<ns>/<metric>

The config (JSON) holds the credentials each one expects and the answers:
{"secrets": {...}, "window": seconds of Datadog's window, "at": the unix
time a query for the past must end at (New Relic's SINCE/UNTIL, Flux's
option now), "values":
{"<query as the provider receives it>": number | "empty" | "error"}}.
A request that breaks the API's contract (credentials missing or wrong,
a time range that is not the window, a query that is not one the test
rendered, a body not as the client library sends it) is answered as the
provider would (401/403/400) AND written to the violations file, which
the test requires to be empty.  Prints "listening on URL" when it serves,
and "past PROVIDER WINDOW" for each query aimed at a past time."""
import argparse
import gzip
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CFG = {}
VIOL = None

NOW_OPTION = "option now = () => "
FLUX_DIALECT = {"annotations": ["datatype", "group", "default"], "delimiter": ",", "header": True}


SAY_LOCK = threading.Lock()


def say(line):
    """One whole line to stdout: the server answers on several threads, and
    print() writes the text and its newline apart, so two lines interleave."""
    with SAY_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def violation(msg):
    with open(VIOL, "a") as f:
        f.write(msg + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        gz = "gzip" in (self.headers.get("Accept-Encoding") or "") and ctype == "text/csv"
        if gz:
            data = gzip.compress(data)
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def value(self, who, query):
        v = CFG["values"].get(query)
        if v is None:
            violation("%s: unexpected query %r" % (who, query))
        return v

    # ---- Datadog ------------------------------------------------------
    def datadog(self, u, q):
        s = CFG["secrets"]
        if self.headers.get("DD-API-KEY") != s["datadog_api_key"] or \
                self.headers.get("DD-APPLICATION-KEY") != s["datadog_application_key"]:
            violation("datadog: missing or wrong DD-API-KEY / DD-APPLICATION-KEY")
            return self.answer(403, json.dumps({"errors": ["Forbidden"]}))
        if u.path == "/api/v1/validate":
            return self.answer(200, json.dumps({"valid": True}))
        keys = [k for k, _ in urllib.parse.parse_qsl(u.query, keep_blank_values=True)]
        if keys != ["from", "query", "to"]:
            violation("datadog: parameters %r, want from, query, to" % keys)
        try:
            frm, to = int(q["from"][0]), int(q["to"][0])
        except (KeyError, ValueError):
            violation("datadog: from/to not unix seconds: %r" % u.query)
            return self.answer(400, json.dumps({"errors": ["Invalid from/to"]}))
        if to - frm != CFG["window"] or abs(to - time.time()) > 120:
            violation("datadog: window %d..%d, want %d s ending now" % (frm, to, CFG["window"]))
        v = self.value("datadog", q.get("query", [""])[0])
        if v == "error" or v is None:
            return self.answer(400, json.dumps({"errors": ["Error parsing query: unable to parse"]}))
        series = [] if v == "empty" else [{
            "metric": "m", "scope": "*", "interval": 60, "length": 2,
            "pointlist": [[(frm + 60) * 1000.0, v], [(frm + 120) * 1000.0, v + 1000]]}]
        return self.answer(200, json.dumps({"status": "ok", "res_type": "time_series",
                                            "from_date": frm * 1000, "to_date": to * 1000,
                                            "query": q["query"][0], "series": series}))

    # ---- New Relic ----------------------------------------------------
    def newrelic(self, u, q):
        s = CFG["secrets"]
        parts = u.path.split("/")
        if parts[3] != s["newrelic_account_id"]:
            violation("newrelic: account %r" % parts[3])
            return self.answer(404, json.dumps({"error": "Account not found"}))
        if self.headers.get("X-Query-Key") != s["newrelic_query_key"]:
            violation("newrelic: missing or wrong X-Query-Key")
            return self.answer(401, json.dumps({"error": "Invalid query key"}))
        nrql = q.get("nrql", [""])[0]
        if nrql == "SELECT * FROM Metric SINCE 60 seconds ago":
            return self.answer(200, json.dumps({"results": [{"events": []}]}))
        past = re.match(r"^(.*) SINCE (\d+) UNTIL (\d+)$", nrql, re.S)
        suffix = " SINCE %d seconds ago" % CFG["interval"]
        if past:
            # a past window (perch replay, check --time): epoch milliseconds
            since, until = int(past.group(2)), int(past.group(3))
            if until - since != CFG["interval"] * 1000 or until != CFG.get("at", -1) * 1000:
                violation("newrelic: window %d..%d, want %d s up to %s" %
                          (since, until, CFG["interval"], CFG.get("at")))
            nrql = past.group(1)
            say("past newrelic %d %d" % (since, until))
        elif not nrql.endswith(suffix):
            violation("newrelic: nrql %r does not end with %r" % (nrql, suffix))
        else:
            nrql = nrql[:-len(suffix)]
        v = self.value("newrelic", nrql)
        if v == "error" or v is None:
            return self.answer(400, json.dumps({"error": "NRQL Syntax Error: Error at line 1"}))
        return self.answer(200, json.dumps({"results": [{"result": None if v == "empty" else v}],
                                            "metadata": {}}))

    # ---- InfluxDB 2 ---------------------------------------------------
    def influxdb(self, u, q, body):
        s = CFG["secrets"]
        if self.headers.get("Authorization") != "Token " + s["token"]:
            violation("influxdb: missing or wrong Authorization: Token")
            return self.answer(401, json.dumps({"code": "unauthorized", "message": "unauthorized access"}))
        if q.get("org", [""])[0] != s["org"]:
            violation("influxdb: org %r" % q.get("org"))
        if self.headers.get("Content-Type") != "application/json":
            violation("influxdb: Content-Type %r" % self.headers.get("Content-Type"))
        try:
            req = json.loads(body)
        except ValueError:
            violation("influxdb: body is not JSON")
            return self.answer(400, json.dumps({"code": "invalid", "message": "bad body"}))
        if req.get("dialect") != FLUX_DIALECT or req.get("type") != "flux":
            violation("influxdb: body %r" % req)
        flux = req.get("query", "")
        if flux.startswith(NOW_OPTION):
            # a past time (perch replay, check --time): Flux's option now
            line, _, flux = flux.partition("\n")
            want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(CFG.get("at", 0)))
            if line[len(NOW_OPTION):] != want or "at" not in CFG:
                violation("influxdb: %r, want now at %s" % (line, want))
            say("past influxdb %s" % line[len(NOW_OPTION):])
        if flux.startswith('from(bucket: "default")'):
            return self.answer(200, "\r\n", "text/csv")
        v = self.value("influxdb", flux)
        if v == "error" or v is None:
            return self.answer(400, json.dumps({"code": "invalid",
                                                "message": "compilation failed: error at @1:1-1:4"}))
        head = ("#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double,string,string\r\n"
                "#group,false,false,true,true,false,true,true\r\n#default,_result,,,,,,\r\n"
                ",result,table,_start,_stop,_value,_field,_measurement\r\n")
        if v == "empty":
            return self.answer(200, "\r\n", "text/csv")
        row = ",,0,2024-05-01T08:00:00Z,2024-05-01T10:00:00Z,%s,value,requests\r\n" % repr(float(v))
        return self.answer(200, head + row + row.replace(repr(float(v)), "1e9") + "\r\n", "text/csv")

    # ---- External metrics API ------------------------------------------
    def external(self, u, q):
        if self.headers.get("Authorization") != "Bearer " + CFG["secrets"]["k8s_token"]:
            violation("externalmetrics: missing or wrong bearer token")
            return self.answer(401, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                "message": "Unauthorized", "reason": "Unauthorized",
                                                "code": 401}))
        parts = u.path.split("/")
        if len(parts) != 7 or parts[4] != "namespaces":
            violation("externalmetrics: path %r" % u.path)
            return self.answer(404, "{}")
        ns, metric = parts[5], parts[6]
        key = "%s/%s" % (ns, metric) + ("?labelSelector=" + q["labelSelector"][0] if "labelSelector" in q else "")
        if key == "kube-system/dummy-metric":
            v = "empty"
        else:
            v = self.value("externalmetrics", key)
        if v == "error" or v is None:
            return self.answer(404, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                "message": "the server could not find the metric %s" % metric,
                                                "reason": "NotFound", "code": 404}))
        items = [] if v == "empty" else [{"metricName": metric, "metricLabels": {},
                                          "timestamp": "2024-05-01T10:00:00Z",
                                          "value": "%dm" % round(v * 1000)}]
        return self.answer(200, json.dumps({"kind": "ExternalMetricValueList",
                                            "apiVersion": "external.metrics.k8s.io/v1beta1",
                                            "metadata": {}, "items": items}))

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        if u.path in ("/api/v1/query", "/api/v1/validate"):
            return self.datadog(u, q)
        if u.path.startswith("/v1/accounts/") and u.path.endswith("/query"):
            return self.newrelic(u, q)
        if u.path.startswith("/apis/external.metrics.k8s.io/v1beta1/"):
            return self.external(u, q)
        violation("GET %s: no such API" % u.path)
        return self.answer(404, "{}")

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if u.path == "/api/v2/query":
            return self.influxdb(u, urllib.parse.parse_qs(u.query, keep_blank_values=True), body)
        violation("POST %s: no such API" % u.path)
        return self.answer(404, "{}")


def main():
    global CFG, VIOL
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--violations", required=True)
    a = ap.parse_args()
    CFG = json.load(open(a.config))
    VIOL = a.violations
    open(VIOL, "w").close()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
