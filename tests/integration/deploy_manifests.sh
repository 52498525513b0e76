# deploy_manifests.sh — deploy/ as a user applies it: `kubectl kustomize`
# renders it (Namespace, ServiceAccount, the ClusterRoles perch,
# perch-operator and perch-watcher, the ClusterRoleBinding, a 2-replica
# Deployment of `perch controller` with probes on /healthz and /readyz and
# resource requests, the /metrics Service), `kubectl apply -k` applies it to
# the test API server
# (twice: the second changes nothing), and every object written is checked
# against the upstream schemas (lib_k8s.bash).  Then a `perch run --headless`
# rollout with its own identity (Leases, the ConfigMap store and heartbeat,
# events, a TrafficSplit route, Services, primary and target Deployments, the
# Canary object watched) makes only requests ClusterRole perch allows, and
# `perch status` only ones perch-watcher allows (tests/k8s/rbac_check.py over
# the audit log); a role without the events rule is caught.  So is `perch
# watch --prometheus-service` under perch-watcher, beside a Canary a Flagger
# stand-in drives: its queries go to a real Prometheus through the service
# proxy (get services/proxy, which a role without it is refused).  There,
# the deleted Canary of perch's own cart leaves the overview, and the
# status line and the log say so.
. "$(dirname "$0")/lib_flagger.bash"
. "$(dirname "$0")/lib_rbac.bash"
. "$(dirname "$0")/prom_lib.bash"
need prometheus curl

deploy="$PERCH_ROOT/deploy"
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus "$TMP/prometheus.yml" "$TMP/promdata"
start_apiserver deploy --tls-dir "$TMP/tls" --ready-delay 0.1 \
	--token perch=perch-sa-token --token watcher=perch-watcher-token \
	--service-proxy "monitoring/prometheus:9090=${PROM_URL##*:}"
export KUBECONFIG="$TMP/deploy.kubeconfig" PERCH_TIME_SCALE=10

kubectl kustomize "$deploy" >"$TMP/rendered.yaml" || fail "kubectl kustomize deploy/"
# kubectl turns the YAML into JSON objects (one after the other).
K create --dry-run=client -o json -f "$TMP/rendered.yaml" >"$TMP/rendered.json" ||
	fail "kubectl create --dry-run=client"
python3 - "$TMP/rendered.json" <<'PY' || fail "rendered manifests"
import json, sys
text, docs, at = open(sys.argv[1]).read(), [], 0
dec = json.JSONDecoder()
while text[at:].strip():
    at += len(text[at:]) - len(text[at:].lstrip())
    d, at = dec.raw_decode(text, at)
    docs.append(d)
