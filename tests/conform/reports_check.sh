#!/bin/sh
# What a CI user meets in `aipa conform`'s output, against the misbehaving
# server (wrong-status breaks 3 cases in all 10 variants) and the embedded one:
#   - the one set of counts agrees in the console, JSON, JUnit, SARIF and HTML
#     after a baseline run (and before it);
#   - -q prints the table and the exit line, nothing else;
#   - each failing case is printed once, with where it failed;
#   - --write-baseline writes one entry per case;
#   - report.json keeps transcripts for failures only unless --full-transcripts;
#   - the HTML report has its failures before the matrix, and a complete legend;
#   - SARIF: nonstrict passes are notes, uriBaseId set, informationUri absolute;
#   - --variants with full names selects exactly those;
#   - --max-response-ms fails slow answers and names the time; p50/p99 per action.
# Usage: reports_check.sh AIPA BADSERVER CASES_DIR
set -u
aipa=$1
badserver=$2
cases=$3
tmp=$(mktemp -d)
bs_pid=
fails=0
trap 'if [ -n "$bs_pid" ]; then kill "$bs_pid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3

fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# start_bad FAULT [ARGS...]: badserver in the background; sets $url.
start_bad() {
  if [ -n "$bs_pid" ]; then
    kill "$bs_pid" 2>/dev/null
    wait "$bs_pid" 2>/dev/null
  fi
  rm -f "$tmp/port"
  "$badserver" --fault "$@" --max-seconds 300 >"$tmp/port" 2>"$tmp/bs.err" &
  bs_pid=$!
  i=0
  while ! [ -s "$tmp/port" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  url="http://127.0.0.1:$(head -1 "$tmp/port")"
}

# conform ARGS...: aipa conform at the badserver; stdout, stderr, status in $tmp.
conform() {
  AIPA_ACCESS_KEY_ID=testid AIPA_ACCESS_KEY_SECRET=testsecret AIPA_FIXTURE_TOKEN=aipa-badserver \
    timeout 300 "$aipa" conform --cases "$cases" --target "$url" "$@" >"$tmp/out" 2>"$tmp/err"
  st=$?
}

# ---- without a baseline, then quiet, then with the baseline it wrote ----
start_bad wrong-status
conform --only 'allocate/status/*' --edition 2024-12-20 --write-baseline "$tmp/base.json" \
  --report-dir "$tmp/r0"
[ "$st" -eq 1 ] || fail "a run with failures: exit $st, want 1"
for c in pending starting stopping; do
  n=$(cat "$tmp/out" "$tmp/err" | grep -c "allocate/status/$c-is-rejected (MUST)")
  [ "$n" -eq 1 ] || fail "the failing case $c is printed $n times, want once"
done
grep -q 'in 2024-12-20: all 10 variants' "$tmp/out" || fail "a failure does not say where it failed"
grep -q 'rerun: aipa conform --target' "$tmp/out" || fail "a failure has no rerun line"
if grep -q '^fail ' "$tmp/err"; then fail "failures are printed on stderr too"; fi
grep -Eq '^2024-12-20 +30 +0 +30 +0 +0 +0 +60$' "$tmp/out" ||
  fail "console counts before the baseline: $(grep '^2024' "$tmp/out")"

conform --only 'allocate/status/*' --edition 2024-12-20 -q
[ "$st" -eq 1 ] || fail "-q: exit $st, want 1"
if grep -q 'allocate/status' "$tmp/out" "$tmp/err"; then
  fail "-q prints failures: $(grep -m1 'allocate/status' "$tmp/out" "$tmp/err")"
fi
[ "$(wc -l <"$tmp/out")" -le 8 ] || fail "-q prints $(wc -l <"$tmp/out") lines"
[ ! -s "$tmp/err" ] || fail "-q writes to stderr: $(head -c 200 "$tmp/err")"
grep -q 'exit status 1' "$tmp/out" || fail "-q has no exit line"

$py - "$tmp/base.json" <<'EOF' || fail "--write-baseline: not one entry per case"
import json, sys
b = json.load(open(sys.argv[1]))
ids = [e["id"] for e in b["known_failures"]]
assert sorted(ids) == ["allocate/status/pending-is-rejected", "allocate/status/starting-is-rejected",
                       "allocate/status/stopping-is-rejected"], ids
for e in b["known_failures"]:
    assert "variant" not in e and "variants" not in e, e   # all 10 failed alike
    assert e["editions"] == ["2024-12-20"], e
    assert len(e["reason"]) < 300, e
EOF

conform --only 'allocate/status/*' --edition 2024-12-20 --baseline "$tmp/base.json" \
  --report-dir "$tmp/r1"
[ "$st" -eq 0 ] || fail "every failure in the baseline: exit $st, want 0"
grep -Eq '^2024-12-20 +30 +0 +0 +30 +0 +0 +60$' "$tmp/out" ||
  fail "console counts after the baseline: $(grep '^2024' "$tmp/out")"
if grep -q '^FAIL' "$tmp/out"; then fail "known failures are printed as failures"; fi

# The same counts in every report, before and after the baseline.
for run in r0:30:0 r1:0:30; do
  dir=${run%%:*}
  rest=${run#*:}
  $py - "$tmp/$dir" "${rest%%:*}" "${rest#*:}" <<'EOF' || fail "$dir: the reports disagree"
import json, re, sys
import xml.etree.ElementTree as ET
d, new, known = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = {"pass": 30, "pass-nonstrict": 0, "fail-new": new, "fail-known": known, "skip": 0,
        "error": 0, "total": 60}
j = json.load(open(d + "/report.json"))
for k, v in want.items():
    assert j["summary"]["all"][k] == v, ("json", k, j["summary"]["all"])
    assert j["summary"]["2024-12-20"][k] == v, ("json ed", k)
s = json.load(open(d + "/report.sarif"))
c = s["runs"][0]["properties"]["counts"]
assert c == want, ("sarif", c)
assert {x["action"] for x in s["runs"][0]["properties"]["latency"]} == \
       {x["action"] for x in j["latency"]}, "sarif latency"
root = ET.parse(d + "/junit.xml").getroot()
assert int(root.get("tests")) == 60 and int(root.get("failures")) == new, root.attrib
assert int(root.get("skipped")) == known and int(root.get("errors")) == 0, root.attrib
props = {p.get("name"): p.get("value") for p in root.iter("property")}
for k, v in want.items():
    if k != "total":
        assert int(props["aipa." + k]) == v, ("junit property", k, props)
html = open(d + "/report.html").read()
row = re.search(r"<tr><td>2024-12-20</td>((?:<td>\d+</td>)+)</tr>", html)
assert row, "html counts row"
cells = [int(x) for x in re.findall(r"\d+", row.group(1))]
assert cells == [want[k] for k in ("pass", "pass-nonstrict", "fail-new", "fail-known", "skip",
                                   "error", "total")], ("html", cells)
# Transcripts: failures keep theirs, passes none (no --full-transcripts).
for r in j["results"]:
    if r["verdict"] == "pass":
        assert r["exchanges"] == [], r["id"]
    elif r["verdict"] == "fail":
        assert len(r["exchanges"]) >= 1, r["id"]
# HTML read top down: the failures (new or known) before the matrix; a legend for blank cells.
first = html.find('id="failures"') if new else html.find('id="known"')
assert 0 <= first < html.find('id="matrix"'), "failures after the matrix"
assert html.find('<td class="none"></td><td>blank') > html.find('id="matrix"'), "legend"
assert "file://" in html and "conformance/cases/allocate/status/" in html, "case file link"
EOF
done

# ---- SARIF for code scanning: nonstrict is a note; uriBaseId; absolute informationUri ----
start_bad wrong-content-type
conform --only 'response/allocate/shape-*' --edition 2024-12-20 --sarif "$tmp/w.sarif"
$py - "$tmp/w.sarif" <<'EOF' || fail "SARIF for code scanning"
import json, sys
s = json.load(open(sys.argv[1]))
run = s["runs"][0]
assert run["tool"]["driver"]["informationUri"].startswith("https://"), run["tool"]["driver"]
levels = {r["level"] for r in run["results"]}
assert "note" in levels and "warning" not in levels, levels  # JSON mislabelled: nonstrict
for r in run["results"]:
    loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc["uriBaseId"] == "%SRCROOT%" and loc["uri"].startswith("conformance/cases/"), loc
EOF

# ---- latency gate ----
start_bad slow --delay-ms 300
conform --only 'response/allocate/shape-json' --edition 2024-12-20 --variants v1-get-json \
  --max-response-ms 100 --json "$tmp/slow.json" --timeout 5
[ "$st" -eq 1 ] || fail "--max-response-ms against 300 ms answers: exit $st, want 1"
$py - "$tmp/slow.json" <<'EOF' || fail "--max-response-ms: reason or latency missing"
import json, sys
j = json.load(open(sys.argv[1]))
r = [x for x in j["results"] if x["verdict"] == "fail"]
assert r and "over the --max-response-ms bound of 100 ms" in r[0]["reason"], r
lat = {x["action"]: x for x in j["latency"]}
assert lat["AllocatePublicIpAddress"]["p50_ms"] >= 250, lat
assert lat["AllocatePublicIpAddress"]["p99_ms"] >= lat["AllocatePublicIpAddress"]["p50_ms"], lat
EOF
# Without the gate the same slow answers pass.
conform --only 'response/allocate/shape-json' --edition 2024-12-20 --variants v1-get-json -q
[ "$st" -eq 0 ] || fail "slow but correct answers without a gate: exit $st, want 0"

# ---- --variants: full names select exactly those; axis words combine ----
variants_of() {
  timeout 120 "$aipa" conform --cases "$cases" --only 'allocate/status/pending-is-rejected' \
    --edition 2024-12-20 --variants "$1" --json "$tmp/v.json" -q >/dev/null 2>&1
  $py -c 'import json,sys; print(",".join(sorted(r["variant"] for r in json.load(open(sys.argv[1]))["results"])))' \
    "$tmp/v.json"
}
got=$(variants_of v1-get-xml,v3-post-query-json)
[ "$got" = "v1-get-xml,v3-post-query-json" ] || fail "--variants with full names ran: $got"
got=$(variants_of v1,json)
[ "$got" = "v1-get-json,v1-post-form-json,v1-post-query-json" ] || fail "--variants v1,json ran: $got"
got=$(variants_of v3-get-json,post-form)
[ "$got" = "v1-post-form-json,v1-post-form-xml,v3-get-json" ] ||
  fail "--variants mixing a name and a word ran: $got"

# ---- embedded: every run has a seed, and the rerun line starts the server with it ----
timeout 120 "$aipa" conform --cases "$cases" --only 'response/allocate/shape-json' \
  --edition 2024-12-20 --variants v1-get-json --json "$tmp/e.json" -q >/dev/null 2>&1
$py -c 'import json,sys; s=json.load(open(sys.argv[1]))["seed"]; assert s and s.isdigit(), s' \
  "$tmp/e.json" || fail "an embedded run's JSON report has no seed"

if [ "$fails" -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all report checks passed"
