#!/usr/bin/env bash
# tui_demo.sh — perch demo and perch watch in a real terminal (tmux, 120x40):
# the demo starts and checkout's weight moves; Space shows PAUSED and the
# weight stops; r + y rolls it back (Failed, weight 0); perch watch on the
# same state directory follows the same canaries on the demo's clock,
# refuses r, redraws on resize, says when the terminal is too small, and q
# leaves the alternate screen; q in the demo asks first (rollouts in progress) and exits cleanly.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tui_lib.bash"
state=$TMP/state

session demo 120 40 "$TERM_ENV $PERCH_BIN demo --state-dir $state --speed 20"
WAIT_SECS=10 wait_for shows demo "checkout" || { dump demo; fail "the demo did not draw"; }
shows demo CONTROL || { dump demo; fail "no CONTROL badge"; }

# the weight moves
WAIT_SECS=15 wait_for weight_is demo checkout -gt 0 || { dump demo; fail "checkout never got traffic"; }
w1=$(weight demo checkout)
moved() { w2=$(weight demo checkout); [ -n "$w2" ] && [ "$w2" != "$w1" ]; }
WAIT_SECS=15 wait_for moved || { dump demo; fail "checkout's weight stayed at $w1"; }

# Space pauses: PAUSED, and the weight holds across several intervals
keys demo Space
WAIT_SECS=5 wait_for row_has demo checkout PAUSED ||
	{ dump demo; fail "no PAUSED after Space"; }
w3=$(weight demo checkout)
sleep 2.5
expect_eq "weight while paused" "$(weight demo checkout)" "$w3"

# perch watch on the same state follows the same canaries
session watch 120 40 "$TERM_ENV $PERCH_BIN watch --state-dir $state"
WAIT_SECS=10 wait_for shows watch "READ-ONLY" || { dump watch; fail "watch did not draw"; }
WAIT_SECS=10 wait_for shows watch "checkout" || { dump watch; fail "watch shows no checkout"; }
WAIT_SECS=5 wait_for row_has watch checkout PAUSED ||
	{ dump watch; fail "watch does not show checkout PAUSED"; }
# ... on the demo's clock (DIR/clock.json): the header shows the demo's
# virtual time, and ages count from it (not from today's date: "268d")
hms() { screen "$1" | head -1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2} *$' | tr -d ' '; }
secs() { local h m s; IFS=: read -r h m s <<<"$1"; echo $((10#$h * 3600 + 10#$m * 60 + 10#$s)); }
a=$(hms demo) b=$(hms watch)
[ -n "$a" ] && [ -n "$b" ] || { dump demo; dump watch; fail "no time in the headers"; }
d=$(($(secs "$b") - $(secs "$a"))); d=${d#-}
[ "$d" -le 40 ] || { dump demo; dump watch; fail "watch's time $b is not the demo's $a"; }
age=$(row watch checkout | sed -E 's/.* ([0-9][0-9a-z]*) *[│|]?$/\1/')
[[ $age =~ ^[0-9]+[sm]$ ]] || { dump watch; fail "watch says checkout has been there for '$age'"; }

# r + y rolls back: Failed, weight 0, in both
keys demo r
WAIT_SECS=5 wait_for shows demo "roll back checkout?" || { dump demo; fail "no confirmation for r"; }
keys demo y
WAIT_SECS=5 wait_for row_has demo checkout Failed ||
	{ dump demo; fail "checkout did not fail after r y"; }
expect_eq "weight after rollback" "$(weight demo checkout)" 0
WAIT_SECS=5 wait_for row_has watch checkout Failed ||
	{ dump watch; fail "watch did not follow the rollback"; }

# watch refuses r
keys watch r
WAIT_SECS=3 wait_for shows watch "read-only: perch watch cannot change rollouts" ||
	{ dump watch; fail "watch did not refuse r"; }
shows watch "roll back" && fail "watch asked to roll back"

# resize: the narrow layout, then too small
tm resize-window -t watch -x 80 -y 24
WAIT_SECS=3 wait_for not shows watch prometheus ||
	{ dump watch; fail "no redraw after resize to 80x24"; }
shows watch "READ-ONLY" || fail "READ-ONLY badge gone at 80x24"
tm resize-window -t watch -x 70 -y 20
WAIT_SECS=3 wait_for shows watch "terminal too small: need 80x24, have 70x20" ||
	{ dump watch; fail "no too-small message"; }
tm resize-window -t watch -x 120 -y 40
WAIT_SECS=3 wait_for shows watch "prometheus" || { dump watch; fail "no redraw after resize back"; }

# q leaves watch at once, alternate screen left, exit 0
expect_eq "watch in the alternate screen" "$(alt_on watch)" 1
keys watch q
WAIT_SECS=5 wait_for dead watch || { dump watch; fail "watch did not quit on q"; }
expect_eq "watch alternate screen after q" "$(alt_on watch)" 0
WAIT_SECS=3 wait_for exited watch 0 ||
	fail "watch exit status: '$(cat "$TMP/watch.rc")', want 0"

# q in the demo asks (rollouts in progress), then exits cleanly
keys demo q
WAIT_SECS=5 wait_for shows demo "quit perch?" || { dump demo; fail "q did not ask"; }
dialog demo | grep -qE 'weights? stays? where (it is|they are)' ||
	{ dump demo; fail "the quit question does not say the weights are held"; }
keys demo y
WAIT_SECS=5 wait_for dead demo || { dump demo; fail "demo did not quit"; }
WAIT_SECS=3 wait_for exited demo 0 || fail "demo exit status: '$(cat "$TMP/demo.rc")', want 0"
expect_eq "demo alternate screen after q" "$(alt_on demo)" 0
exit 0
