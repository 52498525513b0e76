#!/usr/bin/env python3
"""prom_exporter.py — a small live exporter for perch's scrape test.

Serves /metrics on 127.0.0.1 (port 0 = any free port; prints
"listening on http://127.0.0.1:PORT").  It counts 100 requests a second
since it started, 90 % of them answered 200 and 10 % 500, every one between
50 and 100 ms, in Istio's metric names for workload live/app.
"""
import argparse
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = time.monotonic()
LABELS = 'reporter="destination",destination_workload_namespace="live",destination_workload="app"'


def page():
    total = 10 * int((time.monotonic() - START) * 10)
    ok = total * 9 // 10
    return "".join([
        "# TYPE istio_requests_total counter\n",
        'istio_requests_total{%s,response_code="200"} %d\n' % (LABELS, ok),
        'istio_requests_total{%s,response_code="500"} %d\n' % (LABELS, total - ok),
        "# TYPE istio_request_duration_milliseconds histogram\n",
        'istio_request_duration_milliseconds_bucket{%s,le="50"} 0\n' % LABELS,
        'istio_request_duration_milliseconds_bucket{%s,le="100"} %d\n' % (LABELS, total),
        'istio_request_duration_milliseconds_bucket{%s,le="+Inf"} %d\n' % (LABELS, total),
        'istio_request_duration_milliseconds_sum{%s} %d\n' % (LABELS, total * 75),
        'istio_request_duration_milliseconds_count{%s} %d\n' % (LABELS, total),
    ]).encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        body = page()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
