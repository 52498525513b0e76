# k8s_watch.sh — perch follows the cluster through watches, not polling:
# with a 30 s interval, a `kubectl set image` on the target is noticed
# within about a second (the Progressing event), and an idle canary costs
# the API server no Deployment request; `perch watch` on the cluster follows
# the controller's writes to its ConfigMap at once while sending nothing but
# get, list and watch requests, and no ConfigMap read between writes; it
# sees the controller lost when killed (its heartbeat stops).
# Without -f, a Canary object applied while perch run runs is adopted, a
# changed one is picked up and a deleted one let go.
# `perch run --state-dir` writes clock.json for watchers (speed from
# PERCH_TIME_SCALE).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
. "$(dirname "$0")/tui_lib.bash"
need kubectl openssl tmux python3

start_apiserver w --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/w.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
audit="$TMP/w.audit"

cart_app
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

# --state-dir: the clock for watchers, at the engine's speed.
PERCH_TIME_SCALE=7 "$PERCH_BIN" run --headless --state-dir "$TMP/sd" -f "$TMP/canary.yaml" \
	>"$TMP/sd.out" 2>"$TMP/sd.err" &
sdp=$!
at_exit "kill $sdp 2>/dev/null; wait $sdp 2>/dev/null"
wait_for test -s "$TMP/sd/clock.json" || fail "no clock.json: $(cat "$TMP/sd.err")"
expect_match "clock.json" "$(cat "$TMP/sd/clock.json")" '"kind":"clock".*"speed":7(\.0)?[,}]'
kill $sdp 2>/dev/null; wait $sdp 2>/dev/null

# The controller, state on the cluster, a 30 s interval.
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run.out" 2>"$TMP/run.err" &
rp=$!
at_exit "kill $rp 2>/dev/null; wait $rp 2>/dev/null"
WAIT_SECS=15 wait_for grep -q 'Initialization done! cart.default' "$TMP/run.out" ||
	fail "no initialization: $(cat "$TMP/run.out" "$TMP/run.err")"

# The watcher, with the read-only identity.
session watch 120 30 "$TERM_ENV '$PERCH_BIN' watch --kubeconfig '$KUBECONFIG' --context ro -n default 2>'$TMP/watch.err'"
WAIT_SECS=10 wait_for shows watch Initialized ||
	{ dump watch; cat "$TMP/watch.err"; fail "perch watch did not show the canary"; }

# Idle for 2 s: neither the controller nor the watcher reads a Deployment
# or a ConfigMap (the watches' caches answer).
sleep 0.5
n0=$(wc -l <"$audit")
sleep 2
idle=$(tail -n +"$((n0 + 1))" "$audit")
reads=$(printf '%s\n' "$idle" | grep -E '^GET /api(s/apps)?/v1/namespaces/default/(deployments|configmaps)/' || true)
[ -z "$reads" ] || fail "reads while idle: $reads"

# A new image: the Progressing event within seconds (8 s allowed for a busy
# machine), not at the next interval 30 s away.
t0=$(date +%s%N)
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"
WAIT_SECS=10 wait_for grep -q 'New revision detected! Scaling up cart.default' "$TMP/run.out" ||
	fail "new revision not noticed: $(tail -3 "$TMP/run.out")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 8000 ] || fail "new revision noticed after $ms ms"
echo "new revision noticed after $ms ms"
# The watcher shows it as soon as the controller has written it.
WAIT_SECS=10 wait_for shows watch Progressing || { dump watch; fail "perch watch did not follow"; }

# The controller beats in perch.heartbeat, and the watcher knows it lives:
# killed with kill -9, it is said lost (its beats are 2 s apart: within
# about 8 s), not shown with its last health.
matches() { screen "$1" | grep -qE -- "$2"; }	# SESSION REGEX
WAIT_SECS=5 wait_for matches watch 'READ-ONLY +api ● ok +prometheus ● ok' ||
	{ dump watch; fail "perch watch does not show the live controller's health"; }
K get configmap perch.heartbeat -o jsonpath='{.data}' | grep -q '"everyMs\\*":2000' ||
	fail "no heartbeat: $(K get configmap perch.heartbeat -o yaml 2>&1)"
K get configmap perch.heartbeat -o jsonpath='{.data}' | grep -q '"metricsDegraded\\*":false' ||
	fail "the heartbeat does not say whether the metrics are degraded: $(K get configmap perch.heartbeat -o yaml 2>&1)"
K get configmap perch-cart -o jsonpath='{.data.controller}' | grep -q " pid $rp$" ||
	fail "the canary's ConfigMap does not name its controller"
kill -9 $rp; wait $rp 2>/dev/null
WAIT_SECS=12 wait_for matches watch 'controller lost: no update for [0-9]+s' ||
	{ dump watch; fail "perch watch did not notice the controller was killed"; }

