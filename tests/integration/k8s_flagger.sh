# k8s_flagger.sh — perch over a Flagger that already runs: a Canary that a
# running Flagger reconciles is shown, never driven.  A Flagger stand-in
# (flagger_standin.py: Flagger-shaped status writes through /status and
# Events with Flagger's texts) moves Canary podinfo through a rollout that
# waits at WaitingPromotion for a load tester gate (loadtester_standin.py);
# perch run, without -f, shows it marked FLAGGER beside its own canary cart
# (one overview), follows the status through the watch (weight, phase, the
# condition message) and Flagger's Events in the event log with their
# severity, names the driver in the detail, and writes nothing for podinfo:
# no route, no Deployment, no Service, no Canary status.  Its keys are
# Flagger's controls: `a` opens the gate through the API server's service
# proxy (the stand-in Flagger sees it open and promotes), recorded as an
# Event on the Canary; Space patches spec.suspend; `r` without a rollback
# webhook says why it is unavailable.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl tmux python3

# The load tester first (its gate closed): the API server's service proxy
# forwards to it for Service flagger-loadtester in namespace test.
python3 "$PERCH_ROOT/tests/integration/loadtester_standin.py" --log "$TMP/lt.log" >"$TMP/lt.out" 2>&1 &
ltp=$!
at_exit "kill $ltp 2>/dev/null; wait $ltp 2>/dev/null"
WAIT_SECS=30 wait_for grep -q '^listening on ' "$TMP/lt.out" || fail "the load tester did not start"
ltport=$(sed -n 's/^listening on //p' "$TMP/lt.out")
lt="http://127.0.0.1:$ltport"

start_apiserver f --tls-dir "$TMP/tls" --ready-delay 0 --service-proxy "test/flagger-loadtester:80=$ltport"
export KUBECONFIG="$TMP/f.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
K create namespace test >/dev/null || fail "namespace test"
K -n test create service clusterip flagger-loadtester --tcp=80:8080 >/dev/null || fail "load tester service"

# Flagger itself: its Deployment, found by its labels.
K create namespace flagger-system >/dev/null || fail "namespace"
K apply -f - >/dev/null <<'YAML' || fail "flagger deployment"
apiVersion: apps/v1
kind: Deployment
metadata: {name: flagger, namespace: flagger-system, labels: {app.kubernetes.io/name: flagger}}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: flagger}}
  template:
    metadata: {labels: {app.kubernetes.io/name: flagger}}
    spec:
      containers: [{name: flagger, image: "ghcr.io/fluxcd/flagger:1.37.0"}]
YAML

# perch's own canary (cart) and Flagger's (podinfo), both Canary objects.
cart_app
K apply -f "$TMP/app.yaml" -f "$TMP/canary.yaml" >/dev/null || fail "cart"
sed -e 's/cart/podinfo/g' "$TMP/app.yaml" >"$TMP/podinfo.yaml"
K apply -f "$TMP/podinfo.yaml" >/dev/null || fail "podinfo app"
K apply -f - >/dev/null <<'YAML' || fail "podinfo canary"
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: default}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 80}
  analysis:
    interval: 30s
    threshold: 3
    iterations: 4
    webhooks:
      - {name: approve-promotion, type: confirm-promotion, url: "http://flagger-loadtester.test/gate/check"}
YAML
wait_for sh -c "K() { kubectl --request-timeout=10s \"\$@\"; }; K -n flagger-system get deploy flagger -o jsonpath='{.status.availableReplicas}' | grep -q 1" ||
	fail "flagger deployment not available"

# The Flagger stand-in, which checks the gate itself (it runs in the cluster).
python3 "$PERCH_ROOT/tests/integration/flagger_standin.py" --name podinfo --namespace default \
	--target podinfo --step-weight 20 --max-weight 60 --tick 0.3 --gate "$lt" \
	--log "$TMP/flagger.log" >"$TMP/flagger.out" 2>&1 &
fp=$!
at_exit "kill $fp 2>/dev/null; wait $fp 2>/dev/null"
WAIT_SECS=20 wait_for grep -q '^status Initialized' "$TMP/flagger.log" ||
	fail "the Flagger stand-in wrote no status: $(cat "$TMP/flagger.out")"

