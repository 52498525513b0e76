# metrics_stackdriver.sh — MetricTemplates of type stackdriver: `perch
# check` against a stand-in of Google Cloud Monitoring's REST
# timeSeries:query and of the metadata server (GCE_METADATA_HOST) whose
# access token it must carry (saas_fake.py checks the token, the project
# of the Secret in the path, the JSON body): a value and its bounds (a
# doubleValue, an int64Value), the primary's value (the isolation check),
# no data, Google's error answer, a missing project key and a refused
# serviceAccountKey named with their template, and no token in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig" SAAS_NS=shop
SECRET=tok
saas_start stackdriver --project my-proj-1 --secret "$SECRET" --window-ms 1200000
export GCE_METADATA_HOST=${URL#http://}

template() {	# NAME QUERY-WORD [SECRET]
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $1, namespace: shop}
spec:
  provider: {type: stackdriver, address: "$URL", secretRef: {name: ${3:-dt}}}
  query: |
    fetch k8s_container | metric 'custom.googleapis.com/latency' | filter resource.container_name == '{{ target }}-$2' | within {{ interval }}
YAML
}
{ saas_cluster "{project: my-proj-1}"
cat <<YAML
---
apiVersion: v1
kind: Secret
metadata: {name: sakey, namespace: shop}
stringData: {project: my-proj-1, serviceAccountKey: '{"type": "service_account"}'}
YAML
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; template sakey ok sakey; template int64 int64; } >"$TMP/cluster.yaml"
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

saas_write good latency int64
saas_write sakey sakey
saas_write bad empty broken
saas_write down down
saas_write nokey nokey
saas_checks latency empty broken \
	'error requesting stackdriver: INVALID_ARGUMENT: Line 1, column 6: unknown table' project
expect_eq "int64Value" "$(json_field "$TMP/good.json" "shop/app int64" value)" 812.0
grep -q "query fetch k8s_container | metric 'custom.googleapis.com/latency' | filter resource.container_name == 'app-ok' | within 2m" \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"

out=$("$PERCH_BIN" check -f "$TMP/sakey.yaml" -n shop 2>&1)
expect_eq "service account key: exit" "$?" 1
expect_match "service account key" "$out" 'MetricTemplate shop/sakey: secret sakey has a serviceAccountKey: perch cannot sign'
grep -q '^token$' "$TMP/req.log" || fail "no token from the metadata server"
