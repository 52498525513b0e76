# metrics_run.sh — `perch run --headless` with a metric from a SaaS
# provider: a blue/green Canary (kubernetes provider) on the test API
# server whose metric is a dynatrace MetricTemplate, its secretRef Secret
# applied with kubectl, answered by the Dynatrace stand-in (saas_fake.py,
# which checks the token, the window and the selector).  The provider is
# probed at initialization, every analysis reads the value, the rollout
# succeeds; then a template whose answer is over the bound rolls back.
# The token never reaches the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl python3

SECRET=dt0c01.s3cr3t-run-token
python3 "$(dirname "$0")/saas_fake.py" --provider dynatrace --log "$TMP/req.log" \
	--secret "$SECRET" --window-ms 300000 >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
WAIT_SECS=30 wait_for grep -q listening "$TMP/fake.out" || fail "the Dynatrace stand-in did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")

start_apiserver run --tls-dir "$TMP/tls" --ready-delay 0.2
export KUBECONFIG="$TMP/run.kubeconfig" PERCH_TIME_SCALE=10
K() { kubectl --request-timeout=10s "$@"; }
cart_app
cat >>"$TMP/canary.yaml" <<YAML
    metrics:
      - name: latency
        templateRef: {name: latency}
        thresholdRange: {max: 900}
        interval: 30s
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: latency}
spec:
  provider: {type: dynatrace, address: "$URL", secretRef: {name: dt}}
  query: 'builtin:service.response.time:filter(eq("dt.entity.service","{{ target }}-WORD")):percentile(95)'
YAML
sed -i 's/analysis: {interval: 30s, threshold: 2, iterations: 3}/analysis:\n    interval: 30s\n    threshold: 1\n    iterations: 2/' "$TMP/canary.yaml"
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
K create secret generic dt --from-literal=dynatrace_token="$SECRET" >/dev/null || fail "kubectl create secret"

run() {	# N WORD : a headless run with the template's query word
	sed "s/WORD/$2/" "$TMP/canary.yaml" >"$TMP/canary$1.yaml"
	"$PERCH_BIN" run --headless -f "$TMP/canary$1.yaml" >"$TMP/run$1.out" 2>"$TMP/run$1.err"
}
run 0 ok
expect_eq "initialization: exit ($(cat "$TMP/run0.err"))" "$?" 0
grep -q '^probe' "$TMP/req.log" || fail "the provider was not probed at initialization"

K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
run 1 ok
expect_eq "rollout: exit ($(tail -3 "$TMP/run1.err"))" "$?" 0
grep -q '"phase":"Succeeded"' "$TMP/run1.out" || fail "never Succeeded: $(tail -5 "$TMP/run1.out")"
grep -Eq '"kind":"check","metric":"latency","value":812.4,.*"result":"pass"' "$TMP/run1.out" ||
	fail "no passing check of the Dynatrace value: $(grep check "$TMP/run1.out" | tail -2)"

# A revision whose latency is over the bound (the stand-in answers 812.4,
# the bound is lowered to 800) is rolled back.
sed -i 's/max: 900/max: 800/' "$TMP/canary.yaml"
K set image deployment/cart cart=cart:v3 >/dev/null || fail "set image v3"
run 2 ok
grep -q '"phase":"Failed"' "$TMP/run2.out" || fail "not rolled back: $(tail -5 "$TMP/run2.out")"
grep -Eq '"kind":"check","metric":"latency","value":812.4,.*"result":"fail"' "$TMP/run2.out" ||
	fail "no failing check: $(grep check "$TMP/run2.out" | tail -2)"

if grep -q s3cr3t "$TMP"/run*.out "$TMP"/run*.err "$TMP/req.log"; then fail "the token leaked"; fi
if grep -q '^BAD' "$TMP/req.log"; then fail "the stand-in refused a request: $(grep BAD "$TMP/req.log")"; fi
