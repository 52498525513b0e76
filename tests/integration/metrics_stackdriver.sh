# metrics_stackdriver.sh — MetricTemplates of type stackdriver: `perch
# check` against a stand-in of Google Cloud Monitoring's REST
# timeSeries:query and of the metadata server (GCE_METADATA_HOST) whose
# access token it must carry (saas_fake.py checks the token, the project
# of the Secret in the path, the JSON body): a value and its bounds (a
# doubleValue, an int64Value), the primary's value (the isolation check),
# no data, Google's error answer, a missing project key named with its
# template, and no token in the output; with a serviceAccountKey, the
# token of an RS256 JWT the stand-in verifies with the key's public half,
# kept for the next queries and fetched again after a 401, another key's
# signature refused, a malformed key named with template, Secret and key;
# a key refused fails its own metric only (named with template, Secret
# and the cause), the others of the analysis get their values; a past
# time (check --time, replay) refused, saying why.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need kubectl python3 openssl

start_apiserver tls --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/tls.kubeconfig" SAAS_NS=shop
SECRET=tok
# The service account's key (its public half is the stand-in's), and another.
for k in sa other; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/$k.pem" 2>/dev/null ||
		fail "openssl genpkey"
done
openssl pkey -in "$TMP/sa.pem" -pubout -out "$TMP/sa.pub" || fail "openssl pkey"
saas_start stackdriver --project my-proj-1 --secret "$SECRET" --window-ms 1200000 \
	--sa-public-key "$TMP/sa.pub" --sa-email canary-reader@my-proj-1.iam.gserviceaccount.com \
	--sa-kid 4f2a9c
export GCE_METADATA_HOST=${URL#http://}
sakey() {	# PEM: the JSON key of the service account, as a YAML string
	python3 -c 'import json, sys; print(json.dumps(json.dumps({"type": "service_account",
		"project_id": "my-proj-1", "private_key_id": "4f2a9c", "private_key": open(sys.argv[1]).read(),
		"client_email": "canary-reader@my-proj-1.iam.gserviceaccount.com", "token_uri": sys.argv[2]})))' \
		"$1" "$URL/token"
}

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
stringData: {project: my-proj-1, serviceAccountKey: $(sakey "$TMP/sa.pem")}
---
apiVersion: v1
kind: Secret
metadata: {name: saother, namespace: shop}
stringData: {project: my-proj-1, serviceAccountKey: $(sakey "$TMP/other.pem")}
---
apiVersion: v1
kind: Secret
metadata: {name: sabad, namespace: shop}
stringData: {project: my-proj-1, serviceAccountKey: '{"type": "service_account"}'}
YAML
template latency ok; template empty nodata; template broken broken; template down down
template nokey ok wrongkey; template sakey ok sakey; template sarevoke revoke sakey
template saother ok saother; template sabad ok sabad; template int64 int64; } >"$TMP/cluster.yaml"
kubectl --request-timeout=10s apply -f "$TMP/cluster.yaml" >"$TMP/apply.out" 2>&1 ||
	fail "kubectl apply: $(cat "$TMP/apply.out")"

saas_write good latency int64
saas_write sakey sakey
saas_write sarevoke sarevoke
saas_write saother saother
saas_write sabad sabad
saas_write mixed saother sakey latency
saas_write bad empty broken
saas_write down down
saas_write nokey nokey
saas_checks latency empty broken \
	'error requesting stackdriver: INVALID_ARGUMENT: Line 1, column 6: unknown table' project
expect_eq "int64Value" "$(json_field "$TMP/good.json" "shop/app int64" value)" 812.0
grep -q "query fetch k8s_container | metric 'custom.googleapis.com/latency' | filter resource.container_name == 'app-ok' | within 2m" \
	"$TMP/req.log" || fail "the selector did not arrive intact: $(cat "$TMP/req.log")"

grep -q '^token$' "$TMP/req.log" || fail "no token from the metadata server"

