# k8s_kubectl.sh — the test API server (tests/k8s/apiserver.py) driven by the
# real kubectl: apply, get, patch (merge, json, strategic), set image, get -w,
# the read-only identity, the audit log, TLS, Status errors, the Deployment
# status simulation and fault injection.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl curl openssl

# kubectl sends bearer tokens only over HTTPS, so kubectl talks to a TLS server.
start_apiserver tls --tls-dir "$TMP/tls" --ready-delay 0.5
case "$APISERVER_URL" in https://127.0.0.1:*) ;; *) fail "TLS url: $APISERVER_URL";; esac
export KUBECONFIG="$TMP/tls.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }

cat >"$TMP/app.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop, labels: {app: checkout}}
spec:
  replicas: 2
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers:
      - name: checkout
        image: checkout:v1
        ports: [{containerPort: 8080}]
        env: [{name: MODE, value: one}]
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: shop}
spec:
  selector: {app: checkout}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML

out=$(K apply -f "$TMP/app.yaml") || fail "apply: $out"
expect_match "apply created" "$out" "deployment.apps/checkout created"
expect_match "apply created svc" "$out" "service/checkout created"
expect_eq "get jsonpath" "$(K -n shop get deploy checkout -o jsonpath='{.spec.template.spec.containers[0].image}')" "checkout:v1"
json=$(K -n shop get svc checkout -o json)
expect_eq "svc port" "$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["ports"][0]["targetPort"])')" 8080
expect_match "uid" "$(K -n shop get deploy checkout -o jsonpath='{.metadata.uid}')" '^[0-9a-f-]{36}$'

# Status converges after --ready-delay.
WAIT_SECS=10 wait_for sh -c "[ \"\$(kubectl -n shop get deploy checkout -o jsonpath='{.status.availableReplicas}')\" = 2 ]" ||
	fail "deployment never became available"

# A second apply is a three-way strategic merge: the env value changes, the
# label added out of band survives.
K -n shop label deploy checkout extra=yes >/dev/null || fail "label"
sed -i 's/value: one/value: two/' "$TMP/app.yaml"
out=$(K apply -f "$TMP/app.yaml") || fail "re-apply: $out"
expect_match "re-apply" "$out" "deployment.apps/checkout configured"
expect_match "re-apply unchanged" "$out" "service/checkout unchanged"
expect_eq "env after apply" "$(K -n shop get deploy checkout -o jsonpath='{.spec.template.spec.containers[0].env[0].value}')" two
expect_eq "label kept" "$(K -n shop get deploy checkout -o jsonpath='{.metadata.labels.extra}')" yes
expect_eq "generation" "$(K -n shop get deploy checkout -o jsonpath='{.metadata.generation}')" 2

# A watch started now sees set image.
K -n shop get deploy checkout -w -o jsonpath='{.spec.template.spec.containers[0].image}{"\n"}' >"$TMP/watch.out" 2>&1 &
wpid=$!
at_exit "kill $wpid 2>/dev/null"
wait_for grep -q 'checkout:v1' "$TMP/watch.out" || fail "watch: no initial object: $(cat "$TMP/watch.out")"
out=$(K -n shop set image deployment/checkout checkout=checkout:v2) || fail "set image: $out"
expect_eq "image" "$(K -n shop get deploy checkout -o jsonpath='{.spec.template.spec.containers[0].image}')" checkout:v2
wait_for grep -q 'checkout:v2' "$TMP/watch.out" || fail "watch did not see set image: $(cat "$TMP/watch.out")"
kill $wpid 2>/dev/null
expect_eq "ports kept by set image" "$(K -n shop get deploy checkout -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}')" 8080

# Human output: the server answers kubectl's Table requests.
out=$(K -n shop get deploy)
expect_match "table header" "$out" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE'
expect_match "table row" "$out" 'checkout +[0-9]/2 '

# Patches: merge, JSON, strategic (a container merged by name).
K -n shop patch deploy checkout --type merge -p '{"metadata":{"annotations":{"a":"1"}}}' >/dev/null || fail "merge patch"
K -n shop patch deploy checkout --type json -p '[{"op":"replace","path":"/spec/replicas","value":3}]' >/dev/null || fail "json patch"
K -n shop patch deploy checkout -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"proxy:1"}]}}}}' >/dev/null || fail "strategic patch"
expect_eq "merge patch" "$(K -n shop get deploy checkout -o jsonpath='{.metadata.annotations.a}')" 1
expect_eq "json patch" "$(K -n shop get deploy checkout -o jsonpath='{.spec.replicas}')" 3
expect_eq "strategic patch" "$(K -n shop get deploy checkout -o jsonpath='{.spec.template.spec.containers[*].name}')" "checkout sidecar"
err=$(K -n shop patch deploy checkout --type json -p '[{"op":"remove","path":"/spec/nothing"}]' 2>&1) && fail "bad json patch accepted"
expect_match "bad json patch" "$err" "Invalid|could not be applied"

