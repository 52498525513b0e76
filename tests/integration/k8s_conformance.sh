# k8s_conformance.sh — a list of everyday kubectl commands run against the
# test API server, each with what a real cluster answers: create (the
# protobuf bodies of kubectl's generators), apply (client- and server-side),
# patch in three flavours, set image, rollout status, scale, label, annotate,
# delete, get -w; a Secret's stringData folded into data; a Canary's printer
# columns, its status subresource (patch and replace) and kubectl wait on
# its Promoted condition; resourceVersion, generation and observedGeneration
# as a real server keeps them.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl

start_apiserver conf --tls-dir "$TMP/tls" --ready-delay 0.3
export KUBECONFIG="$TMP/conf.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
J() { K "$@" 2>&1; }	# output and errors together

# run WHAT REGEX KUBECTL-ARGS... : the command succeeds and prints REGEX
run() {
	local what=$1 want=$2 out
	shift 2
	out=$(J "$@") || fail "$what: kubectl $*: $out"
	expect_match "$what" "$out" "$want"
}
get() { K get "$@" 2>&1; }

cat >"$TMP/canary.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: web, namespace: shop}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  service: {port: 80}
  analysis: {interval: 30s, threshold: 3, maxWeight: 50, stepWeight: 10}
YAML
cat >"$TMP/ssa.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, namespace: shop}
data: {mode: one}
YAML
cat >"$TMP/secret.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: shop}
stringData: {password: hunter2}
YAML

# -- create: kubectl's generators send protobuf --------------------------------
run "create namespace" '^namespace/shop created$' create namespace shop
run "create secret" '^secret/creds created$' -n shop create secret generic creds --from-literal=token=s3cret
expect_eq "secret data" "$(get -n shop secret creds -o jsonpath='{.data.token}' | base64 -d)" s3cret
run "create configmap" '^configmap/settings created$' -n shop create configmap settings --from-literal=a=1
run "create deployment" '^deployment.apps/web created$' -n shop create deployment web --image=web:1 --replicas=2 --port=8080
run "create service" '^service/web created$' -n shop create service clusterip web --tcp=80:8080
expect_eq "service port" "$(get -n shop svc web -o jsonpath='{.spec.ports[0].port}/{.spec.ports[0].targetPort}')" 80/8080
out=$(J -n shop create configmap settings --from-literal=a=2)
expect_match "create again" "$out" 'AlreadyExists|already exists'

# -- apply -----------------------------------------------------------------------
run "apply secret" '^secret/plain created$' apply -f "$TMP/secret.yaml"
expect_eq "stringData folded" "$(get -n shop secret plain -o jsonpath='{.data.password}' | base64 -d)" hunter2
expect_eq "stringData not kept" "$(get -n shop secret plain -o jsonpath='{.stringData}')" ""
run "apply canary" '^canary.flagger.app/web created$' apply -f "$TMP/canary.yaml"
run "apply unchanged" '^canary.flagger.app/web unchanged$' apply -f "$TMP/canary.yaml"
run "server-side apply" '^configmap/ssa serverside-applied$' apply --server-side -f "$TMP/ssa.yaml"
sed -i 's/mode: one/mode: two/' "$TMP/ssa.yaml"
run "server-side apply again" '^configmap/ssa serverside-applied$' apply --server-side -f "$TMP/ssa.yaml"
expect_eq "server-side apply result" "$(get -n shop cm ssa -o jsonpath='{.data.mode}')" two

# -- generation and resourceVersion ------------------------------------------------
expect_eq "deployment generation" "$(get -n shop deploy web -o jsonpath='{.metadata.generation}')" 1
expect_eq "configmap has no generation" "$(get -n shop cm settings -o jsonpath='{.metadata.generation}')" ""
WAIT_SECS=10 wait_for sh -c "[ \"\$(kubectl -n shop get deploy web -o jsonpath='{.status.availableReplicas}')\" = 2 ]" ||
	fail "deployment never available"
expect_eq "observedGeneration" "$(get -n shop deploy web -o jsonpath='{.status.observedGeneration}')" 1
rv=$(get -n shop canary web -o jsonpath='{.metadata.resourceVersion}')
run "a patch that changes nothing" 'patched' -n shop patch canary web --type=merge -p '{"spec":{"service":{"port":80}}}'
expect_eq "no-op keeps resourceVersion" "$(get -n shop canary web -o jsonpath='{.metadata.resourceVersion}')" "$rv"

# -- patch in three flavours, label, annotate --------------------------------------
run "strategic patch" '^deployment.apps/web patched$' -n shop patch deploy web -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"MODE","value":"x"}]}]}}}}'
expect_eq "strategic kept the image" "$(get -n shop deploy web -o jsonpath='{.spec.template.spec.containers[0].image}/{.spec.template.spec.containers[0].env[0].value}')" web:1/x
expect_eq "generation after a spec change" "$(get -n shop deploy web -o jsonpath='{.metadata.generation}')" 2
run "merge patch" '^canary.flagger.app/web patched$' -n shop patch canary web --type=merge -p '{"spec":{"analysis":{"stepWeight":20}}}'
expect_eq "canary generation" "$(get -n shop canary web -o jsonpath='{.metadata.generation}')" 2
run "json patch" '^service/web patched$' -n shop patch svc web --type=json -p '[{"op":"replace","path":"/spec/ports/0/port","value":8081}]'
expect_eq "json patch result" "$(get -n shop svc web -o jsonpath='{.spec.ports[0].port}')" 8081
run "label" '^deployment.apps/web labeled$' -n shop label deploy web tier=front
run "annotate" '^deployment.apps/web annotated$' -n shop annotate deploy web note=hello
expect_eq "annotation bumps a Deployment's generation" "$(get -n shop deploy web -o jsonpath='{.metadata.generation}')" 3
run "label canary" '^canary.flagger.app/web labeled$' -n shop label canary web team=a
expect_eq "metadata keeps a custom resource's generation" "$(get -n shop canary web -o jsonpath='{.metadata.generation}')" 2

