#!/bin/sh
# `aipa serve` as a command: exit statuses, the first stdout line, the
# printed demo key and token, the --auth=off warning, files that are bad,
# and a clean stop on SIGINT and SIGTERM. Usage: serve_cli.sh AIPA_BINARY
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

# expect_exit STATUS ARGS...: runs aipa serve ARGS (bounded to 10 s).
expect_exit() {
  want=$1
  shift
  timeout 10 "$aipa" serve "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  [ "$got" -eq "$want" ] || fail "aipa serve $*: exit $got, want $want ($(head -c 300 "$tmp/err"))"
}

expect_exit 0 --help
grep -q -- '--fixture-token' "$tmp/out" || fail "--help does not list --fixture-token"
expect_exit 2 --no-such-option
expect_exit 2 --listen 127.0.0.1:99999
expect_exit 2 --listen localhost:0
expect_exit 2 --edition 2019-01-01
expect_exit 2 --threading sometimes
expect_exit 2 --tls-cert "$tmp/x.pem"
expect_exit 2 --credentials "$tmp/none.json"
echo '[{"AccessKeyId":"a"}]' >"$tmp/creds.json"
expect_exit 2 --credentials "$tmp/creds.json"
grep -q 'AccessKeySecret' "$tmp/err" || fail "a credential without a secret is not explained"
echo '{"Instances":[{"Status":"Runing"}]}' >"$tmp/state.json"
expect_exit 2 --state "$tmp/state.json"
grep -q 'Runing' "$tmp/err" || fail "a bad state file is not explained: $(cat "$tmp/err")"

# start_serve ARGS...: starts it in the background and waits for the first line.
start_serve() {
  rm -f "$tmp/out" "$tmp/err"
  "$aipa" serve "$@" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  i=0
  while ! grep -q '^fixtures\|^credentials' "$tmp/out" 2>/dev/null && kill -0 "$pid" 2>/dev/null &&
    [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
}

# stop_serve SIGNAL: sends it and waits (at most 10 s) for exit status 0.
stop_serve() {
  kill "-$1" "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "SIG$1 did not stop the server"
    kill -9 "$pid"
  fi
  wait "$pid"
  st=$?
  [ "$st" -eq 0 ] || fail "exit status $st after SIG$1"
  pid=
}

start_serve --fixtures --seed 5
head -1 "$tmp/out" | grep -Eq '^listening on http://127\.0\.0\.1:[0-9]+$' ||
  fail "first line: $(head -1 "$tmp/out")"
grep -q 'AccessKeyId=testid AccessKeySecret=testsecret' "$tmp/out" || fail "demo pair not printed"
grep -Eq 'X-Aipa-Token: [0-9a-f]{32}$' "$tmp/out" || fail "generated token not printed"
grep -q 'seed 5' "$tmp/out" || fail "seed not printed"
stop_serve INT

start_serve --auth=off --listen '[::1]:0' --log -
if head -1 "$tmp/out" | grep -Eq '^listening on http://\[::1\]:[0-9]+$'; then
  grep -q 'WARNING: --auth=off' "$tmp/err" || fail "--auth=off prints no warning"
  stop_serve TERM
elif kill -0 "$pid" 2>/dev/null; then
  fail "IPv6 listener running but first line is: $(head -1 "$tmp/out")"
else
  # No IPv6 loopback here: it must have failed cleanly instead (exit 2).
  wait "$pid"
  st=$?
  pid=
  [ "$st" -eq 2 ] || fail "no IPv6 and exit status $st"
fi

# A state file whose Edition differs from --edition: the banner names the
# edition in force and a warning says the file won; throttling and extra
# instances are shown, and an extra instance takes an address.
echo '{"Edition":"2024-12-20","Instances":[]}' >"$tmp/ed.json"
start_serve --edition 2018-08-02 --state "$tmp/ed.json" --throttle 5:10 --instances 6
grep -q '^edition 2024-12-20 (from the state file)' "$tmp/out" ||
  fail "the banner does not name the edition in force: $(sed -n 2p "$tmp/out")"
grep -q 'WARNING: .*ed.json sets Edition 2024-12-20, which overrides --edition 2018-08-02' \
  "$tmp/err" || fail "no warning when the state file overrides --edition: $(cat "$tmp/err")"
grep -q '^throttle: 5 requests/s per AccessKeyId, bursts of 10' "$tmp/out" ||
  fail "throttling is not shown"
grep -q '^instances: 6 more .*i-aipa-extra-0006' "$tmp/out" || fail "--instances is not shown"
url=$(head -1 "$tmp/out" | sed 's/^listening on //')
AIPA_ACCESS_KEY_ID=testid AIPA_ACCESS_KEY_SECRET=testsecret timeout 10 "$aipa" call \
  --target "$url" Action=AllocatePublicIpAddress InstanceId=i-aipa-extra-0006 >"$tmp/call" 2>&1 ||
  fail "an --instances instance cannot take an address: $(head -c 300 "$tmp/call")"
stop_serve TERM
# The same --edition as the file, or no --edition: no warning.
start_serve --edition 2024-12-20 --state "$tmp/ed.json"
if grep -q 'WARNING' "$tmp/err"; then fail "a warning although the editions agree"; fi
grep -q '^edition 2024-12-20, seed' "$tmp/out" || fail "banner: $(sed -n 2p "$tmp/out")"
stop_serve TERM
expect_exit 2 --instances 10001

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all serve CLI checks passed"
