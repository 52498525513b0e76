# k8s_flagger.sh — perch over a Flagger that already runs: a Canary that a
# running Flagger reconciles is shown, never driven.  A Flagger stand-in
# (flagger_standin.py: Flagger-shaped status writes through /status and
# Events with Flagger's texts) moves Canary podinfo through a rollout that
# waits at WaitingPromotion for a load tester gate (loadtester_standin.py);
# perch run, without -f, shows it marked FLAGGER beside its own canary cart
# (one overview), follows the status through the watch (weight, phase, the
# condition message) and Flagger's Events in the event log with their
# severity, names the driver in the detail, and writes nothing for podinfo:
# no route, no Deployment, no Service, no Canary status.  Its keys are
# Flagger's controls: `a` opens the gate through the API server's service
# proxy (the stand-in Flagger sees it open and promotes), recorded as an
# Event on the Canary; Space patches spec.suspend; `r` without a rollback
# webhook says why it is unavailable.  perch run has its own identity,
# bound as deploy/ tells an engineer at a laptop: every request it makes
# (Flagger's Events watched, the gate opened through the service proxy,
# spec.suspend patched, cart initialized) is allowed by ClusterRoles perch
# and perch-operator together, and refused by perch alone or without the
# service proxy rule (tests/k8s/rbac_check.py over the audit log).
. "$(dirname "$0")/lib_flagger.bash"
. "$(dirname "$0")/lib_rbac.bash"

flagger_cluster --token operator=perch-operator-token
K apply -f "$PERCH_ROOT/deploy/rbac.yaml" >/dev/null || fail "kubectl apply deploy/rbac.yaml"
rbac_identity operator perch-operator-token

# Flagger's canary podinfo beside perch's own cart.
flagger_app default
flagger_canary default \
	'{name: approve-promotion, type: confirm-promotion, url: "http://flagger-loadtester.test/gate/check"}'

# The Flagger stand-in, which checks the gate itself (it runs in the cluster).
flagger_standin --name podinfo --namespace default --target podinfo --step-weight 20 \
	--max-weight 60 --tick 0.3 --gate "$lt"

# perch run over the namespace, in the TUI.
session run 120 40 "$TERM_ENV '$PERCH_BIN' run --context operator -n default -v --log '$TMP/run.log' 2>'$TMP/run.err'"
WAIT_SECS=15 wait_for row_has run podinfo FLAGGER || { dump run; cat "$TMP/run.err"; fail "podinfo not marked FLAGGER"; }
WAIT_SECS=15 wait_for row_has run cart Initialized || { dump run; fail "perch's own canary cart not shown beside it"; }
not row_has run cart FLAGGER || fail "cart marked FLAGGER: $(row run cart)"

# A Canary created while perch runs, not yet claimed: Flagger runs in the
# cluster, so perch leaves it for Flagger's first status write (which comes
# a little later) instead of taking it, and then shows it as Flagger's.
CANARY=reviews flagger_canary default '{name: smoke, type: pre-rollout, url: "http://flagger-loadtester.test/"}'
WAIT_SECS=10 wait_for grep -q 'Canary default/reviews is new and Flagger (.*) runs: waiting' "$TMP/run.log" ||
	{ cat "$TMP/run.log"; fail "perch did not wait for Flagger to claim the new Canary"; }
t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
K patch canary reviews --subresource=status --type=merge -p "{\"status\": {\"phase\": \"Initialized\",
	\"canaryWeight\": 0, \"failedChecks\": 0, \"iterations\": 0, \"lastTransitionTime\": \"$t\",
	\"conditions\": [{\"type\": \"Promoted\", \"status\": \"True\", \"reason\": \"Initialized\",
	\"message\": \"Deployment initialization completed.\", \"lastUpdateTime\": \"$t\",
	\"lastTransitionTime\": \"$t\"}]}}" >/dev/null || fail "Flagger's status of reviews"
WAIT_SECS=20 wait_for row_has run reviews FLAGGER || { dump run; cat "$TMP/run.log"; fail "reviews not shown as Flagger's"; }

# The status through the watch: Flagger's weight, then WaitingPromotion.
WAIT_SECS=40 wait_for row_has run podinfo WaitingPromotion || { dump run; tail -n 3 "$TMP/flagger.log" "$TMP/flagger.out"; K get canary podinfo -o jsonpath="{.status.phase}"; fail "WaitingPromotion not shown"; }
weight_is run podinfo -eq 60 || { dump run; fail "weight 60 not shown"; }
row_has run podinfo "0/3" || { dump run; fail "failed checks against the threshold not shown"; }