# Errors are Status objects kubectl understands.
err=$(K -n shop get deploy nope 2>&1) && fail "missing object found"
expect_match "404" "$err" 'NotFound.*deployments.apps "nope" not found'
err=$(K create -f - 2>&1 <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: Bad_Name, namespace: shop}
YAML
) && fail "invalid name accepted"
expect_match "422" "$err" "Invalid.*RFC 1123"

# The read-only identity reads but may not write.
expect_eq "ro get" "$(K --context ro -n shop get deploy checkout -o jsonpath='{.metadata.name}')" checkout
err=$(K --context ro -n shop scale deploy checkout --replicas=1 2>&1) && fail "ro wrote"
expect_match "ro 403" "$err" "Forbidden"

# The Deployment status simulation: never-ready keeps one replica unavailable.
K -n shop annotate deploy checkout test.perch.dev/never-ready=true >/dev/null || fail "annotate"
WAIT_SECS=10 wait_for sh -c "[ \"\$(kubectl --request-timeout=10s -n shop get deploy checkout -o jsonpath='{.status.availableReplicas}')\" = 2 ]"
expect_eq "never ready available" "$(K -n shop get deploy checkout -o jsonpath='{.status.availableReplicas}/{.status.updatedReplicas}')" "2/3"
expect_eq "never ready condition" "$(K -n shop get deploy checkout -o jsonpath='{.status.conditions[?(@.type=="Available")].reason}')" "MinimumReplicasUnavailable"
expect_eq "observed generation" "$(K -n shop get deploy checkout -o jsonpath='{.status.observedGeneration}')" "$(K -n shop get deploy checkout -o jsonpath='{.metadata.generation}')"

# The custom resources perch uses are discoverable by kubectl.
cat >"$TMP/route.yaml" <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: checkout, namespace: shop}
spec:
  rules: [{backendRefs: [{name: checkout-primary, port: 80, weight: 100}, {name: checkout-canary, port: 80, weight: 0}]}]
---
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: checkout, namespace: shop}
spec: {service: checkout, backends: [{service: checkout-primary, weight: 100}]}
YAML
K apply -f "$TMP/route.yaml" >/dev/null || fail "apply custom resources"
expect_eq "httproute weight" "$(K -n shop get httproutes.v1beta1.gateway.networking.k8s.io checkout -o jsonpath='{.spec.rules[0].backendRefs[1].weight}')" 0
K -n shop patch httproute checkout --type json -p '[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":10}]' >/dev/null || fail "patch route"
expect_eq "httproute patched" "$(K -n shop get httproute checkout -o jsonpath='{.spec.rules[0].backendRefs[1].weight}')" 10
expect_eq "trafficsplit" "$(K -n shop get ts checkout -o jsonpath='{.spec.backends[0].weight}')" 100

# Server-side apply (approximated): creates, then updates.
cat >"$TMP/ssa.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: shop}
data: {mode: one}
YAML
K apply --server-side -f "$TMP/ssa.yaml" >/dev/null || fail "server-side apply create"
sed -i 's/mode: one/mode: two/' "$TMP/ssa.yaml"
K apply --server-side -f "$TMP/ssa.yaml" >/dev/null || fail "server-side apply update"
expect_eq "server-side apply" "$(K -n shop get cm ssa -o jsonpath='{.data.mode}')" two

out=$(K delete -f "$TMP/route.yaml") || fail "delete: $out"
err=$(K -n shop get httproute checkout 2>&1) && fail "deleted route still there"

# The audit log: METHOD PATH?QUERY USER STATUS.
audit="$TMP/tls.audit"
grep -Eq '^PATCH /apis/apps/v1/namespaces/shop/deployments/checkout(\?[^ ]*)? rw 200$' "$audit" || fail "audit: no PATCH line"
grep -Eq '^GET /apis/apps/v1/namespaces/shop/deployments\?.*watch=true.* rw 200$' "$audit" || fail "audit: no watch line"
grep -Eq '^PATCH /apis/apps/v1/namespaces/shop/deployments/checkout/scale(\?[^ ]*)? ro 403$' "$audit" ||
	grep -Eq '^PATCH /apis/apps/v1/namespaces/shop/deployments/checkout(\?[^ ]*)? ro 403$' "$audit" || fail "audit: no ro 403 line"
grep -Evq '^(GET|POST|PUT|PATCH|DELETE) /[^ ]* (rw|ro|-) [0-9]{3}$' "$audit" && fail "audit: malformed line: $(grep -Ev '^(GET|POST|PUT|PATCH|DELETE) /[^ ]* (rw|ro|-) [0-9]{3}$' "$audit" | head -1)"
grep -q 'perch-rw-token' "$audit" && fail "audit log contains a token"

