# prom_faults.sh — `perch check` against a Prometheus that is stopped, slow,
# answers 4xx/5xx with error JSON or HTML, garbage, an oversized body, a
# matrix, NaN or nothing: each is a clear error or "no data" with the right
# exit status, never a crash and never a pass; and one that is merely slow
# (1.5 s a query, 36 queries) passes.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need python3

python3 "$(dirname "$0")/prom_fake.py" --log "$TMP/requests.log" >"$TMP/fake.out" 2>&1 &
fake=$!
at_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for grep -q listening "$TMP/fake.out" || fail "fake Prometheus did not start"
URL=$(sed -n 's/^listening on //p' "$TMP/fake.out")

# A Canary whose one metric is a template query naming the fault.
write_canary() {	# MODE
	{ canary app t istio app; cat <<YAML
    - name: probe
      interval: 1m
      templateRef: {name: probe}
      thresholdRange: {min: 1}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: probe, namespace: t}
spec:
  provider: {type: prometheus, address: http://unused.invalid}
  query: 'sum(fault_$1{namespace="{{ namespace }}"})'
YAML
	} >"$TMP/$1.yaml"
}

# case MODE WANT_EXIT WANT_RESULT ERROR_REGEX [EXTRA OPTIONS...]
case_() {
	local mode=$1 want_rc=$2 want_res=$3 re=$4 out err rc
	shift 4
	write_canary "$mode"
	# (a perch that waited for the slow answer, 60 s, is stopped: exit 124)
	out=$(timeout 40 "$PERCH_BIN" check -f "$TMP/$mode.yaml" --prometheus "${PROM:-$URL}" -o json "$@" 2>"$TMP/err")
	rc=$?
	err=$(cat "$TMP/err")
	echo "$mode: exit $rc: $out $err"
	expect_eq "$mode exit" "$rc" "$want_rc"
	printf '%s\n' "$out" >"$TMP/$mode.json"
	expect_eq "$mode result" "$(json_field "$TMP/$mode.json" "t/app probe" result)" "$want_res"
	expect_match "$mode message" "$(json_field "$TMP/$mode.json" "t/app probe" error)" "$re"
	# no control characters reach the output
	if printf '%s' "$out$err" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "$mode: control characters in the output"; fi
}

case_ ok 0 pass "^null$"
case_ bad 1 error '^HTTP 400: Prometheus error: bad_data: invalid parameter "query": 1:9: parse error: red$'
case_ unavailable 3 error '^HTTP 503: Prometheus error: unavailable: TSDB not ready$'
case_ plain500 3 error '^HTTP 500: <html>upstream  exploded</html>$'
case_ garbage 1 error '^not a Prometheus answer \(invalid JSON'
case_ huge 1 error '^Prometheus answer larger than 8388608 bytes$'
case_ matrix 1 error '^multiple values returned'
case_ nan 1 nodata '^no values found$'
case_ empty 1 nodata '^no values found$'
# The answer would take 60 s: exit 3 (not 124) says the timeout cut it
# short, however busy the machine.
case_ slow 3 error '^Prometheus query timed out after 1000 ms$' --timeout 1s

