# prom_backfill.sh — `perch check` against a real Prometheus on backfilled
# data (promtool tsdb create-blocks-from openmetrics) for Istio, Linkerd and
# NGINX metric names, at a fixed time=, compared with hand-computed values.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus promtool python3 curl

# Ten minutes of samples every 15 s, four hours ago (older than the head
# block, so backfilling is allowed).  Counters grow linearly, so rate() is
# exactly the slope whatever the extrapolation.
T0=$(( ($(date +%s) - 4 * 3600) / 60 * 60 ))
AT=$((T0 + 300))
python3 - "$T0" >"$TMP/data.om" <<'PY'
import sys
t0 = int(sys.argv[1])
series = [
    # Istio: canary 19 ok + 1 error per second (95 %), primary 99 + 1 (99 %)
    ('istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",response_code="200"}', 19),
    ('istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",response_code="503"}', 1),
    ('istio_requests_total{reporter="source",destination_workload_namespace="test",destination_workload="podinfo",response_code="503"}', 50),
    ('istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo-primary",response_code="200"}', 99),
    ('istio_requests_total{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo-primary",response_code="500"}', 1),
    # all 20 req/s between 100 and 250 ms: p99 = 100 + 150 * 0.99 = 248.5 -> 248 ms
    ('istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",le="100"}', 0),
    ('istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",le="250"}', 20),
    ('istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="test",destination_workload="podinfo",le="+Inf"}', 20),
    # Linkerd: 8 ok + 2 failures inbound (80 %) for canary and primary alike;
    # outbound failures must not count
    ('response_total{namespace="ld",deployment="web",direction="inbound",classification="success"}', 8),
    ('response_total{namespace="ld",deployment="web",direction="inbound",classification="failure"}', 2),
    ('response_total{namespace="ld",deployment="web",direction="outbound",classification="failure"}', 100),
    ('response_total{namespace="ld",deployment="web-primary",direction="inbound",classification="success"}', 8),
    ('response_total{namespace="ld",deployment="web-primary",direction="inbound",classification="failure"}', 2),
    # 10 req/s: 5 under 50 ms, 5 in (50, 100]: p99 = 50 + 50 * 4.9 / 5 = 99 ms
    ('response_latency_ms_bucket{namespace="ld",deployment="web",direction="inbound",le="10"}', 0),
    ('response_latency_ms_bucket{namespace="ld",deployment="web",direction="inbound",le="50"}', 5),
    ('response_latency_ms_bucket{namespace="ld",deployment="web",direction="inbound",le="100"}', 10),
    ('response_latency_ms_bucket{namespace="ld",deployment="web",direction="inbound",le="+Inf"}', 10),
    # NGINX: canary backend 9 ok + 1 error (90 %); primary traffic (canary="") excluded
    ('nginx_ingress_controller_requests{namespace="ngx",ingress="shop",canary="ngx-shop-canary-80",status="200"}', 9),
    ('nginx_ingress_controller_requests{namespace="ngx",ingress="shop",canary="ngx-shop-canary-80",status="502"}', 1),
    ('nginx_ingress_controller_requests{namespace="ngx",ingress="shop",canary="",status="500"}', 100),
    # mean duration: 1 s of work per 8 requests = 125 ms
    ('nginx_ingress_controller_response_duration_seconds_sum{namespace="ngx",ingress="shop",canary="ngx-shop-canary-80"}', 1),
    ('nginx_ingress_controller_response_duration_seconds_count{namespace="ngx",ingress="shop",canary="ngx-shop-canary-80"}', 8),
]
for name, slope in series:
    for i in range(41):
        print("%s %d %d" % (name, 100000 + slope * 15 * i, t0 + 15 * i))
print("# EOF")
PY
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/data" >"$TMP/promtool.log" 2>&1 ||
	{ cat "$TMP/promtool.log"; fail "promtool could not backfill"; }
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/data"

# --- Istio: both built-ins pass; the query isolates the canary ---------------
{ canary podinfo test istio podinfo; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 90}
    - name: request-duration
      interval: 1m
      thresholdRange: {max: 500}
YAML
} >"$TMP/istio.yaml"
"$PERCH_BIN" check -f "$TMP/istio.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/istio.json"
rc=$?
cat "$TMP/istio.json"
expect_eq "istio exit" "$rc" 0
expect_num "istio success rate" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" value)" 95
expect_eq "istio success result" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" result)" pass
expect_num "istio volume" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" volume)" 1200
expect_num "istio primary" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" primaryValue)" 99
expect_eq "istio isolation" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" isolation)" isolated
expect_num "istio p99 (truncated to ms)" "$(json_field "$TMP/istio.json" "test/podinfo request-duration" value)" 248
expect_num "istio max" "$(json_field "$TMP/istio.json" "test/podinfo request-duration" max)" 500
expect_match "istio query" "$(json_field "$TMP/istio.json" "test/podinfo request-success-rate" query)" \
	'^ sum\( rate\( istio_requests_total\{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo", response_code!~"5\.\*" \}\[1m\] \) \)'
