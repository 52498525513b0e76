# lint_providers.sh — the `make lint` rule that provider names are written
# only in the provider registries (tests/lint_providers.sh): on a small
# tree, a comparison with a router name, a name with a suffix, a metric
# provider type and an alert type fail naming file and line; comments,
# longer messages, escaped quotes, getopt option names and tests/ do not;
# a tree without them passes, and so does this repository; a copy of it
# with one name planted fails, and make lint runs the rule.
. "$(dirname "$0")/lib.bash"
need python3

rule="$PERCH_ROOT/tests/lint_providers.sh"
mkdir -p "$TMP/t/engine" "$TMP/t/app" "$TMP/t/k8s/routers" "$TMP/t/tests/unit"
cp "$PERCH_ROOT/engine/routers.h" "$PERCH_ROOT/engine/backend_types.h" "$TMP/t/engine/"
cat >"$TMP/t/app/a.c" <<'C'
/* Compares with "istio" in a comment: fine. */
static int is_istio(const char *p) { return strcmp(p, "istio") == 0; }
// "nginx" in a line comment
static const char *m = "only istio and gatewayapi route by cookie";
static const char q = '"'; static const char *s = "a\"istio";
static const char *mesh =
    "smi:v1alpha2:osm";
static struct option opts[] = { { "prometheus", required_argument, NULL, 'p' } };
C
cat >"$TMP/t/app/m.c" <<'C'
static int prom(const char *t) { return t != NULL && strcmp(t, "prometheus") == 0; }
static const char *alert = "msteams";
C
cat >"$TMP/t/k8s/routers/b.h" <<'C'
#define ROUTER "kubernetes"
C
printf 'static const char *t = "istio";\n' >"$TMP/t/tests/unit/t.c"

out=$(bash "$rule" "$TMP/t")
rc=$?
echo "$out"
expect_eq "exit status with names" "$rc" 1
expect_eq "findings" "$(printf '%s\n' "$out" | wc -l | tr -d ' ')" 5
expect_match "a comparison" "$out" '^lint: app/a\.c:2: provider name "istio" outside the provider registries'
expect_match "a suffixed name" "$out" 'lint: app/a\.c:7: provider name "smi:v1alpha2:osm"'
expect_match "a metric provider type" "$out" 'lint: app/m\.c:1: provider name "prometheus"'
expect_match "an alert type" "$out" 'lint: app/m\.c:2: provider name "msteams"'
expect_match "a header below a folder" "$out" 'lint: k8s/routers/b\.h:1: provider name "kubernetes"'
printf '%s' "$out" | grep -q 'tests/' && fail "tests/ are not the code: $out"

rm "$TMP/t/app/a.c" "$TMP/t/app/m.c" "$TMP/t/k8s/routers/b.h"
out=$(bash "$rule" "$TMP/t")
expect_eq "exit status without names" "$?" 0
expect_eq "output without names" "$out" ""

# The registries' own files may not lose their lists unnoticed.
cp "$TMP/t/engine/backend_types.h" "$TMP/backend_types.h"
printf '/* empty */\n' >"$TMP/t/engine/backend_types.h"
out=$(bash "$rule" "$TMP/t")
expect_eq "exit status without the metric types" "$?" 1
expect_match "no metric types" "$out" 'no METRIC_TYPE_LIST'
cp "$TMP/backend_types.h" "$TMP/t/engine/backend_types.h"
printf '/* empty */\n' >"$TMP/t/engine/routers.h"
out=$(bash "$rule" "$TMP/t")
expect_eq "exit status without a registry" "$?" 1
expect_match "no registry" "$out" 'no PROVIDER_LIST'

bash "$rule" || fail "this repository writes a provider name outside the registry"

# A copy of this repository's code with one comparison planted fails,
# naming the file and line; make lint runs the rule and fails with it
# (tests/lint.sh: a full make lint on a copy took over a minute on a busy
# machine, so the wiring is checked where it is written).
mkdir "$TMP/copy"
(cd "$PERCH_ROOT" && git ls-files -z -- '*.c' '*.h' | xargs -0 cp --parents -t "$TMP/copy") ||
	fail "cannot copy the repository"
printf '\nint planted_is_gloo(const char *p) { return strcmp(p, "gloo") == 0; }\n' \
	>>"$TMP/copy/spec/validate.c"
out=$(bash "$rule" "$TMP/copy" 2>&1)
rc=$?
[ "$rc" -ne 0 ] || fail "the rule passes with a provider name planted: $out"
expect_match "the rule names it" "$out" \
	"lint: spec/validate\.c:$(wc -l <"$TMP/copy/spec/validate.c"): provider name \"gloo\""
grep -q '^bash tests/lint_providers.sh || status=1$' "$PERCH_ROOT/tests/lint.sh" ||
	fail "make lint (tests/lint.sh) does not fail with the provider rule"
echo "lint_providers: ok"
