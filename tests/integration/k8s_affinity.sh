# k8s_affinity.sh — session affinity with `perch run --headless` on the test
# API server, read with the real kubectl: during a run the Gateway API
# HTTPRoute and the Istio VirtualService hold a sticky rule matching the
# canary cookie and the Set-Cookie header on the canary backend; the cookie
# is in the saved status and a controller killed with -9 and restarted keeps
# it; after the run the cookie is expired (Max-Age=-1).  A provider that
# cannot route by cookie is refused by perch run, naming field, provider
# and file:line:column.  No metrics: each tick advances (engine clock 20x,
# 10x during the run).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/lib_k8s.bash"
need kubectl python3 openssl

start_apiserver aff --tls-dir "$TMP/tls" --ready-delay 0.1
export KUBECONFIG="$TMP/aff.kubeconfig" PERCH_TIME_SCALE=20
K() { kubectl --request-timeout=10s "$@"; }
D=$TMP/state

# A provider without cookie routing: refused before anything is touched.
cat >"$TMP/linkerd.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: pay}
spec:
  provider: linkerd
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: pay}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    stepWeight: 30
    sessionAffinity: {cookieName: session}
YAML
"$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/linkerd.yaml" >/dev/null 2>"$TMP/refused.err"
expect_eq "perch run refuses sessionAffinity on linkerd" "$?" 1
expect_match "refusal names file, field and provider" "$(cat "$TMP/refused.err")" \
	"linkerd.yaml:12:5: error: analysis.sessionAffinity is not supported with provider linkerd"

app_deployments 1 checkout cart >"$TMP/app.yaml"
K apply -f "$TMP/app.yaml" >/dev/null || fail "kubectl apply"
cat >"$TMP/canary.yaml" <<'YAML'
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: checkout}
spec:
  provider: gatewayapi:v1
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  service:
    port: 80
    gatewayRefs: [{name: public, namespace: gateways}]
  analysis:
    interval: 10s
    threshold: 2
    maxWeight: 60
    stepWeight: 30
    sessionAffinity:
      cookieName: canary-session
      primaryCookieName: primary-session
      maxAge: 120
      httpOnly: true
      secure: true
      sameSite: Strict
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: cart}
spec:
  provider: istio
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: cart}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    maxWeight: 60
    stepWeight: 30
    sessionAffinity: {cookieName: cart-session, path: /}
YAML

# What kubectl sees: "WEIGHT STICKY-REGEX SET-COOKIE EXPIRING" of a route object.
cat >"$TMP/route.py" <<'EOF'
import json, sys
o = json.load(sys.stdin)
kind, svc = o["kind"], sys.argv[1]
canary, primary = svc + "-canary", svc + "-primary"
weight, sticky, setc, expire = "-", "-", "-", "-"
if kind == "HTTPRoute":
    for r in o["spec"]["rules"]:
        cookie = [h["value"] for m in r.get("matches", []) for h in m.get("headers", []) if h["name"] == "Cookie"]
        back = {b["name"]: b for b in r["backendRefs"]}
        for f in r.get("filters", []):
            for h in f.get("responseHeaderModifier", {}).get("add", []):
                expire = h["value"]
        if cookie and back[canary]["weight"] == 100:
            sticky = cookie[0]
        if not cookie:
            weight = back[canary]["weight"]
            for f in back[canary].get("filters", []):
                setc = f["responseHeaderModifier"]["add"][0]["value"]
else:
    for r in o["spec"]["http"]:
        cookie = [h["regex"] for m in r.get("match", []) for n, h in m.get("headers", {}).items() if n == "Cookie"]
        back = {d["destination"]["host"]: d for d in r["route"]}
        if "headers" in r:
            expire = r["headers"]["response"]["add"]["Set-Cookie"]
        if cookie and back[canary]["weight"] == 100:
            sticky = cookie[0]
        if not cookie:
            weight = back[canary]["weight"]
            setc = back[canary].get("headers", {}).get("response", {}).get("add", {}).get("Set-Cookie", "-")
print(weight, sticky, setc.replace(" ", "_"), expire.replace(" ", "_"))
EOF
route() { K get "$1" "$2" -o json 2>/dev/null | python3 "$TMP/route.py" "$2"; }
cookie_of() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" "$D/default/$2/status.json"; }

# Initialization (v1), then v2 to roll out.
timeout "$(scaled 30)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/init.out" 2>&1
expect_eq "initialization run" "$?" 0
read -r w sticky setc expire <<<"$(route httproute checkout)"
expect_eq "no cookie before a run" "$w $sticky $setc $expire" "0 - - -"
K set image deployment/checkout checkout=checkout:v2 >/dev/null || fail "set image"
K set image deployment/cart cart=cart:v2 >/dev/null || fail "set image"

