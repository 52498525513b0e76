# prom_lib.bash — helpers for the Prometheus integration tests (sourced
# after lib.bash): start a real Prometheus on a free loopback port, stopped
# when the test exits.

# start_prometheus CONFIG DATA_DIR: sets PROM_URL; the server is stopped at exit.
start_prometheus() {
	local port
	port=$(free_port)
	prometheus --config.file="$1" --storage.tsdb.path="$2" \
		--web.listen-address="127.0.0.1:$port" >"$TMP/prometheus.log" 2>&1 &
	local pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	PROM_URL="http://127.0.0.1:$port"
	WAIT_SECS=20 wait_for curl -sf "$PROM_URL/-/ready" ||
		{ tail -20 "$TMP/prometheus.log"; fail "prometheus did not become ready"; }
}

# canary NAME NS PROVIDER TARGET [ANNOTATIONS-YAML] : a Canary header up to
# "metrics:", for heredocs that append metrics.
canary() {
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: $1
  namespace: $2
${5:+  annotations:
$5
}spec:
  provider: $3
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: $4
  ingressRef:
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    name: $4
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
YAML
}

# json_field FILE METRIC FIELD : the field of the check record of METRIC
json_field() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["canary"] + " " + r["metric"] == sys.argv[2]:
        v = r[sys.argv[3]]
        print("null" if v is None else (repr(v) if isinstance(v, float) else v))
        break
else:
    print("missing")
PY
}

# expect_num WHAT GOT WANT : numbers equal within 1e-6
expect_num() {
	python3 -c 'import sys; g, w = sys.argv[1], sys.argv[2]; sys.exit(0 if g != "null" and abs(float(g) - float(w)) < 1e-6 else 1)' "$2" "$3" ||
		fail "$1: got '$2', want $3"
}
