# k8s_service_target.sh — plain Service targets (routers-providers §3.3)
# with `perch run --headless` on the test API server, read back with the
# real kubectl.  Gateway API: initialization copies Service `web` to
# `web-canary` and `web-primary` and writes the HTTPRoute to the primary;
# `kubectl patch` of the target's selector is a new revision, the canary
# copy follows it, the release is promoted and `web-primary` becomes a copy
# of the target that keeps its own clusterIP.  kubernetes (blue/green):
# `kubectl apply` of a changed target is promoted after its iterations.
# The route is read back while the canary has half the traffic.  No
# metrics: each tick advances (engine clock 20x).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl

start_apiserver svc --tls-dir "$TMP/tls" --ready-delay 0.2
export KUBECONFIG="$TMP/svc.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }

cat >"$TMP/app.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  selector: {app: web-blue}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  type: ExternalName
  externalName: api.blue.example.com
YAML
cat >"$TMP/web.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: v1, kind: Service, name: web}
  service: {port: 80, gatewayRefs: [{name: public, namespace: gateways}]}
  analysis: {interval: 20s, threshold: 2, maxWeight: 50, stepWeight: 25}
YAML
cat >"$TMP/api.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: api}
spec:
  provider: kubernetes
  targetRef: {apiVersion: v1, kind: Service, name: api}
  service: {port: 80}
  analysis: {interval: 10s, threshold: 2, iterations: 2}
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
svc() { K get service "$1" -o jsonpath="$2"; }
weights() {
	K get httproute web -o jsonpath='{range .spec.rules[0].backendRefs[*]}{.name}={.weight} {end}'
}
run() { timeout "$(scaled 30)" "$PERCH_BIN" run --headless -f "$TMP/$1.yaml" >"$TMP/$2.out" 2>"$TMP/$2.err"; }

# Initialization: both copies of the target, the route to the primary.
run web init
expect_eq "initialization exit" "$?" 0
grep -q 'Initialization done! web.default' "$TMP/init.out" ||
	fail "no initialization: $(cat "$TMP/init.out" "$TMP/init.err")"
expect_eq "primary copy" "$(svc web-primary '{.spec.selector.app} {.spec.ports[0].targetPort}')" "web-blue 8080"
expect_eq "canary copy" "$(svc web-canary '{.spec.selector.app} {.metadata.labels.app}')" "web-blue web"
ip=$(svc web-primary '{.spec.clusterIP}')
[ -n "$ip" ] && [ "$ip" != "$(svc web '{.spec.clusterIP}')" ] ||
	fail "primary clusterIP '$ip' is not its own"
expect_eq "route to the primary" "$(weights)" "web-primary=100 web-canary=0 "
K get service web-primary -o jsonpath='{.metadata.annotations}' | grep -q last-applied &&
	fail "last-applied-configuration copied to the primary"

# A new selector on the target: a new revision, progressed and promoted.
K patch service web --type merge -p '{"spec":{"selector":{"app":"web-green"}}}' >/dev/null ||
	fail "kubectl patch"
run web promote &
pid=$!
WAIT_SECS=15 wait_for sh -c '[ "$(kubectl get httproute web -o jsonpath="{.spec.rules[0].backendRefs[1].weight}")" = 50 ]' ||
	fail "the route never sent 50% to web-canary: $(weights)"
expect_eq "route to both copies" "$(weights)" "web-primary=50 web-canary=50 "
wait "$pid"
expect_eq "promotion exit" "$?" 0
grep -q 'New revision detected! Scaling up web.default' "$TMP/promote.out" ||
	fail "no new revision: $(cat "$TMP/promote.out" "$TMP/promote.err")"
grep -q 'Advance web.default canary weight 50' "$TMP/promote.out" ||
	fail "no progression: $(grep -i weight "$TMP/promote.out" | tail -3)"
grep -q '"phase":"Succeeded"' "$TMP/promote.out" || fail "never Succeeded: $(tail -5 "$TMP/promote.out")"
expect_eq "canary copy follows the target" "$(svc web-canary '{.spec.selector.app}')" "web-green"
expect_eq "primary promoted" "$(svc web-primary '{.spec.selector.app}')" "web-green"
expect_eq "primary keeps its clusterIP" "$(svc web-primary '{.spec.clusterIP}')" "$ip"
expect_eq "route back to the primary" "$(weights)" "web-primary=100 web-canary=0 "

# Blue/green on an ExternalName Service, started by kubectl apply.
run api init2
expect_eq "kubernetes initialization exit" "$?" 0
expect_eq "kubernetes primary copy" "$(svc api-primary '{.spec.type} {.spec.externalName}')" \
	"ExternalName api.blue.example.com"
sed 's/api.blue.example.com/api.green.example.com/' "$TMP/app.yaml" | K apply -f - >/dev/null ||
	fail "kubectl apply green"
run api promote2
expect_eq "kubernetes promotion exit" "$?" 0
grep -q '"phase":"Succeeded"' "$TMP/promote2.out" || fail "never Succeeded: $(tail -5 "$TMP/promote2.out")"
expect_eq "kubernetes primary promoted" "$(svc api-primary '{.spec.externalName}')" "api.green.example.com"
expect_eq "kubernetes canary copy" "$(svc api-canary '{.spec.externalName}')" "api.green.example.com"
exit 0
