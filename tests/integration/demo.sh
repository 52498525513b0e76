# demo.sh — `perch demo --headless`: each scenario's outcome, timeline of
# weights and failure reason (demo_check.py), exit statuses, byte-identical
# output for the same seed, and the command line's usage errors.
. "$(dirname "$0")/lib.bash"
need python3
check="$PERCH_ROOT/tests/integration/demo_check.py"

# scenario -> exit status
declare -A want=(
	[healthy]=0 [error-spike]=1 [latency-regression]=1 [no-traffic]=1
	[slow-start]=0 [promotion-failure]=1
)
for s in "${!want[@]}"; do
	"$PERCH_BIN" demo --headless --speed max --seed 1 --scenario "$s" >"$TMP/$s.jsonl" 2>"$TMP/$s.err"
	rc=$?
	[ -s "$TMP/$s.err" ] && fail "$s: stderr: $(cat "$TMP/$s.err")"
	python3 "$check" "$s" "$TMP/$s.jsonl" || fail "$s: $(tail -3 "$TMP/$s.jsonl")"
	expect_eq "$s exit" "$rc" "${want[$s]}"
done

# Flapping: the threshold (4) decides.  Over these seeds one run reaches it
# and is rolled back, another sees bad samples but fewer, and is promoted.
outcomes=""
for seed in 1 3 7; do
	f="$TMP/flapping-$seed.jsonl"
	"$PERCH_BIN" demo --headless --speed max --seed "$seed" --scenario flapping >"$f"
	rc=$?
	found=$(python3 "$check" flapping "$f") || fail "flapping seed $seed"
	fails=$(grep -c '"result":"fail"' "$f")
	case "$found" in
	"flapping: Failed"*) expect_eq "flapping seed $seed exit" "$rc" 1; outcomes="$outcomes failed" ;;
	*) expect_eq "flapping seed $seed exit" "$rc" 0
	   [ "$fails" -gt 0 ] && outcomes="$outcomes passed-with-failures" ;;
	esac
done
expect_match "flapping outcomes" "$outcomes" "failed"
expect_match "flapping outcomes" "$outcomes" "passed-with-failures"

# The same seed gives the same bytes; another seed other numbers.
all=healthy,error-spike,latency-regression,no-traffic,flapping,slow-start,promotion-failure
"$PERCH_BIN" demo --headless --speed max --seed 7 --scenario "$all" >"$TMP/a.jsonl"
"$PERCH_BIN" demo --headless --speed max --seed 7 --scenario "$all" >"$TMP/b.jsonl"
"$PERCH_BIN" demo --headless --speed max --seed 8 --scenario "$all" >"$TMP/c.jsonl"
[ -s "$TMP/a.jsonl" ] || fail "no output"
cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl" || fail "same seed, different output: $(diff "$TMP/a.jsonl" "$TMP/b.jsonl" | head -5)"
cmp -s "$TMP/a.jsonl" "$TMP/c.jsonl" && fail "seeds 7 and 8 gave identical output"
# Virtual timestamps: the run starts at the demo's epoch, not now.
expect_match "first timestamp" "$(head -1 "$TMP/a.jsonl")" '"time":"2026-03-02T14:00:00Z"'

# The default set, headless: every canary ends, some fail (exit 1).
"$PERCH_BIN" demo --headless --speed max >"$TMP/default.jsonl"; rc=$?
expect_eq "default set exit" "$rc" 1
n=$(python3 -c 'import json,sys; print(len({json.loads(l)["canary"] for l in open(sys.argv[1])}))' "$TMP/default.jsonl")
expect_eq "default set size" "$n" 6
grep -q '"canary":"shop/checkout"' "$TMP/default.jsonl" || fail "no shop/checkout in the default set"

# --canaries cycles through the scenarios; --duration cuts the run.
out=$("$PERCH_BIN" demo --headless --speed max --canaries 14 --scenario healthy,no-traffic --duration 2m 2>"$TMP/cut.err"); rc=$?
expect_eq "--duration cut exit" "$rc" 3
expect_match "--duration cut" "$(cat "$TMP/cut.err")" "stopped after --duration with canaries still running"
n=$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(len({json.loads(l)["canary"] for l in sys.stdin}))')
expect_eq "--canaries 14" "$n" 14
printf '%s\n' "$out" | grep -q '"canary":"shop/invoices-14"' || fail "no shop/invoices-14"
printf '%s\n' "$out" | grep -q '"phase":"Succeeded"' && fail "--duration 2m: a canary finished in 2 virtual minutes"

