# prom_live.sh — a real Prometheus scrapes a small test exporter every
# second; `perch check` (no --time: Prometheus' now) reads the live values.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus python3 curl

python3 "$(dirname "$0")/prom_exporter.py" >"$TMP/exporter.out" 2>&1 &
exporter=$!
at_exit "kill $exporter 2>/dev/null; wait $exporter 2>/dev/null"
wait_for grep -q listening "$TMP/exporter.out" || fail "the exporter did not start"
target=$(sed -n 's|^listening on http://||p' "$TMP/exporter.out")
cat >"$TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: live
  static_configs:
  - targets: ['$target']
YAML
start_prometheus "$TMP/prometheus.yml" "$TMP/data"

# Wait for four scrapes inside the window.
samples() {
	curl -sf "$PROM_URL/api/v1/query" --data-urlencode 'query=count_over_time(istio_requests_total{response_code="200"}[5s])' |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and int(r[0]["value"][1]) >= 4 else 1)'
}
WAIT_SECS=20 wait_for samples || fail "Prometheus did not scrape the exporter"

{ canary app live istio app; cat <<'YAML'
    - name: request-success-rate
      interval: 5s
      thresholdRange: {min: 85}
    - name: request-duration
      interval: 5s
      thresholdRange: {max: 100}
YAML
} >"$TMP/live.yaml"
"$PERCH_BIN" check -f "$TMP/live.yaml" --prometheus "$PROM_URL" -o json >"$TMP/live.json"
rc=$?
cat "$TMP/live.json"
expect_eq "live exit" "$rc" 0
expect_num "live success rate" "$(json_field "$TMP/live.json" "live/app request-success-rate" value)" 90
# p99 of requests all in (50, 100]: 50 + 50 * 0.99 = 99.5, truncated to 99 ms
expect_num "live p99" "$(json_field "$TMP/live.json" "live/app request-duration" value)" 99
v=$(json_field "$TMP/live.json" "live/app request-success-rate" volume)
python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(0 if 300 <= v <= 700 else 1)' "$v" ||
	fail "live volume over 5s: got $v, want about 500"
exit 0
