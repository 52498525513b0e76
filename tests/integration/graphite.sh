# graphite.sh — the graphite metric backend against a real Graphite:
# Debian's carbon-cache (points fed through its plaintext port with
# explicit timestamps) and graphite-web's render API, both on 127.0.0.1
# with their configuration and storage in the test's directory.  perch
# check's values for the canary and for the primary (the isolation check)
# are compared with answers computed by hand; a query Graphite refuses is
# an error; Graphite stopped is no answer (exit 3).  perch replay --from
# --to asks Graphite at each past interval (the render API's now=), and
# leaves out, saying so, a metric whose provider cannot query the past.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
need carbon-cache python3
/usr/bin/python3 -c 'import graphite.settings' 2>/dev/null ||
	skip "missing graphite-web (make deps installs it)"

G=$TMP/graphite
mkdir -p "$G/conf" "$G/whisper" "$G/lists" "$G/log"
line=$(free_port) pickle=$(free_port) cache=$(free_port) web=$(free_port)
cat >"$G/conf/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $G
LOCAL_DATA_DIR = $G/whisper
WHITELISTS_DIR = $G/lists
CONF_DIR = $G/conf
LOG_DIR = $G/log
PID_DIR = $G
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $line
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $pickle
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $cache
CONF
printf '[default]\npattern = .*\nretentions = 10s:1d\n' >"$G/conf/storage-schemas.conf"

carbon-cache --config="$G/conf/carbon.conf" --nodaemon start >"$TMP/carbon.out" 2>&1 &
carbon=$!
at_exit "kill $carbon 2>/dev/null; wait $carbon 2>/dev/null"
/usr/bin/python3 "$(dirname "$0")/graphite_web.py" "$G" "$web" "$cache" >"$TMP/web.out" 2>"$TMP/web.err" &
webpid=$!
at_exit "kill $webpid 2>/dev/null; wait $webpid 2>/dev/null"
WAIT_SECS=60 wait_for grep -q "starting on $line" "$TMP/carbon.out" || fail "carbon-cache did not start: $(tail -5 "$TMP/carbon.out")"
WAIT_SECS=60 wait_for grep -q listening "$TMP/web.out" || fail "graphite-web did not start: $(tail -5 "$TMP/web.err")"
URL=http://127.0.0.1:$web

# Points at known times: minute M (aligned to 60 s) two minutes ago.
now=$(date +%s)
M=$(( now / 60 * 60 - 120 ))
feed() {	# "path value time" lines on stdin, to carbon's plaintext port
	python3 -c 'import socket, sys; s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(sys.stdin.read().encode()); s.close()' "$line"
}
{
	# ok / total per 10 s: the canary's success rate ends at 99 %, the
	# primary's at 80 %; the newest slot has no point at all (null).
	for i in 0 1 2; do
		t=$(( M + 10 * i ))
		echo "perch.shop.podinfo.ok $(( 95 + 2 * i )) $t"
		echo "perch.shop.podinfo.total 100 $t"
		echo "perch.shop.podinfo-primary.ok $(( 90 - 5 * i )) $t"
		echo "perch.shop.podinfo-primary.total 100 $t"
	done
	# requests: 1+2+3 = 6 in minute M, 4+5 = 9 in minute M+60
	echo "perch.shop.podinfo.requests 1 $M"
	echo "perch.shop.podinfo.requests 2 $(( M + 10 ))"
	echo "perch.shop.podinfo.requests 3 $(( M + 20 ))"
	echo "perch.shop.podinfo.requests 4 $(( M + 60 ))"
	echo "perch.shop.podinfo.requests 5 $(( M + 70 ))"
	echo "perch.shop.podinfo-primary.requests 7 $(( M + 60 ))"
} | feed

# Queryable: the render API gives the newest point of the feed.
queryable() {
	curl -sf "$URL/render?target=perch.shop.podinfo.requests&from=-10min&format=json" |
		grep -q '\[5\.0, '"$(( M + 70 ))"'\]'
}
WAIT_SECS=60 wait_for queryable || fail "Graphite never served the points fed: $(curl -s "$URL/render?target=perch.shop.podinfo.requests&from=-10min&format=json")"

cat >"$TMP/templates.yaml" <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: success, namespace: shop}
spec:
  provider: {type: graphite, address: $URL/}
  query: |
    target=asPercent(perch.{{ namespace }}.{{ target }}.ok,
                     perch.{{ namespace }}.{{ target }}.total)&from=-10min
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: requests, namespace: shop}
spec:
  provider: {type: graphite, address: $URL}
  query: target=summarize(perch.{{ namespace }}.{{ target }}.requests,'{{ variables.bucket }}','sum')&from=-{{ variables.window }}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: broken, namespace: shop}
spec:
  provider: {type: graphite, address: $URL}
  query: target=nosuchfunction(perch.a)&from=-10min
YAML
podinfo() {	# the Canary with metric success, the metrics on stdin, the templates
	canary podinfo shop istio podinfo
	printf '    - name: success\n      interval: 1m\n      templateRef: {name: success}\n'
	printf '      thresholdRange: {min: 99}\n'
	cat
	cat "$TMP/templates.yaml"
}
podinfo >"$TMP/canary.yaml" <<YAML
    - name: requests
      interval: 1m
      templateRef: {name: requests}
      templateVariables: {window: 10min, bucket: 1min}
      thresholdRange: {max: 8}
YAML

