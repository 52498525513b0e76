# k8s_errors.sh — what `perch run` says when the cluster fails, on the test
# API server: Lease reads answering 503 (or slowly) leave the canary's
# ConfigMap untouched (same resourceVersion, same status) with exit 3; a
# wrong CA, a server that is down, a bad token, an exec plugin that exits 7,
# one that is missing, one that prints garbage and one that hangs are each
# named with the context, the server and the cause (never the token); the
# hanging plugin ends within its timeout, its whole process group with it;
# the first line says where perch is connecting; a context named with a
# right-to-left override reaches neither stderr nor the header raw.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl curl python3 tmux

start_apiserver e --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/e.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
faults() { curl -sfk -X POST "$APISERVER_URL/_test/faults" -d "$1" >/dev/null || fail "faults $1"; }

cart_app
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
run() { PERCH_TIME_SCALE=30 timeout "$(scaled 60)" "$PERCH_BIN" run --headless -f "$TMP/canary.yaml" "$@"; }

# A first run saves the canary's state in its ConfigMap.
run >"$TMP/first.out" 2>"$TMP/first.err" || fail "first run: $(cat "$TMP/first.err")"
expect_match "the progress line" "$(head -1 "$TMP/first.err")" \
	"^perch run: connecting to $APISERVER_URL \(context rw\)$"
cm() { K get configmap perch-cart -o jsonpath="{.metadata.resourceVersion} {.data.status}"; }
before=$(cm)
expect_match "the saved status" "$before" '"phase":"Initialized"'

# Lease reads fail (503, then 503 and slow): no control, nothing written.
for f in '{"error_5xx": 1000, "path": "leases", "methods": "GET"}' \
	'{"error_5xx": 1000, "latency_ms": 300, "path": "leases", "methods": "GET"}'; do
	faults "$f"
	run >"$TMP/out" 2>"$TMP/err"; rc=$?
	faults '{"error_5xx": 0, "latency_ms": 0, "path": "", "methods": ""}'
	expect_eq "exit status with Lease reads failing ($f)" "$rc" 3
	expect_match "the error" "$(cat "$TMP/err")" \
		"default/cart: cannot take control: lease default/perch-cart: HTTP 503 ServiceUnavailable from $APISERVER_URL \(context rw\): injected fault"
	expect_eq "the ConfigMap after a refused run ($f)" "$(cm)" "$before"
done

# Kubeconfigs that fail, each in its own way.
ca=$(sed -n 's/.*certificate-authority-data: "\(.*\)"/\1/p' "$KUBECONFIG" | head -1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/other.key" -out "$TMP/other.crt" \
	-days 2 -subj /CN=other-ca 2>/dev/null || fail "openssl"
other=$(base64 -w0 "$TMP/other.crt")
cat >"$TMP/plugin.sh" <<'EOF'
#!/bin/sh
case "$1" in
exit7) printf 'error: the SSO session expired, run "sso login"\nmore\n' >&2; exit 7;;
garbage) echo "not a credential";;
hang) sleep 600 & echo $! >"$PLUGIN_PID_FILE"; wait;;
esac
EOF
chmod +x "$TMP/plugin.sh"
kc() {	# NAME SERVER CA USER-LINE
	cat >"$TMP/$1.kc" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "$2", certificate-authority-data: "$3"}
users:
- name: u
  user: {$4}
contexts:
- name: prod
  context: {cluster: c, user: u, namespace: default}