# Plain HTTP (for perch's own client and curl): tokens, 401, 409, faults, 410.
start_apiserver plain --token-rw secret-rw --token-ro secret-ro --ready-delay 0
case "$APISERVER_URL" in http://127.0.0.1:*) ;; *) fail "plain url: $APISERVER_URL";; esac
C() { curl -s -o "$TMP/body" -w '%{http_code}' -H 'Authorization: Bearer secret-rw' "$@"; }
expect_eq "no token" "$(curl -s -o /dev/null -w '%{http_code}' "$APISERVER_URL/api/v1/namespaces")" 401
expect_eq "ro write" "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer secret-ro' -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"x"}}' "$APISERVER_URL/api/v1/namespaces/default/configmaps")" 403
expect_eq "create" "$(C -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"c"},"data":{"k":"v"}}' "$APISERVER_URL/api/v1/namespaces/default/configmaps")" 201
rv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$TMP/body")
expect_eq "update" "$(C -X PUT -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"$rv\"},\"data\":{\"k\":\"w\"}}" "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 200
expect_eq "stale update" "$(C -X PUT -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"$rv\"},\"data\":{\"k\":\"x\"}}" "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 409
expect_match "409 Status" "$(cat "$TMP/body")" '"kind":"Status".*"reason":"Conflict".*"code":409'
expect_eq "duplicate" "$(C -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"c"}}' "$APISERVER_URL/api/v1/namespaces/default/configmaps")" 409
expect_match "AlreadyExists" "$(cat "$TMP/body")" '"reason":"AlreadyExists"'
expect_eq "label selector" "$(C "$APISERVER_URL/api/v1/namespaces?labelSelector=team%20in%20(a,b)")" 200
expect_match "empty selection" "$(cat "$TMP/body")" '"items":\[\]'

# Faults through the control endpoint: two 503s, then normal service.
expect_eq "set faults" "$(C -X POST -d '{"error_5xx":2,"path":"configmaps"}' "$APISERVER_URL/_test/faults")" 200
expect_eq "5xx 1" "$(C "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 503
expect_eq "5xx 2" "$(C "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 503
expect_eq "after faults" "$(C "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 200
expect_eq "set 409" "$(C -X POST -d '{"conflict":1,"path":""}' "$APISERVER_URL/_test/faults")" 200
expect_eq "injected 409" "$(C -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"data":{"k":"y"}}' "$APISERVER_URL/api/v1/namespaces/default/configmaps/c")" 409
expect_eq "drop" "$(C -X POST -d '{"drop":1}' "$APISERVER_URL/_test/faults")" 200
code=$(C "$APISERVER_URL/api/v1/namespaces/default/configmaps/c"); expect_eq "dropped" "$code" 000

# Watch: events after a resourceVersion, and 410 after compaction.
curl -sN -H 'Authorization: Bearer secret-rw' --max-time 3 \
	"$APISERVER_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv" >"$TMP/w.out" &
wcurl=$!
at_exit "kill $wcurl 2>/dev/null"
C -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"data":{"k":"z"}}' "$APISERVER_URL/api/v1/namespaces/default/configmaps/c" >/dev/null
wait_for grep -q '"k":"z"' "$TMP/w.out" || fail "watch stream: $(cat "$TMP/w.out")"
expect_match "watch event types" "$(head -1 "$TMP/w.out")" '^\{"type":"MODIFIED","object":\{.*"k":"w"'
kill $wcurl 2>/dev/null
C -X POST "$APISERVER_URL/_test/compact" >/dev/null
out=$(curl -sN -H 'Authorization: Bearer secret-rw' --max-time 3 "$APISERVER_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv")
expect_match "410 on a compacted resourceVersion" "$out" '"type":"ERROR".*"code":410'
grep -Eq '^GET /api/v1/namespaces/default/configmaps/c (-|rw) 0 fault=drop$' "$TMP/plain.audit" || fail "audit: dropped connection not logged"

# Faults given on the command line.
start_apiserver flags --fault-5xx 1 --fault-409 1 --fault-path '^/api/v1/namespaces' --fault-latency 300
T() { curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer perch-rw-token' "$@"; }
expect_eq "--fault-5xx" "$(T "$APISERVER_URL/api/v1/namespaces")" 503
expect_eq "after --fault-5xx" "$(T "$APISERVER_URL/api/v1/namespaces")" 200
expect_eq "--fault-409" "$(T -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"x"}}' "$APISERVER_URL/api/v1/namespaces")" 409
t0=$(date +%s%N)
T "$APISERVER_URL/api/v1/namespaces" >/dev/null
[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 300 ] || fail "--fault-latency: answered too fast"
expect_eq "--fault-path" "$(T "$APISERVER_URL/version")" 200
exit 0
