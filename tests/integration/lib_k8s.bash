# lib_k8s.bash — starts perch's test Kubernetes API server for an integration
# script (sourced after lib.bash, not run).
#
#   start_apiserver NAME [ARGS...]   starts tests/k8s/apiserver.py with a
#       kubeconfig in $TMP/NAME.kubeconfig and an audit log in $TMP/NAME.audit;
#       sets APISERVER_URL and APISERVER_PID; the server is stopped at exit.

start_apiserver() {
	local name=$1; shift
	need python3
	local out="$TMP/$name.out"
	python3 "$PERCH_ROOT/tests/k8s/apiserver.py" --kubeconfig-out "$TMP/$name.kubeconfig" \
		--audit-log "$TMP/$name.audit" "$@" >"$out" 2>"$TMP/$name.err" &
	APISERVER_PID=$!
	at_exit "kill $APISERVER_PID 2>/dev/null; wait $APISERVER_PID 2>/dev/null"
	WAIT_SECS=20 wait_for grep -q '^listening on ' "$out" ||
		fail "the test API server did not start: $(cat "$TMP/$name.err")"
	APISERVER_URL=$(sed -n 's/^listening on //p' "$out")
}
