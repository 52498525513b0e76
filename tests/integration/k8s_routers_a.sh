# k8s_routers_a.sh — the Contour, Gloo, Traefik, Kuma and APISIX routers
# with `perch run --headless` on the test API server, read back with the
# real kubectl: the route objects at 100/0 after initialization, traffic on
# every canary during a run (kubectl -o jsonpath), every step's weights
# written (the server's log of objects), promotion back to the primary, a
# rollback (a failing rollout webhook added to the Traefik Canary when the
# killed controller is restarted mid-run), A/B testing on Contour and Gloo
# (their header routes seen by kubectl during the run) and the refusals:
# A/B on Traefik, Kuma and APISIX (Flagger would send every request to the
# canary), APISIX without routeRef, session affinity on Contour.  Contour's
# routes carry the timeout and retry policies of service.timeout and
# service.retries.  No metrics: each tick advances.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver rt --tls-dir "$TMP/tls" --ready-delay 0.1
export KUBECONFIG="$TMP/rt.kubeconfig" PERCH_TIME_SCALE=40
K() { kubectl --request-timeout=10s "$@"; }
D=$TMP/state
APPS="contour gloo traefik kuma apisix"

# ---- refusals, before anything is touched ----------------------------------
cat >"$TMP/refused.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: ab}
spec:
  provider: traefik
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: ab}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    iterations: 2
    match: [{headers: {x-canary: {exact: insider}}}]
YAML
"$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/refused.yaml" >/dev/null 2>"$TMP/refused.err"
expect_eq "perch run refuses A/B on traefik" "$?" 1
expect_match "A/B refusal names file, field and provider" "$(cat "$TMP/refused.err")" \
	"refused.yaml:12:5: error: analysis.match \(A/B testing\) is not supported with provider traefik"
for p in kuma apisix; do
	sed "s/provider: traefik/provider: $p/" "$TMP/refused.yaml" >"$TMP/refused-$p.yaml"
	out=$("$PERCH_BIN" validate "$TMP/refused-$p.yaml")
	expect_match "A/B refused on $p" "$out" "analysis.match \(A/B testing\) is not supported with provider $p"
done
expect_match "apisix needs routeRef" "$out" "refused-apisix.yaml:4:1: error: routeRef is required with provider apisix"
sed -e 's/provider: traefik/provider: contour/' -e 's/match: .*/sessionAffinity: {cookieName: s}/' \
	"$TMP/refused.yaml" >"$TMP/refused-aff.yaml"
expect_match "session affinity refused on contour" "$("$PERCH_BIN" validate "$TMP/refused-aff.yaml")" \
	"analysis.sessionAffinity is not supported with provider contour"
[ -z "$(K get deploy,svc -o name)" ] || fail "a refused Canary touched the cluster: $(K get deploy,svc -o name)"

# ---- the applications, the user's ApisixRoute, the Canaries ----------------
app_deployments 1 $APPS >"$TMP/app.yaml"
cat >>"$TMP/app.yaml" <<'YAML'
apiVersion: apisix.apache.org/v2
kind: ApisixRoute
metadata: {name: shop, namespace: default, labels: {team: web}}
spec:
  http:
  - name: static
    match: {hosts: [static.example], paths: ["/*"]}
    backends: [{serviceName: assets, servicePort: 80}]
  - name: web
    match: {hosts: [shop.example], paths: ["/*"], methods: [GET]}
    plugins: [{name: prometheus, enable: true, config: {prefer_name: true}}]
    backends: [{serviceName: apisix, servicePort: 80, resolveGranularity: service}]
YAML
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"

canaries() {	# the five Canaries; $1: extra lines for the traefik analysis
	for app in $APPS; do
		cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: $app}
spec:
  provider: $app
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: $app}
YAML
		[ "$app" = apisix ] && echo "  routeRef: {apiVersion: apisix.apache.org/v2, kind: ApisixRoute, name: shop}"
		[ "$app" = contour ] && echo "  service: {port: 80, timeout: 15s, retries: {attempts: 3, perTryTimeout: 5s, retryOn: '5xx,gateway-error'}, apex: {labels: {tier: $app}}}"
		[ "$app" = kuma ] || [ "$app" = contour ] || echo "  service: {port: 80, apex: {labels: {tier: $app}}}"
		[ "$app" = kuma ] && echo "  service: {port: 80}"
		cat <<YAML
  analysis:
    interval: 10s
    threshold: 2
    maxWeight: 60
    stepWeight: 30
