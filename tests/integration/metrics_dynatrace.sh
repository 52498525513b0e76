# metrics_dynatrace.sh — MetricTemplates of type dynatrace: `perch check`
# against a stand-in of Dynatrace's Metrics API v2 (saas_fake.py, which
# checks the Api-Token header, the window of 10 × interval in ms and the
# selector's encoding): a value and its bounds, the primary's value (the
# isolation check), no data, the provider's error answer, a missing Secret
# key named with its template, and the token never in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig"
SECRET=dt0c01.s3cr3t-dynatrace-token
python3 "$(dirname "$0")/saas_fake.py" --provider dynatrace --log "$TMP/req.log" \
	--secret "$SECRET" --window-ms 1200000 >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
WAIT_SECS=30 wait_for grep -q listening "$TMP/fake.out" || fail "the Dynatrace stand-in did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")

template() {	# NAME QUERY-WORD [SECRET]
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $1, namespace: shop}
spec:
  provider: {type: dynatrace, address: "$URL", secretRef: {name: ${3:-dt}}}
  query: 'builtin:service.response.time:filter(eq("dt.entity.service","{{ target }}-$2")):percentile(95)'
YAML
}
{ cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: dt, namespace: shop}
stringData: {dynatrace_token: $SECRET}
---
apiVersion: v1
kind: Secret
metadata: {name: wrongkey, namespace: shop}
stringData: {token: $SECRET}
YAML
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; } >"$TMP/cluster.yaml"
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

write() {	# FILE TEMPLATE...
	local f=$1; shift
	{ canary app shop istio app; for t in "$@"; do cat <<YAML
    - name: $t
      interval: 2m
      templateRef: {name: $t, namespace: shop}
      thresholdRange: {max: 900}
YAML
	done; } >"$TMP/$f.yaml"
}
write good latency
write bad empty broken
write down down
write nokey nokey

out=$("$PERCH_BIN" check -f "$TMP/good.yaml" -n shop -o json 2>"$TMP/err")
rc=$?
expect_eq "value: exit ($(cat "$TMP/err"))" "$rc" 0
printf '%s\n' "$out" >"$TMP/good.json"
expect_eq "value" "$(json_field "$TMP/good.json" "shop/app latency" value)" 812.4
expect_eq "value: result" "$(json_field "$TMP/good.json" "shop/app latency" result)" pass
expect_eq "primary value" "$(json_field "$TMP/good.json" "shop/app latency" primaryValue)" 500.0
expect_eq "isolation" "$(json_field "$TMP/good.json" "shop/app latency" isolation)" isolated
grep -q 'query builtin:service.response.time:filter(eq("dt.entity.service","app-ok")):percentile(95) auth=ok' \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"

out=$("$PERCH_BIN" check -f "$TMP/bad.yaml" -n shop -o json 2>>"$TMP/err")
expect_eq "errors: exit" "$?" 1
printf '%s\n' "$out" >"$TMP/bad.json"
expect_eq "no data" "$(json_field "$TMP/bad.json" "shop/app empty" result)" nodata
expect_eq "error answer" "$(json_field "$TMP/bad.json" "shop/app broken" result)" error
expect_match "error text" "$(json_field "$TMP/bad.json" "shop/app broken" error)" \
	'Dynatrace: HTTP 400: .*The metric selector is invalid'

# No answer (HTTP 5xx) is the provider being unavailable: exit 3.
"$PERCH_BIN" check -f "$TMP/down.yaml" -n shop -o json >"$TMP/down.json" 2>>"$TMP/err"
expect_eq "down: exit" "$?" 3
expect_match "down" "$(json_field "$TMP/down.json" "shop/app down" error)" 'HTTP 503'

out=$("$PERCH_BIN" check -f "$TMP/nokey.yaml" -n shop 2>&1)
expect_eq "missing key: exit" "$?" 1
expect_match "missing key" "$out" 'MetricTemplate shop/nokey: secret wrongkey has no dynatrace_token'

# Text output too, and nothing anywhere carries the token.
"$PERCH_BIN" check -f "$TMP/good.yaml" -n shop >"$TMP/good.txt" 2>&1 ||
	fail "text check failed: $(cat "$TMP/good.txt")"
expect_match "text" "$(cat "$TMP/good.txt")" '812.4'
if grep -q s3cr3t "$TMP"/*.json "$TMP/err" "$TMP/good.txt" "$TMP/req.log"; then
	fail "the token leaked"
fi
if grep -q '^BAD' "$TMP/req.log"; then fail "the stand-in refused a request: $(grep BAD "$TMP/req.log")"; fi
