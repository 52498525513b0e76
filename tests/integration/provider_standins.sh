# provider_standins.sh — the datadog, newrelic, influxdb (InfluxDB 2, Flux)
# and externalmetrics backends through perch check (now, and at a past
# time for New Relic and InfluxDB) against stand-ins that
# follow each provider's documented API and check what perch sends
# (tests/integration/provider_standin.py: credentials, time window, query
# encoding, body).  Credentials come from the templates' secretRef Secrets
# on the test API server and never reach any output; a Secret without a
# key, or with an empty value, is an error naming the template and the key;
# an empty answer is no
# data, an error answer an error; perch validate names the secretRef a
# provider needs.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig"

DDK=dd-api-5ecret-1 DDA=dd-app-5ecret-2 NRK=nr-query-5ecret-3 IFT=influx-5ecret-4 K8T=k8s-5ecret-5
cat >"$TMP/standin.cfg" <<JSON
{"secrets": {"datadog_api_key": "$DDK", "datadog_application_key": "$DDA",
             "newrelic_account_id": "1234567", "newrelic_query_key": "$NRK",
             "token": "$IFT", "org": "shop org", "k8s_token": "$K8T"},
 "window": 600, "interval": 60, "at": 1714557600,
 "values": {
  "sum:trace.http.request.errors{service:podinfo}.as_count() / sum:trace.http.request.hits{service:podinfo}.as_count()": 0.5,
  "sum:trace.http.request.errors{service:podinfo-primary}.as_count() / sum:trace.http.request.hits{service:podinfo-primary}.as_count()": 0.25,
  "sum:nothing{service:podinfo}": "empty",
  "sum:nothing{service:podinfo-primary}": "empty",
  "SELECT percentile(duration, 99) * 1000 AS result FROM Transaction WHERE appName = 'podinfo' AND namespace = 'shop'": 123.5,
  "SELECT percentile(duration, 99) * 1000 AS result FROM Transaction WHERE appName = 'podinfo-primary' AND namespace = 'shop'": 140,
  "SELECT bad FROM": "error",
  "from(bucket: \"shop\")\n  |> range(start: -1m)\n  |> filter(fn: (r) => r.app == \"podinfo\")\n  |> sum()\n": 42.5,
  "from(bucket: \"shop\")\n  |> range(start: -1m)\n  |> filter(fn: (r) => r.app == \"podinfo-primary\")\n  |> sum()\n": 40,
  "shop/queue-depth?labelSelector=app=podinfo": 1.5,
  "shop/queue-depth?labelSelector=app=podinfo-primary": 1.5
 }}
JSON
python3 "$(dirname "$0")/provider_standin.py" --config "$TMP/standin.cfg" \
	--violations "$TMP/violations" >"$TMP/standin.out" 2>"$TMP/standin.err" &
standin=$!
at_exit "kill $standin 2>/dev/null; wait $standin 2>/dev/null"
wait_for grep -q listening "$TMP/standin.out" || fail "the stand-in did not start: $(cat "$TMP/standin.err")"
URL=$(sed -n 's/^listening on //p' "$TMP/standin.out")
at_end '[ ! -s "$TMP/violations" ] || { echo "FAIL: perch broke a provider API: $(cat "$TMP/violations")" >&2; false; }'

cat >"$TMP/cluster.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: datadog, namespace: shop}
data:
  datadog_api_key: $(printf %s "$DDK" | base64)
  datadog_application_key: $(printf %s "$DDA" | base64)
---
apiVersion: v1
kind: Secret
metadata: {name: datadog-half, namespace: shop}
stringData: {datadog_api_key: "$DDK"}
---
apiVersion: v1
kind: Secret
metadata: {name: newrelic, namespace: shop}
stringData: {newrelic_account_id: "1234567", newrelic_query_key: "$NRK"}
---
apiVersion: v1
kind: Secret
metadata: {name: newrelic-empty, namespace: shop}
stringData: {newrelic_account_id: "1234567", newrelic_query_key: ""}
---
apiVersion: v1
kind: Secret
metadata: {name: influxdb, namespace: shop}
stringData: {token: "$IFT", org: "shop org"}
---
apiVersion: v1
kind: Secret
metadata: {name: external, namespace: shop}
stringData: {token: "$K8T"}
YAML
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

