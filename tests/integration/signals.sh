#!/usr/bin/env bash
# signals.sh — SIGINT, SIGTERM and SIGHUP end every mode cleanly: exit
# 128 + the signal (130, 143, 129), the state saved, the lock or Lease given
# back so that the next run takes control at once, the notifications still
# queued sent first, and no child process left behind.
#   perch demo --headless    SIGTERM and SIGINT; the next demo controls at once
#   perch demo (terminal)    Ctrl-C and SIGHUP; the next demo shows CONTROL
#   perch watch              SIGTERM
#   perch run --headless     on the test API server: SIGINT while a slow event
#                            webhook has a backlog; every event printed reached
#                            it; the Lease is free; a second run takes it at once
#   perch run (terminal)     SIGTERM; the Lease is free again
#   exec credential plugin   perch run waiting on a plugin that hangs (and has
#                            started a child): SIGTERM ends perch and both
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tui_lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl python3 pgrep
set -m	# background jobs take SIGINT like foreground ones

# the pid of the perch a tmux session runs
perch_pid() { pgrep -P "$(tm display -p -t "$1" '#{pane_pid}')" -x perch; }
# the session's output, scrolled off or not, contains TEXT
printed() { tm capture-pane -p -S - -t "$1" | grep -qF -- "$2"; }

# ---- perch demo --headless ---------------------------------------------------
state=$TMP/state
for sig in TERM INT; do
	"$PERCH_BIN" demo --headless --state-dir "$state" --speed 20 >"$TMP/dh.$sig.out" 2>"$TMP/dh.$sig.err" &
	p=$!
	at_exit "kill $p 2>/dev/null; wait $p 2>/dev/null"
	wait_for grep -q '"phase":"Progressing"' "$TMP/dh.$sig.out" ||
		fail "demo --headless did not start: $(cat "$TMP/dh.$sig.err")"
	kill -$sig $p
	wait $p; rc=$?
	expect_eq "demo --headless exit on SIG$sig" "$rc" $((128 + $(kill -l $sig)))
	expect_match "demo --headless says why" "$(cat "$TMP/dh.$sig.err")" "stopped by SIG$sig"
	"$PERCH_BIN" status --state-dir "$state" | grep -q 'shop/checkout  Progressing' ||
		fail "state not saved at SIG$sig: $("$PERCH_BIN" status --state-dir "$state")"
done
# the next demo takes control at once: it rolls on, nobody holds the locks
"$PERCH_BIN" demo --headless --state-dir "$state" --speed max >"$TMP/dh.next.out" 2>"$TMP/dh.next.err"
rc=$?
grep -q "controlled by" "$TMP/dh.next.err" && fail "the locks were still held: $(cat "$TMP/dh.next.err")"
grep -q '"phase":"Succeeded"' "$TMP/dh.next.out" || fail "the next demo did not go on (exit $rc)"

# ---- perch demo and perch watch in a terminal ----------------------------------
state=$TMP/tstate
session demo 100 30 "$TERM_ENV $PERCH_BIN demo --state-dir $state --speed 5"
WAIT_SECS=10 wait_for shows demo CONTROL || { dump demo; fail "the demo did not draw"; }
session watch 100 30 "$TERM_ENV $PERCH_BIN watch --state-dir $state"
WAIT_SECS=10 wait_for shows watch READ-ONLY || { dump watch; fail "watch did not draw"; }
keys demo C-c
WAIT_SECS=10 wait_for exited demo 130 || { dump demo; fail "Ctrl-C: not exit 130"; }
printed demo "stopped by SIGINT" || { dump demo; fail "Ctrl-C: no word of it"; }
session demo2 100 30 "$TERM_ENV $PERCH_BIN demo --state-dir $state --speed 5"
WAIT_SECS=10 wait_for shows demo2 CONTROL || { dump demo2; fail "the next demo did not take control"; }
kill -HUP "$(perch_pid demo2)"
WAIT_SECS=10 wait_for exited demo2 129 || { dump demo2; fail "SIGHUP: not exit 129"; }
kill -TERM "$(perch_pid watch)"
WAIT_SECS=10 wait_for exited watch 143 || { dump watch; fail "watch: SIGTERM not exit 143"; }
expect_eq "watch left the alternate screen" "$(alt_on watch)" 0

# ---- perch run on the test API server -----------------------------------------
start_apiserver sig --tls-dir "$TMP/tls" --ready-delay 0
export KUBECONFIG="$TMP/sig.kubeconfig"
K() { kubectl --request-timeout=10s "$@"; }
python3 "$PERCH_ROOT/tests/integration/alert_receiver.py" "$TMP/received" 0.7 >"$TMP/recv.out" 2>&1 &
rpid=$!
at_exit "kill $rpid 2>/dev/null; wait $rpid 2>/dev/null"
wait_for grep -q '^listening on ' "$TMP/recv.out" || fail "the receiver did not start"
RECV=$(sed -n 's/^listening on //p' "$TMP/recv.out")
cat >"$TMP/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sig
  namespace: default
  labels: {app: sig}
  # (and its primary, which perch copies from it): it never becomes ready,
  # so the canary waits, with an event at each tick
  annotations: {test.perch.dev/never-ready: "true"}
