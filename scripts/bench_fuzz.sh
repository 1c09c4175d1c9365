#!/usr/bin/env bash
# Fuzz target speed beside cJSON's own fuzzer (docs/BENCHMARKS.md, "Fuzz targets").
#
# Builds the fuzz preset (clang, libFuzzer + ASan + UBSan) and, outside the
# project's sources, cJSON's OSS-Fuzz target from ../shared/anchors/cjson-fuzzer/
# with the same compiler and flags (the -O level, sanitizers and hardening of
# the preset, read from its build.ninja). Then runs, one after another in the
# same run, the anchor, then each target followed by the anchor again: each for SECONDS
# with its committed corpus (and regressions), its dictionary and its max_len.
#
# The figure is the sustained rate: executions per second from libFuzzer's
# INITED line (the corpus loaded) to the end, by the arrival time of the
# status lines (stat::average_exec_per_sec, which counts the loading, is
# shown beside it). Each target's ratio is to the mean of the anchor runs just
# before and after it; a second ratio uses executions per CPU-second (user +
# system time of the whole run), which a loaded machine disturbs less.
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

# run NAME BINARY DICT MAXLEN CORPUS... -> "sustained average per-cpu-second" on stdout
run() {
  local name=$1 bin=$2 dict=$3 maxlen=$4; shift 4
  local w=$work/$name
  rm -rf "$w"; mkdir -p "$w/new"
  local ml=(); [ -n "$maxlen" ] && ml=(-max_len="$maxlen")
  /usr/bin/time -f '%U %S' -o "$w/cpu" "$bin" -dict="$dict" "${ml[@]}" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$w/" "$w/new" "$@" 2>&1 |
    while IFS= read -r l; do
      printf '%s %s\n' "$EPOCHREALTIME" "$l"
    done > "$w/fuzz.log"
  awk -v cpu="$(awk '{ print $1 + $2 }' "$w/cpu" 2>/dev/null)" '{ e = $2; gsub(/[#:]/, "", e) }
       $3 == "INITED" { t0 = $1; e0 = e }
       $2 ~ /^#[0-9]/ && t0 != "" { t1 = $1; e1 = e }
       $2 == "stat::number_of_executed_units:" { t1 = $1; e1 = $3; total = $3 }
       $2 == "stat::average_exec_per_sec:" { avg = $3 }
       END { s = (t0 != "" && t1 > t0 + 1) ? (e1 - e0) / (t1 - t0) : 0
             printf "%d %d %d\n", s, avg, (cpu > 0 ? total / cpu : 0) }' "$w/fuzz.log"
}

ratio() { awk -v a="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%.2f", a / r; else print "-" }'; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), ${secs} s per run, $($cc --version | head -1)"
echo "# flags: ${aflags[*]}"
echo "# each target's ratio is to the mean of the anchor runs just before and just after it"
anchor_run() { run "anchor-$1" "$anchor" "$anchor_src/json.dict" "" "$anchor_src/inputs"; }
declare -A sus avg cpu ref refc
read -r a_s a_avg a_cpu <<< "$(anchor_run 0)"
anchors=("$a_s"); anchors_cpu=("$a_cpu")
k=0
for t in "${targets[@]}"; do
  [ -x "$bdir/fuzz/$t" ] || { echo "bench_fuzz.sh: $bdir/fuzz/$t not built" >&2; exit 2; }
  read -r "sus[$t]" "avg[$t]" "cpu[$t]" <<< "$(run "$t" "$bdir/fuzz/$t" "fuzz/$t.dict" "$(opt "$t" max_len)" \
    "corpus/$t" "corpus/regressions/$t")"
  k=$((k + 1))
  read -r b_s b_avg b_cpu <<< "$(anchor_run "$k")"
  anchors+=("$b_s"); anchors_cpu+=("$b_cpu")
  ref[$t]=$(( (a_s + b_s) / 2 )); refc[$t]=$(( (a_cpu + b_cpu) / 2 ))
  a_s=$b_s; a_cpu=$b_cpu
done

printf '%-18s %10s %10s %7s   %12s %7s\n' target "exec/s" "cJSON" ratio "exec/cpu-s" ratio
for t in "${targets[@]}"; do
  printf '%-18s %10s %10s %7s   %12s %7s\n' "$t" "${sus[$t]}" "${ref[$t]}" "$(ratio "${sus[$t]}" "${ref[$t]}")" \
    "${cpu[$t]}" "$(ratio "${cpu[$t]}" "${refc[$t]}")"
done
echo "# cJSON's fuzzer, exec/s of each run in order: ${anchors[*]}"
echo "# exec/s: sustained (INITED to the end); exec/cpu-s: all executions per second of CPU time (user + system), the steadier figure on a loaded machine"