# A slow Prometheus is not a failing one: 12 metrics whose queries (value,
# volume, primary: 36) each take 1.5 s all pass, as each request's timeout
# runs from when it is sent, not from when it was queued.
{ canary app t istio app '    perch.dev/min-requests: "1"'
for i in $(seq 1 12); do printf '    - name: m%d\n      interval: 1m\n      templateRef: {name: m%d}\n      thresholdRange: {min: 1}\n' "$i" "$i"; done
for i in $(seq 1 12); do cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: m$i
  namespace: t
  annotations: {perch.dev/volume-query: 'sum(fault_lag1500{v="$i", deployment="{{ target }}"})'}
spec:
  provider: {type: prometheus, address: http://unused.invalid}
  query: 'sum(fault_lag1500{n="$i", deployment="{{ target }}"})'
YAML
done; } >"$TMP/twelve.yaml"
: >"$TMP/requests.log"
start=$(date +%s)
out=$("$PERCH_BIN" check -f "$TMP/twelve.yaml" --prometheus "$URL" 2>"$TMP/err"); rc=$?
expect_eq "12 slow metrics: exit ($(head -c 300 "$TMP/err"))" "$rc" 0
expect_eq "12 slow metrics: passes" "$(grep -c '^  pass ' <<<"$out")" 12
expect_eq "12 slow metrics: queries" "$(grep -c lag1500 "$TMP/requests.log")" 36
[ $(( $(date +%s) - start )) -le 15 ] || fail "12 slow metrics took $(( $(date +%s) - start )) s"

# Infinite and huge values are said as such; two infinities are the same
# value (the isolation check), not "differs".
for mode in inf huge1e308; do
	write_canary "$mode"
	sed -i 's/namespace="{{ namespace }}"/deployment="{{ target }}"/' "$TMP/$mode.yaml"
	grep -q "fault_$mode{deployment=" "$TMP/$mode.yaml" || fail "$mode: the canary file"
	# (a perch that waited for the slow answer, 60 s, is stopped: exit 124)
	out=$(timeout 40 "$PERCH_BIN" check -f "$TMP/$mode.yaml" --prometheus "$URL" 2>/dev/null)
	json=$("$PERCH_BIN" check -f "$TMP/$mode.yaml" --prometheus "$URL" -o json 2>/dev/null)
	case $mode in
	inf) expect_match "+Inf text" "$out" 'pass +probe = \+Inf'
	     expect_match "+Inf primary" "$out" 'primary: +\+Inf \(WARNING: same as the canary'
	     expect_match "+Inf JSON" "$json" '"value":null.*"isolation":"same-as-primary"';;
	*)   expect_match "1e308 text" "$out" 'pass +probe = 1e\+308';;
	esac
	if printf '%s' "$out" | grep -qi 'infs\|nans\|differs'; then fail "$mode: $out"; fi
done

# With perch.dev/min-requests, a template without a volume query is named.
{ canary app t istio app '    perch.dev/min-requests: "10"'; cat <<YAML
    - name: probe
      interval: 1m
      templateRef: {name: probe}
      thresholdRange: {min: 1}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: probe, namespace: t}
spec:
  provider: {type: prometheus, address: http://unused.invalid}
  query: 'sum(fault_ok{namespace="{{ namespace }}"})'
YAML
} >"$TMP/guard.yaml"
out=$("$PERCH_BIN" check -f "$TMP/guard.yaml" --prometheus "$URL")
expect_eq "no volume query exit" "$?" 0
expect_match "no volume query" "$out" "volume: +unknown: the MetricTemplate has no perch.dev/volume-query"

