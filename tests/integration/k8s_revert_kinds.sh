# k8s_revert_kinds.sh — spec.revertOnDeletion of a DaemonSet target on
# NGINX, a Deployment on Skipper and a Knative Service, with `perch
# controller -n default` on the test API server and the real kubectl.  Each
# is deleted (`kubectl delete canary`) at a partial weight, read back first
# with `kubectl get -o jsonpath`: the NGINX canary Ingress and Skipper's
# are deleted, the DaemonSet loses its scale-to-zero node selector, the
# Knative Service its pinned primary (all traffic on the latest revision),
# the apex Services select the targets' pods.  The Skipper target is made
# never ready first: its deletion waits, the canary Ingress keeps its
# weights, each try is journalled and the Canary's status is Terminating
# with the reason, until the target is ready again; then the object goes
# (no Terminated is written).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver rk --tls-dir "$TMP/tls" --ready-delay 0.1
export KUBECONFIG="$TMP/rk.kubeconfig" PERCH_TIME_SCALE=40

{
	app_deployments 2 web
	daemonset_yaml agent
	knative_yaml hello hello:v1
} >"$TMP/app.yaml"
ingress() {	# NAME CLASS SERVICE
	cat <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: $1, namespace: default, annotations: {kubernetes.io/ingress.class: $2}}
spec:
  rules:
  - host: $1.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: $3, port: {number: 80}}}}]
---
YAML
}
steps="interval: 1m, maxWeight: 90, stepWeight: 10"
{
	ingress agent nginx agent
	ingress shop skipper web
	revert_canary agent nginx true "" "$steps" DaemonSet apps/v1 \
		"  ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: agent}"
	revert_canary web skipper true "" "$steps" Deployment apps/v1 \
		"  ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: shop}"
	revert_canary hello knative true "" "$steps" Service serving.knative.dev/v1
} >>"$TMP/app.yaml"
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

"$PERCH_BIN" controller -n default --metrics-addr off --identity rk >"$TMP/run.out" 2>"$TMP/run.err" &
op=$!
at_exit "kill $op 2>/dev/null; wait $op 2>/dev/null"
inited() { [ "$(grep -o 'Initialization done! [a-z]*.default' "$TMP/run.out" | sort -u | wc -l)" -eq 3 ]; }
WAIT_SECS=20 wait_for inited || fail "not every canary initialized: $(cat "$TMP/run.out" "$TMP/run.err")"

K set image daemonset/agent agent=agent:v2 >/dev/null && K set image deployment/web web=web:v2 >/dev/null &&
	K patch ksvc hello --type merge -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"hello","image":"hello:v2"}]}}}}' >/dev/null ||
	fail "new revisions"
split() { grep -q "Advance $1.default canary weight 10" "$TMP/run.out"; }
WAIT_SECS=20 wait_for split agent && WAIT_SECS=5 wait_for split web &&
	WAIT_SECS=5 wait_for split hello ||
	fail "no traffic split: $(grep -o '"message":"[^"]*"' "$TMP/run.out" | tail -n 12; tail -n 5 "$TMP/run.err")"
# The web target's pods stop being ready before the deletion: the revert waits.
K annotate deployment/web test.perch.dev/never-ready=true >/dev/null || fail "annotate web"
nginx=$(K get ingress agent-canary -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}')
skipper() { K get ingress shop-canary -o jsonpath='{.metadata.annotations.zalando\.org/backend-weights}'; }
skipper_split='^\{"web-canary":[1-8]0,"web-primary":[2-9]0\}$'
knative=$(K get ksvc hello -o jsonpath='{range .spec.traffic[*]}{.latestRevision}={.percent} {end}')
expect_match "NGINX canary Ingress at a partial weight" "$nginx" '^[1-8]0$'
expect_match "Skipper canary Ingress at a partial weight" "$(skipper)" "$skipper_split"
expect_match "Knative traffic split" "$knative" '^true=[1-8]0 =[2-9]0 $'
K delete canary agent web hello --wait=false >/dev/null || fail "kubectl delete canary"
K wait --for=delete canary/agent canary/hello --timeout=$(scaled 15)s >/dev/null 2>&1 ||
	fail "agent and hello not finalised: $(grep -o '"message":"[^"]*"' "$TMP/run.out" | tail -n 8)"
gone() { K get ingress "$1" -o name 2>&1 | grep -q NotFound; }
gone agent-canary || fail "the NGINX canary Ingress is left: $(K get ingress -o name)"
expect_eq "DaemonSet scaled up (its own node selector only)" \
	"$(K get daemonset agent -o jsonpath='{.spec.template.spec.nodeSelector}')" '{"kubernetes.io/os":"linux"}'
expect_eq "DaemonSet image kept" \
	"$(K get daemonset agent -o jsonpath='{.spec.template.spec.containers[0].image}')" "agent:v2"
expect_eq "apex agent on the target's pods" "$(K get svc agent -o jsonpath='{.spec.selector.app}')" agent
expect_eq "Knative: no pinned primary, all traffic on the latest revision" \
	"$(K get ksvc hello -o jsonpath='{.metadata.annotations.flagger\.app/primary-revision}|{range .spec.traffic[*]}{.latestRevision}={.percent} {end}')" \
	"|true=100 "

# web: tried again while its target is not ready, the routes unchanged.
waiting() { [ "$(grep -c 'web.default not ready: .*; the finalizer stays, tried again' "$TMP/run.out")" -ge 2 ]; }
WAIT_SECS=15 wait_for waiting || fail "no wait for web: $(grep -o '"message":"[^"]*"' "$TMP/run.out" | tail -n 5)"
expect_eq "web kept, marked for deletion" "$(K get canary web -o jsonpath='{.metadata.finalizers[*]}')" \
	finalizer.flagger.app
# Its status says so while it waits (Flagger's Terminating), with why.
expect_eq "web status phase while its revert waits" "$(K get canary web -o jsonpath='{.status.phase}')" \
	Terminating
expect_match "web status message while its revert waits" \
	"$(K get canary web -o jsonpath='{.status.conditions[0].reason}|{.status.conditions[0].message}')" \
	'^Terminating\|Reverting on deletion, try [0-9]+ did not finish \(again in [0-9]+s\): web.default not ready: '
expect_match "Skipper weights still split while web is not ready" "$(skipper)" "$skipper_split"
expect_eq "apex web still on the primary" "$(K get svc web -o jsonpath='{.spec.selector.app}')" web-primary
K annotate deployment/web test.perch.dev/never-ready- >/dev/null || fail "annotate web ready"
K wait --for=delete canary/web --timeout=$(scaled 15)s >/dev/null 2>&1 ||
	fail "web not finalised once ready: $(grep -o '"message":"[^"]*"' "$TMP/run.out" | tail -n 5)"
# No Terminated in any status; perch's own state says the revert is done.
reverted() { K get configmap perch-web -o jsonpath='{.data.status}' |
	grep -q '"phase":"Terminating".*"reason":"Reverted on deletion: the target and the routes'; }
WAIT_SECS=5 wait_for reverted ||
	fail "web's state after its revert: $(K get configmap perch-web -o jsonpath='{.data.status}')"
gone shop-canary || fail "the Skipper canary Ingress is left: $(K get ingress -o name)"
expect_eq "apex web on the target's pods" "$(K get svc web -o jsonpath='{.spec.selector.app}')" web
expect_eq "web scaled up" "$(K get deployment web -o jsonpath='{.spec.replicas}')" 2
for c in agent web hello; do
	grep -q "Terminated canary $c.default" "$TMP/run.out" || fail "no Terminated event for $c"
done
kill -TERM $op
exit 0
