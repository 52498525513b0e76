#!/usr/bin/env bash
# tui_keys.sh — every key that changes a rollout, tried in a real terminal
# (tmux, 120x40) on perch demo: a key whose command's preconditions do not
# hold sends nothing, says why in the status line (naming the canary), and
# is not in the footer; the message goes after a few seconds.
#   - p, P, Space, r, R, s, a on a canary that is only Initialized;
#   - p and P on `cart` whose new pods are not ready (it once moved 10 % of
#     traffic to them); s asks, saying they are not ready;
#   - a asks "approve cart:v2?", r "roll back checkout?";
#   - on a failing `search`, P and s state its failed checks and the last
#     failure; after s + y the row, the detail, perch status and perch watch
#     keep "promoted with analysis skipped by tester@..., N of 5 checks failed";
#   - a second demo on the same state directory is read-only: no p / P /
#     Space / r / s in its footer, and p says who controls the canary;
#   - the quit dialog says where the state is saved, or that nothing is;
#   - PgDn pages the events, J moves one line.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tui_lib.bash"
ENV="$TERM_ENV PERCH_IDENTITY=tester@host"
state=$TMP/state
status() { screen "$1" | tail -2 | head -1; }
footer() { screen "$1" | tail -1; }
refused() {	# SESSION KEY TEXT: KEY answers TEXT, sends nothing, is not offered
	keys "$1" "$2"
	# the status line, over up to 4 rows above the footer when it is long
	WAIT_SECS=8 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t $1 | tail -5 | head -4 |
		sed -E 's/^ +//; s/ +\$//' | tr '\n' ' ' | grep -qF -- '$3'" ||
		{ dump "$1"; fail "$2: no refusal '$3'"; }
	shows "$1" "sent" && { dump "$1"; fail "$2 was sent"; }
	return 0
}

# Initialized (before the first revision): nothing to change yet.  A demo
# of its own, slowed down (its first revision is minutes away), so that a
# busy machine does not see the canary move on between two keys.
session init 120 40 "$ENV $PERCH_BIN demo --state-dir $TMP/init --speed 0.2"
WAIT_SECS=10 wait_for shows init "checkout" || { dump init; fail "the demo did not draw"; }
row_has init checkout Initialized || { dump init; fail "checkout is not Initialized at the start"; }
foot=$(footer init)
for k in "p step" "P promote" "pause" "r roll back" "R retry" "s skip" "a approve"; do
	[[ $foot == *"$k"* ]] && { dump init; fail "'$k' offered on an Initialized canary"; }
done
refused init p "checkout promote-step refused: no step to promote (it is Initialized)"
refused init P "checkout promote-full refused: nothing to promote (it is Initialized)"
refused init Space "checkout pause refused: only a progressing canary can be paused (it is Initialized)"
refused init r "checkout rollback refused: nothing to roll back (it is Initialized)"
refused init R "checkout retry refused: only a failed canary can be retried (it is Initialized)"
refused init s "checkout skip-analysis refused: no analysis to skip (it is Initialized)"
refused init a "checkout approve refused: nothing waits for approval (it is Initialized)"
row_has init checkout Initialized || { dump init; fail "checkout moved on during the test"; }
# the last refusal goes from the status line after a few seconds
WAIT_SECS=8 wait_for not sh -c "tmux -L $TMUX_SOCK capture-pane -p -t init | tail -2 | grep -q 'approve refused'" ||
	{ dump init; fail "the status line message did not expire"; }
keys init q y

session demo 120 40 "$ENV $PERCH_BIN demo --state-dir $state --speed 5"
WAIT_SECS=10 wait_for shows demo "checkout" || { dump demo; fail "the demo did not draw"; }

