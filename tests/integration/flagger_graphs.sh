# flagger_graphs.sh — the metric graphs of a Canary that a running Flagger
# drives.  A real Prometheus holds (backfilled with promtool) Flagger's own
# gauge flagger_canary_metric_analysis for podinfo — four checks of the
# current run and one of an earlier run — and Istio's request metrics of
# podinfo (95 % success, p99 248 ms).  The Flagger stand-in moves podinfo
# through a run that began a minute ago (its Progressing condition's
# lastTransitionTime).  perch run reaches that Prometheus only through the
# API server's service proxy (--prometheus-service, with the kubeconfig's
# client certificate and CA) and shows, in podinfo's detail, the run's past
# checks from Flagger's history (durations in ms, the earlier run's check
# left out) followed by its own checks each analysis interval (95 % fails
# min 99), and the last one in the overview's metric column.  perch watch
# with the read-only identity and the same --prometheus-service draws the
# same graphs, sending only GETs; without a Prometheus it says, in one calm
# line, that the metrics are not evaluated.
. "$(dirname "$0")/lib_flagger.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus promtool curl

# A Service that is not NS/NAME:PORT is a usage error, before any request.
out=$("$PERCH_BIN" run --prometheus-service monitoring/prometheus 2>&1)
expect_eq "no port: exit" "$?" 2
expect_match "no port" "$out" "--prometheus-service: want NS/NAME:PORT"
out=$("$PERCH_BIN" run --prometheus-service Monitoring/prometheus:9090 2>&1)
expect_eq "bad namespace: exit" "$?" 2
expect_match "bad namespace" "$out" "the namespace must be a DNS label"
out=$("$PERCH_BIN" watch --prometheus-service monitoring/prometheus 2>&1)
expect_eq "watch, no port: exit" "$?" 2
expect_match "watch, no port" "$out" "perch watch: --prometheus-service: want NS/NAME:PORT"

NOW=$(date +%s)
SINCE=$((NOW - 60))
python3 - "$NOW" "$SINCE" >"$TMP/data.om" <<'PY'
import sys
now, since = int(sys.argv[1]), int(sys.argv[2])
fl = 'flagger_canary_metric_analysis{name="podinfo",namespace="default",metric="%s"} %s %d'
print(fl % ("request-success-rate", 42, since - 30))	# an earlier run
for i, (sr, d) in enumerate([(99.9, 0.110), (99.7, 0.120), (99.5, 0.130), (99.2, 0.140)]):
    print(fl % ("request-success-rate", sr, since + 10 * (i + 1)))
    print(fl % ("request-duration", d, since + 10 * (i + 1)))
lab = 'reporter="destination",destination_workload_namespace="default",destination_workload="podinfo"'
for name, slope in [('istio_requests_total{%s,response_code="200"}' % lab, 19),
                    ('istio_requests_total{%s,response_code="503"}' % lab, 1),
                    ('istio_request_duration_milliseconds_bucket{%s,le="100"}' % lab, 0),
                    ('istio_request_duration_milliseconds_bucket{%s,le="250"}' % lab, 20),
                    ('istio_request_duration_milliseconds_bucket{%s,le="+Inf"}' % lab, 20)]:
    for i in range(61):	# from 5 minutes ago to 5 minutes ahead
        print("%s %d %d" % (name, 100000 + slope * 10 * i, now - 300 + 10 * i))
print("# EOF")
PY
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/data" >"$TMP/promtool.log" 2>&1 ||
	{ cat "$TMP/promtool.log"; fail "promtool could not backfill"; }
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/data"
promport=${PROM_URL##*:}

start_apiserver g --tls-dir "$TMP/tls" --ready-delay 0 --service-proxy "monitoring/prometheus:9090=$promport"
export KUBECONFIG="$TMP/g.kubeconfig"
# perch signs in with the rw client certificate (no token) and trusts the
# cluster's CA from certificate-authority-data.
server=$(sed -n 's/^ *server: "\(.*\)"$/\1/p' "$KUBECONFIG")
ca=$(sed -n 's/^ *certificate-authority-data: "\(.*\)"$/\1/p' "$KUBECONFIG")
cat >"$TMP/cert.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- {name: test, cluster: {server: "$server", certificate-authority-data: "$ca"}}
users:
- {name: rw, user: {client-certificate-data: "$(base64 -w0 "$TMP/tls/rw.crt")", client-key-data: "$(base64 -w0 "$TMP/tls/rw.key")"}}
contexts:
- {name: rw, context: {cluster: test, user: rw, namespace: default}}
current-context: rw
YAML
cart_app
sed -e 's/cart/podinfo/g' "$TMP/app.yaml" >"$TMP/podinfo.yaml"
prometheus_service
kubectl --request-timeout=10s apply -f "$TMP/podinfo.yaml" -f - >/dev/null <<'YAML' || fail "the cluster's objects"
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: default}
spec:
  provider: istio
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis:
    interval: 10s
    threshold: 5
    maxWeight: 60
    stepWeight: 20
    metrics:
      - {name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}
      - {name: request-duration, interval: 1m, thresholdRange: {max: 500}}
YAML
# A run that began at SINCE; it stays Progressing for a few ticks.
python3 "$PERCH_ROOT/tests/integration/flagger_standin.py" --name podinfo --namespace default \
	--target podinfo --step-weight 20 --max-weight 60 --tick 2 \
	--progressing-since "$(date -u -d "@$SINCE" +%Y-%m-%dT%H:%M:%SZ)" \
	--log "$TMP/flagger.log" >"$TMP/flagger.out" 2>&1 &
