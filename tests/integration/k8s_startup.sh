# k8s_startup.sh — perch run's TUI comes up before the API server answers
# (80x24): with every answer of the test API server held back it says
# "connecting to URL (context rw)..." at once, and q then quits with exit 0
# without a request for a Lease; with the Lease requests held back it says
# "taking 1 canary...", then shows the canary, and q releases the Lease;
# against a closed port the error names the server and the cause, and q
# quits with exit 3.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl curl

cart_cluster s '{interval: 10s, threshold: 2, iterations: 2}'
# perch's requests: the audit log's lines after the ones so far
perch_requests() { tail -n +$((before + 1)) "$TMP/s.audit" | grep -v ' /_test/'; }
holder() { kubectl --request-timeout=10s get lease -n default perch-cart \
	-o jsonpath='{.spec.holderIdentity}'; }

# every answer 5 s late: the screen is up and says where it connects
# before the first one comes
faults '{"latency_ms":5000}'
before=$(wc -l <"$TMP/s.audit")
session c 80 24 "$TERM_ENV '$PERCH_BIN' run -n default"
WAIT_SECS=4 wait_for shows c "connecting to $APISERVER_URL (context rw)..." ||
	{ dump c; fail "not connecting on screen"; }
shows c "no canaries yet" || { dump c; fail "no overview"; }
expect_eq "answers before the screen" "$(perch_requests)" ""
keys c '?'
WAIT_SECS=4 wait_for shows c "help" || { dump c; fail "no help while connecting"; }
keys c Escape q
WAIT_SECS=4 wait_for exited c 0 || { dump c; fail "q while connecting: not exit 0"; }
perch_requests | grep -q leases && fail "a Lease requested: $(perch_requests | grep leases)"

# the Lease requests 1 s late: "taking", then the canary; q releases
faults '{"latency_ms":1000,"path":"leases"}'
session t 80 24 "$TERM_ENV '$PERCH_BIN' run -n default"
WAIT_SECS=10 wait_for shows t "taking 1 canary..." || { dump t; fail "not taking on screen"; }
WAIT_SECS=20 wait_for row t cart || { dump t; fail "the canary never shown"; }
not shows t "taking" || { dump t; fail "still taking"; }
[ -n "$(holder)" ] || fail "the Lease not held"
keys t q
WAIT_SECS=20 wait_for exited t 0 || { dump t; fail "q after the start: not exit 0"; }
expect_eq "released" "$(holder)" ""
faults '{"latency_ms":0}'

# nothing listens: the error on screen, q quits with perch run's exit 3
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -E "s#server: .*#server: https://127.0.0.1:$port#" "$TMP/s.kubeconfig" >"$TMP/closed.kubeconfig"
session u 80 24 "$TERM_ENV KUBECONFIG='$TMP/closed.kubeconfig' '$PERCH_BIN' run -n default"
WAIT_SECS=10 wait_for shows_wrapped u "https://127.0.0.1:$port (context rw): connection refused" ||
	{ dump u; fail "no error on screen"; }
shows_wrapped u "q quits" || { dump u; fail "no way out shown"; }
shows u "api down" || { dump u; fail "api not down"; }
keys u q
WAIT_SECS=4 wait_for exited u 3 || { dump u; fail "q after the error: not exit 3"; }
