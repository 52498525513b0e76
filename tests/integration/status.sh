# status.sh — `perch status` on a prepared state directory: text and JSON
# output, who holds control (a real flock held by another process), exit 1 for
# a Failed canary, exit 3 naming a damaged file, and not a byte written.
. "$(dirname "$0")/lib.bash"
need python3

D=$TMP/state
# mkstate.py DIR CANARY PHASE WEIGHT FAILED ITER REASON: writes status.json
# (and spec.json with threshold 5) in the documented format, checksum included.
cat >"$TMP/mkstate.py" <<'EOF'
import json, os, re, sys
d, canary, phase, weight, failed, it, reason = sys.argv[1:8]
def canon(o):
    s = json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), s)
def fnv(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xffffffffffffffff
    return h
def write(kind, body):
    env = {"format": 1, "kind": kind, "canary": canary, kind: body}
    env["checksum"] = "fnv1a64:%016x" % fnv(canon(env).encode())
    os.makedirs(os.path.join(d, canary), exist_ok=True)
    with open(os.path.join(d, canary, kind + ".json"), "w") as f:
        json.dump(env, f, indent=2, ensure_ascii=False)
write("status", {"phase": phase, "canaryWeight": int(weight), "failedChecks": int(failed),
    "iterations": int(it), "mirrored": False, "paused": False, "skipRequested": False,
    "approved": 0, "lastAppliedSpec": "abc", "lastPromotedSpec": "def", "failedRevision": "",
    "lastTransitionMs": 1795000000000, "phaseSinceMs": 0, "holdSinceMs": 0,
    "waitSinceMs": 0, "nextTickMs": 0, "seq": 7, "reason": reason})
write("spec", {"namespace": canary.split("/")[0], "name": canary.split("/")[1],
    "target": None, "targetKind": None, "service": None, "provider": None, "port": 80,
    "strategy": "canary", "interval": 30, "threshold": 5, "maxWeight": 50, "stepWeight": 10,
    "stepWeightPromotion": 0, "iterations": 0, "mirror": False, "mirrorWeight": 0,
    "primaryReadyThreshold": 100, "canaryReadyThreshold": 100, "progressDeadline": 600,
    "skipAnalysis": False, "suspend": False, "noDataPolicy": "hold", "minRequests": 0,
    "confirm": 0, "stepWeights": [], "metrics": [], "webhooks": []})
EOF
mk() { python3 "$TMP/mkstate.py" "$D" "$@" || fail "cannot prepare $1"; }
mk test/podinfo Progressing 30 2 3 ""
mk prod/checkout Succeeded 0 0 5 ""
# A reason with a terminal escape sequence: it must reach the screen cleaned.
mk prod/api Failed 0 5 2 $'request-success-rate 91.5 < 99 \e[31mred\e[0m'

# Another process holds control of test/podinfo.
python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX)
f.write("alice@laptop pid %d\n" % os.getpid()); f.flush()
open(sys.argv[2], "w").close(); time.sleep(60)' "$D/test/podinfo/lock" "$TMP/locked" &
holder=$!
at_exit "kill $holder 2>/dev/null; wait $holder 2>/dev/null"
WAIT_SECS=20 wait_for test -e "$TMP/locked" || fail "the lock holder did not start"

before=$(cd "$D" && find . -printf '%p %s %T@\n' | sort)

out=$("$PERCH_BIN" status --state-dir "$D"); rc=$?
expect_eq "status with a Failed canary: exit" "$rc" 1
expect_eq "status: header + 3 lines" "$(printf '%s\n' "$out" | wc -l)" 4
expect_match "header" "$out" "^CANARY +PHASE +WEIGHT +FAILED +ITER +LAST TRANSITION +CONTROL +REASON"
expect_match "podinfo line" "$out" \
	"test/podinfo +Progressing +30% +2/5 +3 +2026-11-18T[0-9:]+Z +alice@laptop pid $holder +-"
