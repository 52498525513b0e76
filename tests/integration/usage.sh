# usage.sh — the exit status contract of DESIGN.md §4 for option values:
# an empty or malformed value of any command is a usage error (exit 2) on
# one line that names the option; a state directory that cannot be used is
# an infrastructure error (exit 3) naming it.  Nothing here reaches a
# network: every row fails (or succeeds) before perch would connect.
. "$(dirname "$0")/lib.bash"

export HOME=$TMP/home XDG_STATE_HOME=$TMP/xdg
unset KUBECONFIG
mkdir -p "$HOME" "$TMP/empty"
P=http://127.0.0.1:9

# WANT-EXIT | MESSAGE-REGEX | ARGS (split on spaces; '' is an empty argument)
rows=(
	"2|--state-dir wants a directory|status --state-dir ''"
	"2|--log wants a file|demo --headless --log ''"
	"2|--log wants a file|status --log ''"
	"2|--state-dir wants a directory|watch --state-dir ''"
	"2|--state-dir wants a directory|run --state-dir ''"
	"2|--state-dir wants a directory|demo --headless --state-dir ''"
	"2|--theme wants a name|watch --theme ''"
	"2|--theme wants a name|run --theme ''"
	"2|--theme wants a name|demo --theme ''"
	"2|--kubeconfig wants a file|watch --kubeconfig ''"
	"2|--kubeconfig wants a file|run --kubeconfig ''"
	"2|--kubeconfig wants a file|check -f x --prometheus $P --kubeconfig ''"
	"2|--kubeconfig wants a file|status --kubeconfig ''"
	"2|--context wants a name|watch --context ''"
	"2|--context wants a name|run --context ''"
	"2|--context wants a name|check -f x --prometheus $P --context ''"
	"2|--context wants a name|status --context ''"
	"2|-n wants a namespace|watch -n ''"
	"2|-n wants a namespace|run --namespace ''"
	"2|-n wants a namespace|check -f x --prometheus $P -n ''"
	"2|-n wants a namespace .*'Shop_1'|watch -n Shop_1"
	"2|-n wants a namespace .*'Shop_1'|status -n Shop_1"
	"2|-n wants a namespace|run -n -shop"
	"2|-f wants a file|run -f ''"
	"2|-f wants a file|check -f '' --prometheus $P"
	"2|--prometheus wants an http|run --prometheus ''"
	"2|--prometheus wants an http|run --prometheus ftp://127.0.0.1"
	"2|--prometheus wants an http|check -f x --prometheus ''"
	"2|--ca-file wants a file|check -f x --prometheus $P --ca-file ''"
	"2|--prometheus-token-file wants a file|check -f x --prometheus $P --prometheus-token-file ''"
	"2|--confirm wants rollout, promotion|run --confirm ''"
	"2|--confirm wants rollout, promotion|run --confirm ,"
	"2|unknown gate 'later'|run --confirm rollout,later,nope"
	"2|empty FILE name|validate ''"
	"2|--speed wants a positive number|demo --speed ''"
	"2|--seed wants a non-negative integer|demo --seed ''"
	"2|--canaries wants a count|demo --canaries ''"
	"2|--duration wants a time|demo --duration ''"
	"2|--scenario: empty|demo --scenario ,"
	"2|--time '' is neither|check -f x --prometheus $P --time ''"
	"2|--timeout '' is not a duration|check -f x --prometheus $P --timeout ''"
	"2|unknown output format ''|check -f x --prometheus $P -o ''"
	"2|-o must be text or json|status -o ''"
	"2|unknown output format ''|validate -o '' x"
	"2|option '-f' needs an argument|run -f"
	"2|option '--theme' needs an argument|watch --theme"
	"2|option '--state-dir' needs an argument|status --state-dir"
	"2|unknown option '--bogus'|run --bogus"
	"2|exclude each other|watch --state-dir $TMP/empty -n shop"
	"2|exclude each other|status --state-dir $TMP/empty -n shop"
	"0|no canaries with saved state|status --state-dir $TMP/empty"
	"0|no canaries with saved state|status"
	"3|$TMP/missing.*No such file|status --state-dir $TMP/missing"
	"3|$TMP/missing.*No such file|watch --state-dir $TMP/missing"
	"3|start .perch demo --state-dir $TMP/missing.|watch --state-dir $TMP/missing"
	"3|its parent $TMP/nope does not exist|demo --headless --speed max --scenario healthy --state-dir $TMP/nope/state"
)
for row in "${rows[@]}"; do
	IFS='|' read -r want re words <<<"$row"
	args=()
	for w in $words; do
		if [ "$w" = "''" ]; then args+=(""); else args+=("$w"); fi
	done
	err=$("$PERCH_BIN" "${args[@]}" 2>&1 </dev/null); rc=$?
	expect_eq "perch $words: exit" "$rc" "$want"
	expect_match "perch $words: message" "$err" "$re"
	[ "$want" = 0 ] && continue
	expect_eq "perch $words: one line" "$(printf '%s\n' "$err" | wc -l)" 1
	expect_match "perch $words: says who" "$err" "^perch ${args[0]}: "
done
# Read-only commands never create the state directory, and a controller
# creates only its last component.
[ -e "$TMP/missing" ] && fail "status/watch created $TMP/missing"
[ -e "$TMP/nope" ] && fail "demo created $TMP/nope"
[ -e "$TMP/xdg" ] && fail "status created the default state directory"
"$PERCH_BIN" demo --headless --speed max --scenario healthy --state-dir "$TMP/empty/state" >/dev/null ||
	fail "demo with a state directory whose parent exists"
[ -d "$TMP/empty/state/shop" ] || fail "demo did not save in $TMP/empty/state"
exit 0
