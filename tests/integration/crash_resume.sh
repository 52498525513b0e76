# crash_resume.sh — durable state across `kill -9`: a healthy demo rollout
# with a state directory is killed at many points and restarted each time; it
# must resume where it was (same phase, weight and failed checks), advance no
# step twice, promote once, and end Succeeded; its virtual time goes on from
# where it was (journal times never go back, no "no data" hold after a
# resume, clock.json follows).  A second controller on the
# same state directory is refused and names the holder.
. "$(dirname "$0")/lib.bash"
need python3

D=$TMP/state
SPEED=${CRASH_SPEED:-100}
args=(demo --headless --scenario healthy --seed 3 --speed "$SPEED" --state-dir "$D")
pid=
at_exit '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; wait 2>/dev/null'

# A second controller while the first runs: refused (exit 3), and
# `perch status` names the holder.
"$PERCH_BIN" "${args[@]}" >"$TMP/first.jsonl" 2>"$TMP/first.err" &
pid=$!
WAIT_SECS=10 wait_for grep -q "pid $pid" "$D/shop/checkout/lock" || fail "the first controller took no lock"
# (once it is rolling out: a demo resumed before its revision came has nothing to do)
WAIT_SECS=10 wait_for grep -q '"phase": "Progressing"' "$D/shop/checkout/status.json" ||
	fail "the rollout did not start"
"$PERCH_BIN" "${args[@]}" >"$TMP/second.jsonl" 2>"$TMP/second.err"; rc=$?
expect_eq "a second controller is refused" "$rc" 3
out=$("$PERCH_BIN" status --state-dir "$D")
expect_match "status names the holder" "$out" "shop/checkout .* [^ ]+@[^ ]+ pid $pid "
kill -9 $pid; wait $pid 2>/dev/null; pid=

# Kill at many points of the rollout, restart each time; keep what the
# state said at each kill.  (A finished canary restarted would roll out the
# demo's next revision: the kills stop once it has finished.)
i=0 ended=
for delay in 0.1 0.15 0.2 0.25 0.3 0.35 0.4 0.5 0.6 0.7; do
	i=$((i + 1))
	"$PERCH_BIN" "${args[@]}" >"$TMP/run.$i.jsonl" 2>"$TMP/run.$i.err" &
	pid=$!
	sleep "$delay"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	pid=
	"$PERCH_BIN" status --state-dir "$D" -o json >"$TMP/killed.$i.json" ||
		fail "state unreadable after kill -9 number $i: $(cat "$TMP/killed.$i.json")"
	if grep -q '"phase": "Succeeded"' "$TMP/killed.$i.json"; then ended=1; break; fi
done
if [ -z "$ended" ]; then
	timeout "$(scaled 30)" "$PERCH_BIN" "${args[@]}" >"$TMP/run.last.jsonl" 2>"$TMP/run.last.err"; rc=$?
	expect_eq "the last run ends Succeeded" "$rc" 0
fi
[ -n "${CRASH_DEBUG:-}" ] && cp -r "$TMP" "$CRASH_DEBUG"
python3 - "$TMP" "$D" "$i" <<'EOF' || fail "crash-resume check failed (files in $TMP)"
import glob, json, os, re, sys
tmp, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)

def lines(path):
    out = []
    if os.path.exists(path):
        for l in open(path):
            if l.endswith("\n"):
                out.append(json.loads(l))
    return out

journal = []
for j in sorted(glob.glob(d + "/*/*/")):
    journal += lines(j + "journal.1.jsonl") + lines(j + "journal.jsonl")
events = [r for r in journal if r.get("kind") != "check"]
msgs = [e.get("message", "") for e in events]
weights = [int(m.group(1)) for m in (re.search(r"^Advance \S+ canary weight (\d+)$", x) for x in msgs) if m]
if weights != sorted(set(weights)):
    fail("a step was advanced twice or went back: %s" % weights)
if not weights:
    fail("no Advance event in the journal")
copies = [x for x in msgs if x.startswith("Copying ")]
done = [x for x in msgs if x.startswith("Promotion completed")]
if len(copies) != 1 or len(done) != 1:
    fail("promotion ran %d times, completed %d times" % (len(copies), len(done)))
news = [x for x in msgs if x.startswith("New revision detected")]
if len(news) != 1:
    fail("the rollout started %d times" % len(news))

# Virtual time continues across restarts: journal times never go back, and
# the resumed healthy rollout never holds for lack of data.
def ms(t):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{3}))?Z$", t)
    if not m:
        fail("bad journal time %r" % t)
    import calendar, time
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) * 1000 + int(m.group(2) or 0)
times = [ms(r["time"]) for r in journal]
for a, b in zip(journal, journal[1:]):
    if ms(b["time"]) < ms(a["time"]):
        fail("journal time went back from %s to %s" % (a["time"], b["time"]))
held = [r for r in journal if r.get("kind") == "check" and r.get("result") != "pass"]
held += [r for r in events if "no data" in r.get("message", "") or "no request volume" in r.get("message", "")]
if held:
    fail("the healthy rollout held after a resume: %s" % held[0])
# clock.json holds the demo's time at its last heartbeat (its exit): at or
# after the last record, by less than a virtual minute.
clock = json.load(open(d + "/clock.json"))
if clock.get("kind") != "clock" or not times[0] < clock.get("virtualMs", 0) <= times[-1] + 60000:
    fail("clock.json does not follow the demo's time: %s (last journal %s)" % (clock, journal[-1]["time"]))
if not clock.get("stopped") or clock.get("everyMs", 0) <= 0:
    fail("clock.json does not say the demo stopped: %s" % clock)

# Each restart resumes from what the state held at the kill: its first
# record has the same phase, weight and failed checks, or the next step.
for k in range(1, n + 1):
    saved = json.load(open("%s/killed.%d.json" % (tmp, k)))["canaries"]
    nxt = "%s/run.%s.jsonl" % (tmp, k + 1 if k < n else "last")
    if not os.path.exists(nxt):
        continue
    out = [r for r in lines(nxt) if r.get("kind") != "check"]
    if not saved or not out:
        continue
    s = saved[0]
    if s["phase"] in ("Succeeded", "Failed"):
        continue
    first = out[0]
    if s["phase"] == "Progressing" and first["phase"] in ("Initializing", "Initialized"):
        fail("restart %d began again from %s (saved %s)" % (k, first["phase"], s))
    if first["weight"] < s["weight"] and first["phase"] == s["phase"]:
        fail("restart %d went back from weight %d to %d" % (k, s["weight"], first["weight"]))
    if first["failedChecks"] < s["failedChecks"] and first["phase"] == s["phase"]:
        fail("restart %d lost failed checks: %s -> %s" % (k, s, first))
# The kills must have hit the rollout itself, not only its end.
mid = set()
for k in range(1, n + 1):
    for s in json.load(open("%s/killed.%d.json" % (tmp, k)))["canaries"]:
        if s["phase"] not in ("Succeeded", "Failed", "Initialized"):
            mid.add((s["phase"], s["weight"]))
if len(mid) < 2:
    fail("only %d distinct mid-rollout states were killed: %s" % (len(mid), sorted(mid)))
final = json.load(open(glob.glob(d + "/*/*/status.json")[0]))["status"]
if final["phase"] != "Succeeded":
    fail("final phase %s" % final["phase"])
EOF
exit 0
