#!/usr/bin/env bash
# Requests per second of `aipa fuzz` against the reference server, beside wrk
# on one connection (wrk -t1 -c1) against the same server in the same run
# (docs/BENCHMARKS.md, "Live fuzzer").
#
# The server is `aipa serve --fixtures` with authentication on, as a fuzzing
# target runs. wrk repeats one request (a signed one, and an unsigned one:
# see below); aipa fuzz generates, signs, sends and
# judges every request, runs each one through the in-process reference model
# (the differential oracle) and resets the fixtures between sequences. Both
# use one keep-alive connection. Minimization is off so the figure is the
# steady fuzzing rate; "all" counts every HTTP request aipa fuzz sent
# (fixture setup included), "fuzz" only the generated ones.
#
# With JOBS=N (default 3; 1 skips it) each round also runs `aipa fuzz --jobs N`
# (N workers, N connections) beside wrk -t1 -cN on the same signed request.
#
# Usage: scripts/bench_livefuzz.sh [seconds per run, default 10] [rounds, default 3]
# Env:   BUILD_DIR (default build/livefuzz-release, configured Release here)
#        SERVE_ARGS extra `aipa serve` options, e.g. "--threading pool"
#        JOBS workers of the parallel run (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
rounds="${2:-3}"
jobs="${JOBS:-3}"
build="${BUILD_DIR:-build/livefuzz-release}"
tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench_livefuzz.sh: wrk not found" >&2; exit 1; }
if [ "$build" = build/livefuzz-release ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAIPA_WERROR=OFF \
    -DCMAKE_C_COMPILER=gcc >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
fi
if ! cmake --build "$build" --target aipa -j 2 >"$tmp/build.log" 2>&1; then
  grep -E 'error|FAILED' "$tmp/build.log" >&2 || cat "$tmp/build.log" >&2
  echo "bench_livefuzz.sh: the build failed" >&2
  exit 1
fi

token="bench-$$"
# shellcheck disable=SC2086 # SERVE_ARGS is a list of options
"$build/aipa" serve --fixtures --fixture-token "$token" --log off --listen 127.0.0.1:0 \
  --seed 1 ${SERVE_ARGS:-} >"$tmp/aipa.out" 2>"$tmp/aipa.err" &
pids+=("$!")
for _ in $(seq 1 100); do
  if [ -s "$tmp/aipa.out" ]; then break; fi
  sleep 0.05
done
port="$(head -1 "$tmp/aipa.out" | sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p')"
[ -n "$port" ] || { echo "bench_livefuzz.sh: aipa serve did not start" >&2; cat "$tmp/aipa.err" >&2; exit 1; }
url="http://127.0.0.1:$port"

# wrk's requests: a V1-signed AllocatePublicIpAddress (the server parses it,
# verifies the HMAC and answers SignatureNonceUsed after the first, much like
# the fuzzer's mostly rejected requests), and, for reference, an unsigned
# DescribeInstances rejected before any signature work.
signed_target="$(python3 - <<'EOF_PY'
import base64, hashlib, hmac, os, time, urllib.parse
p = {"Action": "AllocatePublicIpAddress", "InstanceId": "i-bp1gtjxuuvwj17zr0001",
     "Format": "JSON", "Version": "2014-05-26", "AccessKeyId": "testid",
     "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
     "SignatureNonce": "bench-%d" % os.getpid(),
     "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
enc = lambda s: urllib.parse.quote(s, safe="-_.~")
q = "&".join(enc(k) + "=" + enc(v) for k, v in sorted(p.items()))
sts = "GET&%2F&" + enc(q)
sig = base64.b64encode(hmac.new(b"testsecret&", sts.encode(), hashlib.sha1).digest()).decode()
print("/?" + q + "&Signature=" + enc(sig))
EOF_PY
)"
unsigned_target="/?Action=DescribeInstances&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou"

# Alternate the runs, rounds times, so a busy machine hits them alike; report medians.
: >"$tmp/rounds.txt"
for r in $(seq 1 "$rounds"); do
  ws="$(wrk -t1 -c1 -d"${secs}s" "$url$signed_target" | awk '/^Requests\/sec:/ {print $2}')"
  wu="$(wrk -t1 -c1 -d"${secs}s" "$url$unsigned_target" | awk '/^Requests\/sec:/ {print $2}')"
  "$build/aipa" fuzz --target "$url" --token "$token" --requests 100000000 --time "$secs" \
    --seed "$r" --no-minimize --quiet --json "$tmp/fuzz.json" >/dev/null 2>"$tmp/fuzz.err" || true
  wn=0
  cp "$tmp/fuzz.json" "$tmp/fuzzn.json"
  if [ "$jobs" -gt 1 ]; then
    wn="$(wrk -t1 -c"$jobs" -d"${secs}s" "$url$signed_target" | awk '/^Requests\/sec:/ {print $2}')"
    "$build/aipa" fuzz --target "$url" --token "$token" --requests 100000000 --time "$secs" \
      --seed "$r" --jobs "$jobs" --no-minimize --quiet --json "$tmp/fuzzn.json" \
      >/dev/null 2>"$tmp/fuzzn.err" || true
  fi
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
n = json.load(open(sys.argv[2]))["stats"]
print(sys.argv[3], sys.argv[4], s["requests"], s["total_requests"], s["elapsed_s"], s["buckets"],
      sys.argv[5], n["requests"], n["total_requests"], n["elapsed_s"], n["buckets"])' \
    "$tmp/fuzz.json" "$tmp/fuzzn.json" "$ws" "$wu" "$wn" >>"$tmp/rounds.txt"
done

python3 - "$tmp/rounds.txt" "$secs" "${SERVE_ARGS:-}" "$jobs" <<'EOF2'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ws = [float(r[0]) for r in rows]
wu = [float(r[1]) for r in rows]
fz = [int(r[2]) / float(r[4]) for r in rows]
al = [int(r[3]) / float(r[4]) for r in rows]
found = sum(int(r[5]) + int(r[10]) for r in rows)
jobs = int(sys.argv[4])
wn = [float(r[6]) for r in rows]
fn = [int(r[7]) / float(r[9]) for r in rows]
an = [int(r[8]) / float(r[9]) for r in rows]
for i in range(len(rows)):
    print(f"round {i + 1}: wrk signed {ws[i]:7.0f}  wrk unsigned {wu[i]:7.0f}  "
          f"aipa fuzz all {al[i]:6.0f}  fuzz only {fz[i]:6.0f} req/s")
    if jobs > 1:
        print(f"         wrk -c{jobs} signed {wn[i]:7.0f}  aipa fuzz --jobs {jobs} all {an[i]:6.0f}  "
              f"fuzz only {fn[i]:6.0f} req/s")
s, u, a, f = (statistics.median(x) for x in (ws, wu, al, fz))
print(f"median  wrk -t1 -c1, signed Allocate     {s:8.0f} req/s")
print(f"median  wrk -t1 -c1, unsigned Describe   {u:8.0f} req/s")
print(f"median  aipa fuzz (all)                  {a:8.0f} req/s   {a / s:.2f}x wrk signed, {a / u:.2f}x unsigned")
print(f"median  aipa fuzz (fuzz only)            {f:8.0f} req/s   {f / s:.2f}x wrk signed, {f / u:.2f}x unsigned")
if jobs > 1:
    n, a2, f2 = (statistics.median(x) for x in (wn, an, fn))
    print(f"median  wrk -t1 -c{jobs}, signed Allocate     {n:8.0f} req/s")
    print(f"median  aipa fuzz --jobs {jobs} (all)          {a2:8.0f} req/s   "
          f"{a2 / s:.2f}x wrk -c1 signed, {a2 / n:.2f}x wrk -c{jobs}")
    print(f"median  aipa fuzz --jobs {jobs} (fuzz only)    {f2:8.0f} req/s   "
          f"{f2 / s:.2f}x wrk -c1 signed, {f2 / n:.2f}x wrk -c{jobs}")
print(f"({len(rows)} rounds of {sys.argv[2]} s each; {found} findings in all; "
      f"aipa serve {sys.argv[3] or '(default threading)'})")
EOF2
