#!/usr/bin/env bash
# Requests per second of `aipa fuzz` against the reference server, beside wrk
# on one connection (wrk -t1 -c1) against the same server in the same run
# (docs/BENCHMARKS.md, "Live fuzzer").
#
# The server is `aipa serve --fixtures` with authentication on, as a fuzzing
# target runs. wrk repeats one unsigned DescribeInstances request (answered
# with an error after the full parse); aipa fuzz generates, signs, sends and
# judges every request, runs each one through the in-process reference model
# (the differential oracle) and resets the fixtures between sequences. Both
# use one keep-alive connection. Minimization is off so the figure is the
# steady fuzzing rate; "all" counts every HTTP request aipa fuzz sent
# (fixture setup included), "fuzz" only the generated ones.
#
# Usage: scripts/bench_livefuzz.sh [seconds per run, default 10]
# Env:   BUILD_DIR (default build/livefuzz-release, configured Release here)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
build="${BUILD_DIR:-build/livefuzz-release}"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench_livefuzz.sh: wrk not found" >&2; exit 1; }
if [ "$build" = build/livefuzz-release ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIPA_WERROR=OFF \
    -DCMAKE_C_COMPILER=gcc >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
fi
if ! cmake --build "$build" --target aipa -j 2 >"$tmp/build.log" 2>&1; then
  grep -E 'error|FAILED' "$tmp/build.log" >&2 || cat "$tmp/build.log" >&2
  echo "bench_livefuzz.sh: the build failed" >&2
  exit 1
fi

token="bench-$$"
"$build/aipa" serve --fixtures --fixture-token "$token" --log off --listen 127.0.0.1:0 \
  --seed 1 >"$tmp/aipa.out" 2>"$tmp/aipa.err" &
pids+=("$!")
for _ in $(seq 1 100); do
  if [ -s "$tmp/aipa.out" ]; then break; fi
  sleep 0.05
done
port="$(head -1 "$tmp/aipa.out" | sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p')"
[ -n "$port" ] || { echo "bench_livefuzz.sh: aipa serve did not start" >&2; cat "$tmp/aipa.err" >&2; exit 1; }
url="http://127.0.0.1:$port"

wrk_rps="$(wrk -t1 -c1 -d"${secs}s" \
  "$url/?Action=DescribeInstances&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou" |
  awk '/^Requests\/sec:/ {print $2}')"

"$build/aipa" fuzz --target "$url" --token "$token" --requests 100000000 --time "$secs" \
  --seed 1 --no-minimize --quiet --json "$tmp/fuzz.json" >/dev/null 2>"$tmp/fuzz.err" || true
read -r fuzz_n all_n elapsed buckets < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
print(s["requests"], s["total_requests"], s["elapsed_s"], s["buckets"])' "$tmp/fuzz.json")

python3 - "$wrk_rps" "$fuzz_n" "$all_n" "$elapsed" "$buckets" "$secs" <<'EOF'
import sys
wrk, fuzz_n, all_n, el, buckets, secs = (float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                         float(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
fz, al = fuzz_n / el, all_n / el
print(f"wrk -t1 -c1            {wrk:10.0f} req/s")
print(f"aipa fuzz (all)        {al:10.0f} req/s   {al / wrk:.2f}x wrk")
print(f"aipa fuzz (fuzz only)  {fz:10.0f} req/s   {fz / wrk:.2f}x wrk")
print(f"({fuzz_n} fuzz requests, {all_n} in all, {el:.1f} s, {buckets} findings; {secs} s per run)")
EOF
