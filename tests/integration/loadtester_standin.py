#!/usr/bin/env python3
"""loadtester_standin.py — a stand-in for Flagger's load tester, for tests.

The gate API of flagger-loadtester as flagger-semantics.md §5.4 describes
it, on 127.0.0.1:PORT (0 = any; "listening on PORT" is printed):

  GET  /healthz           200 OK
  POST /gate/check        key <name>.<ns>: 200 Approved if open, else 403 Forbidden
  POST /gate/open         opens <name>.<ns> (202)
  POST /gate/close        closes it (202)
  POST /rollback/check    key rollback.<name>.<ns>: 200 Approved if open, else 403
  POST /rollback/open     202
  POST /rollback/close    202
  /gate/approve           200 OK;  /gate/halt  403 Forbidden

The body is a CanaryWebhookPayload (JSON with name and namespace); a bad one
is 400.  Every request is logged as "METHOD PATH KEY STATUS" to --log.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GATES = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    log_file = None

    def log_message(self, *args):
        pass

    def answer(self, code, text, key=""):
        # Logged before the answer: a client that has its answer finds the line.
        if Handler.log_file:
            with LOCK:
                Handler.log_file.write("%s %s %s %d\n" % (self.command, self.path, key, code))
                Handler.log_file.flush()
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/healthz":
            return self.answer(200, "OK")
        return self.answer(404, "not found")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if self.path == "/gate/approve":
            return self.answer(200, "OK")
        if self.path == "/gate/halt":
            return self.answer(403, "Forbidden")
        try:
            p = json.loads(raw or b"null")
            key = "%s.%s" % (p["name"], p["namespace"])
        except (ValueError, TypeError, KeyError):
            return self.answer(400, "bad payload")
        kind, _, op = self.path.strip("/").partition("/")
        if kind not in ("gate", "rollback") or op not in ("check", "open", "close"):
            return self.answer(404, "not found", key)
        if kind == "rollback":
            key = "rollback." + key
        with LOCK:
            if op == "open":
                GATES[key] = True
            elif op == "close":
                GATES[key] = False
            is_open = GATES.setdefault(key, False)
        if op == "check":
            return self.answer(200 if is_open else 403, "Approved" if is_open else "Forbidden", key)
        return self.answer(202, "", key)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default="")
    a = ap.parse_args()
    if a.log:
        Handler.log_file = open(a.log, "a")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
