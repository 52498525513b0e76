# k8s_revert.sh — spec.revertOnDeletion with `perch controller -n default`
# on the test API server and the real kubectl: perch puts
# Flagger's finalizer on each such Canary; `kubectl delete canary` (which
# waits for the object to go) mid-rollout on Gateway API and Istio, and
# after promotion on the kubernetes blue/green provider (deleted while no
# perch runs: the next controller, or perch run, adopts and reverts it),
# returns once
# perch has given everything back: the target scaled up, the apex Service
# on the target's own pods, the HTTPRoute with all traffic on the target,
# the user's VirtualService back to the spec they applied; then the Canary
# is gone.  A Canary without revertOnDeletion gets no finalizer.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver rv --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/rv.kubeconfig" PERCH_TIME_SCALE=40
K() { kubectl --request-timeout=10s "$@"; }

app_deployments 2 web api bg plain >"$TMP/app.yaml"
# The user's own VirtualService, applied with kubectl (last-applied kept).
cat >"$TMP/vs.yaml" <<'YAML'
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: api, namespace: default}
spec:
  hosts: [api.example.com]
  http: [{route: [{destination: {host: api}}]}]
YAML
steps="interval: 1m, maxWeight: 50, stepWeight: 10" bluegreen="interval: 10s, iterations: 2"
{
	revert_canary web gatewayapi:v1 true ", gatewayRefs: [{name: public, namespace: gateways}]" "$steps"
	revert_canary api istio true ", hosts: [api.example.com]" "$steps"
	revert_canary bg kubernetes true "" "$bluegreen"
	revert_canary plain kubernetes false "" "$bluegreen"
} >"$TMP/canaries.yaml"
K apply -f "$TMP/app.yaml" -f "$TMP/vs.yaml" -f "$TMP/canaries.yaml" >/dev/null || fail "kubectl apply"
user_vs=$(K get virtualservice api -o jsonpath='{.spec}')

"$PERCH_BIN" controller -n default --metrics-addr off --identity rv >"$TMP/run.out" 2>"$TMP/run.err" &
op=$!
at_exit "kill $op 2>/dev/null; wait $op 2>/dev/null"
inited() { [ "$(grep -o 'Initialization done! [a-z]*.default' "$TMP/run.out" | sort -u | wc -l)" -eq 4 ]; }
WAIT_SECS=20 wait_for inited || fail "not every canary initialized: $(cat "$TMP/run.out" "$TMP/run.err")"
fins=$(K get canary -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.finalizers[*]} {end}')
expect_eq "the finalizer with revertOnDeletion only" "$fins" \
	"api=finalizer.flagger.app bg=finalizer.flagger.app plain= web=finalizer.flagger.app "
# "name=replicas" of the Deployments, "name=app" of the apex Services' selectors, sorted.
only() { tr ' ' '\n' | grep -E "^($(echo "$@" | tr ' ' '|'))=" | sort | tr '\n' ' '; }
replicas() { K get deploy -o jsonpath='{range .items[*]}{.metadata.name}={.spec.replicas} {end}' | only "$@"; }
apex() { K get svc -o jsonpath='{range .items[*]}{.metadata.name}={.spec.selector.app} {end}' | only "$@"; }
expect_eq "targets scaled to zero" "$(replicas web api bg plain)" "api=0 bg=0 plain=0 web=0 "

# Mid-rollout: deleted while traffic is split.
K set image deployment/web web=web:v2 >/dev/null && K set image deployment/api api=api:v2 >/dev/null &&
	K set image deployment/bg bg=bg:v2 >/dev/null || fail "kubectl set image"
split() { grep -q "Advance $1.default canary weight 20" "$TMP/run.out"; }
WAIT_SECS=20 wait_for split web && WAIT_SECS=5 wait_for split api ||
	fail "no traffic split: $(grep -o "\"message\":\"[^\"]*\"" "$TMP/run.out" | tail -n 12; tail -n 5 "$TMP/run.err")"
K delete canary web api --timeout=$(scaled 15)s >"$TMP/del1.out" 2>&1 ||
	fail "kubectl delete canary web api: $(cat "$TMP/del1.out" "$TMP/run.err")"
