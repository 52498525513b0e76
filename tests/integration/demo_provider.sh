# demo_provider.sh — `perch demo --provider NAME`: the detail screen at
# 80x24 (tmux, pinned terminal) shows the provider in its title, its route
# object and the queries of its built-in metrics, compared with the expected
# screen; headless, the provider's strategy runs (kubernetes: blue/green
# iterations judged on the simulated load tester's requests, then promoted)
# and istio promotes a healthy canary; an unknown provider is a
# usage error listing the registry's names.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/tui_lib.bash"

# An unknown provider: exit 2, every valid name listed.
"$PERCH_BIN" demo --provider bogus >"$TMP/bogus.out" 2>"$TMP/bogus.err"
expect_eq "unknown provider exit" "$?" 2
expect_match "unknown provider message" "$(cat "$TMP/bogus.err")" \
	"^perch demo: --provider: unknown provider 'bogus' \(known: apisix, appmesh, appmesh:v1beta2, contour, gatewayapi:v1, gatewayapi:v1beta1, gloo, istio, knative, kubernetes, kuma, linkerd, nginx, osm, skipper, smi:v1alpha1, smi:v1alpha2, smi:v1alpha3, traefik\)"
expect_eq "nothing on stdout" "$(cat "$TMP/bogus.out")" ""

# Headless: istio promotes the healthy canary; kubernetes runs blue/green
# iterations (no traffic shifting).
"$PERCH_BIN" demo --provider istio --headless --speed max --scenario healthy >"$TMP/istio.out" 2>&1
expect_eq "istio headless exit" "$?" 0
grep -q '"phase":"Succeeded"' "$TMP/istio.out" || fail "istio: not Succeeded: $(tail -3 "$TMP/istio.out")"
grep -q 'Advance checkout.shop canary weight 50' "$TMP/istio.out" || fail "istio: no weight steps"
"$PERCH_BIN" demo --provider kubernetes --headless --speed max --scenario healthy >"$TMP/k8s.out" 2>&1
expect_eq "kubernetes headless exit" "$?" 0
grep -q 'Advance checkout.shop canary iteration 10/10' "$TMP/k8s.out" ||
	fail "kubernetes: no blue/green iterations: $(grep -o '"message":"[^"]*"' "$TMP/k8s.out" | head -5)"
grep -q 'canary weight' "$TMP/k8s.out" && fail "kubernetes shifted traffic by weight"
grep -q '"weight":[1-9]' "$TMP/k8s.out" && fail "kubernetes routed traffic to the canary"
# The canary's requests are the load tester's: 20 a second, judged and passed.
passes=$(grep -c '"metric":"request-success-rate","value":[0-9.]*,.*"result":"pass"' "$TMP/k8s.out")
[ "$passes" -ge 9 ] || fail "kubernetes: $passes passing checks, want 9 or more: $(grep '"kind":"check"' "$TMP/k8s.out" | head -4)"
grep -q '"phase":"Succeeded"' "$TMP/k8s.out" || fail "kubernetes: not Succeeded: $(tail -3 "$TMP/k8s.out")"

# The detail screen of an istio canary, as soon as it is shown.
session demo 80 24 "$TERM_ENV '$PERCH_BIN' demo --scenario healthy --speed 1 --seed 7 --provider istio"
WAIT_SECS=10 wait_for shows demo 'checkout     Initialized' || fail "no demo: $(dump demo)"
keys demo Enter
WAIT_SECS=5 wait_for shows demo 'route      VirtualService checkout' || fail "no route line: $(dump demo)"
cat >"$TMP/expected" <<'SCREEN'
 perch · DEMO · shop                                      CONTROL   ● ok  14:00
┌─ checkout · istio · checkout:v1 ─────────────────────────────────────────────┐
│ traffic    primary 100% ░░░░░░░░░░░░┆░░░░░░░░░░░   0% canary   ┆ max 50%     │
│ steps      10 ── 20 ── 30 ── 40 ── 50 ── promote                             │
│ analysis   every 30s · waiting for a new revision · failed 0 of 5 allowed    │
│ gates      no webhooks, no gates                                             │
│ route      VirtualService checkout                                           │
│                                                                              │
│ request-success-rate  bound ≥ 99%      request-duration  bound ≤ 500ms       │
│   100% ┼┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄    800ms ┤                              │
│        ┤                                500ms ┼┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄  │
│        ┤                                      ┤                              │
│    90% ┤                                  0ms ┤                              │
│        └ no checks yet                        └ no checks yet                │
│                                                                              │
│ checks  none yet                                                             │
│ request-success-rate   sum( rate( istio_requests_total{ reporter="destinati… │
│ request-duration       histogram_quantile( 0.99, sum( rate( istio_request_d… │
│ events  newest first (↵ full text)                                           │
│ 14:00:00   Initialization done! checkout.shop                                │
│                                                                              │
└──────────────────────────────────────────────────────────────────────────────┘

 Esc back  / filter  t theme  ? help  q quit
SCREEN
screen demo >"$TMP/actual"
diff -u "$TMP/expected" "$TMP/actual" || fail "the detail screen differs (above)"
keys demo q
WAIT_SECS=5 wait_for shows demo 'y yes' && keys demo y
WAIT_SECS=10 wait_for exited demo 0 || fail "demo did not quit: $(dump demo)"
exit 0