expect_match "checkout line" "$out" "prod/checkout +Succeeded +0% +0/5 +5 .* - +-$"
expect_match "api line (sanitized reason)" "$out" "prod/api +Failed +0% +5/5 +2 .*request-success-rate 91.5 < 99 red$"
printf '%s' "$out" | grep -q $'\e' && fail "an escape sequence reached the terminal"
# Sorted by namespace/name.
expect_eq "order" "$(printf '%s\n' "$out" | awk 'NR>1 {print $1}' | tr '\n' ' ')" \
	"prod/api prod/checkout test/podinfo "

out=$("$PERCH_BIN" status --state-dir "$D" -o json); rc=$?
expect_eq "json exit" "$rc" 1
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in d["canaries"]:
    print(c["canary"], c["phase"], c["weight"], c["failedChecks"], c["threshold"],
          c["iteration"], c["heldBy"], c["lastTransitionTime"], repr(c["reason"]))') ||
	fail "status -o json is not JSON: $out"
expect_eq "json" "$got" "prod/api Failed 0 5 5 2 None 2026-11-18T11:06:40Z 'request-success-rate 91.5 < 99 red'
prod/checkout Succeeded 0 0 5 5 None 2026-11-18T11:06:40Z ''
test/podinfo Progressing 30 2 5 3 alice@laptop pid $holder 2026-11-18T11:06:40Z ''"

# Without the Failed canary: exit 0.
rm -r "$D/prod/api"
"$PERCH_BIN" status --state-dir "$D" >/dev/null; rc=$?
expect_eq "all healthy: exit" "$rc" 0
before=$(cd "$D" && find . -printf '%p %s %T@\n' | sort)

# A flipped byte: exit 3, the file named, the other canaries still shown.
f=$D/test/podinfo/status.json
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$f"
out=$("$PERCH_BIN" status --state-dir "$D" 2>"$TMP/err"); rc=$?
expect_eq "corrupt: exit" "$rc" 3
expect_match "corrupt: file named" "$(cat "$TMP/err")" "^perch status: $f(:[0-9]+:[0-9]+: bad JSON|: checksum mismatch)"
expect_match "corrupt: others still shown" "$out" "prod/checkout +Succeeded"
expect_match "corrupt: row marked" "$out" "test/podinfo +unreadable"
out=$("$PERCH_BIN" status --state-dir "$D" -o json 2>/dev/null); rc=$?
expect_eq "corrupt json: exit" "$rc" 3
expect_match "corrupt json: error field" "$out" "\"error\": \"$f"

# Truncated: exit 3 with line:column.
head -c 40 "$D/prod/checkout/status.json" >"$TMP/trunc"
cp "$TMP/trunc" "$D/prod/checkout/status.json"
"$PERCH_BIN" status --state-dir "$D" >/dev/null 2>"$TMP/err"; rc=$?
expect_eq "truncated: exit" "$rc" 3
expect_match "truncated: file and position" "$(cat "$TMP/err")" \
	"$D/prod/checkout/status.json:[0-9]+:[0-9]+: bad JSON"

# Reading never changed anything (apart from the two files damaged above).
after=$(cd "$D" && find . -printf '%p %s %T@\n' | sort)
expect_eq "nothing written" "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep -c '^>')" 2

# An empty directory, and a missing one.
mkdir "$TMP/empty"
out=$("$PERCH_BIN" status --state-dir "$TMP/empty"); rc=$?
expect_eq "empty: exit" "$rc" 0
expect_match "empty" "$out" "no canaries with saved state"
"$PERCH_BIN" status --state-dir "$TMP/missing" 2>"$TMP/err"; rc=$?
expect_eq "missing dir: exit" "$rc" 3
expect_match "missing dir named" "$(cat "$TMP/err")" "$TMP/missing"
# The default directory comes from XDG_STATE_HOME.
mkdir -p "$TMP/xdg/perch"
cp -r "$D/prod" "$TMP/xdg/perch/"
rm -f "$TMP/xdg/perch/prod/checkout/status.json"
out=$(XDG_STATE_HOME=$TMP/xdg "$PERCH_BIN" status); rc=$?
expect_eq "default dir: exit" "$rc" 0
expect_match "default dir" "$out" "prod/checkout +\(no status yet\)"
exit 0
