# state_dir.sh — the state directory as a hostile user or a broken disk
# would leave it, through the real binary: a lock that cannot be opened
# leaves status.json byte for byte as it was; links planted for the lock or
# the journal are refused, naming them, and the file they point to is never
# touched; a journal that cannot be written is an Error event and exit 3; a
# torn last journal record costs that record only; a directory others may
# write to is refused; a second headless demo on the same directory ends
# at once with exit 3 naming the holder (with --duration too), and a TUI
# demo left READ-ONLY by that holder takes control once it is killed.
. "$(dirname "$0")/lib.bash"
need python3 tmux

D=$TMP/state
C=$D/shop/checkout
demo() { "$PERCH_BIN" demo --headless --scenario healthy --speed max --state-dir "$D" "$@"; }

demo >/dev/null || fail "first demo"
grep -q '"phase": "Succeeded"' "$C/status.json" || fail "the first demo did not succeed"
cp "$C/status.json" "$TMP/status.before"

# A lock that cannot be opened (a directory in its place): no control, and
# not a byte of status.json changes.
rm -f "$C/lock" && mkdir "$C/lock"
demo >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "exit status with an unopenable lock" "$rc" 3
expect_match "the error" "$(cat "$TMP/err")" "shop/checkout: cannot take control: refusing .*/shop/checkout/lock: a directory"
cmp -s "$C/status.json" "$TMP/status.before" || fail "status.json changed without control: $(diff "$TMP/status.before" "$C/status.json" | head -5)"
rmdir "$C/lock"

# A link in place of the lock: refused, the victim untouched.
printf 'precious\n' >"$TMP/victim"
ln -s "$TMP/victim" "$C/lock"
demo >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "exit status with a linked lock" "$rc" 3
expect_match "the error" "$(cat "$TMP/err")" "refusing .*/shop/checkout/lock: it is a symbolic link"
expect_eq "the lock's victim" "$(cat "$TMP/victim")" "precious"
cmp -s "$C/status.json" "$TMP/status.before" || fail "status.json changed with a linked lock"
rm "$C/lock"

# A link in place of the journal: every append refused, one Error event
# naming it (headless output), exit 3, the victim untouched.
mv "$C/journal.jsonl" "$TMP/journal.keep"
ln -s "$TMP/victim" "$C/journal.jsonl"
demo >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "exit status with a linked journal" "$rc" 3
n=$(grep -c '"type":"Error".*cannot write the journal of shop/checkout: refusing .*journal.jsonl: it is a symbolic link' "$TMP/out")
expect_eq "Error events about the journal" "$n" 1
expect_eq "the journal's victim" "$(cat "$TMP/victim")" "precious"
rm "$C/journal.jsonl" && mv "$TMP/journal.keep" "$C/journal.jsonl"

# A torn last record: only that one is lost.
good() { python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    try:
        json.loads(line); n += 1
    except ValueError:
        pass
print(n)' "$1"; }
before=$(good "$C/journal.jsonl")
truncate -s -40 "$C/journal.jsonl"
demo >"$TMP/out" || fail "demo after a torn journal"
added=$(grep -c . "$TMP/out")
expect_eq "journal records after a torn one" "$(good "$C/journal.jsonl")" "$((before - 1 + added))"
expect_eq "the journal's last byte" "$(tail -c 1 "$C/journal.jsonl" | od -An -c | tr -d ' ')" '\n'

# A canary directory others may write to.
chmod 0777 "$C"
demo >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "exit status with a world-writable directory" "$rc" 3
expect_match "the error" "$(cat "$TMP/err")" "refusing .*/shop/checkout: it is writable by others \(chmod go-w "
chmod 0755 "$C"

# What perch prints quotes outside strings, sanitized: a damaged
# status.json holding an escape byte, a path and a theme name with an OSC
# sequence from the command line.
raw() { LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]\|\xe2\x80\xae' "$1"; }
cp "$C/status.json" "$TMP/status.keep"
printf '{"format": 1, "kind": "status", \x1b]0;PWN\x07 oops' >"$C/status.json"
"$PERCH_BIN" status --state-dir "$D" >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_eq "perch status on a damaged status.json" "$rc" 3
expect_match "its error" "$(cat "$TMP/err")" "status.json:1:[0-9]+: bad JSON"
expect_eq "raw control bytes from perch status" "$(raw "$TMP/err")" 0
cp "$TMP/status.keep" "$C/status.json"
"$PERCH_BIN" status --state-dir $'x\e]0;PWN\a\u202e' >"$TMP/out" 2>"$TMP/err"
expect_eq "raw control bytes for a hostile --state-dir" "$(raw "$TMP/err")" 0
"$PERCH_BIN" demo --theme $'y\e]0;PWN\a' </dev/null >"$TMP/out" 2>"$TMP/err"
expect_match "a hostile --theme" "$(cat "$TMP/err")" "theme"
expect_eq "raw control bytes for a hostile --theme" "$(raw "$TMP/err")" 0

# A second headless demo while the first holds the canary: exit 3 naming
# the holder, at once, whatever --duration says.
"$PERCH_BIN" demo --headless --scenario healthy --speed 1 --state-dir "$D" >"$TMP/first" 2>&1 &
first=$!
at_exit "kill $first 2>/dev/null; wait $first 2>/dev/null"
WAIT_SECS=10 wait_for grep -q "pid $first" "$C/lock" || fail "the first demo took no control"
for extra in "" "--duration 10m"; do
	start=$(date +%s)
	# shellcheck disable=SC2086
	timeout "$(scaled 20)" "$PERCH_BIN" demo --headless --scenario healthy --state-dir "$D" $extra \
		>"$TMP/second" 2>"$TMP/err"; rc=$?
	expect_eq "exit status of a second demo ($extra)" "$rc" 3
	[ $(( $(date +%s) - start )) -le 5 ] || fail "the second demo ($extra) took $(( $(date +%s) - start )) s"
	expect_match "the second demo's error" "$(cat "$TMP/err")" "controlled by another perch \(.*pid $first\)"
done
# ... and never wrote its heartbeat over the first one's.
grep -q "\"controller\":\"[^\"]* pid $first\"" "$D/clock.json" ||
	fail "a refused demo wrote the heartbeat: $(cat "$D/clock.json")"
# A TUI left READ-ONLY by that holder takes control once it is gone.
. "$(dirname "$0")/tui_lib.bash"
session tui 100 30 "$TERM_ENV '$PERCH_BIN' demo --scenario healthy --state-dir '$D'"
WAIT_SECS=15 wait_for shows tui "READ-ONLY" || { dump tui; fail "the TUI is not read-only"; }
grep -q "\"controller\":\"[^\"]* pid $first\"" "$D/clock.json" ||
	fail "a read-only TUI wrote the heartbeat: $(cat "$D/clock.json")"
kill -9 "$first"
wait "$first" 2>/dev/null
WAIT_SECS=10 wait_for shows tui "CONTROL" || { dump tui; fail "the TUI did not take control"; }
holder=$(sed -n 's/.* pid \([0-9]*\)$/\1/p' "$C/lock")
[ -n "$holder" ] && [ "$holder" != "$first" ] && kill -0 "$holder" ||
	fail "the lock is not the TUI's: $(cat "$C/lock")"
# Its heartbeat follows: watchers see it live, not the dead one lost.
WAIT_SECS=5 wait_for grep -q "\"controller\":\"[^\"]* pid $holder\"" "$D/clock.json" ||
	fail "the TUI that took control does not beat: $(cat "$D/clock.json")"
keys tui q
echo "state directory: ok"
