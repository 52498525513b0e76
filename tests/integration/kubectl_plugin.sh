# kubectl_plugin.sh — `make install` puts a kubectl-perch link next to perch,
# and the real kubectl finds it on PATH as a plugin: `kubectl plugin list`
# names it, `kubectl perch --version` is perch's, and `kubectl perch status`
# reads the cluster of kubectl's own KUBECONFIG (the test API server);
# `make uninstall` takes the link away again.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl make openssl

root="$TMP/root"
# The binary under test is installed as it is (-o: never rebuilt here).
make -s -C "$PERCH_ROOT" install BIN="$PERCH_BIN" -o "$PERCH_BIN" DESTDIR="$root" PREFIX=/usr \
	>"$TMP/install.out" 2>&1 || fail "make install: $(cat "$TMP/install.out")"
[ -L "$root/usr/bin/kubectl-perch" ] || fail "no kubectl-perch link in $root/usr/bin"
expect_eq "link target" "$(readlink "$root/usr/bin/kubectl-perch")" "perch"

# kubectl looks for kubectl-* on PATH only: a PATH without the install has no plugin.
bare=$(mktemp -d "$TMP/bare.XXXX")
ln -s "$(command -v kubectl)" "$bare/kubectl"
out=$(PATH="$bare" kubectl plugin list 2>&1)
printf '%s' "$out" | grep -q kubectl-perch && fail "kubectl-perch found before install: $out"

# Only the install and kubectl on kubectl's PATH (plugins of the machine not seen).
KP() { PATH="$root/usr/bin:$bare" kubectl "$@"; }
out=$(KP plugin list 2>&1) || fail "kubectl plugin list: $out"
expect_match "plugin list" "$out" "^$root/usr/bin/kubectl-perch\$"
printf '%s' "$out" | grep -qi warning && fail "plugin list warns: $out"
out=$(KP perch --version 2>&1) || fail "kubectl perch --version: $out"
expect_eq "version" "$out" "$("$PERCH_BIN" --version)"
out=$(KP perch run --help 2>&1) || fail "kubectl perch run --help: $out"
expect_match "run help" "$out" '^Usage: perch run '

# The plugin reads the cluster of KUBECONFIG, as kubectl does.
start_apiserver plugin --tls-dir "$TMP/tls"
export KUBECONFIG="$TMP/plugin.kubeconfig"
out=$(KP perch status -n default 2>&1); rc=$?
expect_eq "status exit ($out)" "$rc" 0
grep -Eq '^GET /api/v1/namespaces/default/configmaps\?.* rw 200$' "$TMP/plugin.audit" ||
	fail "kubectl perch status did not list the perch ConfigMaps: $(cat "$TMP/plugin.audit")"

make -s -C "$PERCH_ROOT" uninstall DESTDIR="$root" PREFIX=/usr >"$TMP/uninstall.out" 2>&1 ||
	fail "make uninstall: $(cat "$TMP/uninstall.out")"
[ -e "$root/usr/bin/kubectl-perch" ] || [ -L "$root/usr/bin/kubectl-perch" ] &&
	fail "kubectl-perch left after uninstall"
out=$(KP plugin list 2>&1)
printf '%s' "$out" | grep -q kubectl-perch && fail "plugin still listed after uninstall: $out"
exit 0
