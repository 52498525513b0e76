# k8s_mesh_routers.sh — the Skipper, App Mesh (v1beta2 and v1beta1) and OSM
# routers with `perch run --headless` on the test API server, read back with
# the real kubectl: the Deployments and the Skipper Ingress applied with
# kubectl, new images set with `kubectl set image`, the route objects read
# with `kubectl get -o jsonpath` while perch shifts traffic and after the
# run: skipper and osm promoted by weight, appmesh:v1beta2 promoted by an
# A/B header route, appmesh (v1beta1) rolled back by a failing webhook.  A
# reconcile never puts the weights back (every write of the route objects
# checked in order); A/B testing on skipper and appmesh without meshName are
# refused before anything is written.  service.timeout and service.retries
# are read back where App Mesh keeps them.  No metrics:
# each tick advances (engine clock 8x during the run).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver mesh --tls-dir "$TMP/tls" --ready-delay 0.1
export KUBECONFIG="$TMP/mesh.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }
D=$TMP/state

app_deployments 1 catalog orders ledger pay >"$TMP/app.yaml"
cat >>"$TMP/app.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations: {kubernetes.io/ingress.class: skipper, zalando.org/skipper-predicate: 'Method("GET") && Header("X-Q", "a&b")'}
spec:
  rules:
  - host: shop.example.com
    http:
      paths:
      - {path: /catalog, pathType: Prefix, backend: {service: {name: catalog, port: {number: 80}}}}
      - {path: /, pathType: Prefix, backend: {service: {name: home, port: {number: 80}}}}
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

canary() {	# NAME PROVIDER EXTRA-SERVICE-YAML EXTRA-SPEC-YAML ANALYSIS-YAML
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: $1}
spec:
  provider: $2
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: $1}
  service: {port: 80$3}$4
  analysis:
    interval: 10s
    threshold: 2
$5
YAML
}
steps='    maxWeight: 50
    stepWeight: 25'
ab='    iterations: 2
    match: [{headers: {x-canary: {exact: insider}}}]'
{
	canary catalog skipper "" "
  ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: shop}" "$steps"
	canary orders appmesh:v1beta2 ", portName: grpc, backends: [ledger], hosts: [orders.example.com], timeout: 15s, retries: {attempts: 2, perTryTimeout: 500ms, retryOn: 'gateway-error,stream-error'}" "" "$ab"
	canary pay osm "" "" "$steps"
	canary ledger appmesh ", meshName: shop-mesh, retries: {attempts: 4}" "" "$steps
    webhooks: [{name: gate, type: rollout, url: 'http://127.0.0.1:1/', timeout: 1s}]"
} >"$TMP/canary.yaml"

# Refused before anything is written: A/B on a weights-only router, an
# App Mesh v1beta1 Canary without its mesh.
{
	canary catalog skipper "" "
  ingressRef: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: shop}" "$ab"
	canary ledger appmesh "" "" "$steps"
} >"$TMP/refused.yaml"
"$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/refused.yaml" >/dev/null 2>"$TMP/refused.err"
expect_eq "refused run exit" "$?" 1
expect_match "skipper A/B refused" "$(cat "$TMP/refused.err")" \
	'refused.yaml:[0-9]+:5: error: analysis.match \(A/B testing\) is not supported with provider skipper'
expect_match "appmesh without meshName refused" "$(cat "$TMP/refused.err")" \
	'refused.yaml:[0-9]+:3: error: service.meshName is required with provider appmesh'
expect_eq "nothing written" "$(K get ingress shop-canary -o name 2>/dev/null)" ""

# What kubectl reads of each route object (one call): the canary's weight.
J_SKIPPER='{.metadata.annotations.zalando\.org/backend-weights}'
J_B2='{.spec.routes[0].httpRoute.action.weightedTargets[?(@.virtualNodeRef.name=="orders-canary")].weight}'
J_OSM='{.spec.backends[?(@.service=="pay-canary")].weight}'
J_B1='{.spec.routes[0].http.action.weightedTargets[?(@.virtualNodeName=="ledger-canary")].weight}'
J_SKIPPER_PRED='{.metadata.annotations.zalando\.org/skipper-predicate}'
item() { printf '%s' "$2" | sed "s/^{\./{.items[$1]./"; }
weights() {
	K get ingress/shop-canary virtualrouters.v1beta2.appmesh.k8s.aws/orders \
		trafficsplits.v1alpha2.split.smi-spec.io/pay \
		virtualservices.v1beta1.appmesh.k8s.aws/ledger.default -o jsonpath="skipper \
$(item 0 "$J_SKIPPER")
b2 $(item 1 "$J_B2")
osm $(item 2 "$J_OSM")
b1 $(item 3 "$J_B1")
" 2>/dev/null
}

