#!/usr/bin/env python3
"""flagger_standin.py — a stand-in for a running Flagger, for perch's tests.

No real Flagger runs here.  This moves one Canary through a rollout the way
Flagger shows it to the world (flagger-semantics.md §1.1 status, §7.2
Events, §6 texts): it writes Flagger-shaped status updates through the
Canary's /status subresource and core/v1 Events on the Canary (source
component "flagger", reason "Synced"), with the real kubectl.

    flagger_standin.py --name podinfo --namespace test --target podinfo \
        --step-weight 20 --max-weight 60 --tick 0.5 [--gate URL]
        [--traffic-gate URL] [--log FILE]

It writes Initialized at once, then (one tick apart) Progressing with the
canary weight growing by --step-weight up to --max-weight, then
WaitingPromotion until the gate opens (with --gate: POST URL/gate/check
as Flagger calls a confirm-promotion webhook, §5.1; without it the gate is
open), then Promoting, Finalising and Succeeded, each with its Event.  With
--traffic-gate, each weight increase first waits for URL/gate/check to pass,
as a confirm-traffic-increase webhook holds Flagger (§5.1; logged "held at
WEIGHT" once per wait).  A
suspended Canary (spec.suspend) is left alone, as Flagger does
("skipping canary run as object is suspended").  Each state it writes is
logged, one line each, to --log.  --progressing-since T dates the
Progressing condition's lastTransitionTime T (a run that began earlier).  It stops on SIGTERM.
"""
import argparse
import datetime
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

COND_MSG = {
    "Initialized": ("True", "Deployment initialization completed."),
    "Progressing": ("Unknown", "New revision detected, progressing canary analysis."),
    "WaitingPromotion": ("Unknown", "Waiting for approval."),
    "Promoting": ("Unknown", "Canary analysis completed, starting primary rolling update."),
    "Finalising": ("Unknown", "Canary analysis completed, routing all traffic to primary."),
    "Succeeded": ("True", "Canary analysis completed successfully, promotion finished."),
}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Flagger:
    def __init__(self, a):
        self.a = a
        self.phase = None
        self.since = now()
        self.seq = 0
        self.log = open(a.log, "a") if a.log else None

    def kubectl(self, *args, stdin=None):
        cmd = ["kubectl", "--request-timeout=10s", "-n", self.a.namespace] + list(args)
        r = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
        if r.returncode != 0:
            print("flagger_standin: %s: %s" % (" ".join(args), r.stderr.strip()), file=sys.stderr)
        return r

    def suspended(self):
        r = self.kubectl("get", "canary", self.a.name, "-o", "jsonpath={.spec.suspend}")
        return r.returncode == 0 and r.stdout.strip() == "true"

    def status(self, phase, weight=0, failed=0, iterations=0):
        t = now()
        if phase != self.phase:
            self.since = t
            if phase == "Progressing" and self.a.progressing_since:
                self.since = self.a.progressing_since
        self.phase = phase
        st, msg = COND_MSG[phase]
        body = {"status": {
            "phase": phase, "canaryWeight": weight, "failedChecks": failed,
            "iterations": iterations, "lastTransitionTime": t,
            "lastAppliedSpec": "5f8b9c7d4", "lastPromotedSpec": "7c6d5e4f3",
            "conditions": [{"type": "Promoted", "status": st, "reason": phase,
                            "message": msg, "lastUpdateTime": t,
                            "lastTransitionTime": self.since}]}}
        self.kubectl("patch", "canary", self.a.name, "--subresource=status", "--type=merge",
                     "-p", json.dumps(body))
        self.note("status %s %d" % (phase, weight))

    def event(self, etype, message):
        self.seq += 1
        t = now()
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"name": "%s.standin%d%d" % (self.a.name, int(time.time()), self.seq),
                           "namespace": self.a.namespace},
              "involvedObject": {"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
                                 "name": self.a.name, "namespace": self.a.namespace},
              "reason": "Synced", "message": message, "type": etype,
              "source": {"component": "flagger"}, "count": 1,
              "firstTimestamp": t, "lastTimestamp": t}
        self.kubectl("create", "-f", "-", stdin=json.dumps(ev))
        self.note("event %s %s" % (etype, message))

    def note(self, line):
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()

    def gate_open(self, url=None, phase="WaitingPromotion"):
        url = self.a.gate if url is None else url
        if not url:
            return True
        payload = json.dumps({"name": self.a.name, "namespace": self.a.namespace,
                              "phase": phase}).encode()
        req = urllib.request.Request(url.rstrip("/") + "/gate/check", data=payload,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait(self):
        time.sleep(self.a.tick)
        while self.suspended():
            if self.phase != "suspended-noted":
                self.event("Normal", "skipping canary run as object is suspended")
                self.note("suspended")
                self.phase_before = self.phase
                self.phase = "suspended-noted"
            time.sleep(self.a.tick)
        if self.phase == "suspended-noted":
            self.phase = self.phase_before

    def traffic_gate(self, n, w):
        if not self.a.traffic_gate:
            return
        hook = "approve-traffic"
        held = False
        while not self.gate_open(self.a.traffic_gate, "Progressing"):
            if not held:
                self.event("Warning", "Halt %s advancement waiting for traffic increase "
                           "approval %s" % (n, hook))
                self.note("held at %d" % w)
                held = True
            self.wait()
        self.event("Normal", "Confirm-traffic-increase check %s passed" % hook)

    def run(self):
        a = self.a
        n, t = "%s.%s" % (a.name, a.namespace), "%s.%s" % (a.target, a.namespace)
        self.status("Initialized")
        self.event("Normal", "Initialization done! %s" % n)
        self.wait()
        self.event("Normal", "New revision detected! Scaling up %s" % t)
        self.status("Progressing")
        self.event("Normal", "Starting canary analysis for %s" % t)
        w = 0
        while w < a.max_weight:
            self.wait()
            self.traffic_gate(n, w)
            w = min(a.max_weight, w + a.step_weight)
            self.status("Progressing", weight=w)
            self.event("Normal", "Advance %s canary weight %d" % (n, w))
        self.wait()
        self.status("WaitingPromotion", weight=w)
        hook = "approve-promotion"
        warned = False
        while not self.gate_open():
            if not warned:
                self.event("Warning", "Halt %s advancement waiting for promotion approval %s"
                           % (n, hook))
                warned = True
            self.wait()
        self.event("Normal", "Confirm-promotion check %s passed" % hook)
        self.event("Normal", "Copying %s template spec to %s-primary.%s"
                   % (t, a.target, a.namespace))
        self.status("Promoting", weight=w)
        self.wait()
        self.event("Normal", "Routing all traffic to primary")
        self.status("Finalising", weight=0)
        self.wait()
        self.event("Normal", "Promotion completed! Scaling down %s" % t)
        self.status("Succeeded")
        while True:
            time.sleep(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--namespace", default="default")
    p.add_argument("--target", required=True)
    p.add_argument("--step-weight", type=int, default=20)
    p.add_argument("--max-weight", type=int, default=60)
    p.add_argument("--tick", type=float, default=0.5)
    p.add_argument("--gate", default="")
    p.add_argument("--traffic-gate", default="")
    p.add_argument("--log", default="")
    # The run started earlier (RFC 3339): the Progressing condition's
    # lastTransitionTime, as when perch is opened in the middle of a rollout.
    p.add_argument("--progressing-since", default="")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Flagger(a).run()


if __name__ == "__main__":
    main()