# RFC 3339 gives the same instant.
rfc=$(date -u -d "@$AT" +%Y-%m-%dT%H:%M:%SZ)
out=$("$PERCH_BIN" check -f "$TMP/istio.yaml" --prometheus "$PROM_URL" --time "$rfc")
expect_eq "istio text exit" "$?" 0
expect_match "istio text" "$out" "pass +request-success-rate = 95 %"
expect_match "istio text duration" "$out" "pass +request-duration = 248 ms"
expect_match "istio text primary" "$out" "primary: +99 % \(differs"
# An RFC 3339 offset and a fraction name the same instant too.
off=$(TZ=Etc/GMT-2 date -d "@$AT" +%Y-%m-%dT%H:%M:%S.250+02:00)
"$PERCH_BIN" check -f "$TMP/istio.yaml" --prometheus "$PROM_URL" --time "$off" -o json >"$TMP/off.json"
expect_eq "offset time" "$(json_field "$TMP/off.json" "test/podinfo request-success-rate" time)" "$rfc"
expect_num "offset value" "$(json_field "$TMP/off.json" "test/podinfo request-success-rate" value)" 95

# --- Linkerd: built-ins, a MetricTemplate with a volume query, the isolation warning
{ canary web ld linkerd web; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 75}
    - name: request-duration
      interval: 1m
      thresholdRange: {max: 99}
    - name: error-rate
      interval: 1m
      templateRef: {name: error-rate}
      templateVariables: {direction: inbound}
      thresholdRange: {max: 1}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: error-rate
  namespace: ld
  annotations:
    perch.dev/volume-query: |
      sum(increase(response_total{namespace="{{ namespace }}", deployment=~"{{ target }}",
        direction="{{ variables.direction }}"}[{{ interval }}]))
spec:
  provider:
    type: prometheus
    address: http://prometheus.invalid:9090
  query: |
    sum(rate(response_total{
      namespace="{{ namespace }}",
      deployment=~"{{ target }}",
      classification="failure",
      direction="{{- variables.direction -}}"
    }[{{ interval }}]))
YAML
} >"$TMP/linkerd.yaml"
"$PERCH_BIN" check -f "$TMP/linkerd.yaml" --prometheus "$PROM_URL" --time "$AT" -o json \
	>"$TMP/linkerd.json" 2>"$TMP/linkerd.err"
rc=$?
cat "$TMP/linkerd.json" "$TMP/linkerd.err"
expect_eq "linkerd exit (error-rate fails)" "$rc" 1
expect_num "linkerd success rate" "$(json_field "$TMP/linkerd.json" "ld/web request-success-rate" value)" 80
expect_eq "linkerd isolation" "$(json_field "$TMP/linkerd.json" "ld/web request-success-rate" isolation)" same-as-primary
expect_match "linkerd warning" "$(cat "$TMP/linkerd.err")" "warning: ld/web request-success-rate: canary and primary give the same value"
out=$("$PERCH_BIN" check -f "$TMP/linkerd.yaml" --prometheus "$PROM_URL" --time "$AT")
expect_eq "linkerd text exit" "$?" 1
expect_match "linkerd text warning" "$out" "primary: +80 % \(WARNING: same as the canary: the query measures all pods"
expect_match "linkerd text failure" "$out" "fail +error-rate = 2  \(max 1\)"
expect_match "linkerd text reason" "$out" "reason: +2 is above the maximum"
expect_num "linkerd p99" "$(json_field "$TMP/linkerd.json" "ld/web request-duration" value)" 99
expect_eq "linkerd p99 equal to max passes" "$(json_field "$TMP/linkerd.json" "ld/web request-duration" result)" pass
expect_num "template value" "$(json_field "$TMP/linkerd.json" "ld/web error-rate" value)" 2
expect_eq "template result" "$(json_field "$TMP/linkerd.json" "ld/web error-rate" result)" fail
expect_num "template volume" "$(json_field "$TMP/linkerd.json" "ld/web error-rate" volume)" 600
expect_eq "template query rendered" "$(json_field "$TMP/linkerd.json" "ld/web error-rate" query)" \
	'sum(rate(response_total{ namespace="ld", deployment=~"web", classification="failure", direction="inbound" }[1m])) '

# --- NGINX: canary backend only; a guard that holds; a canary with no traffic
{ canary shop ngx nginx shop; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 95}
    - name: request-duration
      interval: 1m
      thresholdRange: {max: 200}
YAML
  canary shop2 ngx nginx shop '    perch.dev/min-requests: "1000"'; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 80}
YAML
  canary ghost ngx istio ghost; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 80}
YAML
} >"$TMP/nginx.yaml"
"$PERCH_BIN" check -f "$TMP/nginx.yaml" --prometheus "$PROM_URL" --time "$AT" -o json >"$TMP/nginx.json"
rc=$?
cat "$TMP/nginx.json"
expect_eq "nginx exit" "$rc" 1
expect_num "nginx success rate" "$(json_field "$TMP/nginx.json" "ngx/shop request-success-rate" value)" 90
expect_eq "nginx success below min" "$(json_field "$TMP/nginx.json" "ngx/shop request-success-rate" result)" fail
expect_num "nginx mean duration" "$(json_field "$TMP/nginx.json" "ngx/shop request-duration" value)" 125
expect_eq "nginx duration" "$(json_field "$TMP/nginx.json" "ngx/shop request-duration" result)" pass
expect_eq "nginx isolation" "$(json_field "$TMP/nginx.json" "ngx/shop request-duration" isolation)" not-applicable
expect_num "guard volume" "$(json_field "$TMP/nginx.json" "ngx/shop2 request-success-rate" volume)" 600
expect_eq "guard holds" "$(json_field "$TMP/nginx.json" "ngx/shop2 request-success-rate" result)" nodata
expect_eq "no traffic" "$(json_field "$TMP/nginx.json" "ngx/ghost request-success-rate" result)" nodata
expect_eq "no traffic value" "$(json_field "$TMP/nginx.json" "ngx/ghost request-success-rate" value)" null
exit 0
