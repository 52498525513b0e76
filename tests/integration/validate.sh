# validate.sh — `perch validate`: exit codes (0 valid, 1 errors, 2 usage),
# compiler-style text, JSON findings, several files in one run, --strict.
. "$(dirname "$0")/lib.bash"
need python3
D=tests/data/spec

# Every example is valid, together (templates found across files).
out=$("$PERCH_BIN" validate examples/*.yaml); rc=$?
expect_eq "examples exit" "$rc" 0
nfiles=$(ls examples/*.yaml | wc -l)
ncanaries=$(cat examples/*.yaml | grep -c '^kind: Canary$')
[ "$nfiles" -ge 12 ] && [ "$ncanaries" -ge 11 ] || fail "examples: $nfiles files, $ncanaries Canaries"
expect_match "examples summary" "$out" "^$nfiles files: $ncanaries Canaries, 3 MetricTemplates, 1 AlertProvider; 0 errors, 0 warnings$"
# One Canary per provider: every name of the registry (as the usage error
# of perch demo --provider lists them) is some example's spec.provider.
known=$("$PERCH_BIN" demo --provider bogus 2>&1 | sed -n 's/.*(known: \([^)]*\)).*/\1/p' | tr -d ,)
[ "$(echo "$known" | wc -w)" -ge 19 ] || fail "provider list: '$known'"
for p in $known; do
	grep -qx "  provider: $p" examples/*.yaml || fail "no example Canary with provider $p"
done

# Errors: exit 1, one line per finding, file:line:col: severity: message.
out=$("$PERCH_BIN" validate "$D/exclusive.yaml"); rc=$?
expect_eq "exclusive exit" "$rc" 1
expect_eq "exclusive first line" "$(printf '%s\n' "$out" | head -1)" \
	"$D/exclusive.yaml:20:5: error: analysis.stepWeight and analysis.iterations are mutually exclusive"

# The classic mistakes: a file with no Canary in it (a typo in the kind),
# numbers out of range, a target perch run cannot drive: errors, exit 1;
# bounds in the wrong unit: warnings naming what was meant, exit 0.
out=$("$PERCH_BIN" validate "$D/kind-typo.yaml"); rc=$?
expect_eq "kind typo exit" "$rc" 1
expect_match "kind typo" "$out" ":4:7: error: kind: unsupported value 'Canry' \(did you mean Canary\?\)"
out=$("$PERCH_BIN" validate "$D/ranges.yaml"); rc=$?
expect_eq "ranges exit" "$rc" 1
expect_match "ranges summary" "$(printf '%s\n' "$out" | tail -1)" "; 13 errors, 0 warnings$"
expect_match "ranges: negative step" "$out" "error: analysis.stepWeight: -1 is not a weight between 1 and 100"
expect_match "ranges: nan bound" "$out" "error: analysis.metrics\[0\].thresholdRange.min: .nan is not a finite number"
out=$("$PERCH_BIN" validate "$D/units.yaml"); rc=$?
expect_eq "units exit" "$rc" 0
expect_match "units: fraction" "$out" "warning: .*min: 0.99 looks like a fraction: .*did you mean 99\?"
expect_match "units: seconds" "$out" "warning: .*max: 0.5 looks like seconds: .*did you mean 500\?"
out=$("$PERCH_BIN" validate "$D/undrivable.yaml"); rc=$?
expect_eq "undrivable exit" "$rc" 1
expect_match "undrivable" "$out" ":9:31: error: targetRef: perch run drives a Service target with one of the providers gatewayapi, gatewayapi:v1, gatewayapi:v1beta1, kubernetes, not with istio: Flagger routes one with any provider, but perch has not made that router route to the copies checkout-primary and checkout-canary yet"
out=$("$PERCH_BIN" validate "$D/other-kinds.yaml"); rc=$?
expect_eq "no flagger object exit" "$rc" 1

# Warnings alone keep exit 0; --strict makes them errors.
out=$("$PERCH_BIN" validate "$D/lint-big-step.yaml"); rc=$?
expect_eq "warning exit" "$rc" 0
expect_match "lint id shown" "$out" ":19:5: warning: \[big-step\] a step of 50%"
out=$("$PERCH_BIN" validate --strict "$D/lint-big-step.yaml"); rc=$?
expect_eq "strict exit" "$rc" 1
expect_match "strict severity" "$out" ":19:5: error: \[big-step\]"

# Several files: findings of each, in file order, one summary.
out=$("$PERCH_BIN" validate "$D/provider-enum.yaml" "$D/valid-canary.yaml" "$D/webhook-type.yaml"); rc=$?
expect_eq "several exit" "$rc" 1
expect_eq "several: findings" "$(printf '%s\n' "$out" | grep -c ': error: ')" 2
expect_match "several: order" "$(printf '%s\n' "$out" | head -1)" "^$D/provider-enum.yaml:9:13: error: provider: unsupported value 'linkrd' \(did you mean linkerd\?\)$"
expect_match "several: summary" "$(printf '%s\n' "$out" | tail -1)" "^3 files: 3 Canaries, 0 MetricTemplates, 0 AlertProviders; 2 errors, 2 warnings$"
# The three files define shop/checkout; the later ones replace the first.
expect_match "several: redefined" "$out" "$D/valid-canary.yaml:1:1: warning: Canary shop/checkout is defined again \(first at $D/provider-enum.yaml:1\)"

# JSON: an array of findings with every field.
"$PERCH_BIN" validate -o json "$D/missing-required.yaml" "$D/lint-no-guard.yaml" >"$TMP/out.json"; rc=$?
expect_eq "json exit" "$rc" 1
python3 - "$TMP/out.json" "$D" <<'PY' || fail "json output"
import json, sys
items = json.load(open(sys.argv[1]))
d = sys.argv[2]
assert isinstance(items, list) and len(items) == 8, items
for it in items:
    assert set(it) == {"file", "line", "column", "severity", "field", "lint", "message"}, it
first = items[0]
assert first == {"file": d + "/missing-required.yaml", "line": 3, "column": 1, "severity": "error",
                 "field": "metadata.name", "lint": None,
                 "message": "Canary: missing required field metadata.name"}, first
last = items[-1]
assert last["lint"] == "no-guard" and last["severity"] == "warning" and last["line"] == 16, last
assert last["field"] == "spec.analysis.metrics", last
PY
out=$("$PERCH_BIN" validate --output=json examples/checkout-linkerd.yaml); rc=$?
expect_eq "json valid exit" "$rc" 0
expect_eq "json valid" "$out" "[]"

# A file of MetricTemplates (and an AlertProvider) without a Canary gets
# the lints that apply to a template alone, in text and JSON; with a Canary
# that uses the template, it is linted through the Canary instead (once).
out=$("$PERCH_BIN" validate "$D/lint-template-alone.yaml"); rc=$?
expect_eq "template alone exit" "$rc" 0
expect_match "template alone: isolation" "$out" "^$D/lint-template-alone.yaml:14:3: warning: \[no-isolation\] the query of MetricTemplate shop/error-rate-all never names the canary"
expect_match "template alone: window" "$out" "^$D/lint-template-alone.yaml:14:3: warning: \[short-window\] a window of 30s in the query of MetricTemplate shop/error-rate-all"
expect_eq "template alone: summary" "$(printf '%s\n' "$out" | tail -1)" \
	"1 file: 0 Canaries, 3 MetricTemplates, 1 AlertProvider; 0 errors, 2 warnings"
"$PERCH_BIN" validate --strict "$D/lint-template-alone.yaml" >/dev/null; rc=$?
expect_eq "template alone strict exit" "$rc" 1
"$PERCH_BIN" validate -o json "$D/lint-template-alone.yaml" >"$TMP/tpl.json"; rc=$?
expect_eq "template alone json exit" "$rc" 0
python3 - "$TMP/tpl.json" <<'PY' || fail "template alone json"
import json, sys
items = json.load(open(sys.argv[1]))
assert [(i["lint"], i["field"], i["line"], i["severity"]) for i in items] == [
    ("no-isolation", "spec.query", 14, "warning"), ("short-window", "spec.query", 14, "warning")], items
PY
out=$("$PERCH_BIN" validate "$D/lint-template-alone.yaml" "$D/lint-no-isolation.yaml"); rc=$?
expect_eq "template with canary exit" "$rc" 0
expect_eq "template with canary: isolation once" "$(printf '%s\n' "$out" | grep -c '\[no-isolation\]')" 1

# Queries are rendered with perch's renderer: what it cannot run is named.
out=$("$PERCH_BIN" validate "$D/render.yaml"); rc=$?
expect_eq "render exit" "$rc" 0
expect_eq "render findings" "$(printf '%s\n' "$out" | head -2)" \
"$D/render.yaml:9:5: warning: MetricTemplate shop/errors: perch cannot render the volume query for canary shop/orders: line 1 col 61: unknown function \"window\"
$D/render.yaml:14:3: warning: MetricTemplate shop/errors: perch cannot render the query for canary shop/orders: line 1 col 44: unknown function \".namespace\""
"$PERCH_BIN" validate --strict "$D/render.yaml" >/dev/null; rc=$?
expect_eq "render strict exit" "$rc" 1

# `-` reads standard input, beside files.
out=$(sed 's/stepWeight: 10/stepWeight: 60/' examples/checkout-linkerd.yaml |
	"$PERCH_BIN" validate - examples/ab-testing.yaml); rc=$?
expect_eq "stdin exit" "$rc" 0
expect_match "stdin finding" "$out" "^<stdin>:70:5: warning: \[max-below-step\] maxWeight 50 is below stepWeight 60"
expect_match "stdin summary" "$out" "2 files: 2 Canaries"

# Hostile files: clean errors, quickly.
head -c 5000000 /dev/zero | tr '\0' 'a' >"$TMP/huge.yaml"
printf 'kind: \0Canary\n' >"$TMP/binary.yaml"
start=$(date +%s%N)
out=$("$PERCH_BIN" validate "$D/alias-bomb.yaml" "$TMP/huge.yaml" "$TMP/binary.yaml" "$D/tab.yaml"); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "hostile exit" "$rc" 1
expect_match "alias bomb" "$out" "alias-bomb.yaml:6:11: error: document expands to more than 200000 nodes"
expect_match "huge" "$out" "huge.yaml: error: file too large"
expect_match "binary" "$out" "binary.yaml:1:7: error: binary data"
expect_match "tab" "$out" "tab.yaml:6:1: error: a tab character in indentation"
# (bounded work: an unbounded expansion takes minutes; 15 s leaves room
# for a sanitizer on a busy machine)
[ "$ms" -lt 15000 ] || fail "hostile files took ${ms} ms"
out=$("$PERCH_BIN" validate "$TMP/missing.yaml"); rc=$?
expect_eq "missing file exit" "$rc" 1
expect_match "missing file" "$out" "missing.yaml: error: cannot read: No such file or directory"

# --list-lints: every lint, each documented in perch-canary(5).
out=$("$PERCH_BIN" validate --list-lints); rc=$?
expect_eq "list-lints exit" "$rc" 0
expect_eq "list-lints count" "$(printf '%s\n' "$out" | wc -l)" 8
for id in $(printf '%s\n' "$out" | awk '{print $1}'); do
	grep -q "^\.It Sy $id\$" man/perch-canary.5 || fail "lint $id is not documented in perch-canary(5)"
done

# Usage errors: one line, exit 2.
for args in "" "-o yaml examples/ab-testing.yaml" "--bogus x.yaml" "- examples/ab-testing.yaml -"; do
	# shellcheck disable=SC2086
	err=$("$PERCH_BIN" validate $args 2>&1 >/dev/null); rc=$?
	expect_eq "usage '$args' exit" "$rc" 2
	expect_eq "usage '$args' one line" "$(printf '%s\n' "$err" | wc -l)" 1
done
err=$("$PERCH_BIN" validate 2>&1); expect_match "no file" "$err" "perch validate: no file given"
err=$("$PERCH_BIN" validate - - 2>&1 </dev/null); expect_match "stdin twice" "$err" "standard input \(-\) given twice"

# Values quoted in findings come out sanitised and bounded, in text and in
# JSON: YAML escapes can carry escape sequences, bidi overrides and C1
# controls, and a value may be 10 KB long.
long=$(head -c 10000 /dev/zero | tr '\0' 'x')
cat >"$TMP/hostile.yaml" <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: "evil\e]0;title\a\e[31m\u202e"
  namespace: shop
spec:
  provider: "linkerd\e[2J\x9b"
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: app}
  service:
    port: 80
    "port\e[1mName\u2066": 1
  analysis:
    interval: "$long"
    threshold: 5
    iterations: 10
YAML
for fmt in text json; do
	out=$("$PERCH_BIN" validate -o $fmt "$TMP/hostile.yaml" 2>&1); rc=$?
	expect_eq "hostile values $fmt exit" "$rc" 1
	expect_match "hostile values $fmt" "$out" "unsupported value 'linkerd"
	if printf '%s' "$out" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "$fmt: control characters in the output"; fi
	if printf '%s' "$out" | grep -q "$(printf '\342\200\256')\|$(printf '\342\201\246')\|$(printf '\302\233')\|u001b\|u202e\|u009b"; then
		fail "$fmt: an escape, bidi override or C1 control in the output"
	fi
	longest=$(printf '%s\n' "$out" | awk '{ if (length > n) n = length } END { print n }')
	[ "$longest" -lt 2000 ] || fail "$fmt: a line of $longest characters"
done
exit 0
