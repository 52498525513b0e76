# k8s_run.sh — `perch run --headless` end to end on the test API server,
# with the real kubectl and a real Prometheus scraping a test exporter whose
# error rate the test sets: a Deployment and Service applied with kubectl, a
# new image set with `kubectl set image`, the TrafficSplit weights read with
# kubectl while perch shifts traffic, promotion to Succeeded despite injected
# 503s and 409s; a second controller refused by the Lease; a bad revision
# (error rate over the bound) rolled back; an image set while the canary
# initializes rolled out as a new revision.  The engine clock runs 10x
# (PERCH_TIME_SCALE); queries for times ahead of the real clock are asked at
# Prometheus' now, where the latest sample of the gauge is.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl curl prometheus tmux

# Prometheus scraping an exporter (a static file the test rewrites), the
# API server, the app and its Canary (lib_k8s.bash).
checkout_run run 'checkout_error_rate{workload="checkout"} 0' error-rate 5 \
	'max(checkout_error_rate{workload="{{ target }}"})'
error_rate() {	# sets the exporter's value and waits until Prometheus has it
	printf 'checkout_error_rate{workload="checkout"} %s\n' "$1" >"$TMP/exporter/metrics"
	WAIT_SECS=20 wait_for sh -c "curl -sf '$PROM_URL/api/v1/query' --data-urlencode 'query=checkout_error_rate' | grep -q '\"$1\"\]'"
}
error_rate 0 || fail "Prometheus does not scrape the exporter"

# waits for a JSON line matching REGEX in FILE
wait_line() { WAIT_SECS=${3:-30} wait_for grep -Eq "$2" "$1"; }

# A headless run ends once its canary is initialized and found idle (a
# second here): the first run only initializes; the new revision is set
# after it ended and a second run rolls it out, so no race decides whether
# perch sees the revision.
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run0.out" 2>"$TMP/run0.err"
expect_eq "run 0 (initialization) exit" "$?" 0
grep -q 'Initialization done! checkout.default' "$TMP/run0.out" ||
	fail "no initialization: $(cat "$TMP/run0.out" "$TMP/run0.err")"
expect_eq "target scaled to zero at init" "$(K get deploy checkout -o jsonpath='{.spec.replicas}')" "0"
# API trouble during the rollout: 503s and 409s on the route and the
# Deployments are retried; the rollout goes on.  (PUT only: kubectl set
# image PATCHes.)
F() { curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/tls/ca.crt" -X POST -d "$1" "$APISERVER_URL/_test/faults"; }
expect_eq "faults on" "$(F '{"error_5xx":3,"conflict":3,"path":"trafficsplits|deployments","methods":"PUT"}')" 200
K set image deployment/checkout checkout=checkout:v2 >/dev/null || fail "set image"
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>"$TMP/run1.err" &
p1=$!
at_exit "kill $p1 2>/dev/null; wait $p1 2>/dev/null"
(
	deadline=$(( $(date +%s) + 60 ))
	while kill -0 $p1 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
		K get trafficsplit checkout -o jsonpath='{.spec.backends[?(@.service=="checkout-canary")].weight}' 2>/dev/null
		echo
		sleep 0.2
	done
) >"$TMP/weights" &
wpid=$!
at_exit "kill $wpid 2>/dev/null"
wait_line "$TMP/run1.out" 'New revision detected! Scaling up checkout.default' ||
	fail "no new revision: $(cat "$TMP/run1.out" "$TMP/run1.err")"

# A second controller: the Lease is held, it may only watch.  The first
# is stopped meanwhile (its Lease stays held): its rollout takes a few
# seconds, and under TSan it could end and release the Lease before the
# second had started.
at_exit "kill -CONT $p1 2>/dev/null"
kill -STOP $p1
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run2.out" 2>"$TMP/run2.err"
rc=$?
expect_eq "second controller exit" "$rc" 3
expect_match "second controller names the holder" "$(cat "$TMP/run2.err")" 'default/checkout is controlled by [^ ]+@[^ ]+ pid [0-9]+'
holder=$(K get lease perch-checkout -o jsonpath='{.spec.holderIdentity}')
expect_match "lease holder" "$holder" '^[^ ]+@[^ ]+ pid [0-9]+$'
kill -CONT $p1


# Weights as kubectl sees them while perch shifts traffic (sampled).
wait $p1; rc=$?
wait $wpid
seen=" $(sort -un "$TMP/weights" | tr '\n' ' ')"

expect_eq "perch run exit" "$rc" 0
grep -q '"phase":"Succeeded"' "$TMP/run1.out" || fail "never Succeeded: $(tail -5 "$TMP/run1.out")"
grep -Eq '"kind":"check","metric":"error-rate","value":0(\.0*)?,.*"result":"pass"' "$TMP/run1.out" || fail "no passing check: $(grep check "$TMP/run1.out" | tail -2)"
# Every canary weight perch wrote to the TrafficSplit (the test API
# server's log of objects written: none is missed however busy the
# machine), and kubectl read only weights perch wrote.
written=" $(python3 -c '
import json, sys
seen = set()
for line in open(sys.argv[1]):
    o = json.loads(line)["object"]
    if o.get("kind") == "TrafficSplit" and o["metadata"]["name"] == "checkout":
        seen.update(b["weight"] for b in o["spec"]["backends"] if b["service"] == "checkout-canary")
print(" ".join(str(w) for w in sorted(seen)))' "$TMP/run.objects") "
expect_eq "canary weights written" "$written" " 0 25 50 "
for w in $seen; do
	case "$written" in *" $w "*) ;; *) fail "kubectl saw a weight perch never wrote: $w (written:$written)";; esac
