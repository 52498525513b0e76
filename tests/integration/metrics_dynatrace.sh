# metrics_dynatrace.sh — MetricTemplates of type dynatrace: `perch check`
# against a stand-in of Dynatrace's Metrics API v2 (saas_fake.py, which
# checks the Api-Token header, the window of 10 × interval in ms and the
# selector's encoding): a value and its bounds, the primary's value (the
# isolation check), no data, the provider's error answer, a missing Secret
# key named with its template, and the token never in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig" SAAS_NS=shop
SECRET=dt0c01.s3cr3t-dynatrace-token
saas_start dynatrace --secret "$SECRET" --window-ms 1200000

template() {	# NAME QUERY-WORD [SECRET]
	cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $1, namespace: shop}
spec:
  provider: {type: dynatrace, address: "$URL", secretRef: {name: ${3:-dt}}}
  query: 'builtin:service.response.time:filter(eq("dt.entity.service","{{ target }}-$2")):percentile(95)'
YAML
}
{ saas_cluster "{dynatrace_token: $SECRET}"
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; } >"$TMP/cluster.yaml"
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

saas_write good latency
saas_write bad empty broken
saas_write down down
saas_write nokey nokey
saas_checks latency empty broken 'Dynatrace: HTTP 400: .*The metric selector is invalid' dynatrace_token
grep -q 'query builtin:service.response.time:filter(eq("dt.entity.service","app-ok")):percentile(95) auth=ok' \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"
