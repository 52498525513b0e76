# k8s_startup.sh — perch run's TUI comes up before the API server answers
# (80x24): with every answer of the test API server held back it says
# "connecting to URL (context rw)..." at once, and q then quits with exit 0
# without a request for a Lease, leaving no "connecting" line on the
# terminal; with the Lease requests held back it says
# "taking 1 canary...", then shows the canary, and q releases the Lease;
# against a closed port the error names the server and the cause, and q
# quits with exit 3.  perch watch on the cluster the same way: "connecting"
# before the first answer (q then quits at once, exit 0), then the canary,
# only reads sent; a namespace without canaries says so, wrapped whole at
# 80 columns; a closed port shows
# the error, q exits 3.
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
not shows c "connecting" || { dump c; fail "a stale connecting line left after the quit"; }
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
faults '{"latency_ms":0,"path":""}'

# nothing listens: the error on screen, q quits with perch run's exit 3
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -E "s#server: .*#server: https://127.0.0.1:$port#" "$TMP/s.kubeconfig" >"$TMP/closed.kubeconfig"
for cmd in run watch; do
	session u$cmd 80 24 "$TERM_ENV KUBECONFIG='$TMP/closed.kubeconfig' '$PERCH_BIN' $cmd -n default"
	WAIT_SECS=10 wait_for shows_wrapped u$cmd "https://127.0.0.1:$port (context rw): connection refused" ||
		{ dump u$cmd; fail "$cmd: no error on screen"; }
	shows_wrapped u$cmd "q quits" || { dump u$cmd; fail "$cmd: no way out shown"; }
	shows u$cmd "api down" || { dump u$cmd; fail "$cmd: api not down"; }
	keys u$cmd q
	WAIT_SECS=4 wait_for exited u$cmd 3 || { dump u$cmd; fail "$cmd: q after the error: not exit 3"; }
done

# perch watch: "connecting" before the first answer, then the canary; reads only
faults '{"latency_ms":5000}'
before=$(wc -l <"$TMP/s.audit")
session w 80 24 "$TERM_ENV '$PERCH_BIN' watch -n default"
session wq 80 24 "$TERM_ENV '$PERCH_BIN' watch -n default"
WAIT_SECS=4 wait_for shows w "connecting to $APISERVER_URL (context rw)..." ||
	{ dump w; fail "watch: not connecting on screen"; }
expect_eq "watch: answers before the screen" "$(perch_requests)" ""
WAIT_SECS=4 wait_for shows wq "connecting to" || { dump wq; fail "watch: not connecting"; }
keys wq q
WAIT_SECS=3 wait_for exited wq 0 || { dump wq; fail "watch: q while connecting: not exit 0 at once"; }
faults '{"latency_ms":0,"path":""}'
WAIT_SECS=20 wait_for row w cart || { dump w; fail "watch: the canary never shown"; }
not shows w "connecting" || { dump w; fail "watch: still connecting"; }
keys w q
WAIT_SECS=10 wait_for exited w 0 || { dump w; fail "watch: q not exit 0"; }
perch_requests | grep -v '^GET ' && fail "watch sent more than reads"
session e 80 24 "$TERM_ENV '$PERCH_BIN' watch -n empty"
WAIT_SECS=10 wait_for shows_wrapped e \
	"no canaries in namespace empty (perch's and Flagger's Canaries are shown as they appear)" ||
	{ dump e; fail "watch: no empty-namespace text, whole at 80 columns"; }
keys e q
WAIT_SECS=10 wait_for exited e 0 || { dump e; fail "watch -n empty: q not exit 0"; }