done
[ "$seen" != " " ] || fail "kubectl read no weight"
expect_eq "primary promoted" "$(K get deploy checkout-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "checkout:v2"
expect_eq "traffic back on primary" "$(K get trafficsplit checkout -o jsonpath='{.spec.backends[?(@.service=="checkout-primary")].weight}')" 100
grep -Eq '^(PUT|PATCH) /apis/split.smi-spec.io/v1alpha1/namespaces/default/trafficsplits/checkout[^ ]* rw (503|409) fault=(503|409)$' "$TMP/run.audit" ||
	grep -Eq '^(GET|PUT|PATCH) /apis/(split.smi-spec.io|apps)/[^ ]* rw (503|409) fault=(503|409)$' "$TMP/run.audit" || fail "no injected fault was hit"
expect_eq "lease released" "$(K get lease perch-checkout -o jsonpath='{.spec.holderIdentity}')" ""
K get configmap perch-checkout -o jsonpath='{.data.status}' | grep -q '"phase":"Succeeded"' || fail "status not stored"
K get events -o jsonpath='{.items[*].message}' | grep -q 'Promotion completed' ||
	K get events -o jsonpath='{.items[*].message}' | grep -q 'Copying checkout.default template spec to checkout-primary.default' ||
	fail "no Flagger events: $(K get events -o jsonpath='{.items[*].message}')"

# perch watch on the cluster (the read-only identity): it shows the stored
# canary and sends nothing but get and list.
session watch 120 30 "$TERM_ENV '$PERCH_BIN' watch --kubeconfig '$KUBECONFIG' --context ro -n default"
WAIT_SECS=15 wait_for shows watch Succeeded || { dump watch; fail "perch watch did not show the canary"; }
expect_match "watch screen" "$(screen watch)" 'checkout'
quit_readonly "$TMP/run.audit" watch

# A bad revision: its error rate is over the bound, so it is rolled back.
error_rate 50 || fail "Prometheus did not see the new error rate"
# The new controller resumes from the stored status (Succeeded, v2) and sees v3.
K set image deployment/checkout checkout=checkout:v3-bad >/dev/null || fail "set image bad"
timeout "$(scaled 60)" "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run3.out" 2>"$TMP/run3.err"
rc=$?
expect_eq "bad revision exit" "$rc" 1
grep -q 'Rolling back checkout.default failed checks threshold reached 2' "$TMP/run3.out" || fail "no rollback: $(tail -5 "$TMP/run3.out")"
grep -Eq '"kind":"check","metric":"error-rate","value":50(\.0*)?,.*"result":"fail"' "$TMP/run3.out" || fail "no failed check: $(grep check "$TMP/run3.out" | tail -2)"
expect_eq "primary kept" "$(K get deploy checkout-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "checkout:v2"
expect_eq "canary scaled down" "$(K get deploy checkout -o jsonpath='{.spec.replicas}')" 0

# Without -f, perch run takes the canaries.flagger.app objects (and
# MetricTemplates) of the namespace: none yet, then the one applied.
"$PERCH_BIN" run --headless -n default >"$TMP/run4.out" 2>"$TMP/run4.err"
expect_eq "no canary exit" "$?" 1
expect_match "no canary" "$(cat "$TMP/run4.err")" 'no Canary in the namespace'
K apply -f "$TMP/canary.yaml" >/dev/null || fail "kubectl apply canary"
"$PERCH_BIN" run --headless -n default >"$TMP/run5.out" 2>"$TMP/run5.err"
expect_eq "cluster canary exit (still Failed)" "$?" 1
grep -Eq "no Canary|error" "$TMP/run5.err" && fail "the Canary of the namespace was not used: $(cat "$TMP/run5.err")"
expect_eq "cluster canary: nothing changed" "$(K get deploy checkout-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "checkout:v2"

