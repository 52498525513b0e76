# k8s_controller.sh — `perch controller` in the cluster: two replicas in
# in-cluster mode (KUBERNETES_SERVICE_HOST/_PORT, a service-account
# directory with token, ca.crt and namespace; TLS) share 6 Canaries through
# the Leases; one is killed with SIGKILL and the other takes its canaries
# over within one lease duration (PERCH_LEASE_SECONDS, short here), resuming
# from the saved state: no event, no primary creation, no iteration
# repeated.  SIGTERM on the survivor saves and releases every Lease.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/lib_rbac.bash"
need kubectl openssl python3

start_apiserver c --tls-dir "$TMP/tls" --ready-delay 0 --token ctl-a=token-a --token ctl-b=token-b
export KUBECONFIG="$TMP/c.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
audit="$TMP/c.audit" objects="$TMP/c.objects"
port=${APISERVER_URL##*:}
lease=6

# Six apps and their blue/green Canaries: 4 iterations of 20 s (2 s at
# PERCH_TIME_SCALE=10).
for i in 1 2 3 4 5 6; do
	cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: app$i, namespace: default, labels: {app: app$i}}
spec:
  replicas: 1
  selector: {matchLabels: {app: app$i}}
  template:
    metadata: {labels: {app: app$i}}
    spec:
      containers: [{name: app, image: "app:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: app$i, namespace: default}
spec:
  selector: {app: app$i}
  ports: [{name: http, port: 80}]
---
YAML
done >"$TMP/apps.yaml"
for i in 1 2 3 4 5 6; do
	cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: app$i, namespace: default}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: app$i}
  service: {port: 80}
  analysis: {interval: 20s, threshold: 2, iterations: 4}
---
YAML
done >"$TMP/canaries.yaml"
K apply -f "$TMP/apps.yaml" >/dev/null || fail "kubectl apply apps"
K create namespace perch-system >/dev/null || fail "kubectl create namespace"

# The service-account directories, one per replica (each its own token).
for r in a b; do
	mkdir -p "$TMP/sa-$r"
	printf 'token-%s\n' "$r" >"$TMP/sa-$r/token"
	cp "$TMP/tls/ca.crt" "$TMP/sa-$r/ca.crt"
	printf 'perch-system' >"$TMP/sa-$r/namespace"
done

start_ctl() {	# replica
	env -u KUBECONFIG KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$port" \
		PERCH_SERVICEACCOUNT_DIR="$TMP/sa-$1" PERCH_LEASE_SECONDS=$lease PERCH_TIME_SCALE=10 \
		"$PERCH_BIN" controller -n default --identity "ctl-$1" --metrics-addr "127.0.0.1:$2" \
		>>"$TMP/ctl-$1.out" 2>>"$TMP/ctl-$1.err" &
	eval "pid_$1=$!"
	at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
}
mport_a=$(free_port) mport_b=$(free_port)
start_ctl a "$mport_a"
start_ctl b "$mport_b"
# Both replicas announce themselves in their own namespace.
replicas() { [ "$(K get leases -n perch-system -l perch.dev/role=controller -o name | wc -l)" -eq "$1" ]; }
WAIT_SECS=15 wait_for replicas 2 ||
	fail "no replica leases: $(K get leases -A 2>&1; cat "$TMP/ctl-a.err" "$TMP/ctl-b.err")"
grep -q '^GET /apis/coordination.k8s.io/v1/namespaces/perch-system/leases?labelSelector=.* ctl-a 200' "$audit" ||
	fail "replica a did not list the replica leases with its service-account token: $(grep ctl-a "$audit" | head)"

K apply -f "$TMP/canaries.yaml" >/dev/null || fail "kubectl apply canaries"
holders() {	# prints "app1=ctl-a ..." of the canary leases, one request
	K get leases -n default -o jsonpath='{range .items[*]}{.metadata.name}={.spec.holderIdentity}{"\n"}{end}' |
		sed -n 's/^perch-\(app[0-9]\)=\([^ ]*\).*/\1=\2/p; s/^perch-\(app[0-9]\)=$/\1=/p' | sort
}
# Every canary initialized, each replica holding its share (3).
WAIT_SECS=40 wait_for sh -c "[ \$(grep -ho 'Initialization done! app[0-9].default' '$TMP/ctl-a.out' '$TMP/ctl-b.out' | sort -u | wc -l) -eq 6 ]" ||
	fail "not every canary initialized: $(cat "$TMP/ctl-a.out" "$TMP/ctl-b.out" | grep -o 'Initialization done![^"]*'; tail -n 5 "$TMP/ctl-a.err" "$TMP/ctl-b.err")"