expect_eq "web and api gone" "$(K get canary -o name | tr '\n' ' ')" "canary.flagger.app/bg canary.flagger.app/plain "
weights=$(K get httproute web -o jsonpath='{range .spec.rules[*].backendRefs[*]}{.name}={.weight} {end}')
expect_eq "HTTPRoute all traffic on the target" "$weights" "web-primary=0 web-canary=100 "
expect_eq "user's VirtualService restored" "$(K get virtualservice api -o jsonpath='{.spec}')" "$user_vs"
expect_eq "targets scaled up as the primaries" "$(replicas web api)" "api=2 web=2 "
expect_eq "apex Services on the targets' pods" "$(apex web api)" "api=api web=web "
grep -q 'Terminated canary web.default' "$TMP/run.out" || fail "no Terminated event: $(tail -n 3 "$TMP/run.out")"

# After promotion: the target was scaled to zero.  Deleted while no perch
# runs: marked and kept; the next controller adopts it and reverts it.
WAIT_SECS=20 wait_for grep -q 'Promotion completed! Scaling down bg.default' "$TMP/run.out" ||
	fail "bg not promoted: $(tail -n 5 "$TMP/run.out")"
kill -TERM $op; wait $op
expect_eq "bg scaled down after promotion" "$(replicas bg)" "bg=0 "
K delete canary bg plain --wait=false >/dev/null || fail "kubectl delete canary bg plain"
expect_eq "only bg kept, marked" "$(K get canary -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{end}' | cut -c1-5)" "bg 20"
"$PERCH_BIN" controller -n default --metrics-addr off --identity rv >>"$TMP/run.out" 2>>"$TMP/run.err" &
op=$!
at_exit "kill $op 2>/dev/null; wait $op 2>/dev/null"
K wait --for=delete canary/bg --timeout=$(scaled 15)s >/dev/null 2>&1 ||
	fail "bg not finalised by the next controller: $(cat "$TMP/run.err")"
expect_eq "bg scaled up again, plain let go as it was" "$(replicas bg plain)" "bg=2 plain=0 "
expect_eq "bg image kept" "$(K get deploy bg -o jsonpath='{.spec.template.spec.containers[0].image}')" "bg:v2"
expect_eq "apex bg on the target's pods" "$(apex bg)" "bg=bg "
grep -q 'Terminated canary bg.default' "$TMP/run.out" || fail "no Terminated event for bg"
grep -q 'Terminated canary plain.default' "$TMP/run.out" && fail "plain reverted without revertOnDeletion"
kill -TERM $op; wait $op

# perch run (the TUI) the same, though it loads the Canaries before its
# engine runs and its watch's first list may come before the engine does
. "$(dirname "$0")/tui_lib.bash"
revert_canary bg kubernetes true "" "$bluegreen" | K apply -f - >/dev/null || fail "kubectl apply bg"
session t 80 24 "$TERM_ENV PERCH_TIME_SCALE=40 '$PERCH_BIN' run -n default"
fin() { [ "$(K get canary bg -o jsonpath='{.metadata.finalizers[0]} {.status.phase}')" = "finalizer.flagger.app Initialized" ]; }
WAIT_SECS=20 wait_for fin || { dump t; fail "bg not initialized by perch run"; }
keys t q
WAIT_SECS=10 wait_for exited t 0 || { dump t; fail "perch run: q not exit 0"; }
K delete canary bg --wait=false >/dev/null || fail "kubectl delete canary bg"
session t2 80 24 "$TERM_ENV PERCH_TIME_SCALE=40 '$PERCH_BIN' run -n default"
K wait --for=delete canary/bg --timeout=$(scaled 15)s >/dev/null 2>&1 ||
	{ dump t2; fail "bg not finalised by the next perch run"; }
WAIT_SECS=5 wait_for shows t2 "default/bg: the Canary was deleted" || { dump t2; fail "no deletion message"; }
shows t2 " CONTROL " || { dump t2; fail "the run shown READ-ONLY once its only canary is reverted"; }
keys t2 q
WAIT_SECS=10 wait_for exited t2 0 || { dump t2; fail "perch run: q not exit 0"; }
exit 0
