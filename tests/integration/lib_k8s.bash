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
#   app_yaml NAME REPLICAS [TARGET-PORT]   prints the Deployment NAME
#       (image NAME:v1) and its Service (port 80) in default, as YAML.
#   cart_app [PROVIDER [ANALYSIS]]   writes $TMP/app.yaml (Deployment and
#       Service cart in default, image cart:v1, one replica) and
#       $TMP/canary.yaml (its Canary; by default the kubernetes
#       blue/green one: 3 iterations of 30 s, threshold 2; else PROVIDER's
#       with spec.analysis the YAML flow map ANALYSIS).
#   daemonset_yaml NAME [SPEC-LINES]   prints the DaemonSet NAME in default
#       (label app=NAME, image NAME:v1, on the nodes kubernetes.io/os=linux;
#       SPEC-LINES: more lines of its spec, indented by 2) as YAML.
#   knative_yaml NAME IMAGE   prints the Knative Service NAME in default
#       running IMAGE as YAML.
#   revert_canary NAME PROVIDER REVERT SERVICE ANALYSIS [KIND API-VERSION
#       [SPEC]]   prints the Canary NAME in default (spec.revertOnDeletion
#       REVERT; its service port 80 and the flow-map entries SERVICE, e.g.
#       ", hosts: [a]"; analysis threshold 2 and ANALYSIS; its target the
#       Deployment NAME, or the KIND of API-VERSION; SPEC: more lines of its
#       spec) as YAML.
#   cart_cluster NAME ANALYSIS   the test API server NAME (--tls-dir
#       $TMP/tls, --ready-delay 0, KUBECONFIG set) with cart_app's app and
#       its kubernetes Canary (spec.analysis the YAML flow map ANALYSIS)
#       applied in default.
#   faults JSON   sets the test API server's faults (POST /_test/faults,
#       see tests/k8s/apiserver.py); fails the test when it does not take them.
#   checkout_run NAME EXPORTED METRIC MAX QUERY [ANNOTATIONS]   the `perch
#       run` scripts' setup (needs prom_lib.bash): a test exporter serving
#       $TMP/exporter/metrics (first the lines EXPORTED), a real Prometheus
#       scraping it every second (PROM_URL), the test API server NAME
#       (--tls-dir $TMP/tls, KUBECONFIG set, K runs kubectl), the engine
#       clock at 10x, the Deployment (2 replicas) and Service checkout in
#       default applied ($TMP/app.yaml), and $TMP/canary.yaml: their linkerd
#       Canary (annotations: the YAML flow map ANNOTATIONS; interval 10s,
#       threshold 2, max weight 50, step 25) with the metric METRIC (max
#       MAX, interval 30s) of the MetricTemplate METRIC asking PROM_URL QUERY.
#   quit_readonly AUDIT SESSION...   the end of a `perch watch` of the
#       read-only identity ro (needs tui_lib.bash): presses q in each tmux
#       SESSION and waits for each to end, then sets RO to ro's lines of the
#       audit log AUDIT and fails unless there is one at least and every one
#       is a GET (get, list and watch only).

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

cart_cluster() {	# NAME ANALYSIS
	start_apiserver "$1" --tls-dir "$TMP/tls" --ready-delay 0
	export KUBECONFIG="$TMP/$1.kubeconfig"
	cart_app kubernetes "$2"
	kubectl --request-timeout=10s apply -n default -f "$TMP/app.yaml" -f "$TMP/canary.yaml" \
		>/dev/null || fail "kubectl apply"
}

faults() {	# JSON
	curl -sf -o /dev/null --cacert "$TMP/tls/ca.crt" -X POST -d "$1" \
		"$APISERVER_URL/_test/faults" || fail "faults $1"
}

app_yaml() {	# NAME REPLICAS [TARGET-PORT]
	cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: default, labels: {app: $1}}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: $1, image: "$1:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  selector: {app: $1}
  ports: [{name: http, port: 80${3:+, targetPort: $3}}]
YAML
}

cart_app() {
	local provider=${1:-kubernetes} analysis=${2:-"{interval: 30s, threshold: 2, iterations: 3}"}
	app_yaml cart 1 >"$TMP/app.yaml"
	cat >"$TMP/canary.yaml" <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: cart}
spec:
  provider: $provider
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
  service: {port: 80}
  analysis: $analysis
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

daemonset_yaml() {
	cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1, namespace: default, labels: {app: $1}}
spec:
  selector: {matchLabels: {app: $1}}${2:+
$2}
  template:
    metadata: {labels: {app: $1}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: $1, image: "$1:v1"}]
---
YAML
}

knative_yaml() {
	cat <<YAML
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  template:
    spec:
      containers: [{name: $1, image: "$2"}]
---
YAML
}

revert_canary() {
	cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: $1, namespace: default}
spec:
  provider: $2
  revertOnDeletion: $3
  targetRef: {apiVersion: ${7:-apps/v1}, kind: ${6:-Deployment}, name: $1}
  service: {port: 80$4}${8:+
$8}
  analysis: {threshold: 2, $5}
---
YAML
}

K() { kubectl --request-timeout=10s "$@"; }

checkout_run() {
	local name=$1 exported=$2 metric=$3 max=$4 query=$5 annotations=${6:-} eport epid
	mkdir -p "$TMP/exporter"
	printf '%s\n' "$exported" >"$TMP/exporter/metrics"
	eport=$(free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$TMP/exporter" "$eport" >/dev/null 2>&1 &
	epid=$!
	at_exit "kill $epid 2>/dev/null; wait $epid 2>/dev/null"
	cat >"$TMP/prometheus.yml" <<YAML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: checkout
  static_configs: [{targets: ['127.0.0.1:$eport']}]
YAML
	start_prometheus "$TMP/prometheus.yml" "$TMP/prom-data"
	start_apiserver "$name" --tls-dir "$TMP/tls" --ready-delay 0.2
	export KUBECONFIG="$TMP/$name.kubeconfig" PERCH_TIME_SCALE=10
	app_yaml checkout 2 8080 >"$TMP/app.yaml"
	cat >"$TMP/canary.yaml" <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: checkout${annotations:+, annotations: $annotations}}
spec:
  provider: linkerd
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    maxWeight: 50
    stepWeight: 25
    metrics:
      - name: $metric
        templateRef: {name: $metric}
        thresholdRange: {max: $max}
        interval: 30s
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $metric}
spec:
  provider: {type: prometheus, address: "$PROM_URL"}
  query: $query
YAML
	K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
}

quit_readonly() {
	local audit=$1 s bad
	shift
	for s in "$@"; do keys "$s" q; done
	for s in "$@"; do
		WAIT_SECS=10 wait_for dead "$s" || { dump "$s"; fail "perch watch ($s) did not quit"; }
	done
	RO=$(grep ' ro [0-9]*$' "$audit" || true)
	[ -n "$RO" ] || fail "perch watch sent no request"
	bad=$(printf '%s\n' "$RO" | grep -v '^GET ' || true)
	[ -z "$bad" ] || fail "perch watch sent more than get/list/watch: $bad"
}
