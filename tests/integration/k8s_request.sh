# k8s_request.sh — a TUI steers a canary that a `perch controller` holds:
# p on the READ-ONLY canary writes a request into its ConfigMap, the
# controller applies it through its own command path (the canary weight
# goes up a step at once, read back with kubectl) and acknowledges it in
# the same write as the status; the TUI says "requested" and then "applied
# by" the controller.  With the controller stopped (SIGSTOP) a request is
# answered by nobody and the TUI says so after 20 s of real time (the
# request's own time, whatever PERCH_TIME_SCALE), naming it.  perch watch sends no
# request (the audit log).  A read-only identity (get/list/watch) is
# refused by the API server and the TUI says why.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/lib_rbac.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl python3

start_apiserver q --tls-dir "$TMP/tls" --ready-delay 0 --token ctl-a=token-a \
	--token-readonly watcher=token-w --token viewer=token-v
export KUBECONFIG="$TMP/q.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
rbac_identity ctl-a token-a
rbac_identity watcher token-w
rbac_identity viewer token-v
cweight() { K get trafficsplit cart -o jsonpath='{.spec.backends[?(@.service=="cart-canary")].weight}'; }

cart_app
# Steps of 10% every 300 s (30 s at PERCH_TIME_SCALE=10): only a request
# moves the weight within this test.
sed -i 's/analysis: {interval: 30s, threshold: 2, iterations: 3}/analysis: {interval: 300s, threshold: 2, stepWeight: 10, maxWeight: 40}/; s/provider: kubernetes/provider: linkerd/' \
	"$TMP/canary.yaml"
grep -q stepWeight "$TMP/canary.yaml" || fail "canary.yaml not rewritten"
K apply -f "$TMP/app.yaml" -f "$TMP/canary.yaml" -n default >/dev/null || fail "kubectl apply"

PERCH_TIME_SCALE=10 "$PERCH_BIN" controller -n default --context ctl-a --identity ctl-a \
	--metrics-addr "127.0.0.1:$(free_port)" >"$TMP/ctl.out" 2>"$TMP/ctl.err" &
ctl=$!
at_exit "kill -CONT $ctl 2>/dev/null; kill $ctl 2>/dev/null; wait $ctl 2>/dev/null"
WAIT_SECS=20 wait_for grep -q 'Initialization done! cart.default' "$TMP/ctl.out" ||
	fail "the controller did not initialize cart: $(tail -n 5 "$TMP/ctl.err")"
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
WAIT_SECS=20 wait_for grep -q 'New revision detected! Scaling up cart.default' "$TMP/ctl.out" ||
	fail "the controller did not see the new revision: $(tail -n 5 "$TMP/ctl.err")"

run="$TERM_ENV PERCH_TIME_SCALE=10 KUBECONFIG='$KUBECONFIG' '$PERCH_BIN' run -n default"
session t 120 40 "$run"
WAIT_SECS=15 wait_for shows t "controlled by ctl-a" || { dump t; fail "the TUI does not name the holder"; }
WAIT_SECS=5 wait_for row_has t cart Progressing || { dump t; fail "the TUI does not show cart progressing"; }

# p: a request, applied by the controller at once (the first step, 10%,
# would come after one interval).
keys t p
WAIT_SECS=10 wait_for shows t "cart promote-step applied by ctl-a" ||
	{ dump t; fail "no 'applied by' message: $(tail -n 5 "$TMP/ctl.err")"; }
expect_eq "canary weight after the request" "$(cweight)" 10
ack=$(K get configmap perch-cart -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]
acks = [json.loads(v) for k, v in d.items() if k.startswith("ack.")]
reqs = [json.loads(v) for k, v in d.items() if k.startswith("request.")]
st = json.loads(d["status"])
print(len(acks), len(reqs), acks[0]["seq"], reqs[0]["seq"], reqs[0]["command"], acks[0]["appliedBy"], st["canaryWeight"])')
expect_match "request and ack in the ConfigMap" "$ack" '^1 1 1 1 promote-step ctl-a pid [0-9]+ 10$'
grep -q '"message":"promote-step requested by [^"]*, applied by ctl-a' "$TMP/ctl.out" ||
	fail "the controller's journal does not record the request: $(grep -o 'promote-step[^"]*' "$TMP/ctl.out")"

