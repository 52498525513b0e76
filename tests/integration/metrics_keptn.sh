# metrics_keptn.sh — MetricTemplates that read the cluster, against the
# test API server, whose objects are applied with kubectl: `perch check` reads
# a KeptnMetric's status.value (a value; none; not a number; with Keptn's
# errMsg; an object that is not there) and runs an Analysis (created with
# the definition, timeframe and arguments of the query, completed here by
# a stand-in for Keptn's controller, then deleted); `perch check` without
# a cluster says the template needs one; `perch run --headless` promotes
# a blue/green Canary whose metric is a KeptnMetric.  Templates of type
# externalmetrics without an address ask the cluster's external metrics
# API (a value with its label selector, no sample, a metric not served).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl python3 openssl

start_apiserver keptn --tls-dir "$TMP/tls" --ready-delay 0.2
export KUBECONFIG="$TMP/keptn.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }

metric() {	# NAME : a KeptnMetric in shop
	printf -- '---\napiVersion: metrics.keptn.sh/v1beta1\nkind: KeptnMetric\n'
	printf 'metadata: {name: %s, namespace: shop}\n' "$1"
	printf 'spec: {provider: {name: prometheus}, query: "sum(up)", fetchIntervalSeconds: 10}\n'
}
{ printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n'
  for m in good empty text failing; do metric "$m"; done
  printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: external-metrics, namespace: shop}\n'
  printf 'data: {queue-depth: 1500m, idle: ""}\n'; } >"$TMP/keptn.yaml"
K apply -f "$TMP/keptn.yaml" >"$TMP/apply.out" 2>&1 || fail "kubectl apply: $(cat "$TMP/apply.out")"
status() {	# NAME STATUS-JSON
	K -n shop patch keptnmetric "$1" --subresource=status --type=merge -p "{\"status\":$2}" \
		>/dev/null || fail "kubectl patch $1"
}
status good '{"value":"42.5","rawValue":"NDIuNQ=="}'
status text '{"value":"fast"}'
status failing '{"errMsg":"provider prometheus: connection refused"}'

# METRIC QUERY MIN MAX [TYPE]: a metric of canary app with its own template
# (type keptn unless TYPE).
check_metric() {
	cat <<YAML
    - name: $1
      interval: 1m
      templateRef: {name: $1}
      thresholdRange: {min: $3, max: $4}
YAML
	printf -- '---\napiVersion: flagger.app/v1beta1\nkind: MetricTemplate\n' >>"$TMP/templates.yaml"
	printf 'metadata: {name: %s, namespace: shop}\nspec:\n  provider: {type: %s}\n' "$1" \
		"${5:-keptn}" >>"$TMP/templates.yaml"
	printf '  query: |\n    %s\n' "$2" >>"$TMP/templates.yaml"
}
: >"$TMP/templates.yaml"
{ canary app shop istio app
  check_metric good KeptnMetric/shop/good 40 50
  check_metric empty keptnmetrics/shop/empty 0 100
  check_metric text keptnmetric/shop/text 0 100
  check_metric failing keptnmetric/shop/failing 0 100
  check_metric gone keptnmetric/shop/gone 0 100
  check_metric passes 'analysis/shop/good-def/5m/Team=Shop;region=eu;broken' 1 1
  check_metric fails analyses/shop/bad-def 1 1
  check_metric bad 'keptnmetric/shop' 0 1
  check_metric queue 'shop/queue-depth?labelSelector=app%3Dcart' 1 2 externalmetrics
  check_metric idle shop/idle 0 1 externalmetrics
  check_metric unknown shop/unknown 0 1 externalmetrics
  cat "$TMP/templates.yaml"; } >"$TMP/check.yaml"

# Keptn's controller, as far as the test needs it: completes every
# Analysis, passing those of definition good-def.
K -n shop get analyses -w -o \
	jsonpath='{.metadata.name} {.spec.analysisDefinition.name} {.status.state}{"\n"}' \
	>"$TMP/analyses" 2>/dev/null &
keptn=$!
at_exit "kill $keptn 2>/dev/null; wait $keptn 2>/dev/null"
tail -n +1 -f --pid=$keptn "$TMP/analyses" | while read -r name def state; do
	[ "$state" = Completed ] && continue
	pass=false; [ "$def" = good-def ] && pass=true
	K -n shop patch analysis "$name" --subresource=status --type=merge \
		-p "{\"status\":{\"state\":\"Completed\",\"pass\":$pass,\"timeframe\":{\"recent\":\"1m\"}}}" \
		>/dev/null 2>&1
done &

