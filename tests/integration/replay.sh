# replay.sh — `perch replay` on journals the demo recorded (perch demo
# --headless --state-dir): the recorded spec reproduces what happened, a
# lower threshold or a tighter bound fails earlier (exit 1), a shorter
# ladder passes earlier (exit 0); JSON records; bad journals, a canary with
# no record and usage errors (exit 2).
. "$(dirname "$0")/lib.bash"
need python3
D=tests/data/replay

"$PERCH_BIN" demo --headless --speed max --scenario error-spike --state-dir "$TMP/spike" >/dev/null
expect_eq "demo error-spike exit" "$?" 1
"$PERCH_BIN" demo --headless --speed max --scenario healthy --state-dir "$TMP/healthy" >/dev/null
expect_eq "demo healthy exit" "$?" 0
J="$TMP/spike/shop/payments/journal.jsonl"
[ -s "$J" ] || fail "the demo recorded no journal at $J"
grep -q '"volume":' "$J" || fail "check records keep no request volume"

# The recorded spec: the same decisions, at the same times.
out=$("$PERCH_BIN" replay -f "$D/payments.yaml" --state-dir "$TMP/spike"); rc=$?
expect_eq "recorded spec exit" "$rc" 1
expect_match "recorded spec header" "$out" "^shop/payments: rollout 1 of 1 in $J, 2026-03-02T14:00:30Z to 14:04:30, 7 analyses: rolled back at 30% at 14:04:30$"
expect_match "recorded spec rows" "$out" "^14:02:30     30%     1/5  failed check      request-success-rate 95.9% fail, request-duration 177ms pass$"
expect_match "recorded spec summary" "$out" "^with the recorded spec this rollout would have been rolled back at 30% at 14:04:30, the same as recorded$"

# Threshold 2: rolled back after the second failed check, 1m30s earlier.
sed 's/threshold: 5/threshold: 2/' "$D/payments.yaml" >"$TMP/t2.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/spike"); rc=$?
expect_eq "threshold 2 exit" "$rc" 1
expect_match "threshold 2 rollback row" "$out" "^14:03:00     30%     2/2  roll back         request-success-rate 92.9% fail"
expect_match "threshold 2 summary" "$out" "^with threshold 2 this rollout would have been rolled back at 30% at 14:03:00, 1m30s earlier \(it was rolled back at 30% at 14:04:30\)$"
expect_match "threshold 2 reason" "$out" "^reason: request-success-rate 92.9% < 99%$"

# A journal written before check records kept the request volume replays
# to the same decisions (the guard is then not applied).
cp -r "$TMP/spike" "$TMP/old"
sed -i 's/,"volume":[0-9.e+-]*//' "$TMP/old/shop/payments/journal.jsonl"
grep -q '"volume"' "$TMP/old/shop/payments/journal.jsonl" && fail "volume left in the old journal"
old=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/old"); rc=$?
expect_eq "old journal exit" "$rc" 1
expect_eq "old journal decisions" "$(printf '%s\n' "$old" | tail -n +2)" "$(printf '%s\n' "$out" | tail -n +2)"

# The healthy rollout as recorded: promoted, exit 0.
out=$("$PERCH_BIN" replay -f "$D/checkout.yaml" --state-dir "$TMP/healthy"); rc=$?
expect_eq "healthy exit" "$rc" 0
expect_match "healthy summary" "$out" "^with the recorded spec this rollout would have been promoted at 14:04:30, the same as recorded$"
# A tighter latency bound fails it, instead of promoting it.
sed -e 's/max: 500/max: 172/' -e 's/threshold: 5/threshold: 2/' "$D/checkout.yaml" >"$TMP/strict.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/strict.yaml" --state-dir "$TMP/healthy"); rc=$?
expect_eq "strict exit" "$rc" 1
expect_match "strict summary" "$out" "^with threshold 2, request-duration max 172ms this rollout would have been rolled back at 10% at 14:02:00, 2m30s earlier, instead of promoted at 14:04:30$"
# A shorter ladder passes a minute earlier.
sed 's/maxWeight: 50/maxWeight: 30/' "$D/checkout.yaml" >"$TMP/short.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/short.yaml" --state-dir "$TMP/healthy"); rc=$?
expect_eq "short ladder exit" "$rc" 0
expect_match "short ladder summary" "$out" "^with maxWeight 30 this rollout would have been promoted at 14:03:30, 1m earlier \(it was promoted at 14:04:30\)$"
# A looser bound passes the failing rollout (exit 0); with a longer ladder
# the record ends before anything is decided (exit 0 too: nothing failed).
sed 's/min: 99$/min: 90/' "$D/payments.yaml" >"$TMP/loose.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/loose.yaml" --state-dir "$TMP/spike"); rc=$?
expect_eq "loose exit" "$rc" 0
expect_match "loose promote row" "$out" "^14:03:30     50%     0/5  promote           request-success-rate 93.2% pass"
expect_match "loose summary" "$out" "^with request-success-rate min 90% this rollout would have been promoted at 14:04:30, instead of rolled back at 30% at 14:04:30$"
sed 's/maxWeight: 50/maxWeight: 100/' "$TMP/loose.yaml" >"$TMP/long.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/long.yaml" --state-dir "$TMP/spike"); rc=$?
expect_eq "undecided exit" "$rc" 0
expect_match "undecided summary" "$out" "^with maxWeight 100, request-success-rate min 90% this rollout would not have been decided when the record ends: still at 80% at 14:04:30 after 7 analyses \(it was rolled back at 30% at 14:04:30\)$"