kinds = sorted("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs)
want = ["ClusterRole/perch", "ClusterRole/perch-operator", "ClusterRole/perch-watcher",
        "ClusterRoleBinding/perch",
        "Deployment/perch", "Namespace/perch-system", "Service/perch-metrics",
        "ServiceAccount/perch"]
assert kinds == want, "objects %s, want %s" % (kinds, want)
by = {d["kind"] + "/" + d["metadata"]["name"]: d for d in docs}
dep = by["Deployment/perch"]
assert dep["metadata"]["namespace"] == "perch-system"
assert dep["spec"]["replicas"] == 2, "replicas"
pod = dep["spec"]["template"]["spec"]
assert pod["serviceAccountName"] == "perch"
assert pod["securityContext"]["runAsNonRoot"] is True
c = pod["containers"][0]
assert c["args"][0] == "controller", c["args"]
assert c["image"] == "perch:0.1.0", c["image"]
assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
port = [p for p in c["ports"] if p["name"] == "http-metrics"][0]["containerPort"]
assert any(a == "--metrics-addr=0.0.0.0:%d" % port for a in c["args"]), c["args"]
svc = by["Service/perch-metrics"]
assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
assert svc["spec"]["ports"][0]["targetPort"] == "http-metrics"
b = by["ClusterRoleBinding/perch"]
assert b["roleRef"]["name"] == "perch"
assert b["subjects"] == [{"kind": "ServiceAccount", "name": "perch", "namespace": "perch-system"}]
for r in by["ClusterRole/perch-watcher"]["rules"]:
    assert set(r["verbs"]) <= {"get", "list", "watch"}, r
    # The service proxy: only GETs (a gate opened is a POST).
    assert "services/proxy" not in r["resources"] or r["verbs"] == ["get"], r
for r in by["ClusterRole/perch"]["rules"]:
    assert "*" not in r["verbs"], r
    # What only a perch run from a laptop needs is perch-operator's.
    assert "services/proxy" not in r["resources"], r
    # The only deletion: a controller replica's own Lease when it stops.
    assert "delete" not in r["verbs"] or r["resources"] == ["leases"], r
op = by["ClusterRole/perch-operator"]["rules"]
assert {(",".join(r["resources"]), ",".join(r["verbs"])) for r in op} == \
    {("canaries", "patch"), ("events", "list,watch"), ("services/proxy", "get,create")}, op
PY

out=$(K apply -k "$deploy" 2>&1) || fail "kubectl apply -k deploy/: $out"
expect_eq "objects applied" "$(printf '%s\n' "$out" | grep -c ' created$')" 8
out=$(K apply -k "$deploy" 2>&1) || fail "second kubectl apply -k: $out"
expect_eq "second apply changes nothing" "$(printf '%s\n' "$out" | grep -c ' unchanged$')" 8
expect_eq "replicas" "$(K -n perch-system get deploy perch -o jsonpath='{.spec.replicas}')" 2
expect_eq "service account" "$(K -n perch-system get sa perch -o jsonpath='{.metadata.name}')" perch

# A rollout under perch's own identity.
rbac_identity perch perch-sa-token
rbac_identity watcher perch-watcher-token
cart_app linkerd '{interval: 10s, threshold: 2, maxWeight: 50, stepWeight: 50}'
K apply -n default -f "$TMP/app.yaml" -f "$TMP/canary.yaml" >/dev/null || fail "apply the app"
timeout "$(scaled 60)" "$PERCH_BIN" run --headless --context perch -n default >"$TMP/run0.out" 2>"$TMP/run0.err" ||
	fail "initialization: $(cat "$TMP/run0.err")"
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
timeout "$(scaled 60)" "$PERCH_BIN" run --headless --context perch -n default >"$TMP/run1.out" 2>"$TMP/run1.err" ||
	fail "rollout: $(cat "$TMP/run1.err")"
grep -q '"phase":"Succeeded"' "$TMP/run1.out" || fail "not promoted: $(tail -3 "$TMP/run1.out")"
"$PERCH_BIN" status --context watcher -n default >"$TMP/status.out" 2>&1 ||
	fail "perch status: $(cat "$TMP/status.out")"
expect_match "status" "$(cat "$TMP/status.out")" 'cart.*Succeeded'

# perch watch as a watcher, with the metrics of a Flagger canary through the
# service proxy; perch's own cart deleted meanwhile.
flagger_deployment
prometheus_service
flagger_app default
PROVIDER=istio METRIC='{name: request-success-rate, interval: 1m, thresholdRange: {min: 99}}' \
	flagger_canary default
flagger_standin --name podinfo --namespace default --target podinfo --tick 2
session watch 120 40 "$TERM_ENV '$PERCH_BIN' -v --log '$TMP/watch.log' watch --context watcher" \
	"--prometheus-service monitoring/prometheus:9090 2>'$TMP/watch.err'"
WAIT_SECS=15 wait_for row_has watch podinfo FLAGGER || { dump watch; cat "$TMP/watch.err"; fail "watch: podinfo not shown"; }
WAIT_SECS=15 wait_for row_has watch cart Succeeded || { dump watch; fail "watch: cart not shown"; }
proxied() { grep -q '^GET /api/v1/namespaces/monitoring/services/prometheus:9090/proxy/api/v1/.* watcher 200$' "$TMP/deploy.audit"; }
WAIT_SECS=15 wait_for proxied || { dump watch; fail "watch: no query through the service proxy"; }
K delete canary cart >/dev/null || fail "kubectl delete canary cart"
WAIT_SECS=10 wait_for not row watch cart || { dump watch; fail "watch: the deleted cart still shown"; }
shows watch "default/cart: the Canary was deleted; no longer shown" || { dump watch; fail "watch: no word of the deletion"; }
row_has watch podinfo FLAGGER || { dump watch; fail "watch: podinfo gone too"; }
grep -q 'default/cart: the Canary was deleted; no longer shown' "$TMP/watch.log" ||
	fail "the log says nothing of the deletion: $(cat "$TMP/watch.log")"
keys watch q
WAIT_SECS=10 wait_for dead watch || fail "perch watch did not quit"

check_rbac perch perch "$TMP/deploy.audit"
table=$(cat "$TMP/rbac-perch.out")
printf "%s\n" "$table" >&2
for want in 'watch canaries.flagger.app' 'update leases.coordination.k8s.io' 'create events' \
	'patch configmaps' 'create trafficsplits.split.smi-spec.io' 'update deployments.apps' \
	'create services' 'get configmaps'; do
	expect_match "perch made '$want'" "$table" "^ok +$want "
done
check_rbac perch-watcher watcher "$TMP/deploy.audit"
expect_match "watcher" "$(cat "$TMP/rbac-perch-watcher.out")" '^ok +list configmaps '
expect_match "watcher's proxy" "$(cat "$TMP/rbac-perch-watcher.out")" '^ok +get services/proxy '

# The check fails when the role lacks what perch does.
rbac_without events "$TMP/role-perch.json" "$TMP/role-noevents.json"
out=$(python3 "$PERCH_ROOT/tests/k8s/rbac_check.py" "$TMP/role-noevents.json" "$TMP/deploy.audit" perch)
expect_eq "a role without events is refused" "$?" 1
expect_match "denied line" "$out" '^DENIED +create events '
rbac_without services/proxy "$TMP/role-perch-watcher.json" "$TMP/role-noproxy.json"
out=$(python3 "$PERCH_ROOT/tests/k8s/rbac_check.py" "$TMP/role-noproxy.json" "$TMP/deploy.audit" watcher)
expect_eq "a watcher role without services/proxy is refused" "$?" 1
expect_match "denied proxy line" "$out" '^DENIED +get services/proxy '
out=$(python3 "$PERCH_ROOT/tests/k8s/rbac_check.py" "$TMP/role-perch.json" "$TMP/deploy.audit" nobody)
expect_eq "no request is no pass" "$?" 1
exit 0
