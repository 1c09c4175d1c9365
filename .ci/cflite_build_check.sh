#!/usr/bin/env bash
# .clusterfuzzlite/build.sh run as OSS-Fuzz and ClusterFuzzLite run it (the
# environment of their base-builder image: $SRC holding the checkout as
# $SRC/aipa, $WORK, $OUT, clang, libFuzzer with ASan), then a check of what
# it left in $OUT: for every fuzz/fuzz_<t>.c an executable fuzz_<t> with
# fuzz_<t>.dict, fuzz_<t>.options and a non-empty fuzz_<t>_seed_corpus.zip,
# and each target runs over its own seed zip without a crash (-runs=0 replays
# the seeds only).
# Usage: .ci/cflite_build_check.sh   (exit 0 clean, 1 a missing or broken output)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/work" "$tmp/out"
ln -s "$root" "$tmp/src/aipa"
cp "$root/.clusterfuzzlite/build.sh" "$tmp/src/build.sh"

flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
echo "cflite: building with the OSS-Fuzz environment (log: build.log in a temporary directory) ..."
if ! env SRC="$tmp/src" WORK="$tmp/work" OUT="$tmp/out" CC=clang CXX=clang++ \
    CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
    SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64 \
    bash -eu "$tmp/src/build.sh" > "$tmp/build.log" 2>&1; then
  tail -30 "$tmp/build.log"
  echo "cflite: .clusterfuzzlite/build.sh failed"
  exit 1
fi

fails=0
n=0
for src in "$root"/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  n=$((n + 1))
  for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
    [ -s "$tmp/out/$f" ] || { echo "cflite: \$OUT/$f is missing or empty"; fails=$((fails + 1)); }
  done
  [ -x "$tmp/out/$t" ] || continue
  mkdir -p "$tmp/seeds/$t"
  if ! unzip -q -o "$tmp/out/${t}_seed_corpus.zip" -d "$tmp/seeds/$t"; then
    echo "cflite: ${t}_seed_corpus.zip is not a valid zip"
    fails=$((fails + 1))
    continue
  fi
  seeds=$(ls "$tmp/seeds/$t" | wc -l)
  [ "$seeds" -gt 0 ] || { echo "cflite: ${t}_seed_corpus.zip holds no seed"; fails=$((fails + 1)); }
  if ! (cd "$tmp/out" && timeout 600 "./$t" -runs=0 "$tmp/seeds/$t" > "$tmp/$t.run.log" 2>&1); then
    tail -20 "$tmp/$t.run.log"
    echo "cflite: $t fails on its own seed corpus"
    fails=$((fails + 1))
  else
    echo "cflite: $t: binary, dict, options, $seeds seeds replayed"
  fi
done
[ "$n" -gt 0 ] || { echo "cflite: no fuzz/fuzz_*.c"; exit 1; }
if [ "$fails" -ne 0 ]; then
  echo "cflite: $fails problem(s)"
  exit 1
fi
echo "cflite: all $n targets built as OSS-Fuzz builds them"
