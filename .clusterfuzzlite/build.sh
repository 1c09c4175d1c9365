#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: the libraries with $CC $CFLAGS (the
# platform's sanitizer and coverage flags), each fuzz/fuzz_<t>.c linked with
# $LIB_FUZZING_ENGINE into $OUT/fuzz_<t>, next to fuzz_<t>.dict,
# fuzz_<t>.options and fuzz_<t>_seed_corpus.zip (seeds and past crashers,
# files named by SHA-1).
cd "$SRC/aipa"
build=$WORK/aipa-build
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DAIPA_WERROR=OFF
ninja -C "$build" libaipa aipa_server aipa_harness

libs="$build/harness/libaipa_harness.a $build/reference_impl/libaipa_server.a $build/reference_impl/libaipa.a"
deps="$(pkg-config --libs libcurl libxml-2.0 libcjson libmicrohttpd libh2o-evloop libssl libcrypto) -lpthread"
incs="-Ireference_impl/lib/include -Ireference_impl/lib/src -Ireference_impl/server/include -Ireference_impl/server/src -Iharness/include $(pkg-config --cflags libxml-2.0 libcjson)"

for src in fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  $CC $CFLAGS $incs -Ifuzz -c "$src" -o "$WORK/$t.o"
  # link with $CXX: $LIB_FUZZING_ENGINE may be C++
  $CXX $CXXFLAGS "$WORK/$t.o" -o "$OUT/$t" $LIB_FUZZING_ENGINE $libs $deps
  cp "fuzz/$t.dict" "fuzz/$t.options" "$OUT/"
  rm -rf "$WORK/seeds-$t" && mkdir -p "$WORK/seeds-$t"
  for f in corpus/"$t"/* corpus/regressions/"$t"/*; do
    [ -f "$f" ] && cp "$f" "$WORK/seeds-$t/$(sha1sum "$f" | cut -c1-40)"
  done
  (cd "$WORK/seeds-$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
done
