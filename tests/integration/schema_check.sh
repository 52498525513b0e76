# schema_check.sh — the check of the objects written to the test API server
# against the upstream schemas (tests/schema/check.mjs) catches what it is
# for: objects applied with kubectl --validate=false that break their schema
# (a string weight, a missing required field, a value outside an enum) or
# carry a field the schema does not have, each named with the kind, the
# object and the schema path; good objects pass; every kind the test API
# server serves has a schema in tests/schema/kinds.mjs.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl

start_apiserver good --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/good.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }

# Good objects, through kubectl's protobuf and JSON paths: they pass (and
# the check at the end of this script checks them again).
K create namespace shop >/dev/null || fail "create namespace"
K -n shop create secret generic creds --from-literal=token=t0ken >/dev/null || fail "create secret"
K -n shop create deployment web --image=web:1 --replicas=2 >/dev/null || fail "create deployment"
cat >"$TMP/good.yaml" <<'YAML'
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: web, namespace: shop}
spec:
  service: web
  backends: [{service: web-canary, weight: 10}, {service: web-primary, weight: 90}]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web, namespace: shop}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  service: {port: 80}
  analysis: {interval: 1m, threshold: 5, stepWeight: 10}
YAML
K apply -f "$TMP/good.yaml" >/dev/null || fail "apply good objects"
out=$(node "$PERCH_ROOT/tests/schema/check.mjs" "$TMP/good.objects" 2>&1) ||
	fail "good objects refused: $out"
expect_match "figures" "$out" 'objects written \([0-9]+ distinct, 5 kinds\) checked: 0 problems'
expect_match "kinds" "$out" 'v1/Secret 1'

# Bad objects, on a second server with its own objects log.
bad_out="$TMP/bad.out"
python3 "$PERCH_ROOT/tests/k8s/apiserver.py" --kubeconfig-out "$TMP/bad.kubeconfig" \
	--objects-log "$TMP/bad.objects" --tls-dir "$TMP/tls" >"$bad_out" 2>/dev/null &
bad_pid=$!
at_exit "kill $bad_pid 2>/dev/null; wait $bad_pid 2>/dev/null"
WAIT_SECS=20 wait_for grep -q '^listening on ' "$bad_out" || fail "second server"
B() { kubectl --kubeconfig "$TMP/bad.kubeconfig" --request-timeout=10s "$@"; }
cat >"$TMP/bad.yaml" <<'YAML'
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: web, namespace: default}
spec:
  service: web
  backends: [{service: web-canary, weight: "10"}, {service: web-primary, weigth: 90}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web-primary}, weight: 90}, {destination: {host: web-canary}, wieght: 10}]}]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web, namespace: default}
spec:
  provider: linkerd2
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  analysis: {interval: 1h, threshold: 5, stepWeight: 10, stepWeights: [1, 5]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1", imagePullPolcy: Always}]}
YAML
B apply --validate=false -f "$TMP/bad.yaml" >/dev/null || fail "apply bad objects"
out=$(node "$PERCH_ROOT/tests/schema/check.mjs" "$TMP/bad.objects" 2>&1)
rc=$?
expect_eq "bad objects: exit" "$rc" 1
L='bad.objects:[0-9]+: (apply|create) by kubectl/'
expect_match "weight type" "$out" "$L[^ ]*: split.smi-spec.io/v1alpha2/TrafficSplit default/web: /spec/backends/0/weight: must be integer \[schema tests/schema/smi.schema.json \(v1alpha2\) #/properties/spec/properties/backends/items/properties/weight/type\]"
expect_match "misspelt field" "$out" "TrafficSplit default/web: /spec/backends/1: must NOT have additional properties: weigth"
expect_match "upstream unknown field" "$out" "networking.istio.io/v1beta1/VirtualService default/web: /spec/http/0/route/1/wieght: is not a field of the schema: the API server would drop it \[schema @kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService \(VirtualService\) #/properties/spec/properties/http/items/properties/route/items/properties/wieght\]"
expect_match "enum" "$out" "flagger.app/v1beta1/Canary default/web: /spec/provider: must be equal to one of the allowed values"
expect_match "pattern" "$out" "Canary default/web: /spec/analysis/interval: must match pattern"
expect_match "oneOf" "$out" "Canary default/web: /spec/analysis: must match exactly one schema in oneOf"
expect_match "built-in unknown field" "$out" "apps/v1/Deployment default/web: /spec/template/spec/containers/0/imagePullPolcy: is not a field of the schema"

# Every kind the test API server serves has its schema.
served=$(cd "$PERCH_ROOT/tests/k8s" && python3 -c '
import apiserver
for r in apiserver.RESOURCES:
    for v in r.versions:
        print(apiserver.api_version(r.group, v) + "/" + r.kind)')
known=$(cd "$PERCH_ROOT/tests/schema" && node -e '
import("./kinds.mjs").then((m) => console.log(Object.keys(m.KINDS).join("\n")))')
missing=$(comm -23 <(printf '%s\n' "$served" | sort) <(printf '%s\n' "$known" | sort))
expect_eq "kinds without a schema" "$missing" ""