# cart waits for approval of its new revision: a asks, naming it
keys demo j j j j
WAIT_SECS=15 wait_for row_has demo cart Waiting || { dump demo; fail "cart never waited"; }
refused demo p "cart promote-step refused: the revision has not started: approve it first"
keys demo a
WAIT_SECS=3 wait_for shows demo "approve cart:v2?" || { dump demo; fail "a did not ask"; }
shows demo "waits to start its rollout" || { dump demo; fail "the approval does not say what waits"; }
keys demo y
WAIT_SECS=5 wait_for row_has demo cart Progressing || { dump demo; fail "cart did not start"; }
# (a failing canary for later, started now so that it fails meanwhile)
session search 120 40 "$ENV $PERCH_BIN demo --scenario latency-regression --state-dir $TMP/search --speed 5"

# its new pods are not ready: p and P never move weight to them (the
# engine looks at them when the key comes, before the next check does)
refused demo p "cart promote-step refused: canary deployment cart.shop not ready: waiting for rollout to finish"
refused demo P "cart promote-full refused: canary deployment cart.shop not ready"
expect_eq "cart's weight after p and P" "$(weight demo cart)" 0
foot=$(footer demo)
[[ $foot == *"p step"* || $foot == *"P promote"* ]] && { dump demo; fail "p / P offered on pods not ready"; }
# s would promote once they are ready: it asks, and says they are not
keys demo s
WAIT_SECS=3 wait_for shows demo "skip the analysis of cart?" || { dump demo; fail "s did not ask"; }
dialog demo | grep -q "as soon as its pods are ready (canary deployment cart.shop not ready" ||
	{ dump demo; fail "the skip question does not say the pods are not ready"; }
keys demo n
WAIT_SECS=3 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t demo | tail -2 | head -1 | grep -q 'skip: cancelled'" ||
	{ dump demo; fail "n did not cancel"; }

# r asks, naming the canary, its step and what comes back
keys demo k k k k
keys demo r
WAIT_SECS=3 wait_for shows demo "roll back checkout?" || { dump demo; fail "r did not ask"; }
shows demo "All traffic returns to checkout:v1" || { dump demo; fail "r does not say what happens"; }
keys demo n

# a second demo on the same state directory: read-only, says who controls
session second 120 40 "$ENV $PERCH_BIN demo --state-dir $state --speed 5"
WAIT_SECS=10 wait_for shows second "READ-ONLY" || { dump second; fail "the second demo is not read-only"; }
WAIT_SECS=10 wait_for row_has second checkout Progressing || { dump second; fail "the second demo shows no progress"; }
foot=$(footer second)
for k in "p step" "P promote" "pause" "r roll back" "s skip"; do
	[[ $foot == *"$k"* ]] && { dump second; fail "'$k' offered on a canary controlled elsewhere"; }
done
refused second p "checkout promote-step refused: read-only: controlled by tester@host pid"
refused second r "checkout rollback refused: read-only: controlled by tester@host pid"
keys second q
WAIT_SECS=5 wait_for exited second 0 || { dump second; fail "the read-only demo did not quit on q"; }

# the quit dialog says where the state is kept, and that quitting hands the
# rollouts over
keys demo q
WAIT_SECS=3 wait_for shows demo "quit perch?" || { dump demo; fail "q did not ask"; }
dialog demo | grep -q "saves their state in $state and releases their locks at once: another perch that waits for them takes them over" ||
	{ dump demo; fail "the quit dialog does not say where the state is saved"; }
keys demo y
WAIT_SECS=5 wait_for exited demo 0 || { dump demo; fail "the demo did not quit"; }

# ... and a plain demo saves nothing and says so
session plain 120 40 "$ENV $PERCH_BIN demo --speed 20"
WAIT_SECS=10 wait_for row_has plain checkout Progressing || { dump plain; fail "the plain demo shows no progress"; }
keys plain q
WAIT_SECS=3 wait_for shows plain "quit perch?" || { dump plain; fail "q did not ask"; }
dialog plain | grep -q "Nothing is saved" ||
	{ dump plain; fail "the plain demo's quit dialog does not say that nothing is saved"; }
