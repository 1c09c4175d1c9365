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
exec "$dir/tests/bench_model" "$n"
