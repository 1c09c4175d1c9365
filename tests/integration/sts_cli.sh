#!/bin/sh
# STS from the command line: `aipa serve --credentials` with OwnerId,
# SecurityToken and Expiration (and the bad forms of each refused with a
# reason), and `aipa call` sending $AIPA_SECURITY_TOKEN in V1 and V3.
# Usage: sts_cli.sh AIPA_BINARY
set -u
aipa=$1
tmp=$(mktemp -d)
pid=
fails=0
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# refused JSON WORD: a credentials file aipa serve must refuse (exit 2) naming WORD.
refused() {
  echo "$1" >"$tmp/bad.json"
  timeout 10 "$aipa" serve --credentials "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
  got=$?
  [ "$got" -eq 2 ] || fail "credentials $1: exit $got, want 2"
  grep -q "$2" "$tmp/err" || fail "credentials $1: the reason does not name $2: $(cat "$tmp/err")"
}

refused '[{"AccessKeyId":"a","AccessKeySecret":"s","OwnerId":"12x"}]' OwnerId
refused '[{"AccessKeyId":"a","AccessKeySecret":"s","OwnerId":7}]' OwnerId
refused '[{"AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":""}]' SecurityToken
refused '[{"AccessKeyId":"a","AccessKeySecret":"s","Expiration":"2100-01-01T00:00:00Z"}]' Expiration
refused '[{"AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"CAISt","Expiration":"tomorrow"}]' Expiration

cat >"$tmp/creds.json" <<'JSON'
[{"AccessKeyId": "STS.cli", "AccessKeySecret": "clisecret", "SecurityToken": "CAIScliToken",
  "Expiration": "2100-01-01T00:00:00Z", "OwnerId": "1000000000000003"},
 {"AccessKeyId": "STS.old", "AccessKeySecret": "oldsecret", "SecurityToken": "CAISoldToken",
  "Expiration": "2001-01-01T00:00:00Z"}]
JSON
"$aipa" serve --listen 127.0.0.1:0 --credentials "$tmp/creds.json" --log off >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^listening on' "$tmp/serve.out" 2>/dev/null; do
  sleep 0.05
  i=$((i + 1))
done
url=$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -n 1)
[ -n "$url" ] || { echo "FAIL: aipa serve did not start: $(cat "$tmp/serve.err")"; exit 1; }

# call SIG TOKEN WANT: DescribeInstances signed with SIG; WANT is "HTTP 200" or a Code.
call() {
  if [ -n "$2" ]; then
    AIPA_SECURITY_TOKEN=$2 timeout 10 "$aipa" call --target "$url" --sig "$1" --format json \
      Action=DescribeInstances RegionId=cn-hangzhou >"$tmp/call.out" 2>&1
  else
    (unset AIPA_SECURITY_TOKEN; timeout 10 "$aipa" call --target "$url" --sig "$1" --format json \
      Action=DescribeInstances RegionId=cn-hangzhou >"$tmp/call.out" 2>&1)
  fi
  grep -q "$3" "$tmp/call.out" || fail "call --sig $1 token '$2': want $3, got $(head -c 400 "$tmp/call.out")"
}

export AIPA_ACCESS_KEY_ID=STS.cli AIPA_ACCESS_KEY_SECRET=clisecret
for sig in v1 v3; do
  call $sig CAIScliToken "HTTP 200"
  call $sig "" '"Code":"MissingSecurityToken"'
  call $sig CAISoldToken '"Code":"InvalidSecurityToken.MismatchWithAccessKey"'
  call $sig 'no token' '"Code":"InvalidSecurityToken.Malformed"'
done
export AIPA_ACCESS_KEY_ID=STS.old AIPA_ACCESS_KEY_SECRET=oldsecret
call v1 CAISoldToken '"Code":"InvalidSecurityToken.Expired"'
call v3 CAISoldToken '"Code":"InvalidSecurityToken.Expired"'

kill "$pid"
wait "$pid" 2>/dev/null
pid=
[ "$fails" -eq 0 ] && echo "sts_cli: all checks passed"
[ "$fails" -eq 0 ]
