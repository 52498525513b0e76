# lib_k8s.bash — starts perch's test Kubernetes API server for an integration
# script (sourced after lib.bash, not run).
#
#   start_apiserver NAME [ARGS...]   starts tests/k8s/apiserver.py with a
#       kubeconfig in $TMP/NAME.kubeconfig, an audit log in $TMP/NAME.audit
#       and a log of the objects written in $TMP/NAME.objects; sets
#       APISERVER_URL and APISERVER_PID; the server is stopped at exit.
#       When the script ends, every object written to the server is checked
#       against its kind's schema (check_schemas): a bad one fails the test.
#   check_schemas FILE...   tests/schema/check.mjs over objects logs.

need_schemas() {
	need node
	[ -d "$PERCH_ROOT/tests/node_modules/kubernetes-models" ] ||
		skip "the schema packages are not installed (make deps runs npm ci in tests/)"
}

check_schemas() {	# SCHEMA_VERBOSE=1: the figures even when all is well
	local q=--quiet
	[ -n "${SCHEMA_VERBOSE:-}" ] && q=
	node "$PERCH_ROOT/tests/schema/check.mjs" $q "$@" >&2
}

start_apiserver() {
	local name=$1; shift
	need python3
	need_schemas
	local out="$TMP/$name.out"
	python3 "$PERCH_ROOT/tests/k8s/apiserver.py" --kubeconfig-out "$TMP/$name.kubeconfig" \
		--audit-log "$TMP/$name.audit" --objects-log "$TMP/$name.objects" \
		"$@" >"$out" 2>"$TMP/$name.err" &
	APISERVER_PID=$!
	at_exit "kill $APISERVER_PID 2>/dev/null; wait $APISERVER_PID 2>/dev/null"
	at_end "check_schemas '$TMP/$name.objects'"
	WAIT_SECS=20 wait_for grep -q '^listening on ' "$out" ||
		fail "the test API server did not start: $(cat "$TMP/$name.err")"
	APISERVER_URL=$(sed -n 's/^listening on //p' "$out")
}
