#!/usr/bin/env bash
# Fuzz target speed beside cJSON's own fuzzer (docs/BENCHMARKS.md, "Fuzz targets").
#
# Builds the fuzz preset (clang, libFuzzer + ASan + UBSan) and, outside the
# project's sources, cJSON's OSS-Fuzz target from ../shared/anchors/cjson-fuzzer/
# with the same compiler and flags (the -O level, sanitizers and hardening of
# the preset, read from its build.ninja). Then runs, one after another in the
# same run, the anchor, each target, and the anchor again: each for SECONDS
# with its committed corpus (and regressions), its dictionary and its max_len.
#
# The figure is the sustained rate: executions per second from libFuzzer's
# INITED line (the corpus loaded) to the end, by the arrival time of the
# status lines (stat::average_exec_per_sec, which counts the loading, is
# shown beside it). Each target's ratio is to the mean of the two anchor runs.
#
# Usage: scripts/bench_fuzz.sh [--no-build] [SECONDS] [TARGET...]
#   SECONDS  per target (default 12); TARGET: fuzz_pct ... (default: all but fuzz_http)
#   AIPA_FUZZ_BUILD  the fuzz build directory (default build/fuzz)
#   AIPA_BENCH_WORK  scratch directory (default build/bench-fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=12
build=1
targets=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *[!0-9]*) targets+=("$a") ;;
    *) secs=$a ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<< "$(cd fuzz && ls fuzz_*.c | sed 's/\.c$//' | grep -vx fuzz_http | sort | tr '\n' ' ')"
fi
for t in "${targets[@]}"; do
  [ -f "fuzz/$t.c" ] || { echo "bench_fuzz.sh: no target $t" >&2; exit 2; }
done
bdir=${AIPA_FUZZ_BUILD:-$root/build/fuzz}
work=${AIPA_BENCH_WORK:-$root/build/bench-fuzz}
anchor_src=$root/../shared/anchors/cjson-fuzzer
[ -f "$anchor_src/cjson_read_fuzzer.c" ] || { echo "bench_fuzz.sh: no anchor at $anchor_src" >&2; exit 2; }
mkdir -p "$work"
log=$work/build.log

if [ "$build" = 1 ]; then
  names=()
  for t in "${targets[@]}"; do names+=("$t"); done
  if ! { cmake --preset fuzz -B "$bdir" && nice -n 10 cmake --build "$bdir" -j 2 --target "${names[@]}"; } \
      > "$log" 2>&1; then
    grep -E 'error|FAILED' "$log" >&2 || tail -20 "$log" >&2
    echo "bench_fuzz.sh: the fuzz build failed ($log)" >&2
    exit 2
  fi
fi

# The preset's compiler and flags, as ninja passes them to a library source:
# optimisation, debug info, sanitizers, hardening; not the project's warnings,
# defines or include paths.
cc=$(awk -F= '/^CMAKE_C_COMPILER:/ { print $2 }' "$bdir/CMakeCache.txt" 2>/dev/null)
flags=$(awk '/^build reference_impl\/.*wire\.c\.o:/ { hit = 1 } hit && /^ *FLAGS = / { sub(/^ *FLAGS = /, ""); print; exit }' \
  "$bdir/build.ninja" 2>/dev/null)
[ -n "$cc" ] && [ -n "$flags" ] || { echo "bench_fuzz.sh: cannot read the fuzz preset's flags in $bdir" >&2; exit 2; }
aflags=()
for f in $flags; do
  case "$f" in
    -DNDEBUG) aflags+=("$f") ;;
    -W*|-std=*|-D*|-I*|-fvisibility=*) ;;
    -fsanitize=fuzzer-no-link,*) aflags+=("-fsanitize=fuzzer,${f#-fsanitize=fuzzer-no-link,}") ;;
    *) aflags+=("$f") ;;
  esac
done
anchor=$work/cjson_read_fuzzer
if [ ! -x "$anchor" ] || [ "$anchor_src/cJSON.c" -nt "$anchor" ] || [ "$0" -nt "$anchor" ]; then
  "$cc" "${aflags[@]}" -I"$anchor_src" "$anchor_src/cjson_read_fuzzer.c" "$anchor_src/cJSON.c" -o "$anchor" \
    > "$work/anchor-build.log" 2>&1 || { cat "$work/anchor-build.log" >&2; exit 2; }
fi

opt() { # target key -> value from fuzz/<t>.options
  awk -v k="$2" '$1 == k { print $3 }' "fuzz/$1.options"
}

# run NAME BINARY DICT MAXLEN CORPUS... -> "sustained average" on stdout
run() {
  local name=$1 bin=$2 dict=$3 maxlen=$4; shift 4
  local w=$work/$name
  rm -rf "$w"; mkdir -p "$w/new"
  local ml=(); [ -n "$maxlen" ] && ml=(-max_len="$maxlen")
  "$bin" -dict="$dict" "${ml[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$w/" "$w/new" "$@" 2>&1 |
    while IFS= read -r l; do
      printf '%s %s\n' "$EPOCHREALTIME" "$l"
    done > "$w/fuzz.log"
  awk '{ e = $2; gsub(/[#:]/, "", e) }
       $3 == "INITED" { t0 = $1; e0 = e }
       $2 ~ /^#[0-9]/ && t0 != "" { t1 = $1; e1 = e }
       $2 == "stat::number_of_executed_units:" { t1 = $1; e1 = $3 }
       $2 == "stat::average_exec_per_sec:" { avg = $3 }
       END { s = (t0 != "" && t1 > t0 + 1) ? (e1 - e0) / (t1 - t0) : 0
             printf "%d %d\n", s, avg }' "$w/fuzz.log"
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), ${secs} s per run, $($cc --version | head -1)"
echo "# flags: ${aflags[*]}"
read -r a1 a1avg <<< "$(run anchor-1 "$anchor" "$anchor_src/json.dict" "" "$anchor_src/inputs")"
declare -A sus avg
for t in "${targets[@]}"; do
  [ -x "$bdir/fuzz/$t" ] || { echo "bench_fuzz.sh: $bdir/fuzz/$t not built" >&2; exit 2; }
  read -r "sus[$t]" "avg[$t]" <<< "$(run "$t" "$bdir/fuzz/$t" "fuzz/$t.dict" "$(opt "$t" max_len)" \
    "corpus/$t" "corpus/regressions/$t")"
done
read -r a2 a2avg <<< "$(run anchor-2 "$anchor" "$anchor_src/json.dict" "" "$anchor_src/inputs")"
ref=$(( (a1 + a2) / 2 ))
[ "$ref" -gt 0 ] || { echo "bench_fuzz.sh: the anchor did not run (see $work/anchor-1/fuzz.log)" >&2; exit 2; }

printf '%-22s %12s %12s %8s\n' target "exec/s" "(average)" ratio
printf '%-22s %12s %12s %8s\n' "cJSON (before)" "$a1" "$a1avg" "$(awk -v a="$a1" -v r="$ref" 'BEGIN { printf "%.2f", a / r }')"
for t in "${targets[@]}"; do
  printf '%-22s %12s %12s %8s\n' "$t" "${sus[$t]}" "${avg[$t]}" \
    "$(awk -v a="${sus[$t]}" -v r="$ref" 'BEGIN { printf "%.2f", a / r }')"
done
printf '%-22s %12s %12s %8s\n' "cJSON (after)" "$a2" "$a2avg" "$(awk -v a="$a2" -v r="$ref" 'BEGIN { printf "%.2f", a / r }')"
