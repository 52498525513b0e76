# demo_tui.sh — `perch demo` in a real terminal (tmux): the six canaries
# appear, move (checkout reaches Succeeded), the cart canary waits for
# approval and goes on once approved; q then y quits with exit 0.  With
# --state-dir, `perch watch` in a second terminal follows the demo live,
# read-only, and `perch status` reads the same directory.
. "$(dirname "$0")/lib.bash"
need tmux python3

screen() { tm capture-pane -p -t demo; }
# shows REGEX: the screen matches within WAIT_SECS
shows() { screen | grep -Eq -- "$1"; }

# Speed 60: checkout's 270 virtual seconds take under 5 real ones.
tmux_start demo 120 40 \
	"env TERM=xterm-256color '$PERCH_BIN' demo --speed 60 --state-dir '$TMP/state' 2>'$TMP/stderr'; echo EXIT=\$? >'$TMP/exit'; sleep 60"
WAIT_SECS=10 wait_for shows 'perch .* DEMO' || fail "no header: $(screen)"
for name in checkout payments search invoices cart catalog; do
	screen | grep -q "$name" || fail "no $name row: $(screen)"
done
WAIT_SECS=15 wait_for shows 'checkout +Succeeded' || fail "checkout did not succeed: $(screen)"
WAIT_SECS=5 wait_for shows 'cart +Waiting' || fail "cart is not waiting for approval: $(screen)"
WAIT_SECS=5 wait_for shows 'waiting for your approval' || fail "no approval hint: $(screen)"

# Approve cart's rollout: select it (j moves down), a, y.
for _ in 1 2 3 4; do tm send-keys -t demo j; done
WAIT_SECS=5 wait_for shows '^[│|]?[▶>] +cart ' || fail "cart not selected: $(screen)"
tm send-keys -t demo a
WAIT_SECS=5 wait_for shows 'y yes' || fail "no confirmation for approve: $(screen)"
tm send-keys -t demo y
# Past the approval: at speed 60 Progressing lasts a few seconds only, and a
# slow terminal (TSan, a loaded machine) may first show a later phase.
approved='cart +(Progressing|WaitingPromotion|Promoting|Finalising|Succeeded)'
WAIT_SECS=10 wait_for shows "$approved" || fail "cart did not start after approval: $(screen)"

# A teammate follows in another terminal: same canaries, read-only, moving.
tmux_start watch 120 40 \
	"env TERM=xterm-256color '$PERCH_BIN' watch --state-dir '$TMP/state' 2>'$TMP/watch.err'; sleep 60"
wscreen() { tm capture-pane -p -t watch; }
wshows() { wscreen | grep -Eq -- "$1"; }
WAIT_SECS=10 wait_for wshows 'READ-ONLY' || fail "watch: no READ-ONLY header: $(wscreen)"
WAIT_SECS=10 wait_for wshows 'checkout +Succeeded' || fail "watch: no checkout: $(wscreen)"
WAIT_SECS=10 wait_for wshows "$approved" || fail "watch does not follow cart: $(wscreen)"
tm send-keys -t watch r
WAIT_SECS=5 wait_for wshows 'read-only' || fail "watch: r did not answer read-only: $(wscreen)"
tm send-keys -t watch q

# Meanwhile another terminal can read the state directory.
out=$("$PERCH_BIN" status --state-dir "$TMP/state"); rc=$?
[ "$rc" -le 1 ] || fail "perch status exit $rc: $out"
expect_match "status lists checkout" "$out" "shop/checkout"
expect_match "status shows control" "$out" "pid [0-9]+"

# A second demo on the same state directory cannot take the canaries over.
err=$("$PERCH_BIN" demo --headless --speed max --state-dir "$TMP/state" 2>&1 >/dev/null); rc=$?
expect_eq "second demo on a held state directory: exit" "$rc" 3
expect_match "second demo" "$err" "controlled by another perch \(.*pid [0-9]+\)"

tm send-keys -t demo q
WAIT_SECS=5 wait_for shows 'y yes' || fail "no quit confirmation: $(screen)"
tm send-keys -t demo y
WAIT_SECS=10 wait_for test -s "$TMP/exit" || fail "demo did not quit: $(screen)"
expect_eq "demo exit" "$(cat "$TMP/exit")" "EXIT=0"
[ -s "$TMP/stderr" ] && fail "demo wrote to stderr: $(head -20 "$TMP/stderr")"
exit 0