# No --prometheus: the canary's metrics are all Graphite's.
out=$("$PERCH_BIN" check -f "$TMP/canary.yaml" -o json 2>"$TMP/err")
rc=$?
printf "%s\n" "$out" >"$TMP/out.json"
expect_eq "check exit (requests over its max): $(cat "$TMP/err")" "$rc" 1
# by hand: 99/100 = 99 % (the last non-null point); the primary's 80/100
expect_num "success value" "$(json_field "$TMP/out.json" "shop/podinfo success" value)" 99
expect_eq "success result" "$(json_field "$TMP/out.json" "shop/podinfo success" result)" pass
expect_num "success primary" "$(json_field "$TMP/out.json" "shop/podinfo success" primaryValue)" 80
expect_eq "success isolation" "$(json_field "$TMP/out.json" "shop/podinfo success" isolation)" isolated
# by hand: the minute sums are 6 then 9; the current minute has none: 9
expect_num "requests value" "$(json_field "$TMP/out.json" "shop/podinfo requests" value)" 9
expect_eq "requests result" "$(json_field "$TMP/out.json" "shop/podinfo requests" result)" fail
expect_num "requests primary" "$(json_field "$TMP/out.json" "shop/podinfo requests" primaryValue)" 7
expect_match "requests query" "$(json_field "$TMP/out.json" "shop/podinfo requests" query)" \
	"summarize\(perch.shop.podinfo.requests,'1min','sum'\)&from=-10min"
# what graphite-web was asked: /render with format=json and the keys sorted
grep -q '^request /render?format=json&from=-10min&target=asPercent%28perch.shop.podinfo.ok%2C%20perch.shop.podinfo.total%29' "$TMP/web.err" ||
	fail "unexpected render request: $(grep '^request' "$TMP/web.err")"

# Text output, as a release engineer reads it.
out=$("$PERCH_BIN" check -f "$TMP/canary.yaml" 2>&1)
expect_match "text" "$out" "success.*99"

# A query Graphite refuses: an error (not no data), naming Graphite.
{
	canary podinfo shop istio podinfo
	printf '    - name: broken\n      interval: 1m\n      templateRef: {name: broken}\n      thresholdRange: {min: 1}\n'
	cat "$TMP/templates.yaml"
} >"$TMP/broken.yaml"
"$PERCH_BIN" check -f "$TMP/broken.yaml" -o json >"$TMP/broken.json" 2>/dev/null
expect_eq "broken exit" "$?" 1
expect_eq "broken result" "$(json_field "$TMP/broken.json" "shop/podinfo broken" result)" error
expect_match "broken error" "$(json_field "$TMP/broken.json" "shop/podinfo broken" error)" "Graphite"

# perch replay at M+5 (only the point at M: 95/100) and M+65 (the last
# point, at M+20: 99/100); the keptn metric cannot be replayed.
podinfo >"$TMP/replay.yaml" <<YAML
    - name: kept
      interval: 1m
      templateRef: {name: kept}
      thresholdRange: {min: 1}
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: kept, namespace: shop}
spec:
  provider: {type: keptn}
  query: keptnmetric/shop/kept
YAML
out=$("$PERCH_BIN" replay -f "$TMP/replay.yaml" --from $(( M + 5 )) --to $(( M + 65 ))); rc=$?
printf '%s\n' "$out"
expect_eq "replay exit" "$rc" 0
expect_match "replay source" "$out" "^shop/podinfo: 2 analyses of metrics from graphite$"
expect_match "replay not replayable" "$out" "^not replayable: keptn cannot query the past: metric kept is left out$"
grep -q "^request /render?format=json&from=-10min&target=asPercent.*&now=$(( M + 65 ))$" "$TMP/web.err" ||
	fail "no render request at M+65: $(grep '^request' "$TMP/web.err" | tail -3)"
"$PERCH_BIN" replay -f "$TMP/replay.yaml" --from $(( M + 5 )) --to $(( M + 65 )) -o json >"$TMP/replay.json"
expect_eq "replay json exit" "$?" 0
python3 - "$TMP/replay.json" <<'PY' || fail "replay json"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
steps, s = recs[:-1], recs[-1]
assert [(r["checks"][0]["metric"], r["checks"][0]["value"], r["checks"][0]["result"]) for r in steps] == \
    [("success", 95, "fail"), ("success", 99, "pass")], steps
assert all(len(r["checks"]) == 1 for r in steps), steps
assert s["notReplayable"] == [{"metric": "kept", "provider": "keptn",
                               "reason": "not replayable: keptn cannot query the past"}], s
assert s["source"] == "graphite" and s["outcome"] == "undecided", s
PY
# Only metrics that cannot be replayed: an error, exit 2.
sed -e '/- name: success/,/min: 99}/d' "$TMP/replay.yaml" >"$TMP/kept.yaml"
err=$("$PERCH_BIN" replay -f "$TMP/kept.yaml" --from $(( M + 5 )) --to $(( M + 65 )) 2>&1 >/dev/null); rc=$?
expect_eq "nothing replayable exit" "$rc" 2
expect_match "nothing replayable" "$err" "no metric of the spec can be replayed: keptn cannot query the past"

# Graphite stopped: no answer is an infrastructure failure (exit 3).
kill "$webpid"; wait "$webpid" 2>/dev/null
"$PERCH_BIN" check -f "$TMP/canary.yaml" -o json >"$TMP/down.json" 2>/dev/null
expect_eq "graphite down: exit" "$?" 3
expect_match "graphite down: error" "$(json_field "$TMP/down.json" "shop/podinfo success" error)" "cannot reach Graphite"