cat >"$TMP/templates.yaml" <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: dd-errors, namespace: shop}
spec:
  provider: {type: datadog, address: $URL, secretRef: {name: datadog}}
  query: sum:trace.http.request.errors{service:{{ target }}}.as_count() / sum:trace.http.request.hits{service:{{ target }}}.as_count()
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: dd-empty, namespace: shop}
spec:
  provider: {type: datadog, address: $URL, secretRef: {name: datadog}}
  query: sum:nothing{service:{{ target }}}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: dd-half, namespace: shop}
spec:
  provider: {type: datadog, address: $URL, secretRef: {name: datadog-half}}
  query: sum:nothing{service:{{ target }}}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: nr-p99, namespace: shop}
spec:
  provider: {type: newrelic, address: $URL, secretRef: {name: newrelic}}
  query: SELECT percentile(duration, 99) * 1000 AS result FROM Transaction WHERE appName = '{{ target }}' AND namespace = '{{ namespace }}'
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: nr-bad, namespace: shop}
spec:
  provider: {type: newrelic, address: $URL, secretRef: {name: newrelic}}
  query: SELECT bad FROM
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: nr-empty, namespace: shop}
spec:
  provider: {type: newrelic, address: $URL, secretRef: {name: newrelic-empty}}
  query: SELECT bad FROM
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: flux-sum, namespace: shop}
spec:
  provider: {type: influxdb, address: $URL, secretRef: {name: influxdb}}
  query: |
    from(bucket: "{{ namespace }}")
      |> range(start: -{{ interval }})
      |> filter(fn: (r) => r.app == "{{ target }}")
      |> sum()
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: queue, namespace: shop}
spec:
  provider: {type: externalmetrics, address: $URL, secretRef: {name: external}}
  query: '{{ namespace }}/queue-depth?labelSelector=app={{ target }}'
YAML
write() {	# FILE METRIC-TEMPLATE[:min:max]...
	local f=$1 t
	shift
	{
		canary podinfo shop istio podinfo
		for t in "$@"; do
			IFS=: read -r name min max <<<"$t"
			printf '    - name: %s\n      interval: 1m\n      templateRef: {name: %s}\n' "$name" "$name"
			printf '      thresholdRange: {min: %s, max: %s}\n' "$min" "$max"
		done
		cat "$TMP/templates.yaml"
	} >"$TMP/$f"
}
write good.yaml dd-errors:0:1 nr-p99:0:200 flux-sum:40:50 queue:0:2
out=$("$PERCH_BIN" check -f "$TMP/good.yaml" -n shop -o json 2>"$TMP/good.err")
rc=$?
printf '%s\n' "$out" >"$TMP/good.json"
expect_eq "check exit: $(cat "$TMP/good.err")" "$rc" 0
# the first (oldest) point of Datadog's first series
expect_num "datadog value" "$(json_field "$TMP/good.json" "shop/podinfo dd-errors" value)" 0.5
expect_num "datadog primary" "$(json_field "$TMP/good.json" "shop/podinfo dd-errors" primaryValue)" 0.25
expect_eq "datadog isolation" "$(json_field "$TMP/good.json" "shop/podinfo dd-errors" isolation)" isolated
expect_num "newrelic value" "$(json_field "$TMP/good.json" "shop/podinfo nr-p99" value)" 123.5
expect_num "newrelic primary" "$(json_field "$TMP/good.json" "shop/podinfo nr-p99" primaryValue)" 140
# the first record of the first table
expect_num "influxdb value" "$(json_field "$TMP/good.json" "shop/podinfo flux-sum" value)" 42.5
expect_num "influxdb primary" "$(json_field "$TMP/good.json" "shop/podinfo flux-sum" primaryValue)" 40
# "1500m" is 1.5; the same for the primary: the query does not isolate
expect_num "external value" "$(json_field "$TMP/good.json" "shop/podinfo queue" value)" 1.5
expect_eq "external isolation" "$(json_field "$TMP/good.json" "shop/podinfo queue" isolation)" same-as-primary
expect_match "external warning" "$(cat "$TMP/good.err")" "queue: canary and primary give the same value"

# at a past time (check --time, as perch replay asks): New Relic's window
# is SINCE/UNTIL in epoch milliseconds, Flux's now is moved there (the
# stand-in checks both against 2024-05-01T10:00:00Z)
write past.yaml nr-p99:0:200 flux-sum:40:50
"$PERCH_BIN" check -f "$TMP/past.yaml" -n shop --time 2024-05-01T10:00:00Z -o json \
	>"$TMP/past.json" 2>"$TMP/past.err"
