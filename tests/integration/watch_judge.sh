# watch_judge.sh — the comparison judge seen from `perch watch`: the demo's
# latency-drift-judged canary runs headless with a state directory; `perch
# watch` on that directory (tmux, 120x40) shows its detail screen with the
# last compare line and, beside the request-duration graph, the canary's and
# the primary's sample distributions read back from the journal's compare
# records (the canary's median, twice the primary's, drawn higher).
. "$(dirname "$0")/lib.bash"
need tmux python3

"$PERCH_BIN" demo --headless --speed max --seed 7 --scenario latency-drift-judged \
	--state-dir "$TMP/state" >"$TMP/run.jsonl" 2>"$TMP/run.err"
expect_eq "demo exit (the judge rolls back)" "$?" 1
want=$(python3 -c '
import json, sys
c = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind") == "compare"][-1]
print("request-duration %s %.0f vs %.0f x" % (c["classification"], c["canaryMedian"],
      c["primaryMedian"]))' "$TMP/run.jsonl")

tmux_start watch 120 40 \
	"env TERM=xterm-256color LANG=C.UTF-8 TZ=UTC '$PERCH_BIN' watch --state-dir '$TMP/state' 2>'$TMP/watch.err'; sleep 60"
cap() { tm capture-pane -p -t watch; }
shows() { cap | grep -Eq -- "$1"; }
WAIT_SECS=10 wait_for shows 'lookup-judged +Failed' || fail "watch: no judged canary: $(cap)"
tm send-keys -t watch Enter
WAIT_SECS=5 wait_for shows "│ compare +score 0 fail · $want" || fail "watch: compare line, want '$want': $(cap)"
# The strip at the graph's right: ┊, the canary's column, the primary's.
cap | python3 -c '
import sys
rows = [l.rstrip("\n") for l in sys.stdin]
labels = [i for i, l in enumerate(rows) if " c p " in l]
assert labels, "no c p labels under the strip"
at = rows[labels[0]].rfind(" c p ") + 1
strip = [l[at - 2:at + 3] for l in rows[labels[0] - 6:labels[0]]]
assert all(s[0] == "┊" for s in strip), strip
c = [i for i, s in enumerate(strip) if s[2] == "●"]
p = [i for i, s in enumerate(strip) if s[4] == "●"]
assert len(c) == 1 and len(p) == 1 and c[0] < p[0], ("medians", strip)
print("strip", strip)' || fail "watch: distributions: $(cap)"
echo "watch_judge: ok"
