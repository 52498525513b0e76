# k8s_daemonset.sh — a DaemonSet target with `perch run --headless` on the
# test API server, read back with the real kubectl: initialization creates
# the `-primary` DaemonSet and scales the target to zero by a nodeSelector no
# node carries (flagger.app/scale-to-zero); a new image is rolled out and
# promoted (the primary's pod template copied, the target back to zero); a
# revision whose pods never become available is rolled back at the Canary's
# progress deadline; a DaemonSet without the RollingUpdate strategy is
# refused with Flagger's message; a new image is noticed through the watch
# of DaemonSets, before the next tick.  No metrics: each tick advances
# (engine clock 20x).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl

start_apiserver ds --tls-dir "$TMP/tls" --ready-delay 0.2
export KUBECONFIG="$TMP/ds.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }

daemonset_yaml agent "  minReadySeconds: 2" >"$TMP/app.yaml"
cat >>"$TMP/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ondelete, namespace: default, labels: {app: ondelete}}
spec:
  selector: {matchLabels: {app: ondelete}}
  updateStrategy: {type: OnDelete}
  template:
    metadata: {labels: {app: ondelete}}
    spec:
      containers: [{name: ondelete, image: "ondelete:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: agent, namespace: default}
spec:
  selector: {app: agent}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
cat >"$TMP/canary.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: agent}
spec:
  provider: linkerd
  targetRef: {apiVersion: apps/v1, kind: DaemonSet, name: agent}
  progressDeadlineSeconds: 60
  service: {port: 80}
  analysis: {interval: 10s, threshold: 2, maxWeight: 50, stepWeight: 25}
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
ds() { K get daemonset "$1" -o jsonpath="$2"; }
zeroed() { ds "$1" '{.spec.template.spec.nodeSelector.flagger\.app/scale-to-zero}/{.status.desiredNumberScheduled}'; }
run() { timeout "$(scaled 60)" "$PERCH_BIN" run --headless -f "$TMP/$1.yaml" >"$TMP/$2.out" 2>"$TMP/$2.err"; }

# Initialization: the primary from the target, the target to zero.
run canary init
expect_eq "initialization exit" "$?" 0
grep -q 'Initialization done! agent.default' "$TMP/init.out" ||
	fail "no initialization: $(cat "$TMP/init.out" "$TMP/init.err")"
expect_eq "primary image" "$(ds agent-primary '{.spec.template.spec.containers[0].image}')" "agent:v1"
expect_eq "primary selector" "$(ds agent-primary '{.spec.selector.matchLabels.app}')" "agent-primary"
expect_eq "primary copies minReadySeconds and updateStrategy" \
	"$(ds agent-primary '{.spec.minReadySeconds} {.spec.updateStrategy.type}')" "2 RollingUpdate"
expect_eq "primary keeps the user's nodeSelector only" \
	"$(ds agent-primary '{.spec.template.spec.nodeSelector}')" '{"kubernetes.io/os":"linux"}'
expect_eq "primary on every node" "$(ds agent-primary '{.status.numberAvailable}')" 3
expect_eq "target scaled to zero" "$(zeroed agent)" "true/0"
expect_eq "owner of the primary" "$(ds agent-primary '{.metadata.labels.app}')" "agent-primary"

# A new image: rolled out (the target back on its nodes), promoted.
K set image daemonset/agent agent=agent:v2 >/dev/null || fail "set image v2"
run canary promote
expect_eq "promotion exit" "$?" 0
grep -q 'New revision detected! Scaling up agent.default' "$TMP/promote.out" ||
	fail "no new revision: $(cat "$TMP/promote.out" "$TMP/promote.err")"
grep -q '"phase":"Succeeded"' "$TMP/promote.out" || fail "never Succeeded: $(tail -5 "$TMP/promote.out")"
grep -q 'Copying agent.default template spec to agent-primary.default' "$TMP/promote.out" ||
	fail "no promotion: $(tail -5 "$TMP/promote.out")"
expect_eq "primary promoted" "$(ds agent-primary '{.spec.template.spec.containers[0].image}')" "agent:v2"
expect_eq "promoted primary on every node" "$(ds agent-primary '{.status.numberAvailable}')" 3
expect_eq "target back to zero" "$(zeroed agent)" "true/0"
expect_eq "traffic on primary" "$(K get trafficsplit agent -o jsonpath='{.spec.backends[?(@.service=="agent-primary")].weight}')" 100
K get events -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name}{"\n"}{end}' |
	grep -q '^DaemonSet/agent$' || fail "no event on the DaemonSet"

# A revision whose pods never become available: rolled back at the
# Canary's progress deadline (60 s of engine time), the primary kept.
K annotate daemonset/agent test.perch.dev/never-ready=true >/dev/null || fail "annotate"
K set image daemonset/agent agent=agent:v3 >/dev/null || fail "set image v3"
run canary rollback
expect_eq "rollback exit" "$?" 1
grep -q 'Rolling back agent.default progress deadline exceeded' "$TMP/rollback.out" ||
	fail "no rollback: $(tail -5 "$TMP/rollback.out" "$TMP/rollback.err")"
grep -q "canary daemonset agent.default not ready: waiting for rollout to finish: 2 of 3 (readyThreshold 100%) updated pods are available" "$TMP/rollback.out" ||
	fail "no DaemonSet readiness message: $(grep -i waiting "$TMP/rollback.out" | tail -2)"
grep -q '"phase":"Failed"' "$TMP/rollback.out" || fail "not Failed: $(tail -3 "$TMP/rollback.out")"
expect_eq "primary kept" "$(ds agent-primary '{.spec.template.spec.containers[0].image}')" "agent:v2"
expect_eq "canary scaled to zero after rollback" "$(zeroed agent)" "true/0"
expect_eq "traffic back on primary" "$(K get trafficsplit agent -o jsonpath='{.spec.backends[?(@.service=="agent-primary")].weight}')" 100

# A DaemonSet that does not roll its pods over: refused, nothing created.
sed 's/agent/ondelete/g' "$TMP/canary.yaml" >"$TMP/ondelete.yaml"
timeout "$(scaled 20)" "$PERCH_BIN" run --headless -f "$TMP/ondelete.yaml" >"$TMP/ondelete.out" 2>"$TMP/ondelete.err"
expect_eq "OnDelete exit" "$?" 1
expect_match "OnDelete refusal" "$(cat "$TMP/ondelete.out" "$TMP/ondelete.err")" \
	'daemonset ondelete.default must have RollingUpdate strategy but have OnDelete'
K get daemonset ondelete-primary >/dev/null 2>&1 && fail "a primary was created for OnDelete"

# Watched as Deployments are: with a 60 s interval and the engine clock
# at 1x, a new image of an initialized DaemonSet target wakes its canary
# within seconds (the run hears of it through its watch of DaemonSets), not
# at the next tick.  The run is kept going by a second canary whose primary
# never becomes ready.
for n in node keeper; do
	sed -n '1,/^---/p' "$TMP/app.yaml" | sed -e '/^---/d' -e "s/agent/$n/g"
	echo ---
done | sed '$d' >"$TMP/watched.yaml"
K apply -f "$TMP/watched.yaml" >/dev/null || fail "kubectl apply node, keeper"
K patch daemonset keeper --type merge -p "$(printf '{"metadata":{"annotations":{"test.perch.dev/never-ready":"true"}}}')" \
	>/dev/null || fail "annotate keeper"
sed -e 's/agent/node/g' -e 's/interval: 10s/interval: 60s/' "$TMP/canary.yaml" >"$TMP/node.yaml"
run node nodeinit
expect_eq "node initialization exit" "$?" 0
{ cat "$TMP/node.yaml"; echo ---; sed 's/node/keeper/g' "$TMP/node.yaml"; } >"$TMP/watched-canaries.yaml"
PERCH_TIME_SCALE=1 timeout "$(scaled 60)" "$PERCH_BIN" run --headless -f "$TMP/watched-canaries.yaml" \
	>"$TMP/node.out" 2>"$TMP/node.err" &
np=$!
at_exit "kill $np 2>/dev/null; wait $np 2>/dev/null"
WAIT_SECS=20 wait_for grep -q 'keeper-primary.default not ready' "$TMP/node.out" ||
	fail "no first tick: $(cat "$TMP/node.out" "$TMP/node.err")"
K set image daemonset/node node=node:v2 >/dev/null || fail "set image node"
WAIT_SECS=15 wait_for grep -q 'New revision detected! Scaling up node.default' "$TMP/node.out" ||
	fail "the new image of the DaemonSet was not noticed before the next tick: $(tail -3 "$TMP/node.out")"
kill $np 2>/dev/null
exit 0