# A scenario listed twice gets a numbered second canary.
names=$("$PERCH_BIN" demo --headless --speed max --scenario healthy,error-spike,healthy |
	python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["canary"] for l in sys.stdin})))')
expect_eq "canary names" "$names" "shop/checkout shop/checkout-3 shop/payments"

# --state-dir: state is saved, and a second run on it resumes (the world is
# set up afresh; the saved canary rolls out what the new world runs)...
for run in 1 2; do
	"$PERCH_BIN" demo --headless --speed max --scenario healthy --state-dir "$TMP/state" >"$TMP/run$run.jsonl"
	rc=$?
	expect_eq "state-dir run $run exit" "$rc" 0
	[ -f "$TMP/state/shop/checkout/status.json" ] || fail "no saved status after run $run"
	tail -1 "$TMP/run$run.jsonl" | grep -q '"phase":"Succeeded"' || fail "run $run did not end Succeeded"
done
out=$("$PERCH_BIN" status --state-dir "$TMP/state")
expect_match "status after the demo" "$out" "shop/checkout +Succeeded"
# ... and its virtual time goes on from the first run's: the second run's
# records come after the first's, and clock.json (speed max) holds the
# newest virtual time for watchers.
python3 - "$TMP" <<'PY' || fail "the demo's clock did not carry over (files in $TMP)"
import calendar, json, sys, time
tmp = sys.argv[1]
def ms(t):
    base, _, frac = t.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 + int(frac or 0)
runs = [[ms(json.loads(l)["time"]) for l in open("%s/run%d.jsonl" % (tmp, i))] for i in (1, 2)]
assert runs[1][0] >= runs[0][-1], "run 2 starts at %d, before run 1 ended at %d" % (runs[1][0], runs[0][-1])
clock = json.load(open(tmp + "/state/clock.json"))
assert clock["speed"] == "max" and clock["virtualMs"] >= runs[1][-1], clock
PY

# Usage errors: one line, exit 2.
for args in "--speed 0" "--speed fast" "--canaries 0" "--canaries x" "--seed -1" \
	"--scenario bogus" "--scenario healthy,,flapping" "--duration 5y" "extra" \
	"--seed +5" "--duration 0.0001s"; do
	# bounded even if an option were wrongly accepted: the run ends at once
	# shellcheck disable=SC2086
	err=$("$PERCH_BIN" demo --headless --speed max --scenario healthy --duration 1m $args 2>&1 >/dev/null); rc=$?
	expect_eq "demo $args exit" "$rc" 2
	expect_eq "demo $args: one line" "$(printf '%s\n' "$err" | wc -l)" 1
done
err=$("$PERCH_BIN" demo --scenario bogus 2>&1 >/dev/null)
expect_match "unknown scenario" "$err" "unknown scenario 'bogus' \(known: healthy, error-spike"
err=$("$PERCH_BIN" demo --headless --seed ' -1' 2>&1 >/dev/null); rc=$?
expect_eq "demo --seed ' -1' exit" "$rc" 2
err=$("$PERCH_BIN" demo --headless --state-dir '' 2>&1 >/dev/null); rc=$?
expect_eq "demo --state-dir '' exit" "$rc" 2
expect_match "demo --state-dir ''" "$err" "--state-dir wants a directory"

# A state directory that cannot be made: exit 3, the path named, sanitised.
: >"$TMP/afile"
err=$("$PERCH_BIN" demo --headless --speed max --scenario healthy \
	--state-dir "$TMP/afile/$(printf 'x\033[2J')" 2>&1 >/dev/null); rc=$?
expect_eq "state dir under a file exit" "$rc" 3
expect_match "state dir under a file" "$err" "afile/x.*Not a directory"
if printf '%s' "$err" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "control characters in the demo error"; fi
exit 0
