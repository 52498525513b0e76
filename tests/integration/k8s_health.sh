# k8s_health.sh — the screen's API health follows a misbehaving API server
# and recovers by itself: perch run in tmux (120x40, resized to 80x24) shows
# "api ● ok", then "api ● degraded" after the test API server answered
# requests with a 503 and a 429 that perch had to repeat, then "● ok" again
# once the server behaves, without a key pressed, never "down".
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl curl

cart_cluster h '{interval: 10s, threshold: 2, iterations: 2}'

session h 120 40 "$TERM_ENV PERCH_TIME_SCALE=10 '$PERCH_BIN' run -n default"
WAIT_SECS=30 wait_for shows h "Initialized" || { dump h; fail "never initialized"; }
WAIT_SECS=10 wait_for shows h 'api ● ok' || { dump h; fail "api not ok"; }
# perch's next two requests (an idle canary: the Lease's renewal, a
# watch) fail before they get through: a 503, then a 429.
faults '{"rate":1,"mix":"503:1,429:1","users":"rw","count":2}'
WAIT_SECS=20 wait_for shows h 'api ● degraded' || { dump h; fail "never degraded"; }
tm resize-window -t h -x 80 -y 24
WAIT_SECS=10 wait_for shows h '● api degraded' || { dump h; fail "80x24: not degraded"; }
# both faults served before they are turned off (the screen may show
# "degraded" after the first)
WAIT_SECS=20 wait_for sh -c "[ \$(grep -Ec ' rw (503|429) fault=(503|429)\$' '$TMP/h.audit') -ge 2 ]" ||
	fail "the second fault never served: $(grep -c fault= "$TMP/h.audit")"
faults '{"rate":0}'
WAIT_SECS=30 wait_for shows h '● ok' || { dump h; fail "never recovered"; }
not shows h "down" || { dump h; fail "api down"; }
keys h q
WAIT_SECS=10 wait_for dead h || { keys h y; WAIT_SECS=10 wait_for dead h; } || fail "perch did not quit"
expect_eq "faults injected" "$(grep -Ec ' rw (503|429) fault=(503|429)$' "$TMP/h.audit")" 2