YAML
		[ "$app" = traefik ] && [ -n "${1:-}" ] && echo "$1"
		echo "---"
	done
}
canaries >"$TMP/canary.yaml"
"$PERCH_BIN" validate "$TMP/canary.yaml" >"$TMP/validate.out" || fail "validate: $(cat "$TMP/validate.out")"

# "PRIMARY CANARY" weights of a provider's route object, as kubectl reads them
# (a weight left out is 0; Traefik lists the canary only while it has traffic).
weights() {
	case $1 in
	contour) K get httpproxy contour -o jsonpath='{.spec.routes[0].services[*].weight}';;
	gloo) K get routetable gloo -o jsonpath='{.spec.routes[0].routeAction.multi.destinations[*].weight}';;
	traefik) set -- "$(K get traefikservice traefik -o jsonpath='{.spec.weighted.services[*].weight}')"
		case $1 in *" "*) echo "$1";; "") ;; *) echo "$1 0";; esac;;
	kuma) K get trafficroute kuma -o jsonpath='{.spec.conf.split[*].weight}';;
	apisix) K get apisixroute shop-apisix-canary -o jsonpath='{.spec.http[0].backends[*].weight}';;
	esac
}

# ---- initialization ------------------------------------------------------
timeout "$(scaled 30)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/init.out" 2>&1
expect_eq "initialization run" "$?" 0
for app in $APPS; do
	expect_eq "$app at 100/0 after initialization" "$(weights $app)" "100 0"
done
expect_eq "HTTPProxy services" "$(K get httpproxy contour -o jsonpath='{.spec.routes[0].services[*].name}')" \
	"contour-primary contour-canary"
expect_eq "HTTPProxy prefix" "$(K get httpproxy contour -o jsonpath='{.spec.routes[0].conditions[0].prefix}')" /
expect_eq "HTTPProxy l5d-dst-override" \
	"$(K get httpproxy contour -o jsonpath='{.spec.routes[0].services[1].requestHeadersPolicy.set[0].value}')" \
	"contour-canary.default.svc.cluster.local:80"
expect_eq "HTTPProxy apex label" "$(K get httpproxy contour -o jsonpath='{.metadata.labels.tier}')" contour
expect_eq "HTTPProxy timeout and retry policies (service.timeout, service.retries)" \
	"$(K get httpproxy contour -o jsonpath='{.spec.routes[0].timeoutPolicy.response} {.spec.routes[0].timeoutPolicy.idle} {.spec.routes[0].retryPolicy.count} {.spec.routes[0].retryPolicy.perTryTimeout} {.spec.routes[0].retryPolicy.retryOn[*]}')" \
	"15s 5m 3 5s 5xx gateway-error"
expect_eq "HTTPProxy Flux annotation" \
	"$(K get httpproxy contour -o jsonpath='{.metadata.annotations.kustomize\.toolkit\.fluxcd\.io/reconcile}')" disabled
expect_eq "Gloo upstreams" "$(K get upstreams -o jsonpath='{.items[*].metadata.name}')" \
	"default-gloo-canaryupstream-80 default-gloo-primaryupstream-80"
expect_eq "Gloo upstream selector" \
	"$(K get upstream default-gloo-primaryupstream-80 -o jsonpath='{.spec.kube.serviceName} {.spec.kube.selector.app}')" \
	"gloo-primary gloo-primary"
expect_eq "RouteTable destinations" \
	"$(K get routetable gloo -o jsonpath='{.spec.routes[0].routeAction.multi.destinations[*].destination.upstream.name}')" \
	"default-gloo-primaryupstream-80 default-gloo-canaryupstream-80"
expect_eq "TraefikService primary" "$(K get traefikservice traefik -o jsonpath='{.spec.weighted.services[0].name} {.spec.weighted.services[0].namespace} {.spec.weighted.services[0].port}')" \
	"traefik-primary default 80"
