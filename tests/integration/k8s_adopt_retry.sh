# k8s_adopt_retry.sh — a Canary created while `perch controller` runs,
# whose setup fails on a passing API error (the list of its namespace's
# MetricTemplates answers 503 past the client's own retries), is tried
# again with a backoff and taken once the API server answers, without any
# change to the Canary.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl curl openssl python3

start_apiserver a --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/a.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
cart_app
K apply -f "$TMP/app.yaml" -n default >/dev/null || fail "kubectl apply app"

"$PERCH_BIN" controller -n default --log "$TMP/ctl.log" -v --metrics-addr "127.0.0.1:$(free_port)" >"$TMP/ctl.out" 2>"$TMP/ctl.err" &
ctl=$!
at_exit "kill $ctl 2>/dev/null; wait $ctl 2>/dev/null"
WAIT_SECS=10 wait_for grep -q '^GET /apis/flagger.app/v1beta1/namespaces/default/canaries?.*watch=' "$TMP/a.audit" ||
	fail "the controller does not watch the Canaries: $(tail -n 5 "$TMP/ctl.err")"
# The MetricTemplates answer 503 until the first setup has failed (the
# client's own retries used up), then the server answers again.
faults() { curl -sfk -X POST "$APISERVER_URL/_test/faults" -d "$1" >/dev/null || fail "faults $1"; }
faults '{"error_5xx": 1000, "path": "metrictemplates", "methods": "GET"}'
K apply -f "$TMP/canary.yaml" -n default >/dev/null || fail "kubectl apply canary"
WAIT_SECS=15 wait_for grep -q 'Canary default/cart is new, but its spec cannot be used: listing metrictemplates in default: HTTP 503' "$TMP/ctl.log" ||
	fail "the first setup did not fail: $(tail -n 5 "$TMP/ctl.log")"
faults '{"error_5xx": 0}'
grep -q 'Canary default/cart is tried again in 1000 ms' "$TMP/ctl.log" || fail "no retry announced: $(tail -n 5 "$TMP/ctl.log")"
WAIT_SECS=15 wait_for grep -q 'Initialization done! cart.default' "$TMP/ctl.out" ||
	fail "the Canary was not taken after the errors passed: $(tail -n 5 "$TMP/ctl.err")"
holder=$(K get lease perch-cart -o jsonpath='{.spec.holderIdentity}')
expect_match "the controller holds the Lease" "$holder" ' pid [0-9]+$'
exit 0
