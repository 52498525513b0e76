# k8s_status.sh — `perch status --kubeconfig/--context/-n` reads the cluster
# store (the ConfigMaps perch-<canary> and their Leases) on the test API
# server: the state a headless `perch run` left, in text and JSON; who
# holds a canary while a controller runs, and nobody once it stopped; an
# empty namespace; only get and list requests, with the read-only identity;
# a cluster that cannot be reached is exit 3, and --state-dir with the
# cluster options a usage error.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl python3

start_apiserver st --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/st.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
audit="$TMP/st.audit"
S() { "$PERCH_BIN" status --kubeconfig "$KUBECONFIG" --context ro "$@"; }

cart_app
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

# Nothing saved yet in the namespace.
out=$(S -n default) || fail "status on an empty namespace: exit $?"
expect_eq "empty" "$out" "no canaries with saved state in namespace default (context ro)"

# A headless run initializes the canary and ends (nothing to roll out; the
# engine clock at 30x: its second tick, 30 s later, finds no new revision).
PERCH_TIME_SCALE=30 timeout "$(scaled 30)" "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>"$TMP/run1.err" ||
	fail "perch run: exit $?: $(cat "$TMP/run1.err")"
n0=$(wc -l <"$audit")
out=$(S -n default) || fail "status: exit $?: $out"
expect_match "header" "$(printf '%s\n' "$out" | head -1)" '^CANARY +PHASE +WEIGHT +FAILED +ITER +LAST TRANSITION +CONTROL +REASON$'
expect_match "row" "$(printf '%s\n' "$out" | sed -n 2p)" \
	'^default/cart +Initialized +0% +0/2 +0 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +- +-$'
json=$(S -n default -o json) || fail "status -o json: exit $?"
printf '%s' "$json" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["context"] == "ro" and o["namespace"] == "default" and "stateDir" not in o, o
[c] = o["canaries"]
assert c["canary"] == "default/cart" and c["phase"] == "Initialized", c
assert c["threshold"] == 2 and c["heldBy"] is None and c["override"] is None, c
' || fail "status -o json: $json"
# Only reads, as the read-only identity (the controller is not running).
writes=$(tail -n +"$((n0 + 1))" "$audit" | grep -vE '^GET ' || true)
[ -z "$writes" ] || fail "status sent more than get and list requests: $writes"
tail -n +"$((n0 + 1))" "$audit" | grep -qE '^GET /api/v1/namespaces/default/configmaps\?.* ro 200$' ||
	fail "status did not list the ConfigMaps as ro: $(tail -n +"$((n0 + 1))" "$audit")"

# While a controller runs a new revision, the row names it and the phase.
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run2.out" 2>"$TMP/run2.err" &
rp=$!
at_exit "kill $rp 2>/dev/null; wait $rp 2>/dev/null"
WAIT_SECS=15 wait_for grep -q 'New revision detected! Scaling up cart.default' "$TMP/run2.out" ||
	fail "no new revision: $(cat "$TMP/run2.out" "$TMP/run2.err")"
WAIT_SECS=10 wait_for sh -c "\"$PERCH_BIN\" status --kubeconfig '$KUBECONFIG' --context ro -n default | grep -q Progressing" ||
	fail "status did not show Progressing: $(S -n default)"
out=$(S -n default)
expect_match "held row" "$(printf '%s\n' "$out" | sed -n 2p)" "^default/cart +Progressing .* [^ ]+@[^ ]+ pid $rp +-\$"
json=$(S -n default -o json)
expect_match "heldBy" "$json" "\"heldBy\": \"[^\"]+@[^\"]+ pid $rp\""
kill -TERM $rp; wait $rp 2>/dev/null
# Stopped: its Lease is given back, nobody holds the canary.
out=$(S -n default)
expect_match "released row" "$(printf '%s\n' "$out" | sed -n 2p)" '^default/cart +Progressing .* - +-$'

# Usage: one store at a time.
out=$("$PERCH_BIN" status --state-dir "$TMP/sd" --context ro 2>&1); rc=$?
expect_eq "both stores: exit" "$rc" 2
expect_match "both stores" "$out" '^perch status: --state-dir and the cluster options exclude each other'

# A cluster that cannot be reached: exit 3, one line naming what failed.
kill $APISERVER_PID; wait $APISERVER_PID 2>/dev/null
out=$(S -n default 2>&1); rc=$?
expect_eq "unreachable: exit" "$rc" 3
expect_eq "unreachable: lines" "$(printf '%s\n' "$out" | wc -l)" 1
expect_match "unreachable" "$out" '^perch status: configmaps in default: '
echo "ok"