"$PERCH_BIN" check -f "$TMP/check.yaml" -n shop -o json >"$TMP/check.json" 2>"$TMP/check.err"
rc=$?
expect_eq "check: exit ($(cat "$TMP/check.err"))" "$rc" 1
python3 - "$TMP/check.json" >"$TMP/results" <<'PY'
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    print("%s: %s %s %s" % (r["metric"], r["result"], r["value"], r["error"]))
PY
res() { grep "^$1:" "$TMP/results"; }
expect_eq "KeptnMetric value" "$(res good)" "good: pass 42.5 None"
expect_match "no value" "$(res empty)" "^empty: error None KeptnMetric shop/empty: no value \\(status.value\\)$"
expect_match "not a number" "$(res text)" "^text: error None KeptnMetric shop/text: status.value is not a number: fast$"
expect_match "Keptn's error" "$(res failing)" \
	"^failing: error None KeptnMetric shop/failing: no value \\(status.value\\): provider prometheus: connection refused$"
expect_match "missing object" "$(res gone)" "^gone: error None KeptnMetric shop/gone: not found$"
expect_match "bad query" "$(res bad)" "^bad: error None the keptn query is not <keptnmetric\\|analysis>/<namespace>/<name>"
expect_eq "external metric through the cluster" "$(res queue)" "queue: pass 1.5 None"
expect_match "external metric: no sample" "$(res idle)" "^idle: nodata None no values found"
expect_match "external metric: not served" "$(res unknown)" \
	"^unknown: error None external metrics API: the server could not find the metric unknown"
grep -q 'GET /apis/external.metrics.k8s.io/v1beta1/namespaces/shop/queue-depth?labelSelector=app%3Dcart ' \
	"$TMP/keptn.audit" || fail "no external metrics request with its selector: $(grep external "$TMP/keptn.audit")"
expect_eq "passing analysis" "$(res passes)" "passes: pass 1.0 None"
expect_eq "failing analysis" "$(res fails)" "fails: fail 0.0 0 is below the minimum"

# The Analyses perch created, as Flagger writes them, and deleted after.
python3 - "$TMP/keptn.objects" <<'PY' || fail "the Analysis objects perch wrote"
import json, re, sys
made = [r["object"] for r in map(json.loads, open(sys.argv[1]))
        if r["object"].get("kind") == "Analysis" and r.get("verb") == "create"]
want = {"good-def": ("5m", {"team": "shop", "region": "eu"}), "bad-def": ("1m", {})}
assert len(made) == 2, made
for o in made:
    d = o["spec"]["analysisDefinition"]["name"]
    assert re.fullmatch(d + "-[0-9a-f]{6}", o["metadata"]["name"]), o
    assert o["metadata"]["namespace"] == "shop", o
    assert (o["spec"]["timeframe"]["recent"], o["spec"]["args"]) == want[d], o
PY
expect_eq "Analyses deleted" "$(K -n shop get analyses -o name)" ""
kill $keptn 2>/dev/null

out=$("$PERCH_BIN" check -f "$TMP/check.yaml" 2>&1)
expect_eq "without a cluster: exit" "$?" 1
expect_match "without a cluster" "$out" "keptn.*no cluster given"

# perch run --headless: the blue/green Canary of cart, its metric the
# KeptnMetric good (42.5, within 40..50), is initialised, then promoted.
cart_app
cat >>"$TMP/canary.yaml" <<'YAML'
    metrics:
      - name: keptn
        templateRef: {name: good}
        thresholdRange: {min: 40, max: 50}
        interval: 30s
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: good}
spec:
  provider: {type: keptn}
  query: keptnmetric/shop/good
YAML
sed -i 's/analysis: {interval: 30s, threshold: 2, iterations: 3}/analysis:\n    interval: 30s\n    threshold: 1\n    iterations: 2/' "$TMP/canary.yaml"
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply the app"
run() {	# N
	PERCH_TIME_SCALE=10 "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run$1.out" 2>"$TMP/run$1.err"
}
run 0
rc=$?
expect_eq "run: initialization ($(grep -v connecting "$TMP/run0.err" | tail -3))" "$rc" 0
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
run 1
rc=$?
expect_eq "run: rollout ($(grep -v connecting "$TMP/run1.err" | tail -3))" "$rc" 0
grep -q '"phase":"Succeeded"' "$TMP/run1.out" || fail "never Succeeded: $(tail -5 "$TMP/run1.out")"
grep -Eq '"kind":"check","metric":"keptn","value":42.5,.*"result":"pass"' "$TMP/run1.out" ||
	fail "no passing check of the KeptnMetric: $(grep check "$TMP/run1.out" | tail -2)"
