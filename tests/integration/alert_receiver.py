#!/usr/bin/env python3
"""alert_receiver.py — records the alerts perch POSTs, for tests.

    python3 tests/integration/alert_receiver.py OUT_FILE [DELAY_SECONDS]

Listens on 127.0.0.1 (a free port), prints "listening on http://127.0.0.1:PORT"
once it serves, and appends one JSON line per POST to OUT_FILE:
{"path": ..., "authorization": ..., "content_type": ..., "body": <the JSON sent>}.
Answers 200 "ok", or 500 "failed" when the path contains "/fail" (a webhook
that says no).  With DELAY_SECONDS it takes that long to answer each POST (a
slow receiver, so that perch has notifications queued).  Stops on SIGTERM.
"""
import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        time.sleep(self.server.delay)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = {"path": self.path,
               "authorization": self.headers.get("Authorization") or "",
               "content_type": self.headers.get("Content-Type") or "",
               "body": body}
        with open(self.server.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
        answer = b"failed" if "/fail" in self.path else b"ok"
        self.send_response(500 if "/fail" in self.path else 200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.out = sys.argv[1]
    srv.delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