# -- set image, rollout status, scale ------------------------------------------------
run "set image" '^deployment.apps/web image updated$' -n shop set image deploy/web web=web:2
run "rollout status" 'successfully rolled out' -n shop rollout status deploy/web --timeout=20s
expect_eq "image" "$(get -n shop deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" web:2
expect_eq "observedGeneration follows" "$(get -n shop deploy web -o jsonpath='{.status.observedGeneration}')" \
	"$(get -n shop deploy web -o jsonpath='{.metadata.generation}')"
run "scale" '^deployment.apps/web scaled$' -n shop scale deploy web --replicas=3
expect_eq "scaled" "$(get -n shop deploy web -o jsonpath='{.spec.replicas}')" 3
run "scale with a precondition" '^deployment.apps/web scaled$' -n shop scale deploy web --current-replicas=3 --replicas=1
out=$(J -n shop scale deploy web --current-replicas=5 --replicas=2)
expect_match "scale precondition refused" "$out" 'Expected replicas to be 5, was 1'

# -- a Canary: columns, status subresource, wait ---------------------------------------
out=$(get -n shop canary)
expect_match "canary columns" "$(printf '%s' "$out" | head -1)" '^NAME +STATUS +WEIGHT +LASTTRANSITIONTIME$'
K -n shop wait --for=condition=promoted canary/web --timeout=20s >"$TMP/wait.out" 2>&1 &
waiter=$!
at_exit "kill $waiter 2>/dev/null"
run "status patch" '^canary.flagger.app/web patched$' -n shop patch canary web --subresource=status --type=merge -p \
	'{"status":{"phase":"Progressing","canaryWeight":10,"lastTransitionTime":"2024-05-01T10:00:00Z","conditions":[{"type":"Promoted","status":"Unknown","reason":"Progressing","message":"New revision detected, progressing canary analysis."}]}}'
expect_match "columns after status" "$(get -n shop canary web | tail -1)" '^web +Progressing +10 +2024-05-01T10:00:00Z$'
expect_eq "status leaves generation" "$(get -n shop canary web -o jsonpath='{.metadata.generation}')" 2
run "status patch ignores spec" 'patched' -n shop patch canary web --subresource=status --type=merge -p '{"spec":{"suspend":true}}'
expect_eq "spec untouched by /status" "$(get -n shop canary web -o jsonpath='{.spec.suspend}')" ""
kill -0 $waiter 2>/dev/null || fail "kubectl wait ended early: $(cat "$TMP/wait.out")"
K -n shop get canary web -o json | python3 -c '
import json, sys
o = json.load(sys.stdin)
o["status"]["phase"] = "Succeeded"
o["status"]["conditions"] = [{"type": "Promoted", "status": "True", "reason": "Succeeded",
    "message": "Canary analysis completed successfully, promotion finished."}]
json.dump(o, sys.stdout)' >"$TMP/status.json"
run "status replace" '^canary.flagger.app/web replaced$' -n shop replace --subresource=status -f "$TMP/status.json"
wait $waiter || fail "kubectl wait: $(cat "$TMP/wait.out")"
expect_match "wait" "$(cat "$TMP/wait.out")" 'canary.flagger.app/web condition met'
run "spec update keeps the status" 'patched' -n shop patch canary web --type=merge -p '{"status":{"phase":"Failed"},"spec":{"suspend":true}}'
expect_eq "main resource ignores status" "$(get -n shop canary web -o jsonpath='{.status.phase}/{.spec.suspend}')" Succeeded/true

# -- get -w, delete ----------------------------------------------------------------------
K -n shop get cm -w --output-watch-events >"$TMP/watch.out" 2>&1 &
watcher=$!
at_exit "kill $watcher 2>/dev/null"
WAIT_SECS=10 wait_for grep -Eq '^ADDED +settings ' "$TMP/watch.out" || fail "get -w listed nothing: $(cat "$TMP/watch.out")"
run "delete" '^configmap "settings" deleted$' -n shop delete cm settings
run "delete by label" 'deleted' -n shop delete deploy -l tier=front
WAIT_SECS=10 wait_for grep -Eq '^DELETED +settings ' "$TMP/watch.out" || fail "get -w saw no DELETED: $(cat "$TMP/watch.out")"
out=$(J -n shop get deploy web)
expect_match "deleted by label" "$out" 'NotFound|not found'
run "delete namespace" '^namespace "shop" deleted$' delete namespace shop --wait=false
out=$(J -n shop get canary web)
expect_match "namespace took its objects" "$out" 'NotFound|not found'
