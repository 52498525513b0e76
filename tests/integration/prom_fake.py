#!/usr/bin/env python3
"""prom_fake.py — a misbehaving Prometheus for perch's fault tests.

Serves /api/v1/query on 127.0.0.1 (port 0 = any free port; prints
"listening on http://127.0.0.1:PORT" once it serves).  The answer depends on
the word after "fault_" in the query: ok, slow (60 s), lagN (99.5 after N ms),
inf (+Inf), huge1e308 (1e308), bad (400 + error JSON),
unavailable (503 + error JSON), plain500, garbage, huge (a body larger than
perch's cap), matrix, nan, empty.  Every request is appended to --log.
With --tls-cert and --tls-key it serves HTTPS.
"""
import argparse
import json
import re
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def vector(value):
    return {"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {}, "value": [1700000000, value]}]}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, body, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def handle_query(self, params):
        q = params.get("query", [""])[0]
        with open(self.server.log, "a") as f:
            f.write("%s %s auth=%s\n" % (self.command, q, self.headers.get("Authorization", "-")))
        m = re.search(r"fault_(\w+)", q)
        mode = m.group(1) if m else "ok"
        if mode == "slow":
            time.sleep(60)
            return self.answer(200, vector("1"))
        if re.match(r"lag\d+$", mode):     # answers after that many ms
            time.sleep(int(mode[3:]) / 1000.0)
            return self.answer(200, vector("99.5"))
        if mode == "bad":
            return self.answer(400, {"status": "error", "errorType": "bad_data",
                                     "error": "invalid parameter \"query\": 1:9: parse error: \x1b[31mred"})
        if mode == "unavailable":
            return self.answer(503, {"status": "error", "errorType": "unavailable",
                                     "error": "TSDB not ready"})
        if mode == "plain500":
            return self.answer(500, "<html>upstream \x07 exploded</html>", "text/html")
        if mode == "garbage":
            return self.answer(200, "\x00\x01not json{{{", "text/plain")
        if mode == "huge":
            return self.answer(200, '{"status":"success","data":{"resultType":"vector","result":[' +
                               ",".join(['{"metric":{"pad":"%s"},"value":[1,"1"]}' % ("x" * 1000)] * 10000) + "]}}")
        if mode == "matrix":
            return self.answer(200, {"status": "success", "data": {"resultType": "matrix",
                               "result": [{"metric": {}, "values": [[1, "1"], [2, "2"]]}]}})
        if mode == "nan":
            return self.answer(200, vector("NaN"))
        if mode == "inf":
            return self.answer(200, vector("+Inf"))
        if mode == "huge1e308":
            return self.answer(200, vector("1e308"))
        if mode == "empty":
            return self.answer(200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        return self.answer(200, vector("99.5"))

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path != "/api/v1/query":
            return self.answer(404, "not found", "text/plain")
        self.handle_query(urllib.parse.parse_qs(u.query))

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        self.handle_query(urllib.parse.parse_qs(body))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.log = a.log
    scheme = "http"
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    print("listening on %s://127.0.0.1:%d" % (scheme, srv.server_address[1]), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
