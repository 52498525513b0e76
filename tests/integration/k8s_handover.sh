# k8s_handover.sh — quitting a terminal that holds a rollout hands it over:
# TUI A (perch run on the test API server) holds the canary cart mid-rollout
# and TUI B shows it READ-ONLY, controlled by A; q in A asks first, naming
# the rollout, its Lease and what happens; y quits A, which saves and
# releases the Lease at once, and B takes the canary over (its Lease names
# B) and carries the rollout on to Succeeded from where A left it: no step
# repeated, the weight never going back.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl python3

start_apiserver h --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/h.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
holder() { K get lease perch-cart -o jsonpath='{.spec.holderIdentity}'; }

cart_app
# Steps of 10% every 30 s, 10 times as fast: 3 s a step.
sed -i 's/analysis: {interval: 30s, threshold: 2, iterations: 3}/analysis: {interval: 30s, threshold: 2, stepWeight: 10, maxWeight: 40}/' \
	"$TMP/canary.yaml"
grep -q stepWeight "$TMP/canary.yaml" || fail "canary.yaml not rewritten"
sed -i 's/provider: kubernetes/provider: linkerd/' "$TMP/canary.yaml"
K apply -f "$TMP/app.yaml" -f "$TMP/canary.yaml" -n default >/dev/null || fail "kubectl apply"
PERCH_TIME_SCALE=10 "$PERCH_BIN" run --headless -n default >"$TMP/init.out" 2>"$TMP/init.err" ||
	fail "initialization: $(cat "$TMP/init.out" "$TMP/init.err")"
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"

run="$TERM_ENV PERCH_TIME_SCALE=10 KUBECONFIG='$KUBECONFIG' '$PERCH_BIN' run -n default"
session a 100 30 "$run"
WAIT_SECS=20 wait_for weight_is a cart -gt 0 || { dump a; fail "A did not start the rollout"; }
held_by_a=$(holder)
expect_match "A holds the Lease" "$held_by_a" '^[^ ]+@[^ ]+ pid [0-9]+$'
session b 100 30 "$run"
WAIT_SECS=15 wait_for shows b "READ-ONLY" || { dump b; fail "B does not show the canary read-only"; }
WAIT_SECS=5 wait_for shows b "controlled by ${held_by_a}" || { dump b; fail "B does not name A"; }

# q in A: the question names the rollout and says what happens.
keys a q
WAIT_SECS=5 wait_for shows a "quit perch?" || { dump a; fail "q did not ask"; }
text=$(dialog a)
expect_match "names the rollout" "$text" '1 rollout is in progress under this perch.s control: cart\.'
expect_match "says what happens" "$text" 'saves its state in the cluster and releases its Lease at once: a perch controller or another perch run that waits for it takes it over'
w_a=$(K get trafficsplit cart -o jsonpath='{.spec.backends[?(@.service=="cart-canary")].weight}')
keys a y
WAIT_SECS=10 wait_for dead a || { dump a; fail "A did not quit"; }
# 3: a rollout stopped before its end (runner_outcome), as before.
expect_eq "A exit status" "$(cat "$TMP/a.rc")" 3

# B takes the Lease (within its 2 s retry) and the rollout goes on.
WAIT_SECS=10 wait_for sh -c "h=\$(kubectl --request-timeout=5s get lease perch-cart -o jsonpath='{.spec.holderIdentity}'); [ -n \"\$h\" ] && [ \"\$h\" != '$held_by_a' ]" ||
	{ dump b; fail "B did not take the Lease: '$(holder)'"; }
WAIT_SECS=10 wait_for shows b "CONTROL" || { dump b; fail "B not in control"; }
WAIT_SECS=40 wait_for sh -c "kubectl --request-timeout=5s get configmap perch-cart -o jsonpath='{.data.status}' | grep -q '\"phase\":\"Succeeded\"'" ||
	{ dump b; fail "B did not finish the rollout"; }
# The canary weights written, in order: A's and then B's, never back down
# before the promotion, each step once.
python3 - "$TMP/h.objects" "$w_a" <<'PY' || fail "weights written"
import json, sys
ws = []
for line in open(sys.argv[1]):
    o = json.loads(line)["object"]
    if o.get("kind") == "TrafficSplit" and o["metadata"]["name"] == "cart":
        w = [int(b["weight"]) for b in o["spec"]["backends"] if b["service"] == "cart-canary"][0]
        if not ws or ws[-1] != w:
            ws.append(w)
print("canary weights written:", ws, file=sys.stderr)
steps = ws[1:ws.index(40) + 1] if 40 in ws else None
assert steps == [10, 20, 30, 40], "steps %s" % ws
assert int(sys.argv[2]) in steps, "A's weight %s not among %s" % (sys.argv[2], steps)
assert ws[-1] == 0, "not back on the primary at the end: %s" % ws
PY
keys b q
WAIT_SECS=5 wait_for exited b 0 || { keys b y; WAIT_SECS=5 wait_for exited b 0; } || { dump b; fail "B did not quit"; }
expect_eq "Lease released at the end" "$(holder)" ""
exit 0
