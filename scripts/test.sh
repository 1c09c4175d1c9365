#!/usr/bin/env bash
# Builds and runs every test: the dev preset (gcc, warnings as errors) and the
# asan preset (ASan + UBSan). Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
jobs=$(nproc)
for preset in dev asan; do
  echo "==> $preset"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs" "$@"
done
