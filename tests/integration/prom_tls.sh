# prom_tls.sh — `perch check` and `perch replay --from --to` over HTTPS: an
# unknown certificate is refused (exit 3, the reason named), trusted with
# --ca-file, or not verified with --insecure-skip-tls-verify; replay sends
# the bearer token of --prometheus-token-file.
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

# perch replay takes the same options: three analyses, a minute apart.
FROM=$(( $(date +%s) / 60 * 60 - 3600 )) TO=$(( $(date +%s) / 60 * 60 - 3480 ))
replay() { "$PERCH_BIN" replay -f "$TMP/c.yaml" --from "$FROM" --to "$TO" --prometheus "$URL" "$@"; }
err=$(replay 2>&1 >/dev/null); rc=$?
expect_eq "replay unknown certificate exit" "$rc" 3
expect_match "replay unknown certificate" "$err" 'cannot reach Prometheus: .*certificate'
printf ' replay-s3cret \n' >"$TMP/token"
: >"$TMP/requests.log"
out=$(replay --ca-file "$TMP/cert.pem" --prometheus-token-file "$TMP/token"); rc=$?
expect_eq "replay --ca-file exit" "$rc" 0
expect_match "replay --ca-file analyses" "$out" '^t/app: 3 analyses of metrics from --prometheus$'
expect_match "replay --ca-file value" "$out" 'request-success-rate 99.5% pass$'
expect_eq "replay token on every query" "$(grep -c 'auth=Bearer replay-s3cret$' "$TMP/requests.log")" \
	"$(wc -l <"$TMP/requests.log")"
grep -q . "$TMP/requests.log" || fail "replay sent no query"
case $out in *s3cret*) fail "replay printed the token" ;; esac
replay --insecure-skip-tls-verify -o json >"$TMP/replay.json"
expect_eq "replay --insecure-skip-tls-verify exit" "$?" 0
expect_eq "replay --insecure-skip-tls-verify outcome" "$(tail -1 "$TMP/replay.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["outcome"])')" undecided
err=$(replay --ca-file "$TMP/cert.pem" --insecure-skip-tls-verify 2>&1 >/dev/null); rc=$?
expect_eq "replay --ca-file and insecure exit" "$rc" 2
expect_match "replay --ca-file and insecure" "$err" "contradict each other"
err=$(replay --prometheus-token-file "$TMP/none" 2>&1 >/dev/null); rc=$?
expect_eq "replay missing token file exit" "$rc" 2
exit 0