# A canary perch run cannot drive (a plain Service target routed by istio):
# refused before anything is touched, exit 1 with the reason (not a warning
# at every tick).
sed 's/provider: linkerd/provider: istio/; s/apiVersion: apps\/v1, kind: Deployment/apiVersion: v1, kind: Service/' \
	"$TMP/canary.yaml" >"$TMP/svc.yaml"
grep -q 'kind: Service' "$TMP/svc.yaml" || fail "no Service target in $(cat "$TMP/svc.yaml")"
timeout "$(scaled 20)" "$PERCH_BIN" run --headless -f "$TMP/svc.yaml" >"$TMP/run7.out" 2>"$TMP/run7.err"
expect_eq "undrivable target exit" "$?" 1
expect_match "undrivable target reason" "$(cat "$TMP/run7.err")" 'perch run drives a Service target with one of the providers gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, kubernetes, not with istio'

# A new image set while perch initializes (the primary made from v1 is not
# ready yet): Initialized saves v1, what the primary runs, so v2 is a new
# revision at the next tick and is rolled out, not taken as already running.
cat >"$TMP/cart-app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cart
  namespace: default
  labels: {app: cart}
  annotations: {test.perch.dev/never-ready: "true"}
spec:
  replicas: 2
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers: [{name: cart, image: "cart:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: default}
spec:
  selector: {app: cart}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
cat >"$TMP/cart-canary.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: cart}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
  service: {port: 80}
  analysis: {interval: 10s, threshold: 2, iterations: 2}
YAML
K apply -f "$TMP/cart-app.yaml" >/dev/null || fail "kubectl apply cart"
timeout "$(scaled 60)" "$PERCH_BIN" run --headless -f "$TMP/cart-canary.yaml" >"$TMP/run8.out" 2>"$TMP/run8.err" &
p8=$!
at_exit "kill $p8 2>/dev/null; wait $p8 2>/dev/null"
WAIT_SECS=20 wait_for K get deploy cart-primary || fail "no cart primary: $(cat "$TMP/run8.err")"
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image cart"
K annotate deploy cart cart-primary test.perch.dev/never-ready- >/dev/null || fail "annotate cart"
wait $p8
expect_eq "image set while initializing: exit" "$?" 0
grep -q 'Initialization done! cart.default' "$TMP/run8.out" ||
	fail "cart not initialized: $(tail -5 "$TMP/run8.out" "$TMP/run8.err")"
grep -q 'New revision detected! Scaling up cart.default' "$TMP/run8.out" ||
	fail "the image set while initializing was not seen as a new revision: $(tail -5 "$TMP/run8.out")"
expect_eq "cart primary promoted" "$(K get deploy cart-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "cart:v2"

# The interactive front end of perch run, in a real terminal (tmux): it
# shows the canary and quits on q (confirmed with y).
sock="perch-k8s-run-$$"
at_exit "tmux -L $sock kill-server 2>/dev/null"
tmux -L "$sock" new-session -d -x 120 -y 30 \
	"TERM=xterm-256color '$PERCH_BIN' run -f '$TMP/canary.yaml'; echo \$? >'$TMP/tui.rc'; sleep 5"
WAIT_SECS=15 wait_for sh -c "tmux -L $sock capture-pane -p | grep -q Failed" ||
	fail "perch run (TUI) did not show the canary: $(tmux -L "$sock" capture-pane -p)"
tmux -L "$sock" send-keys q
sleep 0.3
tmux -L "$sock" send-keys y
WAIT_SECS=10 wait_for test -s "$TMP/tui.rc" || fail "perch run (TUI) did not quit: $(tmux -L "$sock" capture-pane -p)"
tmux -L "$sock" kill-server 2>/dev/null
expect_match "perch run (TUI) exit" "$(cat "$TMP/tui.rc")" '^[01]$'
expect_eq "lease released by the TUI run" "$(K get lease perch-checkout -o jsonpath='{.spec.holderIdentity}')" ""

# The API server goes away: perch run says so and exits 3.
kill "$APISERVER_PID"; wait "$APISERVER_PID" 2>/dev/null
timeout "$(scaled 30)" "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run6.out" 2>"$TMP/run6.err"
expect_eq "API server down exit" "$?" 3
expect_match "API server down message" "$(cat "$TMP/run6.err")" 'default/checkout: cannot take control'
exit 0
