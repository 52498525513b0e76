# alerts.sh — `perch run --headless` sends Flagger's alerts (reference §6)
# to the AlertProviders of analysis.alerts: a slack provider from the -f
# file whose address and token come from a Secret (read from the test API
# server), an msteams provider found on the cluster in another namespace
# (providerRef.namespace), and a provider nobody listens to.  A local
# receiver records what arrives: the texts in order, the metadata fields,
# the Authorization header; an error-only entry gets only the rollback;
# the failing provider is a Warning event; the token and the webhook paths
# are in no output and no log line.  No Prometheus: the canary has no
# metrics, and a rollout webhook to the receiver fails the second revision.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver alerts --tls-dir "$TMP/tls" --ready-delay 0.1
export KUBECONFIG="$TMP/alerts.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }

python3 "$PERCH_ROOT/tests/integration/alert_receiver.py" "$TMP/received" >"$TMP/recv.out" 2>&1 &
rpid=$!
at_exit "kill $rpid 2>/dev/null; wait $rpid 2>/dev/null"
WAIT_SECS=10 wait_for grep -q '^listening on ' "$TMP/recv.out" || fail "receiver: $(cat "$TMP/recv.out")"
RECV=$(sed -n 's/^listening on //p' "$TMP/recv.out")
closed=$(free_port)
TOKEN=xoxb-s3cr3t-t0ken

cat >"$TMP/app.yaml" <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: ops}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: default, labels: {app: checkout}}
spec:
  replicas: 1
  selector: {matchLabels: {app: checkout}}
  template:
    metadata: {labels: {app: checkout}}
    spec:
      containers: [{name: checkout, image: "checkout:v1"}]
---
apiVersion: v1
kind: Service
metadata: {name: checkout, namespace: default}
spec:
  selector: {app: checkout}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: slack-url, namespace: default}
stringData: {address: "$RECV/services/T0/B0/hook-secret", token: "$TOKEN"}
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: teams, namespace: ops}
spec: {type: msteams, address: "$RECV/teams/cluster-secret"}
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

canary() {	# canary FILE [ROLLOUT-HOOK-URL]
	local hooks=""
	[ -z "${2:-}" ] || hooks="    webhooks: [{name: smoke, url: \"$2\", timeout: 2s}]"
	cat >"$1" <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: checkout}
spec:
  provider: linkerd
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 1
    maxWeight: 50
    stepWeight: 50
    alerts:
      - {name: on-call, providerRef: {name: on-call}}
      - {name: errors, severity: error, providerRef: {name: teams, namespace: ops}}
      - {name: nobody, severity: warn, providerRef: {name: nobody}}
$hooks
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: on-call}
spec: {type: slack, channel: releases, secretRef: {name: slack-url}}
---
apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: nobody}
spec: {type: discord, address: "http://127.0.0.1:$closed/api/webhooks/1/nobody-secret"}
YAML
}
canary "$TMP/good.yaml"
canary "$TMP/bad.yaml" "$RECV/fail"

# texts PATH-REGEX: the alert texts that reached paths matching it, in order
texts() {
	python3 - "$TMP/received" "$1" <<'PY'
import json, re, sys
for line in open(sys.argv[1]) if __import__("os").path.exists(sys.argv[1]) else []:
    r = json.loads(line)
    if not re.search(sys.argv[2], r["path"]):
        continue
    b = r["body"]
    print(b["attachments"][0]["text"] if "attachments" in b else b["sections"][0]["activityTitle"])
PY
}

# 1. A healthy revision: the slack entry (severity "" = info) gets all three.
# A headless run ends once its canary is initialized and found idle (half a
# second here): the first run only initializes, the new revision is set
# after it ended, and a second run rolls it out, so no race decides whether
# perch sees the revision.
"$PERCH_BIN" run --headless -f "$TMP/good.yaml" --log "$TMP/perch.log" -v >"$TMP/run0.out" 2>"$TMP/run0.err"
expect_eq "run 0 (initialization) exit" "$?" 0
grep -q 'Initialization done! checkout.default' "$TMP/run0.out" ||
	fail "no initialization: $(cat "$TMP/run0.out" "$TMP/run0.err")"