shows plain "state is saved" && { dump plain; fail "the plain demo promises saved state"; }
keys plain y
WAIT_SECS=5 wait_for exited plain 0 || { dump plain; fail "the plain demo did not quit"; }

# a failing canary: P and s state its health; after s + y it stays visible
# (a demo brings a new revision some seconds after a promotion: the checks
# after y are quick, with perch watch already following)
state=$TMP/search
WAIT_SECS=30 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t search | grep -E '^│?▶? +search +Progressing' | grep -qE '% +[0-9]+/[0-9]+ +[1-4]/5 '" ||
	{ dump search; fail "search never failed a check while progressing"; }
session watch 120 40 "$ENV $PERCH_BIN watch --state-dir $state"
WAIT_SECS=10 wait_for row_has watch search Progressing || { dump watch; fail "watch does not follow search"; }
keys search P
WAIT_SECS=3 wait_for shows search "promote search fully now?" || { dump search; fail "P did not ask"; }
text=$(dialog search)
expect_match "P states the failed checks" "$text" 'It has FAILED [1-4] of 5 checks; the last, at [0-9:]+: request-duration [0-9.]+ms > 500ms'
expect_match "P states the consequence" "$text" 'recorded as forced by tester@host'
keys search n
keys search s
WAIT_SECS=3 wait_for shows search "skip the analysis of search?" || { dump search; fail "s did not ask"; }
text=$(dialog search)
expect_match "s states the failed checks" "$text" 'It has FAILED [1-4] of 5 checks; the last'
keys search y
WAIT_SECS=3 wait_for row_has search search "Succeeded SKIPPED" || { dump search; fail "no SKIPPED on the row"; }
# (the count is the one when y was pressed: a check may have failed since the question)
failed=$(screen search | grep -oE 'promoted with analysis skipped by tester@host, [1-5] of 5' | head -1 | grep -oE '[1-5] of' | cut -c1)
[ -n "$failed" ] || { dump search; fail "the row does not say the analysis was skipped"; }
want="promoted with analysis skipped by tester@host, $failed of 5 checks failed"
shows search "└ $want" || { dump search; fail "the row does not say the analysis was skipped"; }
shows search "promotion  $want" || { dump search; fail "the detail does not say the analysis was skipped"; }
expect_match "perch status" "$("$PERCH_BIN" status --state-dir "$state")" "$want"
"$PERCH_BIN" status --state-dir "$state" -o json | grep -q '"kind": "skipped"' ||
	fail "perch status -o json has no override"
WAIT_SECS=5 wait_for row_has watch search "Succeeded SKIPPED" || { dump watch; fail "watch does not show SKIPPED"; }
shows watch "└ $want" || { dump watch; fail "watch does not say the analysis was skipped"; }
grep -q "Promoted with analysis skipped by tester@host, $failed of 5 checks failed" \
	"$state/shop/search/journal.jsonl" || fail "no event of the skipped analysis"

# PgDn pages the events, J moves one line (search's detail at 80x24)
tm resize-window -t search -x 80 -y 24
keys search Enter
ev() { screen search | grep -oE 'events +[0-9]+-[0-9]+ of' | grep -oE '[0-9]+-[0-9]+'; }
WAIT_SECS=5 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t search | grep -qE 'events +1-[0-9]+ of'" ||
	{ dump search; fail "search has no scrollable events"; }
rows=$(ev | cut -d- -f2)
keys search J
WAIT_SECS=3 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t search | grep -qE 'events +2-'" ||
	{ dump search; fail "J did not move one line"; }
keys search K NPage
WAIT_SECS=3 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t search | grep -qE 'events +$rows-'" ||
	{ dump search; fail "PgDn did not move a page of $rows events (less one kept in sight)"; }
keys search PPage
WAIT_SECS=3 wait_for sh -c "tmux -L $TMUX_SOCK capture-pane -p -t search | grep -qE 'events +1-'" ||
	{ dump search; fail "PgUp did not page back"; }
exit 0
