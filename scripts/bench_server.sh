#!/usr/bin/env bash
# Requests per second of `aipa serve --auth=off` beside nginx serving a fixed
# body (docs/BENCHMARKS.md, "Server"). wrk: 2 threads, 64 keep-alive
# connections, AllocatePublicIpAddress requests cycling over many instances
# (scripts/bench/allocate.lua), loaded from a generated state file.
# aipa runs in both modes: the epoll loops (the default, one per core) and a
# thread per connection. The control is nginx with its default worker count
# as Debian ships it (worker_processes auto: one per core).
#
# Usage: scripts/bench_server.sh [seconds per run, default 10] [instances, default 2000]
#                                [rounds, default 3]
# Env:   BUILD_DIR (default build/release, configured with the release preset)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
instances="${2:-2000}"
rounds="${3:-3}"
build="${BUILD_DIR:-build/release}"
workers="$(nproc)"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "bench_server.sh: $tool not found" >&2; exit 1; }
done
if [ "$build" = build/release ]; then
  cmake --preset release >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
fi
if ! cmake --build "$build" --target aipa -j 2 >"$tmp/build.log" 2>&1; then
  grep -E 'error|FAILED' "$tmp/build.log" >&2 || cat "$tmp/build.log" >&2
  echo "bench_server.sh: the build failed" >&2
  exit 1
fi

# The state: $instances Running classic instances i-bench000001...
{
  printf '{"Pool":{"Cidrs":["47.96.0.0/16"]},"Instances":['
  for ((i = 1; i <= instances; i++)); do
    [ "$i" -gt 1 ] && printf ','
    printf '{"InstanceId":"i-bench%06d"}' "$i"
  done
  printf ']}\n'
} >"$tmp/state.json"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts aipa serve with extra args; sets $port.
start_aipa() {
  "$build/aipa" serve --auth=off --log off --state "$tmp/state.json" --threads "$workers" \
    --listen 127.0.0.1:0 "$@" >"$tmp/aipa.out" 2>"$tmp/aipa.err" &
  pids+=("$!")
  for _ in $(seq 1 400); do
    if [ -s "$tmp/aipa.out" ]; then break; fi
    sleep 0.05
  done
  port="$(head -1 "$tmp/aipa.out" | sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p')"
  [ -n "$port" ] || { echo "bench_server.sh: aipa serve did not start:" >&2; cat "$tmp/aipa.err" >&2; exit 1; }
}

stop_last() {
  local p="${pids[-1]}"
  kill "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset 'pids[-1]'
}

# Runs wrk against $1; prints requests/s.
run_wrk() {
  AIPA_BENCH_INSTANCES="$instances" wrk -t2 -c64 -d"${secs}s" --latency \
    -s scripts/bench/allocate.lua "http://127.0.0.1:$1/" >"$tmp/wrk.out" 2>&1
  if grep -q 'Non-2xx' "$tmp/wrk.out"; then
    echo "bench_server.sh: non-2xx answers:" >&2
    cat "$tmp/wrk.out" >&2
    exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out"
}

# The machine may be shared: run the servers in interleaved rounds and report
# each one's median, so a burst of outside load hits all of them alike.
nport="$(free_port)"
sed -e "s|@WORKERS@|auto|" -e "s|@DIR@|$tmp|g" -e "s|@PORT@|$nport|" \
  scripts/bench/nginx.conf.in >"$tmp/nginx-auto.conf"

# Runs nginx with $1 workers; prints requests/s.
run_nginx() {
  nginx -p "$tmp" -c "$tmp/nginx-$1.conf" &
  pids+=("$!")
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$nport/" && break
    sleep 0.05
  done
  run_wrk "$nport"
  stop_last
}

nginx_all=() tpc_all=() pool_all=()
for ((round = 1; round <= rounds; round++)); do
  n="$(run_nginx auto)"

  start_aipa --threading pool
  p="$(run_wrk "$port")"
  stop_last

  start_aipa --threading per-connection
  t="$(run_wrk "$port")"
  stop_last

  nginx_all+=("$n") tpc_all+=("$t") pool_all+=("$p")
  printf '# round %d: nginx %.0f, aipa pool %.0f, aipa per-connection %.0f requests/s\n' \
    "$round" "$n" "$p" "$t"
done

# The handler alone, in-process (one thread), for the cost of the HTTP layer.
cc -O2 -I reference_impl/lib/include -I reference_impl/server/include scripts/bench/handle_loop.c \
  "$build/reference_impl/libaipa_server.a" "$build/reference_impl/libaipa.a" \
  $(pkg-config --libs libh2o-evloop libcjson libssl libcrypto) -lpthread -o "$tmp/handle_loop"
inproc_rps="$("$tmp/handle_loop" "$tmp/state.json" "$instances" "$secs" | awk '{print $2}')"

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
nginx_rps="$(median "${nginx_all[@]}")"
tpc_rps="$(median "${tpc_all[@]}")"
pool_rps="$(median "${pool_all[@]}")"

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg);" \
  "wrk -t2 -c64 -d${secs}s keep-alive; $instances instances;" \
  "median of $rounds interleaved rounds"
printf '%-46s %12s %9s\n' "server" "requests/s" "vs nginx"
ratio() { awk -v a="$1" -v n="$2" 'BEGIN {printf "%.2f", a / n}'; }
ver="$(nginx -v 2>&1 | sed 's|.*/||')"
printf '%-46s %12.0f %9s\n' "nginx $ver, default workers ($workers; fixed body)" "$nginx_rps" "1.00"
printf '%-46s %12.0f %9s\n' "aipa serve --auth=off (pool, $workers loops)" "$pool_rps" \
  "$(ratio "$pool_rps" "$nginx_rps")"
printf '%-46s %12.0f %9s\n' "aipa serve --auth=off (per-connection)" "$tpc_rps" \
  "$(ratio "$tpc_rps" "$nginx_rps")"
printf '%-42s %12.0f\n' "aipa_srv_handle in-process, 1 thread" "$inproc_rps"
