# libcurl_lazy.sh — libcurl is loaded at run time, only by what talks to the
# network: the binary does not link it, the demo never maps it and works
# without it, and a command that needs it and cannot load it says so in
# one line (naming the library and what needs it) and exits 3.
. "$(dirname "$0")/lib.bash"
need readelf

needed=$(readelf -d "$PERCH_BIN" | grep NEEDED)
expect_match "the binary links ncurses" "$needed" "libncursesw"
printf '%s' "$needed" | grep -q libcurl && fail "the binary links libcurl: $needed"

missing=/nonexistent/libcurl.so.4

# The demo needs no network: it runs to its end without libcurl.
PERCH_LIBCURL=$missing "$PERCH_BIN" demo --headless --speed max --seed 1 --scenario healthy \
	>"$TMP/demo.jsonl" 2>"$TMP/demo.err"
expect_eq "demo without libcurl: exit" "$?" 0
expect_eq "demo without libcurl: stderr" "$(cat "$TMP/demo.err")" ""

# With libcurl installed, a running demo still never maps it.
"$PERCH_BIN" demo --headless --scenario healthy >/dev/null 2>&1 &
demo=$!
at_exit "kill $demo 2>/dev/null; wait $demo 2>/dev/null"
sleep 0.5
[ -r "/proc/$demo/maps" ] || fail "the demo ended early"
grep -q 'libcurl' "/proc/$demo/maps" && fail "the demo mapped libcurl"
kill "$demo"

cat >"$TMP/kubeconfig" <<'KC'
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: x
  context: {cluster: c, user: u, namespace: default}
current-context: x
users:
- name: u
  user: {token: not-a-secret}
KC
spec=$PERCH_ROOT/examples/checkout-linkerd.yaml

# one_line_error WHAT WANT-REGEX CMD...: exit 3, one line on stderr
one_line_error() {
	local what=$1 want=$2 err rc
	shift 2
	err=$(PERCH_LIBCURL=$missing "$@" 2>&1 >/dev/null)
	rc=$?
	expect_eq "$what: exit" "$rc" 3
	expect_eq "$what: one line" "$(printf '%s\n' "$err" | wc -l)" 1
	expect_match "$what" "$err" "$want"
}
one_line_error "run" \
	"^perch run: the Kubernetes API client needs libcurl, which cannot be loaded: $missing: cannot open" \
	"$PERCH_BIN" run --kubeconfig "$TMP/kubeconfig" -f "$spec"
one_line_error "check" \
	"^perch check: the Prometheus client needs libcurl, which cannot be loaded: $missing: cannot open" \
	"$PERCH_BIN" check --prometheus http://127.0.0.1:1 -f "$spec"
one_line_error "a library that is not libcurl" \
	"^perch check: the Prometheus client needs libcurl, which cannot be loaded: libm\.so\.6: no curl_global_init$" \
	env PERCH_LIBCURL=libm.so.6 "$PERCH_BIN" check --prometheus http://127.0.0.1:1 -f "$spec"

# The same command with libcurl gets as far as the network.
err=$("$PERCH_BIN" check --prometheus http://127.0.0.1:1 -f "$spec" 2>&1)
expect_eq "check with libcurl: exit" "$?" 3
expect_match "check with libcurl" "$err" "cannot reach Prometheus"
exit 0
