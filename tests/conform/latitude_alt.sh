#!/bin/sh
# A second valid configuration of the reference: `aipa serve --latitude alt`
# takes the other documented choice on every row of the latitude table, with
# another pool and other instance IDs (another seed). It must pass the whole
# suite in both editions (0 fail, 0 error) and give no finding to
# `aipa fuzz --seed 1 --requests 5000`: the checks accept what the documents
# allow, not only what the reference happens to answer.
#
# Usage: latitude_alt.sh AIPA CASES WORKDIR [[EDITION:]SKIP-PATTERN...]
# Each SKIP-PATTERN (in EDITION only, when given) is a case that still
# depends on the reference's own defaults (its pool, its 2018 error mapping)
# rather than on the documents.
set -u
aipa=$1
cases=$2
work=$3
shift 3
mkdir -p "$work"
pid=
fails=0
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi' EXIT

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

cat >"$work/credentials.json" <<'JSON'
[
  {"AccessKeyId": "altid", "AccessKeySecret": "altsecret", "Status": "Active", "Whitelisted": false},
  {"AccessKeyId": "altwl", "AccessKeySecret": "altwlsecret", "Status": "Active", "Whitelisted": true},
  {"AccessKeyId": "altoff", "AccessKeySecret": "altoffsecret", "Status": "Inactive", "Whitelisted": false}
]
JSON
export AIPA_FIXTURE_TOKEN=alt-token
export AIPA_ACCESS_KEY_ID=altid AIPA_ACCESS_KEY_SECRET=altsecret
export AIPA_WL_KEY_ID=altwl AIPA_WL_KEY_SECRET=altwlsecret
export AIPA_INACTIVE_KEY_ID=altoff AIPA_INACTIVE_KEY_SECRET=altoffsecret

for ed in 2018-08-02 2024-12-20; do
  skips=
  for p in "$@"; do
    case "$p" in
    "$ed":*) skips="$skips --skip ${p#*:}" ;;
    *:*) ;;
    *) skips="$skips --skip $p" ;;
    esac
  done
  rm -f "$work/serve.out"
  "$aipa" serve --latitude alt --pool 39.96.0.0/22 --pool 121.40.8.0/24 --seed 424242 \
    --edition "$ed" --fixtures --fixture-token alt-token --credentials "$work/credentials.json" \
    --log off >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  i=0
  while ! grep -q '^listening on' "$work/serve.out" 2>/dev/null && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  url=$(head -1 "$work/serve.out" | sed 's/^listening on //')
  case "$url" in
  http://127.0.0.1:*) ;;
  *)
    fail "aipa serve --latitude alt did not start ($(head -c 300 "$work/serve.err"))"
    continue
    ;;
  esac
  # shellcheck disable=SC2086
  timeout 600 "$aipa" conform --target "$url" --profile "$cases/../profiles/reference.json" \
    --cases "$cases" --edition "$ed" --json "$work/conform-$ed.json" -q $skips \
    >"$work/conform-$ed.txt" 2>&1
  st=$?
  [ "$st" -eq 0 ] || fail "aipa conform --edition $ed against the alternative reference: exit $st
$(grep -E '^(fail|error) ' "$work/conform-$ed.txt" | sort | uniq -c | head -20)"
  bad=$(grep -Ec '"verdict":[[:space:]]*"(fail|error)"' "$work/conform-$ed.json")
  [ "$bad" -eq 0 ] || fail "$ed: $bad results fail or err in $work/conform-$ed.json"
  grep -Eq '"verdict":[[:space:]]*"pass"' "$work/conform-$ed.json" ||
    fail "$ed: no result passed: the report is not what this check reads"
  timeout 600 "$aipa" fuzz --target "$url" --token alt-token --access-key-id altid --seed 1 \
    --requests 5000 --quiet --out "$work/fuzz-$ed" >"$work/fuzz-$ed.txt" 2>&1
  st=$?
  [ "$st" -eq 0 ] || fail "aipa fuzz --seed 1 --requests 5000 ($ed): exit $st
$(grep -E 'finding|stopped' "$work/fuzz-$ed.txt" | head -20)"
  kill "$pid"
  wait "$pid" 2>/dev/null
  pid=
done

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "the alternative configuration passes the suite and the fuzzer in both editions"
