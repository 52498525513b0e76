# prom_tls.sh — `perch check` over HTTPS: an unknown certificate is refused
# (exit 3, the reason named), trusted with --ca-file, or not verified with
# --insecure-skip-tls-verify.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need python3 openssl

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=perch-test" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	>"$TMP/openssl.log" 2>&1 || { cat "$TMP/openssl.log"; fail "openssl could not make a certificate"; }
python3 "$(dirname "$0")/prom_fake.py" --log "$TMP/requests.log" \
	--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for grep -q listening "$TMP/fake.out" || fail "fake Prometheus did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")
expect_match "https" "$URL" '^https://'

{ canary app t istio app; cat <<'YAML'
    - name: request-success-rate
      interval: 1m
      thresholdRange: {min: 99}
YAML
} >"$TMP/c.yaml"

"$PERCH_BIN" check -f "$TMP/c.yaml" --prometheus "$URL" -o json >"$TMP/refused.json" 2>&1
expect_eq "unknown certificate exit" "$?" 3
expect_match "unknown certificate" "$(json_field "$TMP/refused.json" "t/app request-success-rate" error)" \
	'^cannot reach Prometheus: .*certificate'

"$PERCH_BIN" check -f "$TMP/c.yaml" --prometheus "$URL" --ca-file "$TMP/cert.pem" -o json >"$TMP/ca.json"
expect_eq "--ca-file exit" "$?" 0
expect_num "--ca-file value" "$(json_field "$TMP/ca.json" "t/app request-success-rate" value)" 99.5

"$PERCH_BIN" check -f "$TMP/c.yaml" --prometheus "$URL" --insecure-skip-tls-verify -o json >"$TMP/insecure.json"
expect_eq "--insecure-skip-tls-verify exit" "$?" 0
expect_eq "--insecure-skip-tls-verify result" "$(json_field "$TMP/insecure.json" "t/app request-success-rate" result)" pass
exit 0
