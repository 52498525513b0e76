#!/usr/bin/env python3
"""demo_check.py -- checks the JSON lines of `perch demo --headless`.

Usage: demo_check.py SCENARIO FILE
Asserts the scenario's outcome, its timeline of weights and the reason of
its failure from the events and check results in FILE (one canary).
Prints what it found; exits 1 with the reason on the first mismatch.
"""
import json
import sys
from datetime import datetime


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def load(path):
    events, checks = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                fail(f"{path}:{n}: not JSON: {e}")
            if rec.get("kind") == "check":
                keys = ["time", "canary", "kind", "metric", "value", "min", "max", "result"]
                checks.append(rec)
            else:
                keys = ["time", "canary", "phase", "weight", "failedChecks", "iteration",
                        "type", "reason", "message"]
                events.append(rec)
            if list(rec.keys()) != keys:
                fail(f"{path}:{n}: keys {list(rec.keys())}, want {keys}")
            ts(rec["time"])
    if not events:
        fail(f"{path}: no events")
    return events, checks


def timeline(events):
    """Distinct consecutive canary weights, from the events."""
    out = []
    for e in events:
        if not out or out[-1] != e["weight"]:
            out.append(e["weight"])
    return out


def warnings(events):
    return [e["message"] for e in events if e["type"] == "Warning"]


def results(checks, metric=None):
    return [c["result"] for c in checks if metric is None or c["metric"] == metric]


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


def check_healthy(ev, ck):
    expect("final phase", ev[-1]["phase"], "Succeeded")
    expect("weights", timeline(ev), [0, 10, 20, 30, 40, 50, 0])
    expect("failed checks", [c for c in ck if c["result"] != "pass"], [])
    if not ck:
        fail("no checks at all")


def check_error_spike(ev, ck):
    expect("final phase", ev[-1]["phase"], "Failed")
    expect("weights", timeline(ev), [0, 10, 20, 30, 0])
    bad = [c for c in ck if c["result"] == "fail"]
    expect("failed metrics", sorted({c["metric"] for c in bad}), ["request-success-rate"])
    expect("failures", len(bad), 5)
    if not all(c["value"] < 99 and c["min"] == 99 for c in bad):
        fail(f"failing values not below 99: {bad}")
    if not any("threshold" in m for m in warnings(ev)):
        fail(f"no threshold warning in {warnings(ev)}")


def check_latency(ev, ck):
    expect("final phase", ev[-1]["phase"], "Failed")
    expect("weights", timeline(ev), [0, 10, 0])
    bad = [c for c in ck if c["result"] == "fail"]
    expect("failed metrics", sorted({c["metric"] for c in bad}), ["request-duration"])
    if not all(c["value"] > 500 and c["max"] == 500 for c in bad):
        fail(f"failing values not above 500: {bad}")
    if not any("threshold" in m for m in warnings(ev)):
        fail(f"no threshold warning in {warnings(ev)}")


def check_no_traffic(ev, ck):
    expect("final phase", ev[-1]["phase"], "Failed")
    expect("weights", timeline(ev), [0, 10, 0])
    expect("check results", sorted(set(results(ck))), ["nodata"])
    expect("failed checks counted", max(e["failedChecks"] for e in ev), 0)
    if not any("no traffic" in m for m in warnings(ev)):
        fail(f"no 'no traffic' warning in {warnings(ev)}")
    started = [ts(e["time"]) for e in ev if e["phase"] == "Progressing"][0]
    if ts(ev[-1]["time"]) - started < 300:
        fail("failed before its progress deadline (300s)")


def check_flapping(ev, ck):
    most = max(e["failedChecks"] for e in ev)
    fails = len([c for c in ck if c["result"] == "fail"])
    if fails != most:
        fail(f"{fails} failing checks but failedChecks reached {most}")
    if ev[-1]["phase"] == "Failed":
        expect("failed checks at rollback", most, 4)
    else:
        expect("final phase", ev[-1]["phase"], "Succeeded")
        if most >= 4:
            fail(f"succeeded with {most} failed checks (threshold 4)")


def check_slow_start(ev, ck):
    expect("final phase", ev[-1]["phase"], "Succeeded")
    expect("weights", timeline(ev), [0, 10, 20, 30, 40, 50, 0])
    expect("failed checks", max(e["failedChecks"] for e in ev), 0)
    waits = [m for m in warnings(ev) if "not ready" in m]
    if not waits:
        fail(f"no readiness wait in {warnings(ev)}")
    start = [ts(e["time"]) for e in ev if e["phase"] == "Progressing"][0]
    first = [ts(e["time"]) for e in ev if e["weight"] == 10][0]
    if first - start < 150:
        fail(f"advanced {first - start}s after the start, before the pods were ready (150s)")


def check_promotion_failure(ev, ck):
    expect("final phase", ev[-1]["phase"], "Failed")
    expect("final weight (traffic stays on the canary)", ev[-1]["weight"], 100)
    tl = timeline(ev)
    expect("weights up to promotion", tl[:6], [0, 10, 20, 30, 40, 50])
    expect("failed checks", [c for c in ck if c["result"] != "pass"], [])
    if not any("primary" in m for m in warnings(ev)):
        fail(f"no warning about the primary in {warnings(ev)}")


CHECKS = {
    "healthy": check_healthy,
    "error-spike": check_error_spike,
    "latency-regression": check_latency,
    "no-traffic": check_no_traffic,
    "flapping": check_flapping,
    "slow-start": check_slow_start,
    "promotion-failure": check_promotion_failure,
}


def main():
    scenario, path = sys.argv[1], sys.argv[2]
    ev, ck = load(path)
    names = {r["canary"] for r in ev + ck}
    if len(names) != 1:
        fail(f"want one canary, got {sorted(names)}")
    CHECKS[scenario](ev, ck)
    print(f"{scenario}: {ev[-1]['phase']} weights {timeline(ev)} "
          f"checks {len(ck)} ({results(ck).count('fail')} fail, "
          f"{results(ck).count('nodata')} nodata)")


if __name__ == "__main__":
    main()
