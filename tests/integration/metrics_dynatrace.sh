# metrics_dynatrace.sh — MetricTemplates of type dynatrace: `perch check`
# against a stand-in of Dynatrace's Metrics API v2 (saas_fake.py, which
# checks the Api-Token header, the window of 10 × interval in ms and the
# selector's encoding): a value and its bounds, the primary's value (the
# isolation check), no data, the provider's error answer, a missing Secret
# key named with its template, and the token never in the output; perch
# replay -n asks for past windows with the templates and Secret of the
# cluster.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig" SAAS_NS=shop
SECRET=dt0c01.s3cr3t-dynatrace-token
FROM=$(( $(date +%s) / 60 * 60 - 7200 ))	# replayed: FROM, +1m, +2m (the Canary's interval)
saas_start dynatrace --secret "$SECRET" --window-ms 1200000 \
	--ends-at "$FROM,$(( FROM + 60 )),$(( FROM + 120 ))"

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

# perch replay: the template and its Secret from the cluster, the windows
# ending at each replayed interval.
"$PERCH_BIN" replay -n shop -f "$TMP/good.yaml" --from "$FROM" --to $(( FROM + 120 )) -o json \
	>"$TMP/replay.json" 2>"$TMP/replay.err"
expect_eq "replay exit ($(cat "$TMP/replay.err"))" "$?" 0
python3 - "$TMP/replay.json" <<'PY' || fail "replay json: $(cat "$TMP/replay.json")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [(c["metric"], c["value"], c["result"]) for r in recs[:-1] for c in r["checks"]] == \
    [("latency", 812.4, "pass")] * 3, recs
assert recs[-1]["source"] == "dynatrace" and recs[-1]["notReplayable"] == [], recs[-1]
PY
for t in "$FROM" $(( FROM + 60 )) $(( FROM + 120 )); do
	grep -q "^window ends $t$" "$TMP/req.log" || fail "no window ending at $t: $(cat "$TMP/req.log")"
done
if grep -q s3cr3t "$TMP/replay.json" "$TMP/replay.err" "$TMP/req.log" || grep -q '^BAD' "$TMP/req.log"; then
	fail "replay: a secret leaked or a request was refused: $(grep BAD "$TMP/req.log")"
fi
exit 0
