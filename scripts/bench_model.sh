#!/usr/bin/env bash
# Model throughput and memory (docs/BENCHMARKS.md, "Model"): allocations and
# releases per second at 1,000 and 1,000,000 instances, over the same
# 1,048,574-address pool and over pools twice the instance count, and bytes
# per instance (counted through the
# allocator hook and cross-checked with mallinfo2). Builds only bench_model
# with the release preset's settings, in its own build directory.
#
# Times are CPU time of the benchmark thread, best of 3 trials, so that other
# load on a shared machine does not count.
#
# Then counts instructions per allocation at both sizes under callgrind.
#
# Usage: scripts/bench_model.sh [allocations per figure, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
dir=build/bench-model
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { cmake --preset release -B "$dir" && cmake --build "$dir" --target bench_model -j 2; } >"$log" 2>&1; then
  grep -E 'error|FAILED' "$log" >&2 || cat "$log" >&2
  echo "bench_model.sh: the release build failed" >&2
  exit 1
fi
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$dir/tests/bench_model" "$n"

# The work per allocation at each size, as a count that load cannot skew:
# callgrind's instructions inside aipa_model_allocate over 200,000 random
# allocate + release pairs.
if ! command -v valgrind >/dev/null; then
  echo "instructions per allocation: valgrind not installed, skipped"
  exit 0
fi
calls=200000
for size in 1000 1000000; do
  out="$(mktemp)"
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=aipa_model_allocate \
    "$dir/tests/bench_model" --calls "$size" "$calls" >/dev/null 2>"$log"
  ir="$(awk '/^summary:/ { print $2 }' "$out")"
  rm -f "$out"
  printf 'instructions per allocation at %7d instances: %d (callgrind, %d calls)\n' \
    "$size" "$((ir / calls))" "$calls"
done
