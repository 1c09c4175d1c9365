#!/bin/sh
# `aipa fuzz` with STS credentials: against `aipa serve` whose key needs a
# SecurityToken, the fuzzer sends $AIPA_SECURITY_TOKEN with every request
# (and tells its reference so): no finding. Without the token every signed
# request is refused with MissingSecurityToken, which the differential
# oracle reports. Usage: sts.sh AIPA_BINARY WORKDIR
set -u
aipa=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

cat >"$work/creds.json" <<'JSON'
[{"AccessKeyId": "STS.fuzz", "AccessKeySecret": "fuzzsecret", "SecurityToken": "CAISfuzzToken",
  "Expiration": "2100-01-01T00:00:00Z"}]
JSON
"$aipa" serve --listen 127.0.0.1:0 --fixtures --fixture-token lf-sts --credentials "$work/creds.json" \
  --log off >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^listening on' "$work/serve.out" 2>/dev/null; do
  sleep 0.05
  i=$((i + 1))
done
url=$(sed -n 's/^listening on //p' "$work/serve.out" | head -n 1)
[ -n "$url" ] || { echo "FAIL: aipa serve did not start: $(cat "$work/serve.err")"; exit 1; }
export AIPA_ACCESS_KEY_ID=STS.fuzz AIPA_ACCESS_KEY_SECRET=fuzzsecret AIPA_FIXTURE_TOKEN=lf-sts

AIPA_SECURITY_TOKEN=CAISfuzzToken timeout 300 "$aipa" fuzz --target "$url" --requests 2000 \
  --timeout-ms 20000 --out "$work/with" >"$work/with.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "with the token: exit $rc, want 0: $(tail -n 5 "$work/with.log")"

(unset AIPA_SECURITY_TOKEN; timeout 300 "$aipa" fuzz --target "$url" --requests 300 \
  --timeout-ms 20000 --out "$work/without" >"$work/without.log" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "without the token: exit $rc, want 1 (findings)"
grep -q 'MissingSecurityToken' "$work/without.log" ||
  fail "without the token: no finding names MissingSecurityToken: $(tail -n 5 "$work/without.log")"

kill "$pid"
wait "$pid" 2>/dev/null
pid=
[ "$fails" -eq 0 ] && echo "livefuzz sts: all checks passed"
[ "$fails" -eq 0 ]
