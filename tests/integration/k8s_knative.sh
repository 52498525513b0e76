# k8s_knative.sh — Knative Service targets (routers-providers §2.7, §3.4)
# with `perch run --headless` on the test API server's Knative simulation,
# driven and read back with the real kubectl.  Initialization pins the
# first Revision with all the traffic; `kubectl patch` of the template
# makes a new Revision, the canary: spec.traffic moves to it step by step
# (read back at half the traffic, with status.traffic resolving the latest
# revision) and promotion pins it with all the traffic.  Then a third
# Revision whose rollout webhook fails is rolled back: all the traffic to
# the pinned primary again.  No metrics: each tick advances (engine clock
# 20x).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl

start_apiserver kn --tls-dir "$TMP/tls" --ready-delay 0.2
export KUBECONFIG="$TMP/kn.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }

knative_yaml hello ghcr.io/example/hello:1.0 >"$TMP/app.yaml"
canary() {	# $1: extra analysis lines
	cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: hello}
spec:
  provider: knative
  targetRef: {apiVersion: serving.knative.dev/v1, kind: Service, name: hello}
  progressDeadlineSeconds: 60
  analysis:
    interval: 20s
    threshold: 2
    maxWeight: 50
    stepWeight: 25
$1
YAML
}
canary "" >"$TMP/hello.yaml"
canary "    webhooks: [{name: smoke, type: rollout, url: 'http://127.0.0.1:1/'}]" >"$TMP/bad.yaml"

K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
ksvc() { K get ksvc hello -o jsonpath="$1"; }
traffic() {
	ksvc '{range .spec.traffic[*]}{.revisionName}{.latestRevision}={.percent} {end}'
}
served() {
	ksvc '{range .status.traffic[*]}{.revisionName}={.percent} {end}'
}
# spec.traffic|status.traffic in one read, kept in $TMP/both when the
# canary revision's percent is $1.
both_at() {
	local b
	b=$(ksvc '{range .spec.traffic[*]}{.revisionName}{.latestRevision}={.percent} {end}|{range .status.traffic[*]}{.revisionName}={.percent} {end}')
	case $b in "true=$1 "*) printf '%s' "$b" >"$TMP/both"; return 0;; esac
	return 1
}
pinned() { ksvc '{.metadata.annotations.flagger\.app/primary-revision}'; }
ready() {
	[ "$(K get revision "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
run() { timeout "$(scaled 40)" "$PERCH_BIN" run --headless -f "$TMP/$1.yaml" >"$TMP/$2.out" 2>"$TMP/$2.err"; }

WAIT_SECS=10 wait_for ready hello-00001 || fail "revision hello-00001 never ready"

# Initialization: the first Revision pinned as the primary with all the traffic.
run hello init
expect_eq "initialization exit" "$?" 0
grep -q 'Initialization done! hello.default' "$TMP/init.out" ||
	fail "no initialization: $(cat "$TMP/init.out" "$TMP/init.err")"
expect_eq "pinned primary" "$(pinned)" "hello-00001"
expect_eq "initial traffic" "$(traffic)" "true=0 hello-00001=100 "
expect_eq "served" "$(served)" "hello-00001=0 hello-00001=100 "

# A new template: Revision hello-00002 is the canary, progressed and promoted.
K patch ksvc hello --type merge -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"hello","image":"ghcr.io/example/hello:2.0"}]}}}}' \
	>/dev/null || fail "kubectl patch"
expect_eq "latest created" "$(ksvc '{.status.latestCreatedRevisionName}')" "hello-00002"
run hello promote &
pid=$!
WAIT_SECS=20 wait_for both_at 50 || fail "the canary revision never had 50%: $(traffic)"
expect_eq "traffic and served at half" "$(cat "$TMP/both")" \
	"true=50 hello-00001=50 |hello-00002=50 hello-00001=50 "
wait "$pid"
expect_eq "promotion exit" "$?" 0
grep -q 'New revision detected! Scaling up hello.default' "$TMP/promote.out" ||
	fail "no new revision: $(cat "$TMP/promote.out" "$TMP/promote.err")"
grep -q 'Advance hello.default canary weight 25' "$TMP/promote.out" ||
	fail "no progression: $(grep -i weight "$TMP/promote.out" | tail -3)"
grep -q '"phase":"Succeeded"' "$TMP/promote.out" || fail "never Succeeded: $(tail -5 "$TMP/promote.out")"
expect_eq "promoted revision pinned" "$(pinned)" "hello-00002"
expect_eq "traffic after promotion" "$(traffic)" "true=0 hello-00002=100 "
expect_eq "served after promotion" "$(served)" "hello-00002=0 hello-00002=100 "

# Revision hello-00003 fails its rollout webhook: rolled back to hello-00002.
K patch ksvc hello --type merge -p \
	'{"spec":{"template":{"spec":{"containers":[{"name":"hello","image":"ghcr.io/example/hello:3.0"}]}}}}' \
	>/dev/null || fail "kubectl patch 3"
WAIT_SECS=10 wait_for ready hello-00003 || fail "revision hello-00003 never ready"
run bad rollback &
pid=$!
WAIT_SECS=20 wait_for both_at 25 || fail "the canary revision never had 25%: $(traffic)"
expect_eq "traffic and served during the analysis" "$(cat "$TMP/both")" \
	"true=25 hello-00002=75 |hello-00003=25 hello-00002=75 "
wait "$pid"
expect_eq "rollback exit" "$?" 1
grep -q '"phase":"Failed"' "$TMP/rollback.out" || fail "never Failed: $(tail -5 "$TMP/rollback.out")"
grep -q 'Rolling back hello.default' "$TMP/rollback.out" ||
	fail "no rollback: $(tail -5 "$TMP/rollback.out")"
expect_eq "primary still pinned" "$(pinned)" "hello-00002"
expect_eq "traffic after rollback" "$(traffic)" "true=0 hello-00002=100 "
expect_eq "served after rollback" "$(served)" "hello-00003=0 hello-00002=100 "
exit 0
