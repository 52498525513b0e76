# metrics_splunk.sh — MetricTemplates of type splunk: `perch check` against
# a stand-in of Splunk Observability's SignalFlow REST execute endpoint
# (saas_fake.py, which checks the X-SF-Token header, the program sent as
# text, the window of 10 × interval in ms and immediate=true, and answers
# Server-Sent Events with multi-line data): a value (the last data point)
# and its bounds, the primary's value (the isolation check), no data, an
# in-band error message, data of several time series, a missing Secret key
# named with its template, and the token never in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig"
SECRET=s3cr3t-splunk-token
python3 "$(dirname "$0")/saas_fake.py" --provider splunk --log "$TMP/req.log" \
	--secret "$SECRET" --window-ms 1200000 >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
WAIT_SECS=30 wait_for grep -q listening "$TMP/fake.out" || fail "the Splunk stand-in did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")

template() {	# NAME QUERY-WORD [SECRET]
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $1, namespace: shop}
spec:
  provider: {type: splunk, address: "$URL", secretRef: {name: ${3:-dt}}}
  query: |
    data('demo.latency', filter=filter('deployment', '{{ target }}-$2')).mean().publish()
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
stringData: {sf_token_key: $SECRET}
---
apiVersion: v1
kind: Secret
metadata: {name: wrongkey, namespace: shop}
stringData: {token: $SECRET}
YAML
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; template several several; } >"$TMP/cluster.yaml"
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
write bad empty broken several
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
grep -q "query data('demo.latency', filter=filter('deployment', 'app-ok')).mean().publish()" \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"

out=$("$PERCH_BIN" check -f "$TMP/bad.yaml" -n shop -o json 2>>"$TMP/err")
expect_eq "errors: exit" "$?" 1
printf '%s\n' "$out" >"$TMP/bad.json"
expect_eq "no data" "$(json_field "$TMP/bad.json" "shop/app empty" result)" nodata
expect_eq "error answer" "$(json_field "$TMP/bad.json" "shop/app broken" result)" error
expect_match "error text" "$(json_field "$TMP/bad.json" "shop/app broken" error)" \
	'error executing query: Invalid SignalFlow program'
expect_match "several series" "$(json_field "$TMP/bad.json" "shop/app several" error)" \
	'multiple values returned'

# No answer (HTTP 5xx) is the provider being unavailable: exit 3.
"$PERCH_BIN" check -f "$TMP/down.yaml" -n shop -o json >"$TMP/down.json" 2>>"$TMP/err"
expect_eq "down: exit" "$?" 3
expect_match "down" "$(json_field "$TMP/down.json" "shop/app down" error)" 'HTTP 503'

out=$("$PERCH_BIN" check -f "$TMP/nokey.yaml" -n shop 2>&1)
expect_eq "missing key: exit" "$?" 1
expect_match "missing key" "$out" 'MetricTemplate shop/nokey: secret wrongkey has no sf_token_key'

# Text output too, and nothing anywhere carries the token.
"$PERCH_BIN" check -f "$TMP/good.yaml" -n shop >"$TMP/good.txt" 2>&1 ||
	fail "text check failed: $(cat "$TMP/good.txt")"
expect_match "text" "$(cat "$TMP/good.txt")" '812.4'
if grep -q s3cr3t "$TMP"/*.json "$TMP/err" "$TMP/good.txt" "$TMP/req.log"; then
	fail "the token leaked"
fi
if grep -q '^BAD' "$TMP/req.log"; then fail "the stand-in refused a request: $(grep BAD "$TMP/req.log")"; fi
