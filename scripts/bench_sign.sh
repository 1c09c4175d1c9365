#!/usr/bin/env bash
# In-process signature verification throughput (docs/BENCHMARKS.md, "Signatures"):
# V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) verifications per second, plus the
# wire parse of a raw query added to V1. Builds only bench_sign in the release
# preset (optimised, no sanitizers).
#
# Usage: scripts/bench_sign.sh [seconds per figure, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-3}"
cmake --preset release >/dev/null
cmake --build --preset release --target bench_sign -j 2 >/dev/null
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, $(openssl version | cut -d' ' -f1-2)"
exec build/release/tests/bench_sign "$secs"
