#!/usr/bin/env bash
# The main job: build aipa and run `aipa conform` against the embedded
# reference server (no --target). Extra arguments go to aipa conform.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)" --target aipa
exec build/dev/aipa conform "$@"
