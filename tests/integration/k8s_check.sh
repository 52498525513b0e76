# k8s_check.sh — `perch check` with --kubeconfig / -n: a MetricTemplate that
# is not in the files is read from the cluster (applied with kubectl to the
# test API server), and its secretRef Secret signs in to Prometheus (a test
# Prometheus that logs the Authorization header); the secret never reaches
# the output.  A missing Secret is named.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig"

python3 "$(dirname "$0")/prom_fake.py" --log "$TMP/requests.log" >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for grep -q listening "$TMP/fake.out" || fail "fake Prometheus did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")

cat >"$TMP/cluster.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: prom-auth, namespace: shop}
stringData: {token: s3cr3t-cluster-token}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: probe, namespace: shop}
spec:
  provider: {type: prometheus, address: http://prometheus.monitoring:9090, secretRef: {name: prom-auth}}
  query: 'sum(fault_ok{namespace="{{ namespace }}"})'
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: nosecret, namespace: shop}
spec:
  provider: {type: prometheus, address: http://prometheus.monitoring:9090, secretRef: {name: gone}}
  query: 'sum(fault_ok{namespace="{{ namespace }}"})'
YAML
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

# The Canary names no namespace: -n shop says where its templates (and their
# Secrets) are read from.
write() {	# TEMPLATE
	{ canary app shop istio app | grep -v 'namespace: shop'; cat <<YAML
    - name: probe
      interval: 1m
      templateRef: {name: $1}
      thresholdRange: {min: 1}
YAML
	} >"$TMP/$1.yaml"
}
write probe
write nosecret

out=$("$PERCH_BIN" check -f "$TMP/probe.yaml" --prometheus "$URL" 2>&1)
expect_eq "without the cluster: exit" "$?" 1
expect_match "without the cluster" "$out" "MetricTemplate.*probe"

out=$("$PERCH_BIN" check -f "$TMP/probe.yaml" --prometheus "$URL" -n shop -o json 2>"$TMP/err")
expect_eq "from the cluster: exit" "$?" 0
printf '%s\n' "$out" >"$TMP/probe.json"
expect_eq "from the cluster: result" "$(json_field "$TMP/probe.json" "default/app probe" result)" pass
grep -q 'auth=Bearer s3cr3t-cluster-token$' "$TMP/requests.log" ||
	fail "the secretRef token was not sent: $(cat "$TMP/requests.log")"
if grep -q s3cr3t "$TMP/probe.json" "$TMP/err"; then fail "the token leaked into the output"; fi

# A token file wins over the secretRef.
printf 'file-token\n' >"$TMP/token"
"$PERCH_BIN" check -f "$TMP/probe.yaml" --prometheus "$URL" -n shop --prometheus-token-file "$TMP/token" >/dev/null 2>&1
expect_eq "token file: exit" "$?" 0
expect_match "token file wins" "$(tail -n 1 "$TMP/requests.log")" 'auth=Bearer file-token$'

out=$("$PERCH_BIN" check -f "$TMP/nosecret.yaml" --prometheus "$URL" -n shop 2>&1)
expect_eq "missing secret: exit" "$?" 1
expect_match "missing secret" "$out" "perch check: MetricTemplate shop/nosecret: secret gone: "

out=$("$PERCH_BIN" check -f "$TMP/probe.yaml" --prometheus "$URL" --kubeconfig "$TMP/none" 2>&1)
expect_eq "missing kubeconfig: exit" "$?" 2
expect_eq "missing kubeconfig: one line" "$(printf '%s\n' "$out" | wc -l)" 1
