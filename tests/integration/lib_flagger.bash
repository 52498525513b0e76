# lib_flagger.bash — a cluster where Flagger already runs, for the
# integration scripts of perch over Flagger (sourced, not run; it sources
# lib.bash, lib_k8s.bash and tui_lib.bash itself).
#
#   flagger_cluster [ARGS...]   starts the load tester stand-in
#       (loadtester_standin.py, its log $TMP/lt.log; $ltport, $lt its URL)
#       and the test API server f (more ARGS for it: --token NAME=TOKEN)
#       with the service proxy to it for Service test/flagger-loadtester:80;
#       creates Flagger's available Deployment flagger-system/flagger and
#       perch's own canary cart in default (cart_app); exports KUBECONFIG
#       and defines K (kubectl with a timeout).
#   flagger_deployment   Flagger's own Deployment flagger-system/flagger,
#       available (found by its labels, as perch finds a running Flagger).
#   prometheus_service   the Namespace monitoring and its Service
#       prometheus, port 9090 (for --prometheus-service and the proxy).
#   flagger_app NS    the Deployment and Service podinfo in NS (as cart's).
#   flagger_canary NS WEBHOOK...   applies the Canary podinfo (CANARY=NAME:
#       NAME) in NS (kubernetes provider, PROVIDER=NAME: NAME; target
#       podinfo, 4 iterations of 30 s, threshold 3) with these webhooks (none:
#       no webhooks), each a YAML flow mapping, and the metric METRIC (a YAML
#       flow mapping) when set.
#   flagger_standin ARGS...   starts flagger_standin.py with ARGS (its log
#       $TMP/flagger.log) and waits for its first status.
#   select_row S NAME   moves the selection of session S to canary NAME.

. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl tmux python3

K() { kubectl --request-timeout=10s "$@"; }

flagger_cluster() {
	python3 "$PERCH_ROOT/tests/integration/loadtester_standin.py" --log "$TMP/lt.log" >"$TMP/lt.out" 2>&1 &
	ltp=$!
	at_exit "kill $ltp 2>/dev/null; wait $ltp 2>/dev/null"
	WAIT_SECS=30 wait_for grep -q '^listening on ' "$TMP/lt.out" || fail "the load tester did not start"
	ltport=$(sed -n 's/^listening on //p' "$TMP/lt.out")
	lt="http://127.0.0.1:$ltport"

	start_apiserver f --tls-dir "$TMP/tls" --ready-delay 0 --service-proxy "test/flagger-loadtester:80=$ltport" "$@"
	export KUBECONFIG="$TMP/f.kubeconfig"
	K create namespace test >/dev/null || fail "namespace test"
	K -n test create service clusterip flagger-loadtester --tcp=80:8080 >/dev/null || fail "load tester service"

	flagger_deployment

	# perch's own canary, a Canary object too.
	cart_app
	K apply -f "$TMP/app.yaml" -f "$TMP/canary.yaml" >/dev/null || fail "cart"
}

flagger_deployment() {
	K create namespace flagger-system >/dev/null || fail "namespace"
	K apply -f - >/dev/null <<'YAML' || fail "flagger deployment"
apiVersion: apps/v1
kind: Deployment
metadata: {name: flagger, namespace: flagger-system, labels: {app.kubernetes.io/name: flagger}}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: flagger}}
  template:
    metadata: {labels: {app.kubernetes.io/name: flagger}}
    spec:
      containers: [{name: flagger, image: "ghcr.io/fluxcd/flagger:1.37.0"}]
YAML
	wait_for sh -c "kubectl --request-timeout=10s -n flagger-system get deploy flagger -o jsonpath='{.status.availableReplicas}' | grep -q 1" ||
		fail "flagger deployment not available"
}

prometheus_service() {
	K apply -f - >/dev/null <<'YAML' || fail "Prometheus's Service"
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: v1
kind: Service
metadata: {name: prometheus, namespace: monitoring}
spec:
  ports: [{name: http, port: 9090}]
YAML
}

flagger_app() {
	sed -e 's/cart/podinfo/g' -e "s/namespace: default/namespace: $1/" "$TMP/app.yaml" >"$TMP/podinfo.yaml"
	K apply -f "$TMP/podinfo.yaml" >/dev/null || fail "podinfo app"
}

flagger_canary() {
	local ns=$1; shift
	{ cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: ${CANARY:-podinfo}, namespace: $ns}
spec:
  provider: ${PROVIDER:-kubernetes}
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 80}
  analysis:
    interval: 30s
    threshold: 3
    iterations: 4
YAML
	[ $# -eq 0 ] || { echo "    webhooks:"; printf '      - %s\n' "$@"; }
	[ -z "${METRIC:-}" ] || printf '    metrics:\n      - %s\n' "$METRIC"; } | K apply -f - >/dev/null || fail "${CANARY:-podinfo} canary"
}

flagger_standin() {
	python3 "$PERCH_ROOT/tests/integration/flagger_standin.py" --log "$TMP/flagger.log" "$@" \
		>"$TMP/flagger.out" 2>&1 &
	fp=$!
	at_exit "kill $fp 2>/dev/null; wait $fp 2>/dev/null"
	WAIT_SECS=20 wait_for grep -q '^status Initialized' "$TMP/flagger.log" ||
		fail "the Flagger stand-in wrote no status: $(cat "$TMP/flagger.out")"
}

select_row() {
	local i
	keys "$1" k k k k
	for i in 1 2 3 4 5; do
		case "$(screen "$1" | grep -m1 -E '^[│|]?[▶>] ' || true)" in *" $2 "*) return 0;; esac
		keys "$1" j
	done
	fail "cannot select $2"
}
