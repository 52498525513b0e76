# prom_judge.sh — `perch check` runs the comparison judge (perch.dev/compare)
# against a real Prometheus on backfilled data: the canary's latency
# doubles while staying under its bound (High, score 0, fail, exit 1), the
# same latency as the primary passes (score 100, exit 0), and a wider
# tolerance lets a small shift pass.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus promtool python3 curl

# Ten minutes of a gauge every 15 s, four hours ago: the primary's latency
# 100..106 ms, "slow"'s twice that, "same"'s as the primary's, "near"'s 10 %
# above.  The judge's window is the analysis interval (1m) ending at --time,
# one sample every 6 s: 11 samples each.
T0=$(( ($(date +%s) - 4 * 3600) / 60 * 60 ))
AT=$((T0 + 300))
python3 - "$T0" >"$TMP/data.om" <<'PY'
import sys
t0 = int(sys.argv[1])
for dep, f in (("slow-primary", 1.0), ("slow", 2.0), ("same-primary", 1.0), ("same", 1.0),
               ("near-primary", 1.0), ("near", 1.1)):
    for i in range(41):
        print('app_latency_ms{namespace="judge",deployment="%s"} %g %d' % (dep, (100 + i % 7) * f, t0 + 15 * i))
print("# EOF")
PY
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/data" >"$TMP/promtool.log" 2>&1 ||
	{ cat "$TMP/promtool.log"; fail "promtool could not backfill"; }
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/data"

# spec NAME [EXTRA-ANNOTATIONS] : a Canary of target NAME comparing latency
spec() {
	{ canary "$1" judge istio "$1" "    perch.dev/compare: \"latency=increase\"${2:-}"; cat <<'YAML'
    - name: latency
      interval: 1m
      templateRef: {name: latency}
      thresholdRange: {max: 500}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: latency
  namespace: judge
spec:
  provider:
    type: prometheus
    address: http://prometheus.invalid:9090
  query: max(app_latency_ms{namespace="{{ namespace }}", deployment="{{ target }}"})
YAML
	} >"$TMP/$1.yaml"
}

# record FILE KIND FIELD : a field of the first record of that kind
record() {
	python3 - "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["kind"] == sys.argv[2]:
        v = r[sys.argv[3]]
        print("null" if v is None else v)
        break
else:
    print("missing")
PY
}

# --- the latency doubles, under the bound: the judge fails it ---------------
spec slow
"$PERCH_BIN" check -f "$TMP/slow.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/slow.json"
rc=$?
cat "$TMP/slow.json"
expect_eq "slow exit" "$rc" 1
expect_eq "slow bound check" "$(json_field "$TMP/slow.json" "judge/slow latency" result)" pass
expect_eq "slow classification" "$(record "$TMP/slow.json" compare classification)" High
expect_eq "slow metric" "$(record "$TMP/slow.json" compare metric)" latency
expect_eq "slow canary" "$(record "$TMP/slow.json" compare canary)" judge/slow
# the 11 samples of the window (t0+240 .. t0+300 every 6 s) read the gauge's
# last sample: i = 16,16,17,17,18,18,18,19,19,20,20 -> (100 + i % 7) ms
expect_num "slow primary median" "$(record "$TMP/slow.json" compare primaryMedian)" 104
expect_num "slow canary median" "$(record "$TMP/slow.json" compare canaryMedian)" 208
expect_num "slow effect size" "$(record "$TMP/slow.json" compare effectSize)" 2
expect_num "slow score" "$(record "$TMP/slow.json" score score)" 0
expect_eq "slow result" "$(record "$TMP/slow.json" score result)" fail
out=$("$PERCH_BIN" check -f "$TMP/slow.yaml" --prometheus "$PROM_URL" --time "$AT")
expect_eq "slow text exit" "$?" 1
expect_match "slow text compare" "$out" "High +latency High \(canary 208 vs primary 104, x2\.00\)"
expect_match "slow text score" "$out" "score +0 \(fail\)"

# --- the same latency as the primary: pass ----------------------------------
spec same
"$PERCH_BIN" check -f "$TMP/same.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/same.json"
rc=$?
cat "$TMP/same.json"
expect_eq "same exit" "$rc" 0
expect_eq "same classification" "$(record "$TMP/same.json" compare classification)" Pass
expect_num "same effect size" "$(record "$TMP/same.json" compare effectSize)" 1
expect_num "same score" "$(record "$TMP/same.json" score score)" 100
expect_eq "same result" "$(record "$TMP/same.json" score result)" pass

# --- 10 % slower: High at the default tolerance, Pass at a tolerance that
# covers it; scores 0/0 make even a fail "marginal" ---------------------------
spec near
"$PERCH_BIN" check -f "$TMP/near.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/near.json"
expect_eq "near exit" "$?" 1
expect_eq "near classification" "$(record "$TMP/near.json" compare classification)" High
spec near "
    perch.dev/compare-tolerance: \"0.99\""
"$PERCH_BIN" check -f "$TMP/near.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/near.json"
expect_eq "near tolerant exit" "$?" 0
expect_eq "near tolerant classification" "$(record "$TMP/near.json" compare classification)" Pass
spec slow "
    perch.dev/compare-scores: \"0/100\""
"$PERCH_BIN" check -f "$TMP/slow.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/slow.json"
expect_eq "marginal exit" "$?" 0
expect_eq "marginal result" "$(record "$TMP/slow.json" score result)" marginal

# --- a compared metric the analysis does not have is refused ----------------
spec slow
sed -i 's/latency=increase/latency=increase,errors/' "$TMP/slow.yaml"
err=$("$PERCH_BIN" check -f "$TMP/slow.yaml" --prometheus "$PROM_URL" --time "$AT" 2>&1)
expect_eq "unknown metric exit" "$?" 1
expect_match "unknown metric" "$err" "perch\.dev/compare: errors is not a metric of spec\.analysis\.metrics"
echo "prom_judge: ok"
