# demo_judge.sh — `perch demo --headless` on the latency-drift scenarios:
# the same revision, twice the primary's p99 but under the 500 ms bound,
# promoted on fixed bounds (lookup) and rolled back by the comparison judge
# (lookup-judged, perch.dev/compare: request-duration=increase), whose
# compare and score records the headless output carries at each analysis.
. "$(dirname "$0")/lib.bash"
need python3

"$PERCH_BIN" demo --headless --speed max --seed 7 --scenario latency-drift,latency-drift-judged \
	>"$TMP/drift.jsonl" 2>"$TMP/drift.err"
rc=$?
[ -s "$TMP/drift.err" ] && fail "stderr: $(cat "$TMP/drift.err")"
expect_eq "exit (one canary failed)" "$rc" 1
python3 - "$TMP/drift.jsonl" <<'PY' || fail "records: $(tail -5 "$TMP/drift.jsonl")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def of(c, kind=None):
    return [r for r in recs if r["canary"] == "shop/" + c and (kind is None or r.get("kind") == kind)]
def last_phase(c):
    return [r for r in of(c) if "phase" in r][-1]["phase"]
assert last_phase("lookup") == "Succeeded", last_phase("lookup")
assert last_phase("lookup-judged") == "Failed", last_phase("lookup-judged")
# fixed bounds: every duration check passes, for both
for c in ("lookup", "lookup-judged"):
    d = [r for r in of(c, "check") if r["metric"] == "request-duration"]
    assert d and all(r["result"] == "pass" and r["value"] < 500 for r in d), c
# no comparison without the annotation
assert not of("lookup", "compare") and not of("lookup", "score")
cmp, score = of("lookup-judged", "compare"), of("lookup-judged", "score")
assert len(cmp) == len(score) == 5, (len(cmp), len(score))
for r in cmp:
    assert list(r) == ["time", "canary", "kind", "metric", "classification", "canaryMedian",
                       "primaryMedian", "effectSize", "reason"], list(r)
    assert r["metric"] == "request-duration" and r["classification"] == "High", r
    assert 1.8 < r["effectSize"] < 2.3 and r["canaryMedian"] > 300 and r["primaryMedian"] < 200, r
for r in score:
    assert list(r) == ["time", "canary", "kind", "score", "result", "reason"], list(r)
    assert r["score"] == 0 and r["result"] == "fail", r
# each score follows the checks of its analysis, at the same time
times = {r["time"] for r in of("lookup-judged", "check")}
assert all(r["time"] in times for r in score)
halts = [r for r in of("lookup-judged") if "compared with the primary" in r.get("message", "")]
assert len(halts) == 5 and "request-duration High" in halts[0]["message"], halts
print("demo_judge: records ok")
PY
# The default demo has neither scenario nor records of the judge.
"$PERCH_BIN" demo --headless --speed max --seed 7 >"$TMP/default.jsonl"
grep -q '"kind":"compare"\|"kind":"score"' "$TMP/default.jsonl" && fail "judge records in the default demo"
grep -q 'lookup' "$TMP/default.jsonl" && fail "a latency-drift canary in the default demo"
echo "demo_judge: ok"