# perch run over the namespace, in the TUI.
session run 120 40 "$TERM_ENV '$PERCH_BIN' run -n default 2>'$TMP/run.err'"
WAIT_SECS=15 wait_for row_has run podinfo FLAGGER || { dump run; cat "$TMP/run.err"; fail "podinfo not marked FLAGGER"; }
WAIT_SECS=15 wait_for row_has run cart Initialized || { dump run; fail "perch's own canary cart not shown beside it"; }
not row_has run cart FLAGGER || fail "cart marked FLAGGER: $(row run cart)"

# The status through the watch: Flagger's weight, then WaitingPromotion.
WAIT_SECS=20 wait_for row_has run podinfo WaitingPromotion || { dump run; tail -3 "$TMP/flagger.log" "$TMP/flagger.out"; K get canary podinfo -o jsonpath="{.status.phase}"; fail "WaitingPromotion not shown"; }
weight_is run podinfo -eq 60 || { dump run; fail "weight 60 not shown"; }
row_has run podinfo "0/3" || { dump run; fail "failed checks against the threshold not shown"; }

# The detail: the driver, the condition message, Flagger's Events.
keys run j 2>/dev/null
sel=$(screen run | grep -m1 -E '^[│|]?[▶>] ' || true)
case "$sel" in *podinfo*) ;; *) keys run k;; esac
keys run Enter
WAIT_SECS=10 wait_for shows run "driven by Flagger (flagger-system/flagger)" || { dump run; fail "the driver not named"; }
WAIT_SECS=10 wait_for shows run "Waiting for approval." || { dump run; fail "no condition message"; }
WAIT_SECS=10 wait_for shows run "Advance podinfo.default canary weight 60" || { dump run; fail "no Flagger event"; }
WAIT_SECS=10 wait_for shows run "! Halt podinfo.default advancement waiting" ||
	{ dump run; fail "no Flagger warning"; }

# r without a rollback webhook: unavailable, and why; nothing is sent.
keys run r
WAIT_SECS=10 wait_for shows run "no rollback webhook" || { dump run; fail "r did not explain"; }
not grep -q rollback "$TMP/lt.log" 2>/dev/null || fail "r called the load tester"

# a opens the gate: one key, a confirmation, through the service proxy.
keys run a
WAIT_SECS=10 wait_for shows run "open the gate of podinfo?" || { dump run; fail "no confirmation for a"; }
keys run y
WAIT_SECS=10 wait_for grep -q '^POST /gate/open podinfo.default 202' "$TMP/lt.log" ||
	{ dump run; fail "the gate was not opened: $(cat "$TMP/lt.log" 2>/dev/null)"; }
grep -q '^POST /api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open' "$TMP/f.audit" ||
	fail "the gate was not opened through the service proxy"
WAIT_SECS=20 wait_for grep -q '^status Succeeded' "$TMP/flagger.log" || fail "the stand-in did not promote"
WAIT_SECS=20 wait_for shows run "Promotion completed! Scaling down podinfo" || { dump run; fail "no promotion event"; }
# The action is an Event on the Canary, reason perch, naming the user.
ev=$(K get events --field-selector reason=perch -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {.message}{"\n"}{end}')
expect_match "perch's event" "$ev" "^Canary/podinfo .+: opened the gate of webhook approve-promotion \(confirm-promotion\)"
keys run Escape
WAIT_SECS=10 wait_for row_has run podinfo Succeeded || { dump run; fail "Succeeded not shown"; }

# Space suspends it in Flagger: spec.suspend, after a confirmation that says
# what that means for Flagger.
keys run Space
WAIT_SECS=10 wait_for shows run "stops its analysis too" || { dump run; fail "no suspend confirmation"; }
keys run y
WAIT_SECS=10 wait_for sh -c "[ \"\$(kubectl --request-timeout=10s get canary podinfo -o jsonpath='{.spec.suspend}')\" = true ]" ||
	{ dump run; fail "spec.suspend not set"; }

# perch wrote nothing for podinfo but what its keys asked (the Canary's
# spec.suspend, Events): no route, Deployment, Service or Canary status.
writes=$(python3 - "$TMP/f.objects" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    w = json.loads(line)
    if w.get("agent", "").startswith("perch") and "podinfo" in w.get("path", "") and \
            not w["path"].endswith("/canaries/podinfo") and "/events" not in w["path"]:
        print(w["verb"], w["path"])
PY
)
[ -z "$writes" ] || fail "perch wrote for the Flagger canary: $writes"
grep -q '"agent": *"perch' "$TMP/f.objects" || fail "no write by perch at all (the agent is not logged?)"
keys run q
WAIT_SECS=10 wait_for dead run || fail "perch did not quit"
echo "ok"
