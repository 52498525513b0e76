# lib_k8s.bash — starts perch's test Kubernetes API server for an integration
# script (sourced after lib.bash, not run).
#
#   start_apiserver NAME [ARGS...]   starts tests/k8s/apiserver.py with a
#       kubeconfig in $TMP/NAME.kubeconfig, an audit log in $TMP/NAME.audit
#       and a log of the objects written in $TMP/NAME.objects; sets
#       APISERVER_URL and APISERVER_PID; the server is stopped at exit.
#       When the script ends, every object written to the server is checked
#       against its kind's schema (check_schemas): a bad one fails the test.
#   check_schemas FILE...   tests/schema/check.mjs over objects logs.
#   app_deployments REPLICAS APP...   prints a Deployment per APP in
#       default (label app=APP, image APP:v1, REPLICAS replicas) as YAML.
#   cart_app   writes $TMP/app.yaml (Deployment and Service cart in default,
#       image cart:v1, one replica) and $TMP/canary.yaml (its kubernetes
#       blue/green Canary: 3 iterations of 30 s, threshold 2).

need_schemas() {
	need node
	[ -d "$PERCH_ROOT/tests/node_modules/kubernetes-models" ] ||
		skip "the schema packages are not installed (make deps runs npm ci in tests/)"
}

check_schemas() {	# SCHEMA_VERBOSE=1: the figures even when all is well
	local q=--quiet
	[ -n "${SCHEMA_VERBOSE:-}" ] && q=
	node "$PERCH_ROOT/tests/schema/check.mjs" $q "$@" >&2
}

start_apiserver() {
	local name=$1; shift
	need python3
	need_schemas
	local out="$TMP/$name.out"
	python3 "$PERCH_ROOT/tests/k8s/apiserver.py" --kubeconfig-out "$TMP/$name.kubeconfig" \
		--audit-log "$TMP/$name.audit" --objects-log "$TMP/$name.objects" \
		"$@" >"$out" 2>"$TMP/$name.err" &
	APISERVER_PID=$!
	at_exit "kill $APISERVER_PID 2>/dev/null; wait $APISERVER_PID 2>/dev/null"
	at_end "check_schemas '$TMP/$name.objects'"
	WAIT_SECS=20 wait_for grep -q '^listening on ' "$out" ||
		fail "the test API server did not start: $(cat "$TMP/$name.err")"
	APISERVER_URL=$(sed -n 's/^listening on //p' "$out")
}

cart_app() {
	cat >"$TMP/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: default, labels: {app: cart}}
spec:
  replicas: 1
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
  ports: [{name: http, port: 80}]
YAML
	cat >"$TMP/canary.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: cart}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
  service: {port: 80}
  analysis: {interval: 30s, threshold: 2, iterations: 3}
YAML
}

app_deployments() {
	local n=$1 app; shift
	for app in "$@"; do
		cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $app, namespace: default, labels: {app: $app}}
spec:
  replicas: $n
  selector: {matchLabels: {app: $app}}
  template:
    metadata: {labels: {app: $app}}
    spec:
      containers: [{name: $app, image: "$app:v1"}]
---
YAML
	done
}
