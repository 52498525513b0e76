# lib_rbac.bash — checks that what a command does on the test API server is
# allowed by a ClusterRole of deploy/ (sourced after lib.bash and
# lib_k8s.bash, not run).  Any command may be checked: give it its own
# identity and check that identity's lines of the audit log.
#
#   start_apiserver NAME ... --token perch=perch-sa-token   (lib_k8s.bash)
#   rbac_identity perch perch-sa-token     adds the user and the context
#       "perch" (namespace default) to $KUBECONFIG
#   "$PERCH_BIN" run --headless --context perch ...     (any command)
#   check_rbac perch perch $TMP/NAME.audit  checks every request of user
#       perch against ClusterRole perch as the server holds it (applied
#       from deploy/); prints the table (tests/k8s/rbac_check.py) to
#       $TMP/rbac-<role>.out and fails the test when one is denied.
#       ROLE may name several, perch+perch-operator: an identity bound to
#       each (their rules joined in $TMP/role-perch+perch-operator.json).
#   rbac_without RESOURCE ROLE.json OUT.json   the role without its rules
#       on RESOURCE: to show that the check catches what it lacks.

rbac_identity() {	# NAME TOKEN
	kubectl config set-credentials "$1" --token="$2" >/dev/null &&
		kubectl config set-context "$1" --cluster=perch-test --user="$1" --namespace=default >/dev/null ||
		fail "cannot add the identity $1 to $KUBECONFIG"
}

check_rbac() {	# ROLE[+ROLE...] USER AUDIT
	local role=$1 user=$2 audit=$3 out="$TMP/rbac-$1.out" r files=()
	for r in ${role//+/ }; do
		kubectl --request-timeout=10s get clusterrole "$r" -o json >"$TMP/role-$r.json" ||
			fail "no ClusterRole $r on the server"
		files+=("$TMP/role-$r.json")
	done
	[ ${#files[@]} -eq 1 ] || python3 -c '
import json, sys
out, name, roles = sys.argv[1], sys.argv[2], [json.load(open(f)) for f in sys.argv[3:]]
roles[0]["metadata"]["name"] = name
roles[0]["rules"] = [x for r in roles for x in r.get("rules") or []]
json.dump(roles[0], open(out, "w"))' "$TMP/role-$role.json" "$role" "${files[@]}" ||
		fail "cannot join the rules of $role"
	python3 "$PERCH_ROOT/tests/k8s/rbac_check.py" "$TMP/role-$role.json" "$audit" "$user" >"$out" 2>&1 ||
		fail "requests of $user not allowed by ClusterRole $role: $(grep -v '^ok ' "$out")"
}

rbac_without() {	# RESOURCE ROLE.json OUT.json
	python3 -c '
import json, sys
r = json.load(open(sys.argv[2]))
r["rules"] = [x for x in r["rules"] if sys.argv[1] not in x["resources"]]
json.dump(r, open(sys.argv[3], "w"))' "$@" || fail "cannot write $3"
}