current-context: prod
EOF
}
down=$(free_port)
plugin() { echo "exec: {apiVersion: client.authentication.k8s.io/v1, command: $1, args: [$2]}"; }
kc wrongca "$APISERVER_URL" "$other" 'token: perch-rw-token'
kc down "https://127.0.0.1:$down" "$ca" 'token: perch-rw-token'
kc badtoken "$APISERVER_URL" "$ca" 'token: not-the-right-secret'
kc exit7 "$APISERVER_URL" "$ca" "$(plugin "$TMP/plugin.sh" exit7)"
kc missing "$APISERVER_URL" "$ca" "$(plugin perch-no-such-plugin x)"
kc garbage "$APISERVER_URL" "$ca" "$(plugin "$TMP/plugin.sh" garbage)"
kc hang "$APISERVER_URL" "$ca" "$(plugin "$TMP/plugin.sh" hang)"
where="cannot take control: lease default/perch-cart:"
check() {	# NAME REGEX
	run --kubeconfig "$TMP/$1.kc" >"$TMP/$1.out" 2>"$TMP/$1.err"; rc=$?
	expect_eq "exit status ($1)" "$rc" 3
	expect_match "the error ($1)" "$(tail -1 "$TMP/$1.err")" "$2"
	grep -q 'not-the-right-secret\|perch-rw-token' "$TMP/$1.err" && fail "$1: a token was printed"
	return 0
}
start=$(date +%s)
check wrongca "$where $APISERVER_URL \(context prod\): certificate not trusted \(SSL certificate problem"
[ $(( $(date +%s) - start )) -le 2 ] || fail "a certificate not trusted was tried again"
check down "$where https://127.0.0.1:$down \(context prod\): connection refused"
check badtoken "$where HTTP 401 Unauthorized from $APISERVER_URL \(context prod\): Unauthorized"
check exit7 "$where $APISERVER_URL \(context prod\): exec credential plugin $TMP/plugin.sh: exited with status 7: error: the SSO session expired, run \"sso login\"$"
check missing "$where $APISERVER_URL \(context prod\): exec credential plugin perch-no-such-plugin: not found"
check garbage "$where $APISERVER_URL \(context prod\): exec credential plugin: its output is not a JSON ExecCredential"
export PLUGIN_PID_FILE="$TMP/plugin.pid" PERCH_EXEC_TIMEOUT=1
start=$(date +%s)
check hang "$where $APISERVER_URL \(context prod\): exec credential plugin $TMP/plugin.sh: no answer within 1000 ms; killed with its process group"
[ $(( $(date +%s) - start )) -le 4 ] || fail "the hanging plugin took $(( $(date +%s) - start )) s"
pid=$(cat "$PLUGIN_PID_FILE")
gone() { ! kill -0 "$pid" 2>/dev/null || grep -q '^[^)]*) [ZX]' "/proc/$pid/stat" 2>/dev/null; }
wait_for gone || fail "the plugin's child $pid outlived it"
expect_eq "the ConfigMap after the failed kubeconfigs" "$(cm)" "$before"
unset PERCH_EXEC_TIMEOUT

# A context whose name holds a right-to-left override and an escape
# sequence: never printed raw, neither on stderr nor in the header.
evil='prod\\u202e\\e]0;PWN\\agnol'	# YAML escapes, in double quotes
sed "s/name: prod$/name: \"$evil\"/; s/current-context: prod/current-context: \"$evil\"/" \
	"$TMP/badtoken.kc" >"$TMP/evil.kc"
sed -i "s/token: not-the-right-secret/token: perch-ro-token/" "$TMP/evil.kc"
raw() { LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]\|\xe2\x80\xae' "$1"; }
run --kubeconfig "$TMP/evil.kc" >/dev/null 2>"$TMP/evil.err"
expect_match "the progress line of an odd context" "$(head -1 "$TMP/evil.err")" "connecting to .*\(context prodgnol\)$"
expect_eq "raw bytes on stderr" "$(raw "$TMP/evil.err")" 0
. "$(dirname "$0")/tui_lib.bash"
# A watcher shows its controller's context once it reads the controller's
# heartbeat: without one (the controller is long gone) the header keeps the
# watcher's own, the hostile one, for as long as the test looks.
K delete configmap perch.heartbeat >/dev/null || fail "delete the heartbeat"
session w 100 24 "$TERM_ENV '$PERCH_BIN' watch --kubeconfig '$TMP/evil.kc' -n default"
WAIT_SECS=15 wait_for shows w "watch prod" || { dump w; fail "perch watch did not start"; }
screen w >"$TMP/evil.screen"
expect_eq "raw bytes in the header" "$(raw "$TMP/evil.screen")" 0
echo "k8s errors: ok"
