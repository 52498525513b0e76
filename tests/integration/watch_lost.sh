# watch_lost.sh — `perch watch` knows whether its controller lives, in real
# terminals (tmux): a demo on a state directory beats every second; killed
# with kill -9, the watcher says "controller lost: no update for N s"
# within a few seconds (its clock stops, its health is no longer claimed);
# the demo restarted on the same directory is followed within about a
# second (the new pid, no stale rows: the watcher's rows are the
# controller's).
. "$(dirname "$0")/lib.bash"
need tmux python3

ENVS="env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC"
screen() { tm capture-pane -p -t "$1"; }
shows() { screen "$1" | grep -Eq -- "$2"; }
# the pid of the controller beating in clock.json
beating_pid() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["controller"].split()[-1])' \
	    "$TMP/state/clock.json" 2>/dev/null
}
header_time() { screen watch | head -1 | grep -oE '[0-9]{2}:[0-9]{2}(:[0-9]{2})?$'; }
now_ms() { date +%s%3N; }
# the overview rows (not the second lines, whose wording differs: "press a"
# for the controller, "waiting for approval of ..." for the watcher)
# (the time in the phase is left out: two clocks may round it apart)
rows() { screen "$1" | sed -n '4,13p' | grep -E '^│[▶ ] [a-z]' | sed -E 's/^│[▶ ]/│ /; s/ +[0-9hmds]+ │$//'; }
same_rows() { [ -n "$(rows watch)" ] && [ "$(rows watch)" = "$(rows demo2)" ]; }

tmux_start demo 120 40 \
	"$ENVS '$PERCH_BIN' demo --speed 10 --state-dir '$TMP/state' 2>'$TMP/demo.err'; sleep 60"
WAIT_SECS=10 wait_for test -s "$TMP/state/clock.json" || fail "the demo wrote no clock.json"
tmux_start watch 120 40 \
	"$ENVS '$PERCH_BIN' watch --state-dir '$TMP/state' 2>'$TMP/watch.err'; sleep 60"
WAIT_SECS=10 wait_for shows watch 'READ-ONLY +api ● ok +prometheus ● ok' ||
	fail "watch: the live controller's health is not shown: $(screen watch)"
shows watch 'perch · DEMO · shop' || fail "watch: not the controller's header: $(screen watch)"
WAIT_SECS=10 wait_for shows watch 'checkout +Progressing' || fail "watch: no rollout: $(screen watch)"
pid=$(beating_pid)
[ -n "$pid" ] && kill -0 "$pid" || fail "no live controller in clock.json: $(cat "$TMP/state/clock.json")"

# kill -9: nothing is written any more, and the watcher says so.
kill -9 "$pid"
t0=$(now_ms)
WAIT_SECS=8 wait_for shows watch 'controller lost: no update for [0-9]+s' ||
	fail "watch did not notice the controller was killed: $(screen watch)"
took=$(( $(now_ms) - t0 ))
[ "$took" -le 6000 ] || fail "the lost controller was noticed after ${took} ms"
shows watch 'api ● ok' && fail "watch still claims the dead controller's health: $(screen watch)"
# Its clock stops where the controller stopped; the silence counts on.
t1=$(header_time)
WAIT_SECS=4 wait_for shows watch 'no update for ([5-9]|[1-9][0-9])s' ||
	fail "the silence does not count: $(screen watch)"
expect_eq "the watcher's clock stopped" "$(header_time)" "$t1"

# Restarted on the same directory: followed at once.
tmux_start demo2 120 40 \
	"$ENVS '$PERCH_BIN' demo --speed 10 --state-dir '$TMP/state' 2>'$TMP/demo2.err'; sleep 60"
WAIT_SECS=10 wait_for sh -c "[ \"\$(python3 -c 'import json;print(json.load(open(\"$TMP/state/clock.json\"))[\"controller\"].split()[-1])' 2>/dev/null)\" != $pid ]" ||
	fail "the restarted demo does not beat"
t0=$(now_ms)
WAIT_SECS=5 wait_for sh -c "! tmux -L $_tm_sock capture-pane -p -t watch | grep -q 'controller lost'" ||
	fail "watch did not follow the restarted controller: $(screen watch)"
took=$(( $(now_ms) - t0 ))
# about a second: the watcher looks every 250 ms (slack for a loaded machine)
[ "$took" -le 2000 ] || fail "the restarted controller was followed after ${took} ms"
pid2=$(beating_pid)
WAIT_SECS=3 wait_for shows watch "controlled by .* pid $pid2" ||
	fail "watch does not name the new controller (pid $pid2): $(screen watch)"
WAIT_SECS=3 wait_for shows watch 'READ-ONLY +api ● ok +prometheus ● ok' || fail "watch: health not back: $(screen watch)"
# The watcher's rows are the controller's (same order, phases, weights).
WAIT_SECS=5 wait_for same_rows ||
	fail "watch and the controller differ:$(printf '\n%s\n--- controller:\n%s' "$(rows watch)" "$(rows demo2)")"

# A clean exit is said as such, not as lost.
tm send-keys -t demo2 q
WAIT_SECS=5 wait_for shows demo2 'y yes' && tm send-keys -t demo2 y
WAIT_SECS=8 wait_for shows watch 'controller stopped [0-9]+s ago' ||
	fail "watch did not see the controller stop: $(screen watch)"
shows watch 'controller lost' && fail "a clean exit shown as lost: $(screen watch)"
tm send-keys -t watch q
exit 0