# The run, killed (-9) as soon as kubectl sees traffic on both canaries;
# the route objects and the saved status stay as they were.  (Its clock
# runs 3 times faster, a step every 3.3 s: slow enough that kubectl sees
# the weights on a busy machine before the run is over.)
PERCH_TIME_SCALE=3 "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/run1.out" 2>&1 &
pid=$!
at_exit "kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null"
WAIT_SECS=20 wait_for sh -c "kubectl get httproute checkout -o json | python3 '$TMP/route.py' checkout | grep -q '^[1-9]' && \
	kubectl get virtualservice cart -o json | python3 '$TMP/route.py' cart | grep -q '^[1-9]'" ||
	fail "no traffic shifted: $(tail -3 "$TMP/run1.out")"
kill -9 $pid; wait $pid 2>/dev/null
grep -q '"phase":"Finalising"' "$TMP/run1.out" && fail "the run ended before it was killed"
read -r w sticky setc expire <<<"$(route httproute checkout)"
cookie=$(cookie_of sessionAffinityCookie checkout)
pcookie=$(cookie_of primarySessionAffinityCookie checkout)
expect_match "checkout cookie saved" "$cookie" '^canary-session=[A-Za-z]{10}$'
expect_match "checkout primary cookie saved" "$pcookie" '^primary-session=[A-Za-z]{10}$'
expect_eq "HTTPRoute sticky rule" "$sticky" ".*canary-session.*${cookie#*=}.*"
expect_eq "HTTPRoute Set-Cookie on the canary" "$setc" "${cookie};_Max-Age=120;_HttpOnly;_SameSite=Strict;_Secure"
K get httproute checkout -o json | grep -q ".*primary-session.*${pcookie#*=}.*" || fail "no sticky primary rule"
read -r w vsticky vsetc expire <<<"$(route virtualservice cart)"
ccookie=$(cookie_of sessionAffinityCookie cart)
expect_match "cart cookie saved" "$ccookie" '^cart-session=[A-Za-z]{10}$'
expect_eq "VirtualService sticky route" "$vsticky" ".*cart-session.*${ccookie#*=}.*"
expect_eq "VirtualService Set-Cookie" "$vsetc" "${ccookie};_Max-Age=86400;_Path=/"
[ "$cookie" != "$ccookie" ] || fail "two canaries got the same cookie"

# The restarted controller keeps the same cookies to the end of the run:
# every write of the two route objects it makes (the test API server's log
# of objects written, so no write is missed however fast the run goes)
# carries the saved cookie, never another.
logged=$(wc -l <"$TMP/aff.objects")
PERCH_TIME_SCALE=10 timeout "$(scaled 60)" "$PERCH_BIN" run --headless --state-dir "$D" -f "$TMP/canary.yaml" >"$TMP/run2.out" 2>&1
expect_eq "resumed run exit" "$?" 0
grep -q '"canary":"default/checkout","phase":"Succeeded"' "$TMP/run2.out" || fail "checkout not Succeeded: $(tail -3 "$TMP/run2.out")"
# "STICKY" of every write of NAME's route object (KIND) after line $logged
stickies() {
	tail -n +"$((logged + 1))" "$TMP/aff.objects" | python3 -c '
import json, subprocess, sys
kind, name, script = sys.argv[1:4]
seen = []
for line in sys.stdin:
    o = json.loads(line)["object"]
    if o.get("kind") != kind or o["metadata"]["name"] != name:
        continue
    out = subprocess.run(["python3", script, name], input=json.dumps(o), capture_output=True,
                         text=True, check=True).stdout.split()
    if out[1] != "-" and out[1] not in seen:
        seen.append(out[1])
print("".join(" " + s for s in seen))' "$1" "$2" "$TMP/route.py"
}
seen=$(stickies HTTPRoute checkout)
vseen=$(stickies VirtualService cart)
expect_eq "HTTPRoute cookie across the restart" "$seen" " .*canary-session.*${cookie#*=}.*"
expect_eq "VirtualService cookie across the restart" "$vseen" " .*cart-session.*${ccookie#*=}.*"

# After the run: traffic on the primary, the cookie expired.
read -r w sticky setc expire <<<"$(route httproute checkout)"
expect_eq "HTTPRoute after the run" "$w $sticky $setc $expire" "0 - - ${cookie};_Max-Age=-1"
read -r w vsticky vsetc expire <<<"$(route virtualservice cart)"
expect_eq "VirtualService after the run" "$w $vsticky $vsetc $expire" "0 - - ${ccookie};_Max-Age=-1"
expect_eq "previous cookie saved" "$(cookie_of previousSessionAffinityCookie checkout)" "$cookie"
expect_eq "cookie cleared" "$(cookie_of sessionAffinityCookie checkout)" ""
exit 0
