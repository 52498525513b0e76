# metrics_cloudwatch.sh — MetricTemplates of type cloudwatch: `perch check`
# against a stand-in of CloudWatch GetMetricData (JSON protocol) that
# verifies every request's AWS Signature Version 4 with its own
# implementation, the target header, the window of 10 × interval and
# MaxDatapoints 20: a value and its bounds, the primary's value (the
# isolation check), no data, AWS's error answer, a query that is not a JSON
# array, the region required, credentials missing from the environment, and
# the secret key and session token never in the output.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/prom_lib.bash"
. "$(dirname "$0")/lib_saas.bash"
need python3

export AWS_ACCESS_KEY_ID=AKIDPERCHTEST AWS_SECRET_ACCESS_KEY=s3cr3t/aws+key AWS_SESSION_TOKEN=s3cr3t-session
saas_start cloudwatch --secret "$AWS_SECRET_ACCESS_KEY" --access-key "$AWS_ACCESS_KEY_ID" \
	--region eu-west-1 --session-token "$AWS_SESSION_TOKEN" --window-ms 600000

write() {	# FILE WORD...
	local f=$1; shift
	{ canary app shop istio app; for w in "$@"; do cat <<YAML
    - name: $w
      interval: 1m
      templateRef: {name: $w}
      thresholdRange: {max: 900}
YAML
	done; for w in "$@"; do
		q='[{"Id": "e1", "Expression": "m1 * 1000", "Label": "p99"}, {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency", "Dimensions": [{"Name": "Deployment", "Value": "{{ target }}-'$w'"}]}, "Period": 60, "Stat": "p99"}}]'
		[ "$w" = notjson ] && q='m1 * 1000'
		cat <<YAML
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: $w, namespace: shop}
spec:
  provider: {type: cloudwatch, region: eu-west-1, address: "$URL/"}
  query: |
    $q
YAML
	done; } >"$TMP/$f.yaml"
}
write good ok
write bad nodata broken notjson
write down down

saas_checks ok nodata broken 'InvalidParameterValueException: Unrecognized metric math expression'
grep -q '"Value": "app-ok"' "$TMP/req.log" || fail "the query did not arrive intact: $(cat "$TMP/req.log")"
expect_match "not JSON" "$(json_field "$TMP/bad.json" "shop/app notjson" error)" 'error unmarshaling query'

# No credentials in the environment nor in the files: an error that says which.
export AWS_SHARED_CREDENTIALS_FILE=$TMP/aws/credentials AWS_CONFIG_FILE=$TMP/aws/config
out=$(env -u AWS_ACCESS_KEY_ID "$PERCH_BIN" check -f "$TMP/good.yaml" -o json 2>&1)
expect_eq "no credentials: exit" "$?" 1
expect_match "no credentials" "$out" 'no AWS credentials \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'

# The shared credentials file, as the AWS SDK reads it: profile AWS_PROFILE,
# the environment's keys first when there are both.
mkdir -p "$TMP/aws"
cat >"$TMP/aws/credentials" <<INI
# perch's canary reader
[default]
aws_access_key_id = AKIDWRONG
aws_secret_access_key = wrong-default-key

[canary]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key=$AWS_SECRET_ACCESS_KEY
aws_session_token = $AWS_SESSION_TOKEN
INI
printf '[profile canary]\nregion = eu-west-1\n' >"$TMP/aws/config"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_PROFILE=canary \
	"$PERCH_BIN" check -f "$TMP/good.yaml" -o json >"$TMP/file.json" 2>"$TMP/file.err"
expect_eq "credentials file: exit ($(cat "$TMP/file.err"))" "$?" 0
expect_eq "credentials file: value" "$(json_field "$TMP/file.json" "shop/app ok" value)" 812.4
AWS_PROFILE=default "$PERCH_BIN" check -f "$TMP/good.yaml" -o json >/dev/null 2>&1 ||
	fail "the environment's keys did not come before the file's"
out=$(env -u AWS_ACCESS_KEY_ID "$PERCH_BIN" check -f "$TMP/good.yaml" -o json 2>&1)
expect_match "file's default profile is used" "$out" 'SignatureDoesNotMatch'
printf '[canary\naws_access_key_id = x\n' >"$TMP/aws/credentials"
out=$(env -u AWS_ACCESS_KEY_ID AWS_PROFILE=canary "$PERCH_BIN" check -f "$TMP/good.yaml" -o json 2>&1)
expect_eq "malformed file: exit" "$?" 1
expect_match "malformed file" "$out" "$TMP/aws/credentials:1: a section header without its closing \\]"

# A template without region is refused by validate, naming the field.
sed 's/region: eu-west-1, //' "$TMP/good.yaml" >"$TMP/noregion.yaml"
out=$("$PERCH_BIN" validate "$TMP/noregion.yaml" 2>&1)
expect_eq "no region: exit" "$?" 1
expect_match "no region" "$out" 'error: provider.region is required for provider type cloudwatch'

# The stand-in does check the signature: a wrong secret key is refused.
out=$(AWS_SECRET_ACCESS_KEY=wrong-key "$PERCH_BIN" check -f "$TMP/good.yaml" -o json 2>&1)
expect_eq "wrong key: exit" "$?" 1
expect_match "wrong key" "$out" 'SignatureDoesNotMatch'
grep -q '^BAD: the signature does not match' "$TMP/req.log" || fail "the stand-in did not see a bad signature"
