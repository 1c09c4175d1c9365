#!/usr/bin/env bash
# The conformance runner's speed (docs/BENCHMARKS.md, "Conformance runner"):
#
#  1. wall time of the full suite (every case, every variant, both editions)
#     against the embedded reference server, `aipa conform` with -j 1 and -j 2,
#     the median of $runs runs, measured around the whole process;
#  2. the runner's requests per second against `aipa serve --fixtures` (one
#     edition, -j 1: one connection at a time), beside wrk -t1 -c1 against the
#     same server replaying one V1-signed DescribeInstances request (after the
#     first, the server verifies the signature and rejects the reused nonce, so
#     every wrk request still costs a wire parse and an HMAC check).
#
# Builds aipa in the release preset (optimised, no sanitizers).
# Usage: scripts/bench_conform.sh [runs, default 5] [wrk seconds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
secs="${2:-5}"
build="${BUILD_DIR:-build/release}"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench_conform.sh: wrk not found (scripts/bootstrap.sh --bench)" >&2; exit 1; }
if [ "$build" = build/release ]; then
  cmake --preset release >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
fi
if ! cmake --build "$build" --target aipa -j 2 >"$tmp/build.log" 2>&1; then
  grep -E 'error|FAILED' "$tmp/build.log" >&2 || cat "$tmp/build.log" >&2
  echo "bench_conform.sh: the build failed" >&2
  exit 1
fi
aipa="$build/aipa"

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
calc() { awk "BEGIN {print $1}"; }
# A top-level number of the JSON report ("requests": 3326,).
field() { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9.]*\),*$/\1/p" "$1" | head -1; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$aipa" conform --list | tail -1 | sed 's/^/# suite: /'

# ---- 1. the full suite against the embedded server ----
for jobs in 1 2; do
  : >"$tmp/walls"
  for ((i = 0; i < runs; i++)); do
    t0="$(now)"
    rc=0
    "$aipa" conform -q -j "$jobs" --seed 1 --json "$tmp/r.json" >"$tmp/out" 2>&1 || rc=$?
    t1="$(now)"
    if [ "$rc" -ne 0 ]; then
      echo "bench_conform.sh: aipa conform exited $rc" >&2
      tail -20 "$tmp/out" >&2
      exit 1
    fi
    calc "$t1 - $t0" >>"$tmp/walls"
  done
  wall="$(median <"$tmp/walls")"
  results="$(grep -c '"verdict":' "$tmp/r.json")"
  printf 'full suite, embedded server, -j %s: %.2f s wall (median of %s; %s case x variant results, %s case + %s fixture requests)\n' \
    "$jobs" "$wall" "$runs" "$results" "$(field "$tmp/r.json" requests)" "$(field "$tmp/r.json" fixture_requests)"
done

# ---- 2. requests per second beside wrk, against one aipa serve ----
token="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
cat >"$tmp/creds.json" <<EOF
[{"AccessKeyId": "testid", "AccessKeySecret": "testsecret", "Status": "Active", "Whitelisted": false},
 {"AccessKeyId": "wl-id", "AccessKeySecret": "wl-secret", "Status": "Active", "Whitelisted": true},
 {"AccessKeyId": "off-id", "AccessKeySecret": "off-secret", "Status": "Inactive", "Whitelisted": false}]
EOF
"$aipa" serve --listen 127.0.0.1:0 --fixtures --fixture-token "$token" --credentials "$tmp/creds.json" \
  --edition 2024-12-20 --seed 1 --log off >"$tmp/serve.out" 2>"$tmp/serve.err" &
server_pid=$!
for _ in $(seq 50); do
  grep -q '^listening on ' "$tmp/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$tmp/serve.out" | head -1)"
[ -n "$url" ] || { echo "bench_conform.sh: aipa serve did not start" >&2; cat "$tmp/serve.err" >&2; exit 1; }

export AIPA_FIXTURE_TOKEN="$token" AIPA_ACCESS_KEY_ID=testid AIPA_ACCESS_KEY_SECRET=testsecret
export AIPA_WL_KEY_ID=wl-id AIPA_WL_KEY_SECRET=wl-secret AIPA_INACTIVE_KEY_ID=off-id AIPA_INACTIVE_KEY_SECRET=off-secret
t0="$(now)"
rc=0
"$aipa" conform --target "$url" --profile conformance/profiles/reference.json --edition 2024-12-20 \
  -q --json "$tmp/t.json" >"$tmp/tout" 2>&1 || rc=$?
t1="$(now)"
[ "$rc" -le 1 ] || { echo "bench_conform.sh: aipa conform --target exited $rc" >&2; tail -20 "$tmp/tout" >&2; exit 1; }
reqs="$(field "$tmp/t.json" requests)"
fx="$(field "$tmp/t.json" fixture_requests)"
ms="$(field "$tmp/t.json" wall_ms)"
printf 'runner against aipa serve (2024-12-20, -j 1): %s case + %s fixture requests in %.0f ms = %.0f requests/s (process wall %.2f s)\n' \
  "$reqs" "$fx" "$ms" "$(calc "($reqs + $fx) * 1000 / $ms")" "$(calc "$t1 - $t0")"

# Per case x variant run (fixtures + its requests): the spread shows where the wall time goes.
sed -n 's/^[[:space:]]*"duration_ms":[[:space:]]*\([0-9.]*\),*$/\1/p' "$tmp/t.json" | sort -n |
  awk '{a[NR]=$1} END {printf "  case x variant runs: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (%d runs)\n", a[int(NR*0.5)+1], a[int(NR*0.9)+1], a[int(NR*0.99)+1], a[NR], NR}'

target="$("$aipa" call --target "$url" --show-request --format json Action=DescribeInstances \
  'InstanceIds=["i-bp1gtjxuuvwj17zr0001"]' 2>&1 >/dev/null | sed -n 's/^> GET //p' | head -1)"
[ -n "$target" ] || { echo "bench_conform.sh: could not build the wrk request" >&2; exit 1; }
wrk -t1 -c1 -d"${secs}s" "$url$target" >"$tmp/wrk.out"
printf 'wrk -t1 -c1 against the same server: %s requests/s (%s)\n' \
  "$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")" "$(awk '/Latency/ {print "latency avg " $2}' "$tmp/wrk.out")"
