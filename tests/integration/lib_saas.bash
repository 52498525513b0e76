# lib_saas.bash — the stand-ins of the SaaS metric providers
# (saas_fake.py) and the checks every metrics_<provider>.sh makes against
# one (sourced after lib.bash and prom_lib.bash, not run).
#
#   saas_start PROVIDER ARGS...   starts saas_fake.py for PROVIDER with ARGS,
#       its request log in $TMP/req.log; sets URL; stopped at exit.
#   saas_cluster SECRET-DATA   the Namespace shop, the Secret dt with
#       stringData SECRET-DATA (a YAML flow map) and the Secret wrongkey
#       that has none of a provider's keys, as YAML.
#   saas_write FILE TEMPLATE...   $TMP/FILE.yaml: the Canary app in shop with
#       a metric (interval 2m, max 900) for each MetricTemplate in shop.
#   saas_checks VALUE NODATA ERROR ERROR-TEXT [KEY]   `perch check` with
#       $SAAS_NS (when set: -n SAAS_NS) on $TMP/good.yaml: metric VALUE
#       812.4, a pass, its primary 500.0, isolated (kept in good.json);
#       bad.yaml: exit 1, metric NODATA no data, metric ERROR an error whose
#       text matches ERROR-TEXT (bad.json); down.yaml: exit 3, metric down
#       unavailable (HTTP 503); with KEY, nokey.yaml: exit 1, "MetricTemplate
#       shop/nokey: secret wrongkey has no KEY"; the text output has the
#       value; no "s3cr3t" in any output or request, and the stand-in
#       refused no request.

saas_start() {
	local provider=$1 pid
	shift
	python3 "$PERCH_ROOT/tests/integration/saas_fake.py" --provider "$provider" \
		--log "$TMP/req.log" "$@" >"$TMP/fake.out" 2>&1 &
	pid=$!
	at_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	WAIT_SECS=30 wait_for grep -q listening "$TMP/fake.out" ||
		fail "the $provider stand-in did not start: $(cat "$TMP/fake.out")"
	URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")
}

saas_cluster() {
	cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Secret
metadata: {name: dt, namespace: shop}
stringData: $1
---
apiVersion: v1
kind: Secret
metadata: {name: wrongkey, namespace: shop}
stringData: {token: s3cr3t-not-a-key-of-any-provider}
YAML
}

saas_write() {
	local f=$1 t
	shift
	{ canary app shop istio app; for t in "$@"; do cat <<YAML
    - name: $t
      interval: 2m
      templateRef: {name: $t, namespace: shop}
      thresholdRange: {max: 900}
YAML
	done; } >"$TMP/$f.yaml"
}

_saas_check() {	# FILE [ARGS...]: perch check of $TMP/FILE.yaml
	local f=$1
	shift
	"$PERCH_BIN" check ${SAAS_NS:+-n "$SAAS_NS"} -f "$TMP/$f.yaml" "$@"
}

saas_checks() {
	local value=$1 nodata=$2 error=$3 text=$4 key=${5:-} rc out

	_saas_check good -o json >"$TMP/good.json" 2>"$TMP/err"
	rc=$?
	expect_eq "value: exit ($(cat "$TMP/err"))" "$rc" 0
	expect_eq "value" "$(json_field "$TMP/good.json" "shop/app $value" value)" 812.4
	expect_eq "value: result" "$(json_field "$TMP/good.json" "shop/app $value" result)" pass
	expect_eq "primary value" "$(json_field "$TMP/good.json" "shop/app $value" primaryValue)" 500.0
	expect_eq "isolation" "$(json_field "$TMP/good.json" "shop/app $value" isolation)" isolated

	_saas_check bad -o json >"$TMP/bad.json" 2>>"$TMP/err"
	expect_eq "errors: exit" "$?" 1
	expect_eq "no data" "$(json_field "$TMP/bad.json" "shop/app $nodata" result)" nodata
	expect_eq "error answer" "$(json_field "$TMP/bad.json" "shop/app $error" result)" error
	expect_match "error text" "$(json_field "$TMP/bad.json" "shop/app $error" error)" "$text"

	# No answer (HTTP 5xx) is the provider being unavailable: exit 3.
	_saas_check down -o json >"$TMP/down.json" 2>>"$TMP/err"
	expect_eq "down: exit" "$?" 3
	expect_match "down" "$(json_field "$TMP/down.json" "shop/app down" error)" 'HTTP 503'

	if [ -n "$key" ]; then
		out=$(_saas_check nokey 2>&1)
		expect_eq "missing key: exit" "$?" 1
		expect_match "missing key" "$out" "MetricTemplate shop/nokey: secret wrongkey has no $key"
	fi

	# Text output too, and nothing anywhere carries a secret.
	_saas_check good >"$TMP/good.txt" 2>&1 || fail "text check failed: $(cat "$TMP/good.txt")"
	expect_match "text" "$(cat "$TMP/good.txt")" '812.4'
	if grep -q s3cr3t "$TMP"/*.json "$TMP/err" "$TMP/good.txt" "$TMP/req.log"; then
		fail "a secret leaked"
	fi
	if grep -q '^BAD' "$TMP/req.log"; then
		fail "the stand-in refused a request: $(grep BAD "$TMP/req.log")"
	fi
}