# Initialization: every route object at 100/0.
timeout "$(scaled 30)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/init.out" 2>&1
expect_eq "initialization run" "$?" 0
expect_eq "weights after initialization" "$(weights | tr '\n' ' ')" \
	'skipper {"catalog-canary":0,"catalog-primary":100} b2 0 osm 0 b1 0 '
expect_eq "skipper predicate (created as Flagger does, the user's predicate kept) and paths" \
	"$(K get ingress shop-canary -o jsonpath="$J_SKIPPER_PRED|{range .spec.rules[0].http.paths[*]}{.path}={.backend.service.name} {end}")" \
	'Weight(100) && Method("GET") && Header("X-Q", "a&b")|/catalog=catalog-primary /catalog=catalog-canary /=home '
expect_eq "App Mesh nodes" "$(K get virtualnodes.v1beta2.appmesh.k8s.aws orders-canary orders-primary -o jsonpath='{range .items[*]}{.metadata.name}:{.spec.podSelector.matchLabels.app}:{.spec.listeners[0].portMapping.protocol}:{.spec.serviceDiscovery.dns.hostname}:{.spec.backends[0].virtualService.virtualServiceRef.name} {end}')" \
	"orders-canary:orders:grpc:orders-canary.default.svc.cluster.local.:ledger orders-primary:orders-primary:grpc:orders-primary.default.svc.cluster.local.:ledger "
expect_eq "App Mesh v1beta2 services" "$(K get virtualservices.v1beta2.appmesh.k8s.aws orders orders-canary -o jsonpath='{range .items[*]}{.metadata.name}>{.spec.provider.virtualRouter.virtualRouterRef.name} {end}')" \
	"orders>orders orders-canary>orders-canary "
expect_eq "A/B route" "$(K get virtualrouters.v1beta2.appmesh.k8s.aws orders -o jsonpath='{range .spec.routes[*]}{.name}/{.priority}/{.httpRoute.match.headers[0].name}={.httpRoute.match.headers[0].match.exact} {end}')" \
	"orders-a/10/x-canary=insider orders-b/20/= "
expect_eq "App Mesh v1beta1 objects" "$(K get virtualnodes.v1beta1.appmesh.k8s.aws ledger ledger-canary ledger-primary -o jsonpath='{range .items[*]}{.metadata.name}:{.spec.meshName}:{.spec.serviceDiscovery.dns.hostName} {end}')|$(K get virtualservices.v1beta1.appmesh.k8s.aws ledger.default ledger-canary.default -o jsonpath='{range .items[*]}{.metadata.name}>{.spec.virtualRouter.name} {end}')" \
	"ledger:shop-mesh:ledger-primary.default ledger-canary:shop-mesh:ledger-canary.default ledger-primary:shop-mesh:ledger-primary.default |ledger.default>ledger ledger-canary.default>ledger-canary "
# service.timeout and service.retries: listeners, routes, gateway annotations.
expect_eq "App Mesh v1beta2 listener timeouts" "$(K get virtualnodes.v1beta2.appmesh.k8s.aws orders-canary orders-primary -o jsonpath='{range .items[*]}{.spec.listeners[0].timeout.http.perRequest.value}{.spec.listeners[0].timeout.http.perRequest.unit} {end}')" \
	"15000ms 15000ms "
expect_eq "App Mesh v1beta2 route policies" "$(K get virtualrouters.v1beta2.appmesh.k8s.aws orders orders-canary -o jsonpath='{range .items[*].spec.routes[*].httpRoute}{.timeout.perRequest.value}/{.retryPolicy.maxRetries}/{.retryPolicy.perRetryTimeout.value}{.retryPolicy.perRetryTimeout.unit}/{.retryPolicy.httpRetryEvents[*]} {end}')" \
	"15000/2/500ms/gateway-error stream-error 15000/2/500ms/gateway-error stream-error 15000/2/500ms/gateway-error stream-error "
