# k8s_flagger_keys.sh — the keys of a Flagger canary not covered by
# k8s_flagger.sh, over every namespace (perch run -A), with the load tester
# named by a direct URL (http://127.0.0.1:PORT/gate/check: called directly,
# not through the service proxy).  Flagger's canary podinfo is in namespace
# shop, perch's own cart in default and in shop: the overview shows the
# NAMESPACE column, and perch status -A lists both carts.
#   p   opens the confirm-traffic-increase gate for one step and closes it
#       again (the Flagger stand-in moves exactly one step, then holds);
#   R   a perch.dev/retry timestamp in podinfo's pod template (kubectl);
#   P   without a confirm-promotion webhook: spec.skipAnalysis true (kubectl);
#   a spec edit with kubectl apply (confirm-promotion and rollback webhooks
#   added) is seen while perch runs: P then opens the gate, r the rollback;
#   Space suspends (spec.suspend true), Space again resumes (false);
#   perch watch -A shows Flagger's canary (detail, Events), its keys answer
#   read-only, and it sends only get requests.
. "$(dirname "$0")/lib_flagger.bash"

flagger_cluster
K create namespace shop >/dev/null || fail "namespace shop"
sed 's/namespace: default/namespace: shop/' "$TMP/app.yaml" | K apply -f - >/dev/null || fail "cart in shop"
K -n shop apply -f "$TMP/canary.yaml" >/dev/null || fail "cart canary in shop"
flagger_app shop
traffic="{name: approve-traffic, type: confirm-traffic-increase, url: \"$lt/gate/check\"}"
flagger_canary shop "$traffic"
flagger_standin --name podinfo --namespace shop --target podinfo --step-weight 20 \
	--max-weight 60 --tick 1 --traffic-gate "$lt"

session run 120 40 "$TERM_ENV '$PERCH_BIN' run -A 2>'$TMP/run.err'"
WAIT_SECS=15 wait_for row_has run podinfo FLAGGER || { dump run; cat "$TMP/run.err"; fail "podinfo not shown"; }
WAIT_SECS=15 wait_for shows run NAMESPACE || { dump run; fail "no NAMESPACE column"; }
row_has run podinfo "shop " || { dump run; fail "podinfo's namespace not shown"; }
ns_row() { screen "$1" | grep -qE "^[│|]?[▶> ] +$2 +$3 "; }	# SESSION NS NAME
ns_row run default cart || { dump run; fail "default/cart not shown"; }
ns_row run shop cart || { dump run; fail "shop/cart not shown"; }

# p: one step through the confirm-traffic-increase gate, called directly.
WAIT_SECS=20 wait_for grep -q '^held at 0' "$TMP/flagger.log" || fail "the stand-in did not hold at 0"
select_row run podinfo
keys run p
WAIT_SECS=10 wait_for shows run "let podinfo move one step?" || { dump run; fail "no confirmation for p"; }
keys run y
WAIT_SECS=10 wait_for grep -q '^POST /gate/open podinfo.shop 202' "$TMP/lt.log" ||
	{ dump run; fail "p did not open the gate: $(cat "$TMP/lt.log" "$TMP/run.err")"; }
WAIT_SECS=20 wait_for grep -q '^POST /gate/close podinfo.shop 202' "$TMP/lt.log" ||
	{ dump run; fail "the gate was not closed after the step: $(cat "$TMP/lt.log")"; }