fp=$!
at_exit "kill $fp 2>/dev/null; wait $fp 2>/dev/null"
WAIT_SECS=20 wait_for grep -q '^status Initialized' "$TMP/flagger.log" ||
	fail "the Flagger stand-in wrote no status: $(cat "$TMP/flagger.out")"

# The engine's clock 5 times real time: an analysis interval of 10 s is 2 s.
session run 120 40 "$TERM_ENV PERCH_TIME_SCALE=5 '$PERCH_BIN' run --kubeconfig '$TMP/cert.kubeconfig' -n default" \
	"--prometheus-service monitoring/prometheus:9090 2>'$TMP/run.err'"
# Beside it, perch watch with the read-only identity (its token): the same
# graphs through the same service proxy; and without a Prometheus, one calm
# line instead of the metrics' errors.
session watch 120 40 "$TERM_ENV '$PERCH_BIN' watch --context ro" \
	"--prometheus-service monitoring/prometheus:9090 2>'$TMP/watch.err'"
session bare 120 40 "$TERM_ENV '$PERCH_BIN' watch --context ro 2>'$TMP/bare.err'"
WAIT_SECS=15 wait_for row_has run podinfo FLAGGER || { dump run; cat "$TMP/run.err"; fail "podinfo not shown"; }
WAIT_SECS=15 wait_for row_has run podinfo Progressing || { dump run; fail "Progressing not shown"; }
# The overview's metric column: perch's own last check.
WAIT_SECS=15 wait_for row_has run podinfo "95.0%" || { dump run; fail "no success rate in the overview"; }
keys run Enter
WAIT_SECS=10 wait_for shows run "driven by Flagger" || { dump run; fail "no detail"; }
# The run's past checks from Flagger's history, at their own times (the
# duration in ms), the earlier run's left out.
at() { date -u -d "@$(($SINCE + $1))" +%H:%M:%S; }
WAIT_SECS=10 wait_for shows run "$(at 10)  request-success-rate   99.9%  ≥ 99%     ✓ pass" ||
	{ dump run; fail "Flagger's first check of the run not shown"; }
shows run "$(at 40)  request-duration       140ms  ≤ 500ms   ✓ pass" || { dump run; fail "Flagger's last duration check not shown"; }
not shows run "42.0%" || { dump run; fail "a check of an earlier run shown"; }
# Then perch's own, one each analysis interval (95 % fails min 99): the
# graph holds the 4 past passes and the new failures.
fails() { [ "$(screen run | grep -c "request-success-rate   95.0%  ≥ 99%     ✗ FAIL")" -ge 2 ]; }
WAIT_SECS=15 wait_for fails || { dump run; fail "perch's own checks each interval not shown"; }
expect_match "the graph's counts" "$(screen run | grep -m1 'request-success-rate 95.0%  bound')" "✓4 ✗[2-9]"
shows run "94% ┤████××" || { dump run; fail "the graph does not show the past and new checks"; }
keys run q
WAIT_SECS=10 wait_for dead run || fail "perch did not quit"

# perch watch: Flagger's history and its own check of the interval it
# first saw (real time: one interval is 10 s).
WAIT_SECS=10 wait_for row_has watch podinfo FLAGGER || { dump watch; cat "$TMP/watch.err"; fail "watch: podinfo not shown"; }
keys watch Enter
WAIT_SECS=10 wait_for shows watch "driven by Flagger" || { dump watch; fail "watch: no detail"; }
WAIT_SECS=10 wait_for shows watch "$(at 10)  request-success-rate   99.9%  ≥ 99%     ✓ pass" ||
	{ dump watch; fail "watch: Flagger's history not shown"; }
shows watch "$(at 40)  request-duration       140ms  ≤ 500ms   ✓ pass" || { dump watch; fail "watch: Flagger's last duration check not shown"; }
WAIT_SECS=10 wait_for shows watch "request-success-rate   95.0%  ≥ 99%     ✗ FAIL" ||
	{ dump watch; fail "watch: its own check not shown"; }
keys bare Enter
WAIT_SECS=10 wait_for shows bare "driven by Flagger" || { dump bare; cat "$TMP/bare.err"; fail "bare watch: no detail"; }
WAIT_SECS=10 wait_for shows bare "checks  metrics not evaluated" && shows bare "give --prometheus or --prometheus-service" ||
	{ dump bare; fail "bare watch: no line on the metrics not evaluated"; }
not shows bare "Prometheus server given" || { dump bare; fail "bare watch: the metrics' errors shown"; }
not shows bare "? error" || { dump bare; fail "bare watch: an error row"; }
quit_readonly "$TMP/g.audit" watch bare
printf '%s\n' "$RO" | grep -q '^GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query_range?query=flagger_canary_metric_analysis.* ro 200$' ||
	fail "watch: no history query through the service proxy: $RO"
printf '%s\n' "$RO" | grep -q '^GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query?query=.*istio_requests_total.* ro 200$' ||
	fail "watch: no metric query through the service proxy"

# Prometheus only through the service proxy, as the kubeconfig's identity
# (its client certificate); nothing written to the cluster.
grep -q '^GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query_range?query=flagger_canary_metric_analysis.* rw 200$' "$TMP/g.audit" ||
	fail "no history query through the service proxy"
grep -q '^GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/query?query=.*istio_requests_total.* rw 200$' "$TMP/g.audit" ||
	fail "no metric query through the service proxy"
not grep -q '"agent": *"perch' "$TMP/g.objects" || fail "perch wrote to the cluster: $(grep '"agent": *"perch' "$TMP/g.objects")"
echo "ok"
