# replay_prom.sh — `perch replay --prometheus --from --to` against a real
# Prometheus on backfilled data (promtool tsdb create-blocks-from
# openmetrics): a Linkerd canary whose success rate drops from 100 % to
# 80 % after five minutes, evaluated at each interval with explicit time
# and fed to the engine; the threshold and the bound decide the outcome.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus promtool python3 curl

# Twelve minutes of samples every 15 s, four hours ago.  Until T0+300 the
# canary serves 10 req/s, all successes; from then on 8 successes and 2
# failures a second: rate() over 1m gives exactly 100 % up to T0+300 and
# exactly 80 % from T0+360 on, and a volume of 600 requests a minute.
T0=$(( ($(date +%s) - 4 * 3600) / 60 * 60 ))
python3 - "$T0" >"$TMP/data.om" <<'PY'
import sys
t0 = int(sys.argv[1])
def ok(t):   return 100000 + (10 * t if t <= 300 else 3000 + 8 * (t - 300))
def bad(t):  return 100000 + (0 if t <= 300 else 2 * (t - 300))
for name, f in (('success', ok), ('failure', bad)):
    for i in range(49):
        t = 15 * i
        print('response_total{namespace="ld",deployment="web",direction="inbound",classification="%s"} %d %d'
              % (name, f(t), t0 + t))
print("# EOF")
PY
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/data" >"$TMP/promtool.log" 2>&1 ||
	{ cat "$TMP/promtool.log"; fail "promtool could not backfill"; }
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/data"

spec() {	# spec THRESHOLD MIN
	canary web ld linkerd web '    perch.dev/min-requests: "100"' | sed "s/threshold: 5/threshold: $1/"
	cat <<YAML
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: $2}
YAML
}
FROM=$((T0 + 120)) TO=$((T0 + 600))
hm() { date -u -d "@$1" +%H:%M:%S; }

# Threshold 2, min 90: 10 % to 50 % on the first four minutes, then two
# failed checks at 50 %: rolled back at T0+420.
spec 2 90 >"$TMP/t2.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --prometheus "$PROM_URL" --from "$FROM" --to "$TO"); rc=$?
printf '%s\n' "$out"
expect_eq "threshold 2 exit" "$rc" 1
expect_match "header" "$out" "^ld/web: 9 analyses of metrics from --prometheus$"
expect_match "first analysis at --from" "$out" "^$(hm "$FROM")     10%     0/2  advance to 20%    request-success-rate 100.0% pass$"
expect_match "first failure" "$out" "^$(hm $((T0 + 360)))     50%     1/2  failed check      request-success-rate 80.0% fail$"
expect_match "threshold 2 summary" "$out" "^with threshold 2, stepWeight 10, maxWeight 50, request-success-rate min 90% this rollout would have been rolled back at 50% at $(hm $((T0 + 420)))$"

# Threshold 5: the fifth failed check is the last analysis of the range.
spec 5 90 >"$TMP/t5.yaml"
"$PERCH_BIN" replay -f "$TMP/t5.yaml" --prometheus "$PROM_URL" --from "$FROM" --to "$TO" -o json >"$TMP/t5.json"
expect_eq "threshold 5 exit" "$?" 1
python3 - "$TMP/t5.json" "$FROM" <<'PY' || fail "threshold 5 json"
import json, sys, datetime
recs = [json.loads(l) for l in open(sys.argv[1])]
steps, s = recs[:-1], recs[-1]
at = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
start = int(sys.argv[2])
assert len(steps) == 9, steps
for i, r in enumerate(steps):
    assert r["time"] == r["recordedTime"] == at(start + 60 * i), r   # explicit time, one interval apart
    c = r["checks"][0]
    assert abs(c["value"] - (100 if i < 4 else 80)) < 1e-9, c
    assert abs(c["volume"] - 600) < 1e-9, c
assert [r["decision"] for r in steps] == ["advance"] * 4 + ["failed-check"] * 4 + ["rollback"], steps
assert s["outcome"] == "failed" and s["weight"] == 50 and s["time"] == at(start + 480), s
assert s["recorded"] is None and s["difference"] == "unknown" and s["rollout"] is None, s
PY

# Min 75: 80 % passes; promoted after the analysis at 50 %, exit 0.
spec 2 75 >"$TMP/pass.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/pass.yaml" --prometheus "$PROM_URL" --from "$FROM" --to "$TO"); rc=$?
expect_eq "pass exit" "$rc" 0
expect_match "pass promote row" "$out" "^$(hm $((T0 + 360)))     50%     0/2  promote           request-success-rate 80.0% pass$"
expect_match "pass summary" "$out" "would have been promoted at "

# A minimum volume above what the canary serves holds every analysis at
# the first step.
spec 2 90 | sed 's/min-requests: "100"/min-requests: "1000"/' >"$TMP/held.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/held.yaml" --prometheus "$PROM_URL" --from "$FROM" --to "$((T0 + 300))"); rc=$?
expect_eq "held exit" "$rc" 0
expect_match "held row" "$out" "^$(hm "$FROM")     10%     0/2  hold              request-success-rate 100.0% nodata$"
expect_match "held summary" "$out" "would not have been decided when the record ends: still at 10%"

# Prometheus down: exit 3, named.
port=$(free_port)
err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --prometheus "http://127.0.0.1:$port" --from "$FROM" --to "$TO" --timeout 2s 2>&1 >/dev/null); rc=$?
expect_eq "unreachable exit" "$rc" 3
[ -n "$err" ] || fail "unreachable: nothing on stderr"