# A bearer token from a file goes to the server, never to the output.
printf 's3cr3t-t0ken\n' >"$TMP/token"
case_ ok 0 pass "^null$" --prometheus-token-file "$TMP/token"
grep -q 'auth=Bearer s3cr3t-t0ken$' "$TMP/requests.log" || fail "the token was not sent"
if grep -rq s3cr3t "$TMP"/*.json "$TMP/err"; then fail "the token leaked into the output"; fi

# Text from the files (metric name, query) is sanitised in both outputs:
# jansson escapes C0 controls, but not bidi overrides or C1 controls.
sed -e 's|- name: probe|- name: "probe\\u202e"|' \
	-e 's|query: .*|query: "sum(fault_ok{namespace=\\"{{ namespace }}\\", x=\\"\\e]0;t\\a\\u202e\\x9b\\"})"|' \
	"$TMP/ok.yaml" >"$TMP/esc.yaml"
for fmt in text json; do
	# (a perch that waited for the slow answer, 60 s, is stopped: exit 124)
	out=$(timeout 40 "$PERCH_BIN" check -f "$TMP/esc.yaml" --prometheus "$URL" -o $fmt 2>&1); rc=$?
	expect_eq "escapes in the file, $fmt: exit" "$rc" 0
	expect_match "escapes in the file, $fmt" "$out" 'x=[\\]?"[\\]?"'
	if printf '%s' "$out" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "$fmt: control characters in the output"; fi
	if printf '%s' "$out" | grep -q "$(printf '\342\200\256')\|$(printf '\302\233')\|u001b\|u001B\|u0007"; then
		fail "$fmt: an escape, bidi override or C1 control in the output"
	fi
done

# Credentials in the URL and in the MetricTemplate's address appear in no
# output, no error and no verbose log, whether the server answers or not.
hostport=${URL#http://}
sed 's|address: http://unused.invalid|address: "http://admin:TPL-PASSW0RD@unused.invalid"|' \
	"$TMP/bad.yaml" >"$TMP/cred.yaml"
for url in "http://alice:URL-PASSW0RD@$hostport" "http://alice:URL-PASSW0RD@127.0.0.1:1"; do
	for fmt in text json; do
		"$PERCH_BIN" --log "$TMP/cred.log" -vvv check -f "$TMP/cred.yaml" --prometheus "$url" \
			--prometheus-token-file "$TMP/token" -o $fmt >"$TMP/cred.out" 2>&1
		expect_match "credentials $url $fmt" "$(cat "$TMP/cred.out")" "error"
	done
done
if grep -q 'PASSW0RD\|s3cr3t' "$TMP/cred.out" "$TMP/cred.log"; then fail "a credential leaked"; fi
[ -s "$TMP/cred.log" ] || fail "the verbose log is empty"

# Prometheus stopped: nothing listens on the port any more.
kill $fake; wait $fake 2>/dev/null
PROM=$URL case_ stopped 3 error '^cannot reach Prometheus: '

# Usage errors: one line, exit 2.
: >"$TMP/empty"
for args in "--prometheus $URL" "-f $TMP/ok.yaml" "-f $TMP/ok.yaml --prometheus $URL --time yesterday" \
	"-f $TMP/ok.yaml --prometheus $URL -o yaml" "-f $TMP/ok.yaml --prometheus $URL --prometheus-token-file /nonexistent" \
	"-f $TMP/ok.yaml --prometheus $URL --prometheus-token-file $TMP" \
	"-f $TMP/ok.yaml --prometheus $URL --time 2026-02-30T12:00:00Z" \
	"-f $TMP/ok.yaml --prometheus $URL --time 0x6553f100" "-f $TMP/ok.yaml --prometheus $URL --time 1.7e9" \
	"-f $TMP/ok.yaml --prometheus $URL --timeout 1h" \
	"-f $TMP/ok.yaml --prometheus $URL --ca-file /nonexistent" \
	"-f $TMP/ok.yaml --prometheus $URL --ca-file $TMP" \
	"-f $TMP/ok.yaml --prometheus $URL --ca-file $TMP/empty" \
	"-f $TMP/ok.yaml --prometheus $URL --ca-file $TMP/ok.yaml --insecure-skip-tls-verify"; do
	# shellcheck disable=SC2086
	err=$("$PERCH_BIN" check $args 2>&1 >/dev/null); rc=$?
	expect_eq "usage '$args' exit" "$rc" 2
	expect_eq "usage '$args' one line" "$(printf '%s\n' "$err" | wc -l)" 1
done
err=$("$PERCH_BIN" check -f "$TMP/ok.yaml" --prometheus "$URL" --prometheus-token-file "$TMP" 2>&1)
expect_match "token file is a directory" "$err" "cannot read .*: Is a directory"
err=$("$PERCH_BIN" check -f "$TMP/ok.yaml" --prometheus "$URL" --ca-file /nonexistent 2>&1)
expect_match "missing CA file" "$err" "--ca-file: cannot read /nonexistent: No such file"
exit 0
