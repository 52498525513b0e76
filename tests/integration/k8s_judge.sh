# k8s_judge.sh — `perch run --headless` on the test API server judges each
# analysis against the primary (perch.dev/compare): a real Prometheus
# scrapes a test exporter whose latency gauge the test sets for the canary
# and for the primary.  The canary's latency, twice the primary's but under
# its 500 ms bound, is High at every analysis (score 0, fail): two failed
# checks roll it back, and the headless output carries the compare and
# score records after each analysis's checks.  The engine clock runs 10x.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl openssl curl prometheus

checkout_run judge 'app_latency_ms{workload="checkout"} 200
app_latency_ms{workload="checkout-primary"} 100' latency 500 'max(app_latency_ms{workload="{{ target }}"})' \
	'{perch.dev/compare: "latency=increase"}'
# ten seconds of samples of both, the judge's window
scraped() {
	curl -sf "$PROM_URL/api/v1/query" --data-urlencode 'query=count_over_time(app_latency_ms{workload="checkout-primary"}[10s])' |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and int(r[0]["value"][1]) >= 9 else 1)'
}
WAIT_SECS=30 wait_for scraped || fail "Prometheus does not scrape the exporter"
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run0.out" 2>"$TMP/run0.err"
expect_eq "initialization exit" "$?" 0
K set image deployment/checkout checkout=checkout:v2 >/dev/null || fail "set image"
timeout "$(scaled 120)" "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>"$TMP/run1.err"
rc=$?
expect_eq "rolled back: exit" "$rc" 1
python3 - "$TMP/run1.out" <<'PY' || fail "records: $(tail -8 "$TMP/run1.out") $(cat "$TMP/run1.err")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
checks = [r for r in recs if r.get("kind") == "check"]
cmp = [r for r in recs if r.get("kind") == "compare"]
score = [r for r in recs if r.get("kind") == "score"]
assert checks and all(r["result"] == "pass" and r["value"] == 200 for r in checks), checks
assert len(cmp) == len(score) == 2, (cmp, score)
for r in cmp:
    assert r["canary"] == "default/checkout" and r["metric"] == "latency", r
    assert r["classification"] == "High", r
    assert r["canaryMedian"] == 200 and r["primaryMedian"] == 100 and r["effectSize"] == 2, r
for r in score:
    assert r["score"] == 0 and r["result"] == "fail", r
halts = [r["message"] for r in recs if "compared with the primary" in r.get("message", "")]
assert len(halts) == 2, halts
assert "compare score 0 (fail): latency High (canary 200 vs primary 100, x2.00)" in halts[0], halts
assert [r for r in recs if r.get("phase") == "Failed"], "never Failed"
print("k8s_judge: records ok")
PY
expect_eq "primary kept" "$(K get deploy checkout-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "checkout:v1"
echo "k8s_judge: ok"
