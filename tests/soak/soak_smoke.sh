# soak_smoke.sh — two minutes of bench/soak (--smoke): 8 canaries over every
# router on the test API server with random faults, a real Prometheus with
# healthy and failing revisions, kubectl set image every 20 s and kill -9 of
# perch every 30 s or so, every invariant checked (outcomes, promotions,
# route weights against the saved status, the Lease, the journal, RSS and
# descriptors) and every object written checked against its schema.  The
# figures must show work done: rollouts of both outcomes, faults injected,
# restarts.
. "$PERCH_ROOT/tests/integration/lib.bash"
need kubectl prometheus openssl node python3
[ -d "$PERCH_ROOT/tests/node_modules/kubernetes-models" ] ||
	skip "the schema packages are not installed (make deps runs npm ci in tests/)"

out=$(python3 "$PERCH_ROOT/bench/soak" --smoke --minutes 1 --canaries 8 --image-every 20 \
	--kill-every 30 --seed 7 --perch "$PERCH_BIN" --keep "$TMP/soak" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -14
expect_eq "soak exit" "$rc" 0
expect_match "violations" "$out" 'violations +0$'
n() { printf '%s\n' "$out" | sed -n "s/^  $1 *\([0-9]*\) .*/\1/p"; }
[ "$(n rollouts)" -ge 4 ] || fail "too few rollouts: $(n rollouts)"
expect_match "both outcomes" "$out" 'rollouts .*\([1-9][0-9]* Succeeded, [1-9][0-9]* Failed\)'
[ "$(n faults)" -ge 10 ] || fail "too few faults: $(n faults)"
[ "$(n restarts)" -ge 1 ] || fail "no restart: $(n restarts)"
expect_match "journal looked up" "$out" 'journal +[0-9]+ records stored, [1-9][0-9]* printed'
