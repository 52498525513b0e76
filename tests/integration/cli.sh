# cli.sh — the command-line contract: --help, --version, usage errors.
. "$(dirname "$0")/lib.bash"

out=$("$PERCH_BIN" --help); rc=$?
expect_eq "--help exit" "$rc" 0
expect_match "--help" "$out" "^perch — "
expect_match "--help lists usage" "$out" "Usage: perch"

out=$("$PERCH_BIN" --version); rc=$?
expect_eq "--version exit" "$rc" 0
expect_match "--version" "$out" "^perch [0-9]+\.[0-9]+\.[0-9]+$"

err=$("$PERCH_BIN" no-such-command 2>&1 >/dev/null); rc=$?
expect_eq "unknown command exit" "$rc" 2
expect_eq "unknown command: one line" "$(printf '%s\n' "$err" | wc -l)" 1
expect_match "unknown command" "$err" "unknown command 'no-such-command'.*perch --help"

err=$("$PERCH_BIN" --no-such-option 2>&1 >/dev/null); rc=$?
expect_eq "unknown option exit" "$rc" 2
expect_match "unknown option" "$err" "unknown option '--no-such-option'"

err=$("$PERCH_BIN" 2>&1 >/dev/null); rc=$?
expect_eq "no command exit" "$rc" 2

# Every listed command answers --help with its usage and exit 0, and an
# unknown option of that command is a one-line usage error with exit 2.
for cmd in $("$PERCH_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}'); do
	[ "$cmd" = "(none" ] && continue
	out=$("$PERCH_BIN" "$cmd" --help); rc=$?
	expect_eq "$cmd --help exit" "$rc" 0
	expect_match "$cmd --help" "$out" "^Usage: perch $cmd"
	err=$("$PERCH_BIN" "$cmd" --no-such-option 2>&1 >/dev/null); rc=$?
	expect_eq "$cmd unknown option exit" "$rc" 2
	expect_eq "$cmd unknown option: one line" "$(printf '%s\n' "$err" | wc -l)" 1
	expect_match "$cmd unknown option: says so" "$err" "^perch $cmd: unknown option '--no-such-option'"
done

# --log writes to the file, never to the terminal.
"$PERCH_BIN" --log "$TMP/log" -v --version >/dev/null

# Usage errors quote the user's arguments sanitised: still one line, no
# escape sequence reaches the terminal.
hostile() {	# ARGS...
	local err rc
	err=$("$PERCH_BIN" "$@" 2>&1 >/dev/null); rc=$?
	expect_eq "hostile '$*' exit" "$rc" 2
	expect_eq "hostile '$*' one line" "$(printf '%s\n' "$err" | wc -l)" 1
	if printf '%s' "$err" | LC_ALL=C grep -q '[[:cntrl:]]'; then fail "'$*': control characters in the message"; fi
	if printf '%s' "$err" | grep -q "$(printf '\342\200\256')"; then fail "'$*': bidi override in the message"; fi
}
hostile demo --speed "$(printf '1\n2')"
hostile demo --seed "$(printf '\033[2J\033]0;x\007')"
hostile "$(printf 'no\033[31m\nsuch')"
hostile validate --bad"$(printf '\342\200\256\n')"x
hostile check -f x.yaml --prometheus http://127.0.0.1:9 --time "$(printf '\r\033[Kyesterday')"
cat >"$TMP/kubeconfig" <<'YAML'
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: KC-T0KEN-SECRET}}]
contexts: [{name: ctx, context: {cluster: c, user: u, namespace: t}}]
current-context: ctx
YAML
hostile check -f examples/checkout-linkerd.yaml --prometheus http://127.0.0.1:9 \
	--kubeconfig "$TMP/kubeconfig" --context "$(printf 'no\033[2J\nsuch')"
err=$("$PERCH_BIN" check -f examples/checkout-linkerd.yaml --prometheus http://127.0.0.1:9 \
	--kubeconfig "$TMP/kubeconfig" --context "$(printf 'no\033[2J\nsuch')" 2>&1)
expect_match "check --context not found" "$err" 'context "no such" not found'
case $err in *KC-T0KEN*) fail "the kubeconfig token was printed";; esac

# Options after the operands count as options, in every command (glibc's
# getopt kept the global parse's stop-at-the-first-operand order).
out=$("$PERCH_BIN" validate examples/checkout-linkerd.yaml -o json); rc=$?
expect_eq "validate FILE -o json exit" "$rc" 0
expect_eq "validate FILE -o json" "$out" "[]"
sed 's/stepWeight: 10/stepWeight: 60/' examples/checkout-linkerd.yaml >"$TMP/warn.yaml"
"$PERCH_BIN" validate "$TMP/warn.yaml" --strict >/dev/null; rc=$?
expect_eq "validate FILE --strict exit" "$rc" 1
err=$("$PERCH_BIN" demo extra --headless 2>&1 >/dev/null); rc=$?
expect_eq "demo OPERAND --headless exit" "$rc" 2
expect_match "demo OPERAND --headless" "$err" "unexpected argument 'extra'"
out=$("$PERCH_BIN" validate -- -o 2>&1); rc=$?
expect_match "validate -- -o" "$out" "^-o: error: cannot read"

# Output that cannot be written (a full disk) is an error, not a success.
if [ -w /dev/full ]; then
	err=$("$PERCH_BIN" validate examples/checkout-linkerd.yaml 2>&1 >/dev/full); rc=$?
	expect_eq "validate >/dev/full exit" "$rc" 3
	expect_match "validate >/dev/full" "$err" "^perch validate: cannot write the output: No space left on device$"
	for opt in --help --version; do
		err=$("$PERCH_BIN" $opt 2>&1 >/dev/full); rc=$?
		expect_eq "$opt >/dev/full exit" "$rc" 3
		expect_match "$opt >/dev/full" "$err" "^perch: cannot write the output"
	done
	err=$("$PERCH_BIN" demo --headless --speed max --scenario healthy 2>&1 >/dev/full); rc=$?
	expect_eq "demo --headless >/dev/full exit" "$rc" 3
	expect_match "demo --headless >/dev/full" "$err" "^perch demo: cannot write the output"
fi

# perch check wants an http(s) URL with a host, and never quotes it back
# (it may hold a password).
for url in "ftp://alice:PASSW0RD@127.0.0.1:9" "alice:PASSW0RD@127.0.0.1:9" "http://" "" \
	"http://alice:PASSW0RD@127.0.0.1 :9"; do
	err=$("$PERCH_BIN" check -f /nonexistent.yaml --prometheus "$url" 2>&1 >/dev/null); rc=$?
	expect_eq "check --prometheus '$url' exit" "$rc" 2
	expect_eq "check --prometheus '$url' one line" "$(printf '%s\n' "$err" | wc -l)" 1
	expect_match "check --prometheus '$url'" "$err" "wants an http:// or https:// URL"
	case $err in *PASSW0RD*) fail "check --prometheus printed the password";; esac
done
exit 0