# The holder stopped: nobody answers, and the TUI says so, naming it.
# The wait is counted on the wall clock by both sides, from the time in
# the request: 4 s after it (40 s of the TUI's clock at PERCH_TIME_SCALE=10)
# the TUI still waits; the request moved 20 s back (as if written then),
# the TUI gives up and the holder, continued, refuses it as too old.
req() { K get configmap perch-cart -o json | python3 -c '
import json, sys, time
d = json.load(sys.stdin)["data"]
r = [json.loads(v) for k, v in d.items() if k.startswith("request.")][0]
if sys.argv[1] == "age":
    print(int(time.time() * 1000) - r["timeMs"])
else:
    k = [k for k in d if k.startswith("request.")][0]
    r["timeMs"] -= 20000
    print(json.dumps({"data": {k: json.dumps(r)}}))' "$1"; }
req_older() { [ "$(req age)" -ge "$1" ]; }
kill -STOP "$ctl"
keys t p
WAIT_SECS=5 wait_for shows t "requested: cart promote-step (waiting for ctl-a" ||
	{ dump t; fail "no second 'requested' message"; }
WAIT_SECS=10 wait_for req_older 4000 || fail "the request's age does not grow"
shows t "requested: cart promote-step (waiting for ctl-a" && ! shows t "did not answer" ||
	{ dump t; fail "the TUI gave up after 4 s of real time (its engine clock's 20 s)"; }
K patch configmap perch-cart --type merge -p "$(req back)" >/dev/null || fail "kubectl patch"
WAIT_SECS=10 wait_for shows t "cart promote-step not applied: ctl-a" ||
	{ dump t; fail "no time-out message"; }
shows t "did not answer within 20 s" || { dump t; fail "the time-out message does not say how long"; }
kill -CONT "$ctl"
WAIT_SECS=10 wait_for grep -q '"message":"promote-step requested by [^"]*, not applied by ctl-a[^"]*asked 2[0-9] s ago' "$TMP/ctl.out" ||
	fail "the holder did not refuse the old request: $(grep -o 'promote-step[^"]*' "$TMP/ctl.out")"
expect_eq "canary weight after the unanswered request" "$(cweight)" 10
kill -KILL "$ctl"

# perch watch never writes a request, even with an identity that may.
session v 120 40 "$TERM_ENV KUBECONFIG='$KUBECONFIG' '$PERCH_BIN' watch -n default --context viewer"
WAIT_SECS=15 wait_for row_has v cart Progressing || { dump v; fail "perch watch does not show cart"; }
keys v p
WAIT_SECS=5 wait_for shows v "read-only: perch watch cannot change rollouts" || { dump v; fail "watch: no read-only answer"; }
keys v q
WAIT_SECS=5 wait_for dead v || { dump v; fail "perch watch did not quit"; }
grep -q '^GET /api/v1/namespaces/default/configmaps.* viewer 200' "$TMP/q.audit" || fail "perch watch did not read as viewer"
written=$(grep ' viewer ' "$TMP/q.audit" | grep -v '^GET ')
expect_eq "requests of perch watch other than GET" "$written" ""

# A read-only identity: the API server refuses the request, the TUI says why.
keys t q
WAIT_SECS=5 wait_for dead t || { keys t y; WAIT_SECS=5 wait_for dead t; } || { dump t; fail "the TUI did not quit"; }
# At 80x24 the whole reason is on the screen, word-wrapped above the footer.
session w 80 24 "$TERM_ENV PERCH_TIME_SCALE=10 KUBECONFIG='$KUBECONFIG' '$PERCH_BIN' run -n default --context watcher"
WAIT_SECS=15 wait_for row_has w cart Progressing || { dump w; fail "the read-only TUI does not show cart"; }
keys w p
WAIT_SECS=5 wait_for shows w "cart promote-step " || { dump w; fail "no answer to p"; }
shows_wrapped w "cart promote-step forbidden: watcher may not patch configmaps; needs a role like deploy/'s ClusterRole perch (configmap default/perch-cart; API server: " ||
	{ dump w; fail "no whole 403 message at 80 columns: $(grep watcher "$TMP/q.audit" | grep -v '^GET')"; }
grep -q '^PATCH /api/v1/namespaces/default/configmaps/perch-cart.* watcher 403' "$TMP/q.audit" ||
	fail "no refused PATCH by watcher in the audit log"
exit 0
