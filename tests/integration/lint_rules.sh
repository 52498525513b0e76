# lint_rules.sh — `make lint` fails on what it is meant to catch: an include
# against the folder direction, an include circle between files, and a
# circle of calls between objects.  Each rule is run on a copy of the tree
# (tests/lint.sh --deps, the dependency rules only) with one planted line,
# and must pass on the copy without it.
. "$(dirname "$0")/lib.bash"
need python3 cc nm

tree=$TMP/tree
mkdir -p "$tree/tests"
for d in util app spec engine store metrics k8s net sim tui; do
	cp -r "$PERCH_ROOT/$d" "$tree/$d"
done
cp "$PERCH_ROOT/tests/lint.sh" "$PERCH_ROOT/tests/lint_cycles.py" "$tree/tests/"
lint() { (cd "$tree" && bash tests/lint.sh --deps 2>&1); }

# The tree as it is: clean.
out=$(lint) || fail "lint --deps on the unchanged tree: $out"
expect_match "unchanged tree" "$out" '^lint: clean$'

# plant FILE LINE: lint --deps on the tree with LINE added to FILE must
# fail; prints its output and puts FILE back.
plant() {
	local out
	cp "$tree/$1" "$TMP/saved" || return 1
	printf '%s\n' "$2" >>"$tree/$1"
	if out=$(lint); then echo "lint --deps passed with '$2' in $1: $out"; return 1; fi
	cp "$TMP/saved" "$tree/$1"
	printf '%s\n' "$out"
}
# An include against the direction: util/ is the bottom layer.
out=$(plant util/fmt.c '#include "tui/tui.h"') || fail "$out"
expect_match "backward include" "$out" '^lint: util/fmt.c includes tui/tui.h: util/ may not depend on tui/$'
out=$(plant store/dir.h '#include "app/cli.h"') || fail "$out"
expect_match "backward include" "$out" '^lint: store/dir.h includes app/cli.h: store/ may not depend on app/$'
# A library outside its folder.
out=$(plant engine/canary.c '#include <curl/curl.h>') || fail "$out"
expect_match "curl outside net/" "$out" '^lint: engine/canary.c: libcurl is used only'
# An include circle inside a folder (engine/runner.h includes
# engine/snapshot.h): no direction is broken, the circle is.
out=$(plant engine/snapshot.c '#include "engine/runner.h"') || fail "$out"
expect_match "include circle" "$out" '^lint: import circle \([0-9]+ modules\): .*engine/snapshot -> engine/runner'
expect_eq "lines of complaint" "$(printf '%s\n' "$out" | grep -c '^lint: ')" 1
# Back to the tree as it is.
out=$(lint) || fail "lint --deps after putting the files back: $out"

# A circle of calls between two objects (what a shared header hides from
# the include graph), found from the objects' symbols.
mkdir -p "$TMP/build/t/x"
printf 'int b(int);\nint a(int n) { return n ? b(n - 1) : 0; }\n' >"$TMP/a.c"
printf 'int a(int);\nint b(int n) { return n ? a(n - 1) : 1; }\n' >"$TMP/b.c"
printf 'int a(int);\nint c(void) { return a(3); }\n' >"$TMP/c.c"
for m in a b c; do cc -c -o "$TMP/build/t/x/$m.o" "$TMP/$m.c" || fail "cc $m.c"; done
objs="$TMP/build/t/x/a.o $TMP/build/t/x/b.o $TMP/build/t/x/c.o"
cyc() { python3 "$tree/tests/lint_cycles.py" --objects "$@" 2>&1; }
# shellcheck disable=SC2086
out=$(cyc $objs) && fail "a call circle passed: $out"
expect_match "call circle" "$out" '^lint: call circle \(2 modules\): x/a -> x/b -> x/a$'
# shellcheck disable=SC2086
out=$(cyc --allow "x/b x/a" $objs) || fail "an allowed call circle failed: $out"
expect_match "allowed call circle" "$out" '^lint: note: known call circle'
# shellcheck disable=SC2086
out=$(cyc --allow "x/a x/c" "$TMP/build/t/x/a.o" "$TMP/build/t/x/c.o") &&
	fail "an allowance for a circle that is gone passed: $out"
expect_match "stale allowance" "$out" 'allowed call circle "x/a x/c" is gone'
# The objects as lint.sh gets them from make lint: one line of complaint.
# shellcheck disable=SC2086
out=$(cd "$tree" && PERCH_LINT_OBJS="$objs" bash tests/lint.sh --deps 2>&1) &&
	fail "lint --deps passed with a call circle in its objects: $out"
expect_match "call circle through lint.sh" "$out" 'call circle \(2 modules\): x/a -> x/b -> x/a'
echo "ok"