# JSON: one record per interval, then the summary.
"$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/spike" -o json >"$TMP/out.json"
expect_eq "json exit" "$?" 1
python3 - "$TMP/out.json" <<'PY' || fail "json records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
steps, summary = recs[:-1], recs[-1]
assert [r["kind"] for r in steps] == ["replay"] * 4, recs
assert [r["decision"] for r in steps] == ["advance", "advance", "failed-check", "rollback"], steps
assert [r["weight"] for r in steps] == [10, 20, 30, 30], steps
s = steps[3]
assert s["time"] == "2026-03-02T14:03:00Z" and s["recordedTime"] == s["time"], s
assert s["canary"] == "shop/payments" and s["failedChecks"] == 2 and s["threshold"] == 2, s
c = s["checks"][0]
assert c["metric"] == "request-success-rate" and c["result"] == "fail" and c["min"] == 99, c
assert abs(c["value"] - 92.86) < 0.01 and c["volume"] > 10, c
assert summary["kind"] == "replay-summary" and summary["outcome"] == "failed", summary
assert summary["weight"] == 30 and summary["analyses"] == 4, summary
assert summary["difference"] == "earlier" and summary["differenceSeconds"] == -90, summary
r = summary["recorded"]
assert r["outcome"] == "failed" and r["time"] == "2026-03-02T14:04:30Z" and r["weight"] == 30, r
assert r["failedChecks"] == 5 and r["analyses"] == 7, r
PY

# --canary replays another canary's record with this spec.
out=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --canary shop/checkout --state-dir "$TMP/healthy"); rc=$?
expect_eq "other canary exit" "$rc" 0
expect_match "other canary" "$out" "^shop/checkout: rollout 1 of 1"

# Bad input: exit 2, naming what is wrong.
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --canary shop/nope --state-dir "$TMP/spike" 2>&1 >/dev/null); rc=$?
expect_eq "missing canary exit" "$rc" 2
expect_match "missing canary" "$err" "perch replay: $TMP/spike/shop/nope/journal.jsonl: no journal of canary shop/nope"
cp -r "$TMP/spike" "$TMP/bad"
sed -i '3s/.*/{"time":"2026-03-02T14:01:00.000Z","canary":"shop\/payments","phase":"Sideways"}/' \
	"$TMP/bad/shop/payments/journal.jsonl"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/bad" 2>&1 >/dev/null); rc=$?
expect_eq "bad journal exit" "$rc" 2
expect_match "bad journal" "$err" "perch replay: $TMP/bad/shop/payments/journal.jsonl:3: bad journal record: .*phase"
printf 'garbage\033[31m\n' >>"$TMP/bad/shop/payments/journal.jsonl"
sed -i '3d' "$TMP/bad/shop/payments/journal.jsonl"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/bad" 2>&1 >/dev/null); rc=$?
expect_eq "garbage journal exit" "$rc" 2
expect_match "garbage journal" "$err" "journal.jsonl:27: not a JSON journal record"
case "$err" in *$'\033'*) fail "an escape sequence of the journal reached stderr";; esac
{ cat "$TMP/t2.yaml"; cat <<'YAML'
      - name: error-budget
        templateRef:
          name: error-budget
        thresholdRange:
          max: 5
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-budget
  namespace: shop
spec:
  provider:
    type: prometheus
    address: http://127.0.0.1:9
  query: sum(rate(errors_total{pod=~"{{ target }}-.*"}[{{ interval }}]))
YAML
} >"$TMP/unrecorded.yaml"
err=$("$PERCH_BIN" replay -f "$TMP/unrecorded.yaml" --state-dir "$TMP/spike" 2>&1 >/dev/null); rc=$?
expect_eq "unrecorded metric exit" "$rc" 2
expect_match "unrecorded metric" "$err" "metric error-budget of the spec has no recorded check"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/spike" --rollout 2 2>&1 >/dev/null); rc=$?
expect_eq "rollout out of range exit" "$rc" 2
expect_match "rollout out of range" "$err" "--rollout 2: the journal holds 1 rollout$"
err=$("$PERCH_BIN" replay --state-dir "$TMP/spike" 2>&1 >/dev/null); rc=$?
expect_eq "no file exit" "$rc" 2
expect_match "no file" "$err" "no Canary file given"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --prometheus http://127.0.0.1:9 2>&1 >/dev/null); rc=$?
expect_eq "range without times exit" "$rc" 2
expect_match "range without times" "$err" "a metrics replay needs --from and --to"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/spike" --prometheus http://127.0.0.1:9 2>&1 >/dev/null); rc=$?
expect_eq "range and journal exit" "$rc" 2
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" -f "$D/checkout.yaml" --state-dir "$TMP/spike" 2>&1 >/dev/null); rc=$?
expect_eq "two canaries exit" "$rc" 2
expect_match "two canaries" "$err" "the files hold 2 Canaries"
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --canary ../etc --state-dir "$TMP/spike" 2>&1 >/dev/null); rc=$?
expect_eq "canary name exit" "$rc" 2
"$PERCH_BIN" replay --help | grep -q -- "--rollout N" || fail "replay --help"
"$PERCH_BIN" --help | grep -q "^  replay" || fail "perch --help lists replay"