# The service account's key: a JWT the stand-in verifies, one token for
# the canary's and the primary's queries; a token refused (401) is fetched
# again and the query sent once more.
"$PERCH_BIN" check -f "$TMP/sakey.yaml" -n shop -o json >"$TMP/sa.json" 2>"$TMP/sa.err"
rc=$?
expect_eq "service account key: exit ($(cat "$TMP/sa.err"))" "$rc" 0
expect_eq "service account key: value" "$(json_field "$TMP/sa.json" "shop/app sakey" value)" 812.4
grep -Eq '"primaryValue": ?500\.0' "$TMP/sa.json" || fail "no primary value: $(cat "$TMP/sa.json")"
expect_eq "one token" "$(grep -c '^sa-token' "$TMP/req.log")" 1
"$PERCH_BIN" check -f "$TMP/sarevoke.yaml" -n shop -o json >"$TMP/revoke.json" 2>"$TMP/sa.err"
rc=$?
expect_eq "401: exit ($(cat "$TMP/sa.err"))" "$rc" 0
grep -q '^sa-revoked' "$TMP/req.log" || fail "the stand-in did not refuse the first token"
expect_eq "401: a new token" "$(grep -c '^sa-token' "$TMP/req.log")" 3
grep -Eq '"value": ?812\.(4|39)' "$TMP/revoke.json" || fail "401: no value: $(cat "$TMP/revoke.json")"
grep -q '^BAD' "$TMP/req.log" && fail "the stand-in refused a request: $(grep BAD "$TMP/req.log")"
grep -l -e 'PRIVATE KEY' -e s3cr3t "$TMP"/sa.json "$TMP"/revoke.json "$TMP/sa.err" "$TMP/req.log" &&
	fail "a secret leaked"

# Another key's signature is refused by the token endpoint; a key that is
# not a service account key is an error naming the template, Secret and key.
out=$("$PERCH_BIN" check -f "$TMP/saother.yaml" -n shop 2>&1)
expect_eq "other key: exit" "$?" 1
expect_match "other key" "$out" 'token endpoint http://127.0.0.1:[0-9]*/token: HTTP 400: invalid_grant: Invalid JWT Signature'
grep -q '^BAD: token request: the RS256 signature does not verify' "$TMP/req.log" ||
	fail "the stand-in did not check the signature: $(cat "$TMP/req.log")"
out=$("$PERCH_BIN" check -f "$TMP/sabad.yaml" -n shop 2>&1)
expect_eq "malformed key: exit" "$?" 1
expect_match "malformed key" "$out" 'MetricTemplate shop/sabad: secret sabad key serviceAccountKey is not a service account key: has no client_email'
case $out in *PRIVATE*|*s3cr3t*) fail "a secret leaked: $out" ;; esac

# One refused key among other stackdriver metrics: its metric alone fails.
"$PERCH_BIN" check -f "$TMP/mixed.yaml" -n shop -o json >"$TMP/mixed.json" 2>"$TMP/mixed.err"
rc=$?
expect_eq "refused key among others: exit ($(cat "$TMP/mixed.err"))" "$rc" 1
expect_eq "refused key: result" "$(json_field "$TMP/mixed.json" "shop/app saother" result)" error
expect_match "refused key: error" "$(json_field "$TMP/mixed.json" "shop/app saother" error)" \
	'^MetricTemplate shop/saother: secret shop/saother: no access token for its serviceAccountKey: Stackdriver token endpoint http://127.0.0.1:[0-9]*/token: HTTP 400: invalid_grant'
expect_eq "refused key: the other key's value" "$(json_field "$TMP/mixed.json" "shop/app sakey" value)" 812.4
expect_eq "refused key: the metadata token's value" \
	"$(json_field "$TMP/mixed.json" "shop/app latency" value)" 812.4
case $(cat "$TMP/mixed.json" "$TMP/mixed.err") in *PRIVATE*|*s3cr3t*) fail "a secret leaked" ;; esac

# A past time is refused, saying why: the request has no time of its own.
"$PERCH_BIN" check -f "$TMP/good.yaml" -n shop --time 2024-05-01T10:00:00Z -o json >"$TMP/past.json" \
	2>"$TMP/past.err"
expect_match "past: error ($(cat "$TMP/past.err"))" "$(json_field "$TMP/past.json" "shop/app latency" error)" \
	"^stackdriver cannot query the past \(timeSeries:query takes no time; only the template's MQL sets its window, and perch does not rewrite MQL\): --time cannot be used for it$"
err=$("$PERCH_BIN" replay -f "$TMP/good.yaml" -n shop --from 1714557600 --to 1714557660 2>&1 >/dev/null)
rc=$?
expect_eq "replay: exit ($err)" "$rc" 2
expect_match "replay: why" "$err" \
	'no metric of the spec can be replayed: stackdriver cannot query the past \(timeSeries:query takes no time; '
