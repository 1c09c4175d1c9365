#!/usr/bin/env bash
# fuzz/ci.sh: the fuzzing step of CI.
#
# 1. Builds the fuzz preset (clang, libFuzzer, ASan + UBSan) into
#    ${AIPA_FUZZ_BUILD:-build/fuzz}.
# 2. Replays every seed corpus and every saved crasher (ctest -L fuzz): a
#    regression fails here first.
# 3. Runs each libFuzzer target for ${AIPA_FUZZ_CI_SECONDS:-20} s, one at a
#    time, on the committed corpus; a crash fails the step, and the
#    minimised input is left in corpus/regressions/fuzz_<t>/ to commit.
# Exit status: 0 clean, 1 a crash or a failed replay, 2 build error.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${AIPA_FUZZ_BUILD:-build/fuzz}
secs=${AIPA_FUZZ_CI_SECONDS:-20}

cmake --preset fuzz -B "$build" > /dev/null || exit 2
cmake --build "$build" -j "$(nproc)" || exit 2
ctest --test-dir "$build" -L fuzz --output-on-failure || exit 1
AIPA_FUZZ_BUILD=$build fuzz/campaign --no-build -e libfuzzer -t "$secs" -w "$build/campaign-ci" all