K set image deployment/checkout checkout=checkout:v2 >/dev/null || fail "set image"
"$PERCH_BIN" run --headless -f "$TMP/good.yaml" --log "$TMP/perch.log" -v >"$TMP/run1.out" 2>"$TMP/run1.err"
expect_eq "run 1 exit" "$?" 0
expect_eq "slack alerts" "$(texts '^/services/T0/B0/hook-secret$' | tr '\n' '|')" \
	"New Deployment detected, initialization completed.|New revision detected, progressing canary analysis.|Canary analysis completed successfully, promotion finished.|"
expect_eq "nothing for the error-only entry yet" "$(texts '^/teams/')" ""
python3 - "$TMP/received" "$TOKEN" <<'PY' || fail "slack payload: $(head -1 "$TMP/received")"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["authorization"] == "Bearer " + sys.argv[2], r["authorization"]
assert r["content_type"] == "application/json", r["content_type"]
b = r["body"]
assert b["channel"] == "releases" and b["username"] == "flagger" and b["icon_emoji"] == ":rocket:", b
a = b["attachments"][0]
assert a["color"] == "good" and a["author_name"] == "checkout.default", a
assert a["fields"] == [
    {"title": "Target", "value": "Deployment/checkout.default", "short": False},
    {"title": "Failed checks threshold", "value": "1", "short": False},
    {"title": "Progress deadline", "value": "600s", "short": False},
    {"title": "Traffic routing", "value": "Weight step: 50 max: 50", "short": False}], a["fields"]
PY
cat "$TMP/run0.out" "$TMP/run1.out" | grep -q '"message":"Alert nobody to AlertProvider default/nobody not sent: discord: ' &&
	fail "a warn-only entry got an info alert"

# 2. A revision whose rollout webhook fails: rolled back, and the error
# goes to every entry (the one nobody listens to is a Warning event).
K set image deployment/checkout checkout=checkout:v3 >/dev/null || fail "set image v3"
"$PERCH_BIN" run --headless -f "$TMP/bad.yaml" --log "$TMP/perch.log" -v >"$TMP/run2.out" 2>"$TMP/run2.err"
expect_eq "run 2 exit" "$?" 1
expect_eq "teams alerts" "$(texts '^/teams/cluster-secret$')" "Failed checks threshold reached 1"
expect_match "slack got the rollback" "$(texts '^/services/' | tail -1)" '^Failed checks threshold reached 1$'
python3 - "$TMP/received" <<'PY' || fail "teams payload: $(tail -1 "$TMP/received")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if "/teams/" in l][-1]
assert r["authorization"] == "", r
b = r["body"]
assert b["@type"] == "MessageCard" and b["themeColor"] == "FF0000", b
assert b["sections"][0]["activitySubtitle"] == "checkout.default" and b["sections"][0]["facts"] == [], b
PY
grep -q '"type":"Warning".*"message":"Alert nobody to AlertProvider default/nobody not sent: discord: ' "$TMP/run2.out" ||
	fail "no warning for the failing provider: $(grep -i alert "$TMP/run2.out")"
grep -q 'alert nobody to AlertProvider default/nobody not sent' "$TMP/perch.log" || fail "not logged: $(tail -5 "$TMP/perch.log")"

# Secrets are nowhere: not the token, not a webhook path.
for f in "$TMP/perch.log" "$TMP"/run[012].out "$TMP"/run[012].err; do
	if grep -Eq "$TOKEN|hook-secret|cluster-secret|nobody-secret" "$f"; then
		fail "a secret in $f: $(grep -E "$TOKEN|hook-secret|cluster-secret|nobody-secret" "$f" | head -2)"
	fi
done
exit 0