# The detail: the driver, the condition message, Flagger's Events.
select_row run podinfo
keys run Enter
WAIT_SECS=10 wait_for shows run "driven by Flagger (flagger-system/flagger)" || { dump run; fail "the driver not named"; }
WAIT_SECS=10 wait_for shows run "Waiting for approval." || { dump run; fail "no condition message"; }
WAIT_SECS=10 wait_for shows run "Advance podinfo.default canary weight 60" || { dump run; fail "no Flagger event"; }
WAIT_SECS=10 wait_for shows run "! Halt podinfo.default advancement waiting" ||
	{ dump run; fail "no Flagger warning"; }

# r without a rollback webhook: unavailable, and why; nothing is sent.
keys run r
WAIT_SECS=10 wait_for shows run "no rollback webhook" || { dump run; fail "r did not explain"; }
not grep -q rollback "$TMP/lt.log" 2>/dev/null || fail "r called the load tester"

# a opens the gate: one key, a confirmation, through the service proxy.
keys run a
WAIT_SECS=10 wait_for shows run "open the gate of podinfo?" || { dump run; fail "no confirmation for a"; }
keys run y
WAIT_SECS=10 wait_for grep -q '^POST /gate/open podinfo.default 202' "$TMP/lt.log" ||
	{ dump run; fail "the gate was not opened: $(cat "$TMP/lt.log" 2>/dev/null)"; }
grep -q '^POST /api/v1/namespaces/test/services/flagger-loadtester:80/proxy/gate/open' "$TMP/f.audit" ||
	fail "the gate was not opened through the service proxy"
WAIT_SECS=40 wait_for grep -q '^status Succeeded' "$TMP/flagger.log" || fail "the stand-in did not promote"
WAIT_SECS=40 wait_for shows run "Promotion completed! Scaling down podinfo" || { dump run; fail "no promotion event"; }
# The action is an Event on the Canary, reason perch, naming the user.
ev=$(K get events --field-selector reason=perch -o jsonpath='{range .items[*]}{.involvedObject.kind}/{.involvedObject.name} {.message}{"\n"}{end}')
expect_match "perch's event" "$ev" "^Canary/podinfo .+: opened the gate of webhook approve-promotion \(confirm-promotion\)"
keys run Escape
WAIT_SECS=10 wait_for row_has run podinfo Succeeded || { dump run; fail "Succeeded not shown"; }

# Space suspends it in Flagger: spec.suspend, after a confirmation that says
# what that means for Flagger.
keys run Space
WAIT_SECS=10 wait_for shows run "stops its analysis too" || { dump run; fail "no suspend confirmation"; }
keys run y
WAIT_SECS=10 wait_for sh -c "[ \"\$(kubectl --request-timeout=10s get canary podinfo -o jsonpath='{.spec.suspend}')\" = true ]" ||
	{ dump run; fail "spec.suspend not set"; }

# perch wrote nothing for podinfo but what its keys asked (nothing at all
# for reviews) (the Canary's
# spec.suspend, Events): no route, Deployment, Service or Canary status.
writes=$(python3 - "$TMP/f.objects" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    w = json.loads(line)
    if w.get("agent", "").startswith("perch") and \
            any(n in w.get("path", "") for n in ("podinfo", "reviews")) and \
            not w["path"].endswith("/canaries/podinfo") and "/events" not in w["path"]:
        print(w["verb"], w["path"])
PY
)
[ -z "$writes" ] || fail "perch wrote for the Flagger canary: $writes"
grep -q '"agent": *"perch' "$TMP/f.objects" || fail "no write by perch at all (the agent is not logged?)"
keys run q
WAIT_SECS=10 wait_for dead run || fail "perch did not quit"

# The engineer's roles: perch and perch-operator allow all of it; perch
# alone, or without the service proxy rule, refuses the gate.
check_rbac perch+perch-operator operator "$TMP/f.audit"
table=$(cat "$TMP/rbac-perch+perch-operator.out")
printf "%s\n" "$table" >&2
expect_match "the gate through the service proxy" "$table" '^ok +create services/proxy '
expect_match "spec.suspend" "$table" '^ok +patch canaries.flagger.app '
expect_match "Flagger's Events" "$table" '^ok +watch events '
check=$PERCH_ROOT/tests/k8s/rbac_check.py
out=$(python3 "$check" "$TMP/role-perch.json" "$TMP/f.audit" operator)
expect_eq "perch alone is refused" "$?" 1
expect_match "perch alone: the gate" "$out" '^DENIED +create services/proxy '
expect_match "perch alone: spec.suspend" "$out" '^DENIED +patch canaries.flagger.app '
rbac_without services/proxy "$TMP/role-perch+perch-operator.json" "$TMP/role-noproxy.json"
out=$(python3 "$check" "$TMP/role-noproxy.json" "$TMP/f.audit" operator)
expect_eq "without services/proxy: refused" "$?" 1
expect_match "without services/proxy: the gate" "$out" '^DENIED +create services/proxy '
echo "ok"
