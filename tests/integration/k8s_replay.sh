# k8s_replay.sh — `perch replay --kubeconfig/--context/-n` reads a
# rollout's journal from the cluster store (ConfigMap perch-<canary>, its
# journal segments) on the test API server, with the read-only identity
# and get requests only, and decides as from the state directory; a canary
# with no ConfigMap is exit 2, a cluster that cannot be reached exit 3.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl openssl python3
D=tests/data/replay

# The demo's error-spike rollout, recorded in a state directory, and the
# same records as perch run keeps them on a cluster.
"$PERCH_BIN" demo --headless --speed max --scenario error-spike --state-dir "$TMP/spike" >/dev/null
python3 - "$TMP/spike/shop/payments" >"$TMP/cm.json" <<'PY'
import json, sys
d = sys.argv[1]
records = [json.loads(l) for l in open(d + "/journal.jsonl")]
status = json.load(open(d + "/status.json"))["status"]
spec = json.load(open(d + "/spec.json"))["spec"]
print(json.dumps({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "perch-payments", "namespace": "shop",
                 "labels": {"app.kubernetes.io/managed-by": "perch", "perch.dev/canary": "payments"}},
    "data": {"status": json.dumps(status), "spec": json.dumps(spec),
             "journal.0": json.dumps({"seq": 0, "records": records})}}))
PY
start_apiserver rp --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/rp.kubeconfig"
kubectl --request-timeout=10s create namespace shop >/dev/null 2>&1 || true
kubectl --request-timeout=10s apply -f "$TMP/cm.json" >/dev/null || fail "kubectl apply"
audit="$TMP/rp.audit"
n0=$(wc -l <"$audit")

sed 's/threshold: 5/threshold: 2/' "$D/payments.yaml" >"$TMP/t2.yaml"
out=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --kubeconfig "$KUBECONFIG" --context ro -n shop); rc=$?
expect_eq "cluster exit" "$rc" 1
expect_match "cluster header" "$out" "^shop/payments: rollout 1 of 1 in ConfigMap perch-payments \(context ro\), 2026-03-02T14:00:30Z to 14:04:30, 7 analyses: rolled back at 30% at 14:04:30$"
expect_match "cluster summary" "$out" "^with threshold 2 this rollout would have been rolled back at 30% at 14:03:00, 1m30s earlier \(it was rolled back at 30% at 14:04:30\)$"
dir=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --state-dir "$TMP/spike" | tail -n +2 | sed '$d' | sed '$d')
expect_eq "the same rows as from the state directory" "$(printf '%s\n' "$out" | tail -n +2 | sed '$d' | sed '$d')" "$dir"
writes=$(tail -n +"$((n0 + 1))" "$audit" | grep -vE '^GET ' || true)
[ -z "$writes" ] || fail "replay sent more than get requests: $writes"
tail -n +"$((n0 + 1))" "$audit" | grep -qE '^GET /api/v1/namespaces/shop/configmaps/perch-payments.* ro 200$' ||
	fail "replay did not get the ConfigMap as ro: $(tail -n +"$((n0 + 1))" "$audit")"

err=$("$PERCH_BIN" replay -f "$TMP/t2.yaml" --kubeconfig "$KUBECONFIG" --context ro -n shop --canary shop/nope 2>&1 >/dev/null); rc=$?
expect_eq "no ConfigMap exit" "$rc" 2
expect_match "no ConfigMap" "$err" "no journal of canary shop/nope on the cluster \(namespace shop holds shop/payments\)"
port=$(free_port)
sed "s#server: .*#server: https://127.0.0.1:$port#" "$KUBECONFIG" >"$TMP/down.kubeconfig"
"$PERCH_BIN" replay -f "$TMP/t2.yaml" --kubeconfig "$TMP/down.kubeconfig" --context ro -n shop >/dev/null 2>&1
expect_eq "unreachable exit" "$?" 3