expect_eq "past: exit: $(cat "$TMP/past.err")" "$?" 0
expect_num "newrelic past value" "$(json_field "$TMP/past.json" "shop/podinfo nr-p99" value)" 123.5
expect_num "influxdb past value" "$(json_field "$TMP/past.json" "shop/podinfo flux-sum" value)" 42.5
grep -qx 'past newrelic 1714557540000 1714557600000' "$TMP/standin.out" ||
	fail "New Relic was not asked for the past window: $(cat "$TMP/standin.out")"
grep -qx 'past influxdb 2024-05-01T10:00:00Z' "$TMP/standin.out" ||
	fail "InfluxDB was not asked at the past time: $(cat "$TMP/standin.out")"
# the external metrics API answers only for now: an error, not now's value
write past-ext.yaml queue:0:2
"$PERCH_BIN" check -f "$TMP/past-ext.yaml" -n shop --time 2024-05-01T10:00:00Z -o json \
	>"$TMP/past-ext.json" 2>/dev/null
expect_eq "past externalmetrics: exit" "$?" 1
expect_eq "past externalmetrics" "$(json_field "$TMP/past-ext.json" "shop/podinfo queue" result)" error
expect_match "past externalmetrics: message" \
	"$(json_field "$TMP/past-ext.json" "shop/podinfo queue" error)" "externalmetrics cannot query the past"

# off the cluster the Secrets cannot be read: said, and nothing is sent
write dd.yaml dd-errors:0:1
out=$("$PERCH_BIN" check -f "$TMP/dd.yaml" 2>&1)
expect_eq "off the cluster: exit" "$?" 1
expect_match "off the cluster: warning" "$out" "MetricTemplate dd-errors: its secretRef is read from the cluster"
expect_match "off the cluster: error" "$out" "no provider.secretRef, and the provider needs its key datadog_api_key"

# text output
out=$("$PERCH_BIN" check -f "$TMP/good.yaml" -n shop 2>&1)
expect_match "text" "$out" "nr-p99"

# empty answers: no data; refused queries: errors naming the provider
write bad.yaml dd-empty:0:1 nr-bad:0:1
"$PERCH_BIN" check -f "$TMP/bad.yaml" -n shop -o json >"$TMP/bad.json" 2>"$TMP/bad.err"
expect_eq "bad: exit" "$?" 1
expect_eq "datadog empty" "$(json_field "$TMP/bad.json" "shop/podinfo dd-empty" result)" nodata
expect_eq "newrelic refused" "$(json_field "$TMP/bad.json" "shop/podinfo nr-bad" result)" error
expect_match "newrelic refused: message" "$(json_field "$TMP/bad.json" "shop/podinfo nr-bad" error)" \
	"New Relic: HTTP 400: NRQL Syntax Error"

# a Secret without one of the provider's keys: the template and the key named
write half.yaml dd-half:0:1
out=$("$PERCH_BIN" check -f "$TMP/half.yaml" -n shop 2>&1)
expect_eq "half secret: exit" "$?" 1
expect_match "half secret" "$out" "MetricTemplate shop/dd-half: secret datadog-half has no datadog_application_key"
# an empty value is refused as missing, and nothing is sent with it
write empty.yaml nr-empty:0:1
out=$("$PERCH_BIN" check -f "$TMP/empty.yaml" -n shop 2>&1)
expect_eq "empty key: exit" "$?" 1
expect_match "empty key" "$out" "MetricTemplate shop/nr-empty: secret newrelic-empty has no newrelic_query_key"

# no secretRef at all: perch validate names what the provider needs
sed 's/, secretRef: {name: datadog}//' "$TMP/good.yaml" >"$TMP/nosecret.yaml"
out=$("$PERCH_BIN" validate "$TMP/nosecret.yaml" 2>&1)
expect_eq "validate without secretRef: exit" "$?" 1
expect_match "validate without secretRef" "$out" \
	"MetricTemplate shop/dd-errors: provider type datadog needs spec.provider.secretRef, a Secret with the keys datadog_api_key, datadog_application_key"
out=$("$PERCH_BIN" check -f "$TMP/nosecret.yaml" -n shop 2>&1)
expect_eq "check without secretRef: exit" "$?" 1

# the secrets never reach an output
for s in "$DDK" "$DDA" "$NRK" "$IFT" "$K8T"; do
	if grep -qF -- "$s" "$TMP"/*.json "$TMP"/*.err; then fail "a secret leaked into the output"; fi
	case "$out" in *"$s"*) fail "a secret leaked into the output" ;; esac
done