WAIT_SECS=20 wait_for grep -q '^held at 20' "$TMP/flagger.log" || fail "the stand-in did not hold at 20"
not grep -q '^status Progressing 40' "$TMP/flagger.log" || fail "more than one step: $(cat "$TMP/flagger.log")"
not grep -q 'proxy/gate' "$TMP/f.audit" || fail "a direct URL went through the service proxy"
ev=$(K -n shop get events --field-selector reason=perch -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
expect_match "the close recorded" "$ev" "closed the gate again after one step"

# R: the retry annotation in the target's pod template.
keys run R
WAIT_SECS=10 wait_for shows run "This restarts the canary pods." || { dump run; fail "no confirmation for R"; }
keys run y
retry_at() { K -n shop get deploy podinfo -o jsonpath='{.spec.template.metadata.annotations.perch\.dev/retry}'; }
WAIT_SECS=10 wait_for sh -c "$(declare -f K retry_at); [ -n \"\$(retry_at)\" ]" || { dump run; fail "no perch.dev/retry"; }
expect_match "perch.dev/retry" "$(retry_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'

# P without a confirm-promotion webhook: spec.skipAnalysis.
keys run P
WAIT_SECS=10 wait_for shows run "Patches spec.skipAnalysis: true" || { dump run; fail "no confirmation for P"; }
keys run y
skip_is() { [ "$(K -n shop get canary podinfo -o jsonpath='{.spec.skipAnalysis}')" = true ]; }
WAIT_SECS=10 wait_for sh -c "$(declare -f K skip_is); skip_is" || { dump run; fail "spec.skipAnalysis not set"; }

# A spec edit while perch runs: the new webhooks are shown and used.
flagger_canary shop "$traffic" \
	"{name: approve-promotion, type: confirm-promotion, url: \"$lt/gate/check\"}" \
	"{name: undo, type: rollback, url: \"$lt/rollback/check\"}"
keys run Enter
WAIT_SECS=15 wait_for shows run "approve-promotion" || { dump run; fail "the new webhook not shown"; }
keys run P
WAIT_SECS=10 wait_for shows run "Opens its confirm-promotion gate" || { dump run; fail "P does not use the new webhook"; }
keys run y
WAIT_SECS=10 wait_for sh -c "[ \$(grep -c '^POST /gate/open podinfo.shop 202' '$TMP/lt.log') = 2 ]" ||
	{ dump run; fail "P did not open the confirm-promotion gate"; }
keys run r
WAIT_SECS=10 wait_for shows run "roll back podinfo?" || { dump run; fail "no confirmation for r"; }
keys run y
WAIT_SECS=10 wait_for grep -q '^POST /rollback/open rollback.podinfo.shop 202' "$TMP/lt.log" ||
	{ dump run; fail "r did not open the rollback"; }
keys run Escape

# Space suspends, Space again resumes.
suspend_is() { [ "$(K -n shop get canary podinfo -o jsonpath='{.spec.suspend}')" = "$1" ]; }
keys run Space
WAIT_SECS=10 wait_for shows run "stops its analysis too" || { dump run; fail "no suspend confirmation"; }
keys run y
WAIT_SECS=10 wait_for sh -c "$(declare -f K suspend_is); suspend_is true" || { dump run; fail "not suspended"; }
WAIT_SECS=10 wait_for row_has run podinfo PAUSED || { dump run; fail "PAUSED not shown"; }
keys run Space
WAIT_SECS=10 wait_for shows run "resume podinfo?" || { dump run; fail "no resume confirmation"; }
keys run y
WAIT_SECS=10 wait_for sh -c "$(declare -f K suspend_is); suspend_is false" || { dump run; fail "not resumed"; }

# perch watch -A with the read-only identity: Flagger's canary too, its
# detail and Events; its keys answer read-only; only get (and watch)
# requests reach the API server.
session watch 120 40 "$TERM_ENV '$PERCH_BIN' watch --context ro -A 2>'$TMP/watch.err'"
WAIT_SECS=15 wait_for row_has watch podinfo FLAGGER || { dump watch; cat "$TMP/watch.err"; fail "watch: podinfo not shown"; }
WAIT_SECS=15 wait_for ns_row watch shop cart ||
	{ dump watch; fail "watch: shop/cart not shown"; }
row_has watch podinfo "shop " || { dump watch; fail "watch: no namespace column"; }
select_row watch podinfo
keys watch Enter
WAIT_SECS=10 wait_for shows watch "driven by Flagger (flagger-system/flagger)" || { dump watch; fail "watch: no driver"; }
WAIT_SECS=10 wait_for shows watch "Advance podinfo.shop canary weight 20" || { dump watch; fail "watch: no Flagger event"; }
keys watch p
WAIT_SECS=10 wait_for shows watch "perch watch cannot change rollouts" || { dump watch; fail "watch: p did not answer read-only"; }
quit_readonly "$TMP/f.audit" watch
printf '%s\n' "$RO" | grep -q '^GET /apis/flagger.app/v1beta1/namespaces/shop/canaries?.*watch=1' ||
	fail "perch watch did not watch the Canaries of shop: $RO"

# perch status -A: perch's own canaries of both namespaces.
st=$("$PERCH_BIN" status -A 2>&1) || fail "perch status -A: $st"
expect_match "status -A" "$st" "default/cart"
expect_match "status -A" "$st" "shop/cart"
keys run q
WAIT_SECS=10 wait_for dead run || fail "perch did not quit"
echo "ok"
