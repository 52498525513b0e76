# tui_lib.bash — tmux helpers for the tui_*.sh integration tests (sourced).
# Each test runs its own tmux server (-L, no config) with a pinned terminal:
# TERM=xterm-256color, UTF-8, TZ=UTC; the server is killed on exit.
need tmux
TMUX_SOCK="perch-tui-$$"
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
PANE_PIDS=()
# Kills the server, then waits for every process it ran (lib.bash).
_tmux_cleanup() { tmux_kill "$TMUX_SOCK" "${PANE_PIDS[@]}"; }
at_exit _tmux_cleanup
TERM_ENV="env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC"

# session NAME COLS ROWS COMMAND...: a detached session running COMMAND; its
# exit status goes to $TMP/NAME.rc
session() {
	local name=$1 cols=$2 rows=$3; shift 3
	tm new-session -d -s "$name" -x "$cols" -y "$rows" "$*; echo \$? > $TMP/$name.rc"
	tm set-option -t "$name" remain-on-exit on >/dev/null
	tm set-option -t "$name" status off >/dev/null
	PANE_PIDS+=("$(tm display -p -t "$name" '#{pane_pid}')")
}
screen() { tm capture-pane -p -t "$1"; }
# shows NAME TEXT: the screen contains TEXT
shows() { screen "$1" | grep -qF -- "$2"; }
# shows_wrapped NAME TEXT: the screen contains TEXT, its lines trimmed and
# joined with spaces (a message word-wrapped over rows)
shows_wrapped() { screen "$1" | sed -E 's/^ +//; s/ +$//' | tr '\n' ' ' | grep -qF -- "$2"; }
# row NAME CANARY: the canary's overview row
row() { screen "$1" | grep -m1 -E "^[│|]?[▶> ] +([a-z0-9-]+/|[a-z0-9-]+ +)?$2 " ; }
# weight NAME CANARY: the canary's weight in its overview row
weight() { row "$1" "$2" | sed -E 's/.* ([0-9]+)% .*/\1/'; }
keys() { tm send-keys -t "$1" "${@:2}"; }
dead() { [ "$(tm display -p -t "$1" '#{pane_dead}')" = 1 ]; }
# exited NAME STATUS: the pane's command has ended with STATUS
exited() { dead "$1" && [ "$(cat "$TMP/$1.rc" 2>/dev/null)" = "$2" ]; }
alt_on() { tm display -p -t "$1" '#{alternate_on}'; }
dump() { echo "--- screen of $1:"; screen "$1"; }
# row_has NAME CANARY TEXT: the canary's row contains TEXT
row_has() { row "$1" "$2" | grep -qF -- "$3"; }
# weight_is NAME CANARY OP N: e.g. weight_is demo checkout -gt 0
weight_is() { local w; w=$(weight "$1" "$2"); [ -n "$w" ] && [ "$w" "$3" "$4" ]; }
not() { ! "$@"; }
# dialog NAME: the text inside the dialog box on NAME's screen (a
# confirmation), its lines joined with spaces
dialog() {
	screen "$1" | python3 -c '
import sys
lines = sys.stdin.read().split("\n")
for i, l in enumerate(lines):
    if "┌─" in l and "?" in l:
        # the corner of the dialog is the last one before its question (the
        # detail box may start on the same row, to its left)
        x0 = l.rindex("┌", 0, l.index("?")); x1 = l.index("┐", x0)
        out = []
        for m in lines[i + 1:]:
            if len(m) <= x0 or m[x0] == "└":
                break
            out.append(m[x0 + 1:x1].strip())
        print(" ".join(w for w in out if w))
        break'
}
