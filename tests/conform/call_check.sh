#!/bin/sh
# `aipa call` gives a verdict on a 2xx answer: exit 0 only when the body
# parses as the XML or JSON its Content-Type declares; exit 1 with a reason
# on stderr for each hostile body badserver can send (an HTML page, a
# 1,000,000-level nesting, an entity bomb, an external entity, a cut body,
# a mislabelled body, another format than asked, a gzip body nobody asked
# for); and never a crash or hang.
# Usage: call_check.sh AIPA BADSERVER
set -u
aipa=$1
badserver=$2
tmp=$(mktemp -d)
bs_pid=
fails=0
trap 'if [ -n "$bs_pid" ]; then kill "$bs_pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# check FAULT FORMAT STATUS REASON-REGEX: one allocation through that fault.
check() {
  if [ -n "$bs_pid" ]; then
    kill "$bs_pid" 2>/dev/null
    wait "$bs_pid" 2>/dev/null
  fi
  rm -f "$tmp/port"
  "$badserver" --fault "$1" --max-seconds 60 >"$tmp/port" 2>/dev/null &
  bs_pid=$!
  i=0
  while ! [ -s "$tmp/port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  AIPA_ACCESS_KEY_ID=testid AIPA_ACCESS_KEY_SECRET=testsecret timeout 30 "$aipa" call \
    --target "http://127.0.0.1:$(head -1 "$tmp/port")" --format "$2" \
    Action=AllocatePublicIpAddress InstanceId=i-aipa-running >"$tmp/out" 2>"$tmp/err"
  st=$?
  [ "$st" -eq "$3" ] || fail "$1 ($2): exit $st, want $3 ($(tail -1 "$tmp/err"))"
  if [ -n "$4" ]; then
    grep -Eq "$4" "$tmp/err" || fail "$1 ($2): stderr does not say /$4/: $(tail -1 "$tmp/err")"
  fi
}

check none xml 0 ''
check none json 0 ''
check html-page xml 1 'not an API answer: .*text/html.*HTML page'
check html-page json 1 'HTML page'
check deep-nesting json 1 'does not parse as the JSON .*too deep'
check deep-nesting xml 1 'does not parse as the XML .*too deep'
check entity-bomb xml 1 'does not parse as the XML .*DOCTYPE'
check xxe xml 1 'DOCTYPE'
check malformed-xml xml 1 'does not parse as the XML'
check malformed-json json 1 'does not parse as the JSON'
check wrong-content-type json 1 'text/html.*looks like JSON'
check xml-for-json json 1 'asked for JSON, the answer is labelled text/xml'
check gzip json 1 'Content-Encoding: gzip, which the request did not ask for'
check gzip xml 1 'Content-Encoding: gzip'

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all aipa call verdict checks passed"