balanced() { [ "$(holders | grep -c '=ctl-a$')" -eq 3 ] && [ "$(holders | grep -c '=ctl-b$')" -eq 3 ]; }
WAIT_SECS=30 wait_for balanced || { fail "the canaries are not shared 3/3: $(holders)
$(tail -n 20 "$TMP/ctl-a.err" "$TMP/ctl-b.err")"; }
echo "shared: $(holders | tr '\n' ' ')"
# Each replica reads the canaries the other one drives from its watch of
# the perch ConfigMaps, not one GET each every quarter second: over a
# second and a half, not one such read.
n0=$(wc -l <"$audit")
sleep 1.5
reads=$(holders | while IFS== read -r app who; do
	other=ctl-a; [ "$who" = ctl-a ] && other=ctl-b
	tail -n +"$((n0 + 1))" "$audit" | grep "^GET /api/v1/namespaces/default/configmaps/perch-$app $other " || true
done)
[ -z "$reads" ] || fail "the other replica's canaries read from the server: $(printf '%s\n' "$reads" | head -3)"

# A new revision of each: the analysis runs on both replicas.
for i in 1 2 3 4 5 6; do K set image deployment/app$i app=app:v2 >/dev/null || fail "set image $i"; done
WAIT_SECS=30 wait_for sh -c "[ \$(grep -ho 'Advance app[0-9].default canary iteration 1/4' '$TMP/ctl-a.out' '$TMP/ctl-b.out' | sort -u | wc -l) -eq 6 ]" ||
	fail "not every canary progressing: $(holders)"

# SIGKILL replica a mid-analysis: its canaries go to b within one lease
# duration (plus b's retry period and a tick), from their saved state.
victims=$(holders | sed -n 's/=ctl-a$//p' | tr '\n' ' ')
kill -9 "$pid_a"; wait "$pid_a" 2>/dev/null
took() { [ "$(holders | grep -c '=ctl-b$')" -eq 6 ]; }
WAIT_SECS=$((lease * 3)) wait_for took || fail "b did not take a's canaries: $(holders)"
# From a's last write (its last renewal) to b's acquiring the last of a's
# canaries, in the API server's objects log.
ms=$(python3 - "$objects" $victims <<'PY'
import json, sys
def t(rec):
    return float(rec["time"])
recs = [json.loads(l) for l in open(sys.argv[1])]
last_a = max(t(r) for r in recs if r["user"] == "ctl-a")
took = []
for v in sys.argv[2:]:
    path = "/leases/perch-" + v
    took.append(min(t(r) for r in recs if r["user"] == "ctl-b" and r["path"].endswith(path) and t(r) > last_a))
print(int((max(took) - last_a) * 1000))
PY
) || fail "cannot measure the takeover"
echo "takeover of $victims $ms ms after a's last renewal (lease ${lease}s)"
[ "$ms" -le $((lease * 1000 + 3000)) ] || fail "takeover took $ms ms, more than one lease duration ($lease s) and a retry"

# Every canary ends Succeeded, each iteration advanced once, each primary
# created once: nothing repeated across the takeover.
WAIT_SECS=60 wait_for sh -c "[ \$(grep -ho 'Promotion completed! Scaling down app[0-9].default' '$TMP/ctl-a.out' '$TMP/ctl-b.out' | sort -u | wc -l) -eq 6 ]" ||
	fail "not every canary promoted: $(holders; tail -n 5 "$TMP/ctl-b.err";)"
dups=$(python3 - "$objects" <<'PY'
import json, sys, collections
seen = collections.Counter()
for line in open(sys.argv[1]):
    rec = json.loads(line)
    obj = rec.get("object") or {}
    if obj.get("kind") == "Event" and rec["verb"] == "create":
        seen[obj.get("message")] += obj.get("count", 1) and 1
    if obj.get("kind") == "Deployment" and rec["verb"] == "create":
        seen["create " + obj["metadata"]["name"]] += 1
for k, n in sorted(seen.items()):
    if n > 1 and ("iteration" in k or k.startswith("create ") or "Initialization" in k):
        print("%dx %s" % (n, k))
PY
)
[ -z "$dups" ] || fail "repeated after the takeover: $dups"

# The Canary objects' own status, as Flagger keeps it: kubectl get canaries
# and kubectl wait read it; an idle canary writes none.
K wait --for=condition=promoted canary/app1 canary/app2 canary/app3 canary/app4 canary/app5 \
	canary/app6 --timeout="$(scaled 20)s" >/dev/null || fail "kubectl wait promoted: $(K get canary app1 -o yaml)"
got=$(K get canaries --no-headers | awk '{print $1, $2, $3}' | sort | tr '\n' ';')
expect_eq "kubectl get canaries" "$got" "app1 Succeeded 0;app2 Succeeded 0;app3 Succeeded 0;app4 Succeeded 0;app5 Succeeded 0;app6 Succeeded 0;"
cond=$(K get canary app2 -o jsonpath='{.status.conditions[0].type}/{.status.conditions[0].status}/{.status.conditions[0].reason}/{.status.conditions[0].message}')
expect_eq "Promoted condition" "$cond" "Promoted/True/Succeeded/Canary analysis completed successfully, promotion finished."
spec=$(K get canary app2 -o jsonpath='{.status.lastAppliedSpec}={.status.lastPromotedSpec}')
expect_match "lastAppliedSpec" "$spec" '^[^=]+=[^=]+$'
# Progressing and iterations were written on the way (objects log).
grep -q '"path":"/apis/flagger.app/v1beta1/namespaces/default/canaries/app4/status".*"phase":"Progressing"' "$objects" ||
	fail "no Progressing status written for app4"
n0=$(grep -c '/canaries/app[0-9]/status' "$audit")
sleep 3	# idle: several ticks at this speed
n1=$(grep -c '/canaries/app[0-9]/status' "$audit")
expect_eq "status requests while idle" "$((n1 - n0))" 0
# A status write changes no spec: the MetricTemplates are read when a
# replica takes up a Canary (each of the two the six), not at every write.
n=$(grep -c '^GET /apis/flagger.app/v1beta1/namespaces/default/metrictemplates ctl-' "$audit")
[ "$n" -le 12 ] || fail "the MetricTemplates were listed $n times for 6 Canaries"

# GET /metrics: Flagger's series and perch's own, valid for promtool;
# /healthz and /readyz answer ok; a bad request is refused, not served.
scrape="$TMP/metrics.txt"
curl -sf "http://127.0.0.1:$mport_b/metrics" >"$scrape" || fail "no /metrics"
if command -v promtool >/dev/null; then
	# Parse errors fail; of the lints, only the one Flagger's own name
	# draws (a gauge named *_total) is expected.
	promtool check metrics <"$scrape" >"$TMP/promtool.out" 2>&1
	rc=$?
	other=$(grep -v '^flagger_canary_total non-counter metrics should not have "_total" suffix$' "$TMP/promtool.out" || true)
	{ [ $rc -eq 0 ] || [ $rc -eq 3 ]; } && [ -z "$other" ] ||
		fail "promtool check metrics ($rc): $(cat "$TMP/promtool.out")"
fi
expect_eq "flagger_canary_total" "$(grep '^flagger_canary_total{namespace="default"}' "$scrape")" \
	'flagger_canary_total{namespace="default"} 6'
expect_eq "flagger_canary_status of app3" "$(grep '^flagger_canary_status{name="app3",namespace="default"}' "$scrape")" \
	'flagger_canary_status{name="app3",namespace="default"} 1'
expect_eq "controlled by b" "$(grep -c '^perch_canary_controlled{.*} 1$' "$scrape")" 6
grep -q '^flagger_canary_weight{workload="app1-primary",namespace="default"} 100$' "$scrape" ||
	fail "no primary weight: $(grep weight "$scrape")"
grep -q '^flagger_canary_duration_seconds_count{name="app1",namespace="default"} [1-9]' "$scrape" ||
	fail "no tick durations: $(grep duration "$scrape" | head -3)"
grep -q '^perch_api_requests_total{verb="get"} [1-9]' "$scrape" || fail "no API request counts"
expect_eq "/healthz" "$(curl -s "http://127.0.0.1:$mport_b/healthz")" "ok"
expect_eq "/readyz" "$(curl -s "http://127.0.0.1:$mport_b/readyz")" "ok"
expect_eq "POST /metrics" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport_b/metrics")" 405
expect_eq "unknown path" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport_b/nope")" 404
expect_eq "huge header" "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' x)" "http://127.0.0.1:$mport_b/metrics")" 431

# SIGTERM: b saves and releases every Lease at once.
kill -TERM "$pid_b"
WAIT_SECS=15 wait_for sh -c "! kill -0 $pid_b" || fail "SIGTERM did not end the controller"
wait "$pid_b" 2>/dev/null
[ -z "$(holders | sed -n '/=.\+$/p')" ] || fail "leases still held after SIGTERM: $(holders)"
! K get lease perch-replica-ctl-b -n perch-system >/dev/null 2>&1 ||
	fail "the replica lease of b is left behind"

# Every request either replica made (adoption, leases, replica discovery,
# status, takeover, SIGTERM) is one deploy/'s ClusterRole allows.
K apply -f "$PERCH_ROOT/deploy/rbac.yaml" >/dev/null || fail "kubectl apply deploy/rbac.yaml"
check_rbac perch ctl-a "$audit"
check_rbac perch ctl-b "$audit"
echo "ok"
