# lib.bash — shared helpers for integration scripts (sourced, not run).
# Scripts exit 0 on pass, 77 when a component is missing (skip), else fail.
set -u
: "${PERCH_BIN:?}" "${PERCH_ROOT:?}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/perch-it.XXXXXX")
_cleanups=() _checks=()
at_exit() { _cleanups+=("$1"); }
# at_end CMD: a check run when the script ends, before the cleanups; when it
# fails, a script that would have passed fails.
at_end() { _checks+=("$1"); }
_run_cleanups() {
	local rc=$? i
	for ((i = 0; i < ${#_checks[@]}; i++)); do
		if ! eval "${_checks[$i]}" && [ $rc -eq 0 ]; then rc=1; fi
	done
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" || true; done
	rm -rf "$TMP"
	exit $rc
}
trap _run_cleanups EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
need() { local t; for t in "$@"; do command -v "$t" >/dev/null 2>&1 || skip "missing $t (make deps installs it)"; done; }

# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# expect_match WHAT TEXT REGEX
expect_match() { printf '%s' "$2" | grep -Eq -- "$3" || fail "$1: '$2' does not match /$3/"; }

# free_port: a free TCP port on 127.0.0.1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# scaled N: N times PERCH_TEST_TIMEOUT_SCALE (2 under ASan, 3 under TSan, 8
# under valgrind): a sanitized perch is several times slower, and a wait
# that is generous on a plain build runs out under TSan on a loaded machine.
scaled() { echo $(( $1 * ${PERCH_TEST_TIMEOUT_SCALE:-1} )); }

# wait_for CMD... : retries for up to WAIT_SECS (default 10) seconds, scaled
wait_for() {
	local deadline=$(( $(date +%s) + $(scaled "${WAIT_SECS:-10}") ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# tmux_start SESSION COLS ROWS COMMAND: a session on this test's own tmux
# server (no config; killed at exit with tmux_kill); tm runs tmux commands
# on that server.
tmux_start() {
	if [ -z "${_tm_sock:-}" ]; then
		_tm_sock="perch-test-$$" _tm_panes=()
		at_exit 'tmux_kill "$_tm_sock" "${_tm_panes[@]}"'
	fi
	tmux -L "$_tm_sock" -f /dev/null new-session -d -s "$1" -x "$2" -y "$3" "$4" &&
		_tm_panes+=("$(tm display -p -t "$1" '#{pane_pid}')")
}

# tmux_kill SOCK PANE-PID...: kills the tmux server SOCK, then waits for
# every process of those panes (they save state on SIGHUP), so that nothing
# writes into $TMP while it is removed: 5 s each, then SIGKILL.  A pane is a
# session of its own; its processes are taken before the kill, as a pane's
# shell other than bash ends on SIGHUP without waiting for its command.
tmux_kill() {
	local sock=$1 p i pids=(); shift
	for p in "$@"; do pids+=($(pgrep -s "$p")); done
	tmux -L "$sock" kill-server >/dev/null 2>&1
	for p in "${pids[@]}"; do
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
}
tm() { tmux -L "$_tm_sock" "$@"; }