expect_eq "App Mesh v1beta2 gateway annotations" "$(K get virtualservices.v1beta2.appmesh.k8s.aws orders -o jsonpath='{.metadata.annotations.gateway\.appmesh\.k8s\.aws/timeout} {.metadata.annotations.gateway\.appmesh\.k8s\.aws/retries} {.metadata.annotations.gateway\.appmesh\.k8s\.aws/domain}')" \
	"15s 2 orders.example.com,"
expect_eq "App Mesh v1beta1 retry policy (defaults)" "$(K get virtualservices.v1beta1.appmesh.k8s.aws ledger.default -o jsonpath='{.spec.routes[0].http.retryPolicy.perRetryTimeoutMillis} {.spec.routes[0].http.retryPolicy.maxRetries} {.spec.routes[0].http.retryPolicy.httpRetryEvents[*]} {.spec.routes[0].http.timeout}')" \
	"250 4 gateway-error "

for app in catalog orders ledger pay; do
	K set image "deployment/$app" "$app=$app:v2" >/dev/null || fail "set image $app"
done
PERCH_TIME_SCALE=8 timeout "$(scaled 90)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/run.out" 2>&1 &
pid=$!
at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
while kill -0 $pid 2>/dev/null; do weights; done >"$TMP/seen"
wait $pid
expect_eq "run exit (one canary rolled back)" "$?" 1
for c in catalog orders pay; do
	grep -q "\"canary\":\"default/$c\",\"phase\":\"Succeeded\"" "$TMP/run.out" ||
		fail "$c not Succeeded: $(grep "default/$c" "$TMP/run.out" | tail -3)"
done
grep -q '"canary":"default/ledger","phase":"Failed"' "$TMP/run.out" ||
	fail "ledger not Failed: $(grep default/ledger "$TMP/run.out" | tail -3)"

# During the run, as kubectl saw it.
seen() { sed -n "s/^$1 //p" "$TMP/seen" | sort -u | tr '\n' ' '; }
# (each step lasts 1.25 s: kubectl, slower under a sanitizer, sees one at least)
expect_match "skipper weights seen" "$(seen skipper)" '"catalog-canary":(25,"catalog-primary":75|50,"catalog-primary":50)'
expect_match "App Mesh A/B: the header route to the canary" "$(seen b2)" '(^| )100 '
expect_match "osm weights seen" "$(seen osm)" '(^| )(25|50) '
# Every write of the route objects (the server's log: none missed).
writes() {
	python3 - "$1" "$2" "$TMP/mesh.objects" <<'EOF'
import json, sys
kind, name, log = sys.argv[1:4]
seen = []
for line in open(log):
    o = json.loads(line)["object"]
    if o.get("kind") != kind or o["metadata"]["name"] != name:
        continue
    if kind == "TrafficSplit":
        v = str([b["weight"] for b in o["spec"]["backends"] if b["service"].endswith("-canary")][0])
    elif kind == "Ingress":
        w = json.loads(o["metadata"]["annotations"]["zalando.org/backend-weights"])
        pred = o["metadata"]["annotations"]["zalando.org/skipper-predicate"].split(" && ")[0]
        v = "%d/%s" % (w[name.replace("shop", "catalog")], pred)
    else:
        r = o["spec"]["routes"][0]
        t = r.get("httpRoute", r.get("http"))["action"]["weightedTargets"]
        v = str(t[0]["weight"])
    if not seen or seen[-1] != v:
        seen.append(v)
print(" ".join(seen))
EOF
}
expect_eq "skipper writes" "$(writes Ingress shop-canary)" \
	"0/Weight(100) 0/False() 25/Weight(100) 50/Weight(100) 0/False()"
expect_eq "OSM writes" "$(writes TrafficSplit pay)" "0 25 50 0"
expect_eq "App Mesh v1beta2 writes" "$(writes VirtualRouter orders)" "0 100 0"
expect_eq "App Mesh v1beta1 writes" "$(writes VirtualService ledger.default)" "0 25 0"

# After the run: traffic back on the primary everywhere.
expect_eq "weights after the run" "$(weights | tr '\n' ' ')" \
	'skipper {"catalog-canary":0,"catalog-primary":100} b2 0 osm 0 b1 0 '
expect_eq "primaries: three promoted, ledger kept" "$(K get deploy catalog-primary orders-primary pay-primary ledger-primary -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {end}')" \
	"catalog:v2 orders:v2 pay:v2 ledger:v1 "
exit 0