expect_eq "TrafficRoute mesh and tags" \
	"$(K get trafficroute kuma -o jsonpath='{.mesh} {.spec.destinations[0].match.kuma\.io/service} {.spec.conf.split[1].destination.kuma\.io/service}')" \
	"default kuma_default_svc_80 kuma-canary_default_svc_80"
expect_eq "TrafficRoute is cluster-scoped" "$(K get trafficroute kuma -o jsonpath='{.metadata.namespace}')" ""
expect_eq "ApisixRoute copy" \
	"$(K get apisixroute shop-apisix-canary -o jsonpath='{.spec.http[*].name} {.spec.http[0].priority} {.spec.http[0].backends[*].serviceName} {.spec.http[0].backends[0].resolveGranularity} {.metadata.labels.team}')" \
	"web 10000 apisix-primary apisix-canary service web"
expect_eq "user's ApisixRoute untouched" "$(K get apisixroute shop -o jsonpath='{.metadata.generation} {.spec.http[1].backends[0].serviceName}')" "1 apisix"

# ---- a run, killed (-9) once kubectl sees traffic on every canary -----------
for app in $APPS; do
	K set image "deployment/$app" "$app=$app:v2" >/dev/null || fail "set image $app"
done
logged=$(wc -l <"$TMP/rt.objects")
PERCH_TIME_SCALE=4 "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>&1 &
pid=$!
at_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
shifted() { local app; for app in $APPS; do weights $app | grep -Eq '^(70 30|40 60)$' || return 1; done; }
WAIT_SECS=30 wait_for shifted || fail "no traffic shifted: $(for a in $APPS; do echo "$a: $(weights $a)"; done; tail -3 "$TMP/run1.out")"
kill -9 $pid; wait $pid 2>/dev/null
grep -q '"phase":"Succeeded"' "$TMP/run1.out" && fail "a canary finished before the kill"
for app in $APPS; do
	expect_match "$app shifted (kubectl)" "$(weights $app)" '^(70 30|40 60)$'
done

# ---- restarted: the Traefik Canary's rollout webhook now fails -> rollback --
canaries "$(printf '    webhooks: [{name: gate, type: rollout, url: "http://127.0.0.1:9/", timeout: 1s}]\n')" >"$TMP/canary2.yaml"
timeout "$(scaled 60)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary2.yaml" >"$TMP/run2.out" 2>&1
expect_eq "run with a rollback exits 1" "$?" 1
for app in contour gloo kuma apisix; do
	grep -q "\"canary\":\"default/$app\",\"phase\":\"Succeeded\"" "$TMP/run2.out" ||
		fail "$app not Succeeded: $(tail -5 "$TMP/run2.out")"
	expect_eq "$app back on the primary" "$(weights $app)" "100 0"
	expect_eq "$app promoted" "$(K get deploy "$app-primary" -o jsonpath='{.spec.template.spec.containers[0].image}')" "$app:v2"
done
grep -q '"canary":"default/traefik","phase":"Failed"' "$TMP/run2.out" ||
	fail "traefik not Failed: $(grep 'default/traefik' "$TMP/run2.out" | tail -2)"
expect_eq "traefik rolled back (kubectl)" "$(K get traefikservice traefik -o jsonpath='{.spec.weighted.services[*].name}={.spec.weighted.services[*].weight}')" \
	"traefik-primary=100"
expect_eq "traefik primary kept" "$(K get deploy traefik-primary -o jsonpath='{.spec.template.spec.containers[0].image}')" traefik:v1

# Every step written, in order: the weights (primary/canary) of each write
# of the five route objects since the set image, as the server logged them.
tail -n +"$((logged + 1))" "$TMP/rt.objects" | python3 -c '
import json, sys
names = {"HTTPProxy": "contour", "RouteTable": "gloo", "TraefikService": "traefik",
         "TrafficRoute": "kuma", "ApisixRoute": "shop-apisix-canary"}
