# k8s_flagger_live.sh — perch watch follows Flagger's canaries live, with
# the read-only identity (ro: get, list and watch only): `perch watch -n
# default` at 80x24 and `perch watch -A` at 120x40 show Flagger's canary
# podinfo of the start, marked FLG (80 columns) and FLAGGER (120); a Canary
# applied with kubectl while they run (reviews) is shown by both once
# Flagger writes its status (here kubectl, as Flagger would), its spec edit
# (a webhook added) is followed, once deleted it goes from both, and the
# API server's audit log holds only GET requests of ro (no write of any
# kind).
. "$(dirname "$0")/lib_flagger.bash"

flagger_cluster
flagger_app default
smoke='{name: smoke, type: pre-rollout, url: "http://flagger-loadtester.test/"}'
flagger_canary default "$smoke"
# Flagger's status write (flagger_standin.py writes the same): phase
# Progressing, FAILED checks as given, its condition updated now.
flagger_status() {	# NAME FAILED
	local t
	t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	K patch canary "$1" --subresource=status --type=merge -p "{\"status\": {\"phase\": \"Progressing\",
		\"canaryWeight\": 20, \"failedChecks\": $2, \"iterations\": 1, \"lastTransitionTime\": \"$t\",
		\"conditions\": [{\"type\": \"Promoted\", \"status\": \"Unknown\", \"reason\": \"Progressing\",
		\"message\": \"New revision detected, progressing canary analysis.\", \"lastUpdateTime\": \"$t\",
		\"lastTransitionTime\": \"$t\"}]}}" >/dev/null || fail "the status of $1"
}
flagger_status podinfo 0

session narrow 80 24 "$TERM_ENV '$PERCH_BIN' watch --context ro -n default 2>'$TMP/narrow.err'"
session wide 120 40 "$TERM_ENV '$PERCH_BIN' watch --context ro -A 2>'$TMP/wide.err'"
WAIT_SECS=15 wait_for row_has narrow podinfo FLG || { dump narrow; cat "$TMP/narrow.err"; fail "-n: podinfo not marked FLG"; }
WAIT_SECS=15 wait_for row_has wide podinfo FLAGGER || { dump wide; cat "$TMP/wide.err"; fail "-A: podinfo not marked FLAGGER"; }

# A Canary created while they watch; Flagger writes its status.
CANARY=reviews smoke='{name: smoke, type: pre-rollout, url: "http://flagger-loadtester.test/"}'
flagger_canary default "$smoke"
flagger_status reviews 1
WAIT_SECS=5 wait_for row_has narrow reviews FLG || { dump narrow; cat "$TMP/narrow.err"; fail "-n: the new Canary not shown"; }
WAIT_SECS=5 wait_for row_has wide reviews FLAGGER || { dump wide; cat "$TMP/wide.err"; fail "-A: the new Canary not shown"; }
# (its status comes from the watch of the Canaries, a moment after it is shown)
WAIT_SECS=5 wait_for row_has narrow reviews "1/3" || { dump narrow; fail "-n: the new Canary's failed checks not shown"; }

# A spec edit (a webhook added): its detail follows it.
CANARY=reviews flagger_canary default "$smoke" '{name: approve-promotion, type: confirm-promotion, url: "http://flagger-loadtester.test/gate/check"}'
select_row narrow reviews
keys narrow Enter
WAIT_SECS=5 wait_for shows narrow approve-promotion || { dump narrow; fail "-n: the spec edit not followed"; }
keys narrow Escape

# Deleted: gone from both.
K delete canary reviews >/dev/null || fail "delete reviews"
WAIT_SECS=5 wait_for not row narrow reviews || { dump narrow; fail "-n: the deleted Canary still shown"; }
WAIT_SECS=5 wait_for not row wide reviews || { dump wide; fail "-A: the deleted Canary still shown"; }
row_has narrow podinfo FLG || { dump narrow; fail "-n: podinfo gone too"; }
row_has wide podinfo FLAGGER || { dump wide; fail "-A: podinfo gone too"; }

quit_readonly "$TMP/f.audit" narrow wide
printf '%s\n' "$RO" | grep -q '^GET /apis/flagger.app/v1beta1/canaries?.*watch=1' ||
	fail "perch watch -A did not watch the Canaries of every namespace: $RO"
printf '%s\n' "$RO" | grep -q '^GET /apis/flagger.app/v1beta1/namespaces/default/canaries?.*watch=1' ||
	fail "perch watch -n did not watch the Canaries of default: $RO"
echo "ok"