# perch watch: get, list and watch only, its ConfigMaps watched.
quit_readonly "$audit" watch
printf '%s\n' "$RO" | grep -q '^GET /api/v1/namespaces/default/configmaps?.*watch=1' ||
	fail "perch watch did not watch the ConfigMaps: $RO"
rw=$(grep ' rw [0-9]*$' "$audit")
printf '%s\n' "$rw" | grep -q '^GET /apis/apps/v1/namespaces/default/deployments?.*watch=1' ||
	fail "perch run did not watch the Deployments"
echo "requests: perch run $(printf '%s\n' "$rw" | wc -l), perch watch $(printf '%s\n' "$RO" | wc -l)"

# Without -f the Canary objects of the namespace are watched: a new one is
# adopted (initialized: its primary Deployment created), a changed one is
# used from its next tick on (its spec saved for watchers), a deleted one is
# let go (its Lease released), one created again is taken back and, both
# deleted, the headless run ends.
sed 's/cart/shop/g' "$TMP/app.yaml" | K apply -f - >/dev/null || fail "kubectl apply shop"
sed 's/cart/shop/g' "$TMP/canary.yaml" | K apply -n default -f - >/dev/null || fail "kubectl apply canary"
"$PERCH_BIN" run --headless -n default >"$TMP/obj.out" 2>"$TMP/obj.err" &
op=$!
at_exit "kill $op 2>/dev/null; wait $op 2>/dev/null"
WAIT_SECS=15 wait_for grep -q 'Initialization done! shop.default' "$TMP/obj.out" ||
	fail "no initialization: $(cat "$TMP/obj.out" "$TMP/obj.err")"
sed 's/cart/bag/g' "$TMP/app.yaml" | K apply -f - >/dev/null || fail "kubectl apply bag"
sed 's/cart/bag/g' "$TMP/canary.yaml" | K apply -n default -f - >/dev/null || fail "kubectl apply bag canary"
WAIT_SECS=5 wait_for sh -c "kubectl get deployment bag-primary -o name 2>/dev/null | grep -q bag-primary" ||
	fail "the new Canary was not adopted: $(cat "$TMP/obj.err")"
expect_eq "bag-primary image" \
	"$(K get deployment bag-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" "bag:v1"
WAIT_SECS=10 wait_for grep -q 'Initialization done! bag.default' "$TMP/obj.out" ||
	fail "the adopted Canary did not initialize: $(tail -3 "$TMP/obj.out")"
[ "$(K get lease perch-bag -o jsonpath='{.spec.holderIdentity}')" != "" ] ||
	fail "no lease taken for the adopted Canary"
# perch run keeps the Canary objects' own status as Flagger does.
K wait --for=condition=promoted canary/shop canary/bag --timeout="$(scaled 10)s" >/dev/null ||
	fail "kubectl wait promoted: $(K get canary bag -o jsonpath='{.status}')"
expect_eq "kubectl get canary bag" "$(K get canary bag --no-headers | awk '{print $2, $3}')" "Initialized 0"
K patch canary shop --type merge -p '{"spec":{"analysis":{"interval":"45s"}}}' >/dev/null ||
	fail "kubectl patch canary"
WAIT_SECS=10 wait_for sh -c "kubectl get configmap perch-shop -o jsonpath='{.data.spec}' | grep -q '\"interval\":45'" ||
	fail "the changed Canary was not picked up: $(K get configmap perch-shop -o jsonpath='{.data.spec}')"
# Deleted and created again (kubectl delete -f && kubectl apply -f): let go,
# then taken back with its lease.
K delete canary bag >/dev/null || fail "kubectl delete canary bag"
WAIT_SECS=10 wait_for sh -c "[ -z \"\$(kubectl get lease perch-bag -o jsonpath='{.spec.holderIdentity}')\" ]" ||
	fail "the deleted Canary's lease was not released"
sed 's/cart/bag/g' "$TMP/canary.yaml" | K apply -n default -f - >/dev/null || fail "kubectl apply bag again"
WAIT_SECS=10 wait_for sh -c "[ -n \"\$(kubectl get lease perch-bag -o jsonpath='{.spec.holderIdentity}')\" ]" ||
	fail "the re-created Canary was not taken back: $(cat "$TMP/obj.err")"
K delete canary shop bag >/dev/null || fail "kubectl delete canary"
WAIT_SECS=10 wait_for sh -c "! kill -0 $op" || fail "perch run went on after its Canary was deleted"
wait $op
expect_eq "exit after the Canary was deleted" "$?" 0
grep -q 'controlled by' "$TMP/obj.err" && fail "a deleted Canary reported as held: $(cat "$TMP/obj.err")"
grep -q 'the Canary was deleted' "$TMP/obj.err" || fail "the deletion was not said: $(cat "$TMP/obj.err")"
expect_eq "lease released" "$(K get lease perch-shop -o jsonpath='{.spec.holderIdentity}')" ""
expect_eq "adopted lease released" "$(K get lease perch-bag -o jsonpath='{.spec.holderIdentity}')" ""
exit 0