seen = {k: [] for k in names}
for line in sys.stdin:
    if "\"kind\":\"Deployment\"" in line or "\"kind\": \"Deployment\"" in line:
        continue
    o = json.loads(line)["object"]
    kind = o.get("kind")
    if names.get(kind) != o["metadata"]["name"]:
        continue
    s = o["spec"]
    if kind == "HTTPProxy":
        b = s["routes"][0]["services"]
    elif kind == "RouteTable":
        b = s["routes"][0]["routeAction"]["multi"]["destinations"]
    elif kind == "TraefikService":
        b = s["weighted"]["services"] + [{"weight": 0}] * (2 - len(s["weighted"]["services"]))
    elif kind == "TrafficRoute":
        b = s["conf"]["split"]
    else:
        b = s["http"][0]["backends"]
    w = "%d/%d" % (b[0].get("weight", 0), b[1].get("weight", 0))
    if not seen[kind] or seen[kind][-1] != w:
        seen[kind].append(w)
for k in names:
    print(k, " ".join(seen[k]))' >"$TMP/steps"
steps() { sed -n "s/^$1 //p" "$TMP/steps"; }
expect_eq "HTTPProxy steps" "$(steps HTTPProxy)" "70/30 40/60 100/0"
expect_eq "RouteTable steps" "$(steps RouteTable)" "70/30 40/60 100/0"
expect_eq "TrafficRoute steps" "$(steps TrafficRoute)" "70/30 40/60 100/0"
expect_eq "ApisixRoute steps" "$(steps ApisixRoute)" "70/30 40/60 100/0"
expect_match "TraefikService steps, then the rollback" "$(steps TraefikService)" "^70/30 (40/60 )?100/0$"

# ---- A/B testing on Contour and Gloo ---------------------------------------
for app in contour gloo; do
	cat <<YAML
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: $app}
spec:
  provider: $app
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: $app}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    iterations: 3
    match:
    - headers: {x-canary: {exact: insider}}
    - headers: {cookie: {regex: "^(.*?;)?(canary=always)(;.*)?$"}}
---
YAML
done >"$TMP/ab.yaml"
sed -i 's/{cookie: {regex: [^}]*}}/{x-beta: {prefix: "yes"}}/' "$TMP/ab.yaml"	# Contour has no regex
python3 - "$TMP/ab.yaml" <<'EOF'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
# Gloo keeps the cookie regex (Gloo matches headers by regex).
docs[1] = docs[1].replace('{x-beta: {prefix: "yes"}}', '{cookie: {regex: "^(.*?;)?(canary=always)(;.*)?$"}}')
open(p, "w").write("---\n".join(docs))
EOF
"$PERCH_BIN" validate "$TMP/ab.yaml" >"$TMP/validate-ab.out" || fail "validate A/B: $(cat "$TMP/validate-ab.out")"
for app in contour gloo; do
	K set image "deployment/$app" "$app=$app:v3" >/dev/null || fail "set image $app v3"
done
PERCH_TIME_SCALE=8 timeout "$(scaled 60)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/ab.yaml" >"$TMP/ab.out" 2>&1 &
abpid=$!
at_exit "kill $abpid 2>/dev/null; wait $abpid 2>/dev/null"
ab_seen() {
	[ "$(K get httpproxy contour -o jsonpath='{.spec.routes[0].conditions[1].header.name}={.spec.routes[0].services[*].weight} {.spec.routes[1].conditions[1].header.contains}={.spec.routes[1].services[*].weight} {.spec.routes[2].services[*].weight}')" = \
		"x-canary=0 100 yes=0 100 100 0" ] &&
	[ "$(K get routetable gloo -o jsonpath='{.spec.routes[0].matchers[0].headers[0].name} {.spec.routes[0].matchers[1].headers[0].regex}={.spec.routes[0].routeAction.multi.destinations[*].weight} {.spec.routes[1].routeAction.multi.destinations[*].weight}')" = \
		"x-canary true=0 100 100 0" ]
}
WAIT_SECS=30 wait_for ab_seen || fail "no A/B routes: $(K get httpproxy contour -o json | head -c 1500; K get routetable gloo -o json | head -c 1500)"
wait $abpid
expect_eq "A/B run" "$?" 0
for app in contour gloo; do
	grep -q "\"canary\":\"default/$app\",\"phase\":\"Succeeded\"" "$TMP/ab.out" || fail "A/B $app not Succeeded: $(tail -3 "$TMP/ab.out")"
	expect_eq "$app after A/B" "$(weights $app)" "100 0"
	expect_eq "$app A/B promoted" "$(K get deploy "$app-primary" -o jsonpath='{.spec.template.spec.containers[0].image}')" "$app:v3"
done
exit 0
