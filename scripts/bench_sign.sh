#!/usr/bin/env bash
# In-process signature verification throughput (docs/BENCHMARKS.md, "Signatures"):
# V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) verifications per second, plus the
# wire parse of a raw query added to V1. Builds only bench_sign in the release
# preset (optimised, no sanitizers).
#
# Usage: scripts/bench_sign.sh [seconds per round, default 2] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-2}"
rounds="${2:-5}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { cmake --preset release && cmake --build --preset release --target bench_sign -j 2; } >"$log" 2>&1; then
  grep -E 'error|FAILED' "$log" >&2 || cat "$log" >&2
  echo "bench_sign.sh: the release build failed" >&2
  exit 1
fi
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(openssl version | cut -d' ' -f1-2)"
exec build/release/tests/bench_sign "$secs" "$rounds"
