# metrics_splunk.sh — MetricTemplates of type splunk: `perch check` against
# a stand-in of Splunk Observability's SignalFlow REST execute endpoint
# (saas_fake.py, which checks the X-SF-Token header, the program sent as
# text, the window of 10 × interval in ms and immediate=true, and answers
# Server-Sent Events with multi-line data): a value (the last data point)
# and its bounds, the primary's value (the isolation check), no data, an
# in-band error message, data of several time series, a missing Secret key
# named with its template, and the token never in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig" SAAS_NS=shop
SECRET=s3cr3t-splunk-token
saas_start splunk --secret "$SECRET" --window-ms 1200000

template() {	# NAME QUERY-WORD [SECRET]
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $1, namespace: shop}
spec:
  provider: {type: splunk, address: "$URL", secretRef: {name: ${3:-dt}}}
  query: |
    data('demo.latency', filter=filter('deployment', '{{ target }}-$2')).mean().publish()
YAML
}
{ saas_cluster "{sf_token_key: $SECRET}"
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; template several several; } >"$TMP/cluster.yaml"
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

saas_write good latency
saas_write bad empty broken several
saas_write down down
saas_write nokey nokey
saas_checks latency empty broken 'error executing query: Invalid SignalFlow program' sf_token_key
grep -q "query data('demo.latency', filter=filter('deployment', 'app-ok')).mean().publish()" \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"
expect_match "several series" "$(json_field "$TMP/bad.json" "shop/app several" error)" \
	'multiple values returned'
