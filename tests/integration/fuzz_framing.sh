#!/bin/sh
# `aipa fuzz --framing`: the reference server's HTTP layer survives the
# framing probes with no finding, and a relay that drops Content-Length when
# Transfer-Encoding is there (badserver http-cl-te) is caught smuggling.
# Usage: fuzz_framing.sh AIPA_BINARY BADSERVER_BINARY
set -u
aipa=$1
badserver=$2
tmp=$(mktemp -d)
pid=
fails=0
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

timeout 120 "$aipa" fuzz --framing --requests 2000 --time 60 --seed 3 --out "$tmp/ref" \
  2>"$tmp/ref.err"
rc=$?
[ "$rc" -eq 0 ] || fail "the reference server: exit $rc, $(tail -3 "$tmp/ref.err")"
grep -q '^framing: 2000 probes' "$tmp/ref.err" || fail "not all probes ran: $(tail -1 "$tmp/ref.err")"

"$badserver" --fault http-cl-te --max-seconds 120 >"$tmp/port" 2>"$tmp/bs.err" &
pid=$!
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || fail "badserver did not start: $(cat "$tmp/bs.err")"
timeout 120 "$aipa" fuzz --framing --target "http://127.0.0.1:$port" --requests 300 --time 60 \
  --seed 3 --out "$tmp/bad" 2>"$tmp/bad.err"
rc=$?
[ "$rc" -eq 1 ] || fail "badserver http-cl-te: exit $rc, want 1 ($(tail -1 "$tmp/bad.err"))"
grep -q 'smuggled [1-9]' "$tmp/bad.err" || fail "no smuggled answer found: $(tail -1 "$tmp/bad.err")"
ls "$tmp/bad/framing/"probe-*.txt >/dev/null 2>&1 || fail "no finding was saved"

if [ "$fails" -eq 0 ]; then
  echo "fuzz_framing: all checks passed"
fi
exit "$fails"