spec:
  replicas: 1
  selector: {matchLabels: {app: sig}}
  template:
    metadata: {labels: {app: sig}}
    spec:
      containers: [{name: sig, image: "sig:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: sig, namespace: default}
spec:
  selector: {app: sig}
  ports: [{name: http, port: 80}]
YAML
cat >"$TMP/canary.yaml" <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: sig, namespace: default}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: sig}
  service: {port: 80}
  progressDeadlineSeconds: 3600
  analysis:
    interval: 10s
    threshold: 2
    iterations: 3
    webhooks:
      - {name: events, type: event, url: "$RECV/events"}
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
export PERCH_TIME_SCALE=20
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>"$TMP/run1.err" &
p=$!
at_exit "kill $p 2>/dev/null; wait $p 2>/dev/null"
WAIT_SECS=20 wait_for sh -c "[ \$(grep -c 'not ready' '$TMP/run1.out') -ge 6 ]" ||
	fail "the canary did not wait: $(tail -3 "$TMP/run1.out")"
printed=$(grep -c '"message"' "$TMP/run1.out")
received=$(wc -l <"$TMP/received")
[ "$received" -lt "$printed" ] || fail "no backlog to flush ($received of $printed received)"
expect_match "lease held" "$(K get lease perch-sig -o jsonpath='{.spec.holderIdentity}')" "pid $p\$"
kill -INT $p
wait $p; rc=$?
expect_eq "run --headless exit on SIGINT" "$rc" 130
expect_match "run --headless says why" "$(cat "$TMP/run1.err")" "stopped by SIGINT"
# every event printed reached the event webhook before perch ended
python3 - "$TMP/run1.out" "$TMP/received" <<'EOF' || fail "queued events were not sent"
import json, sys
printed = [json.loads(l)["message"] for l in open(sys.argv[1]) if '"message"' in l]
got = [json.loads(l)["body"]["metadata"]["eventMessage"] for l in open(sys.argv[2])]
missing = [m for m in printed if m not in got]
if missing:
    print("not delivered:", missing[:3], "(%d of %d)" % (len(missing), len(printed)))
    sys.exit(1)
EOF
expect_eq "lease released" "$(K get lease perch-sig -o jsonpath='{.spec.holderIdentity}')" ""
K get configmap perch-sig -o jsonpath='{.data.status}' | grep -q '"phase":"Initializing"' ||
	fail "status not saved"

# the next run takes control at once (the Lease would otherwise be held for
# its duration), and SIGTERM ends it too
"$PERCH_BIN" run --headless -f "$TMP/canary.yaml" >"$TMP/run2.out" 2>"$TMP/run2.err" &
p=$!
at_exit "kill $p 2>/dev/null; wait $p 2>/dev/null"
WAIT_SECS=5 wait_for grep -q 'not ready' "$TMP/run2.out" ||
	fail "the next run did not take control at once: $(cat "$TMP/run2.err")"
grep -q "controlled by" "$TMP/run2.err" && fail "the Lease was still held"
kill -TERM $p
wait $p; rc=$?
expect_eq "run --headless exit on SIGTERM" "$rc" 143
expect_eq "lease released again" "$(K get lease perch-sig -o jsonpath='{.spec.holderIdentity}')" ""

# perch run in a terminal
session run 100 30 "$TERM_ENV PERCH_TIME_SCALE=20 KUBECONFIG=$KUBECONFIG $PERCH_BIN run -f $TMP/canary.yaml"
WAIT_SECS=10 wait_for shows run CONTROL || { dump run; fail "perch run did not draw"; }
WAIT_SECS=10 wait_for shows run "sig" || { dump run; fail "perch run shows no canary"; }
kill -TERM "$(perch_pid run)"
WAIT_SECS=10 wait_for exited run 143 || { dump run; fail "perch run (terminal): SIGTERM not exit 143"; }
expect_eq "lease released by the terminal run" "$(K get lease perch-sig -o jsonpath='{.spec.holderIdentity}')" ""

# ---- an exec credential plugin that hangs ---------------------------------------
n1=$((200000 + $$ % 100000)) n2=$((300000 + $$ % 100000))
cat >"$TMP/plugin.sh" <<SH
#!/bin/sh
sleep $n1 &
sleep $n2
SH
chmod +x "$TMP/plugin.sh"
cat >"$TMP/exec.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "$APISERVER_URL", certificate-authority: "$TMP/tls/ca.crt"}
users:
- name: plugin
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: "$TMP/plugin.sh"}
contexts:
- name: plugin
  context: {cluster: test, user: plugin, namespace: default}
current-context: plugin
YAML
at_exit "pkill -f 'sleep ($n1|$n2)\$' 2>/dev/null"
"$PERCH_BIN" run --headless --kubeconfig "$TMP/exec.kubeconfig" -f "$TMP/canary.yaml" \
	>"$TMP/run3.out" 2>"$TMP/run3.err" &
p=$!
at_exit "kill $p 2>/dev/null; wait $p 2>/dev/null"
WAIT_SECS=10 wait_for pgrep -f "sleep $n2\$" || fail "the plugin did not run: $(cat "$TMP/run3.err")"
pgrep -f "sleep $n1\$" >/dev/null || fail "the plugin's child did not start"
t0=$(date +%s)
kill -TERM $p
wait $p; rc=$?
expect_eq "run waiting on a plugin: exit on SIGTERM" "$rc" 143
[ $(( $(date +%s) - t0 )) -le 3 ] || fail "perch took $(( $(date +%s) - t0 )) s to end"
WAIT_SECS=2 wait_for not pgrep -f "sleep ($n1|$n2)\$" ||
	fail "the plugin or its child was left running: $(pgrep -af "sleep ($n1|$n2)\$")"
exit 0
