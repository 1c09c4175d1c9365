#!/bin/sh
# .ci/check_files.py passes on the repository, and fails, naming each problem,
# on a copy whose workflow names a path that does not exist, a mode
# ClusterFuzzLite does not have, and a step with neither uses nor run.
# Usage: files_check.sh REPO_ROOT
set -u
root=$1
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

"$py" "$root/.ci/check_files.py" "$root" > "$tmp/out" 2>&1 || fail "the repository: $(cat "$tmp/out")"

# A copy: everything linked but .github, which is copied and broken.
mkdir "$tmp/repo"
for e in "$root"/* "$root"/.ci "$root"/.clusterfuzzlite; do
  ln -s "$e" "$tmp/repo/$(basename "$e")"
done
cp -r "$root/.github" "$tmp/repo/.github"
sed -i 's|mode: batch|mode: batches|' "$tmp/repo/.github/workflows/cflite_batch.yml"
sed -i "s|- 'corpus/\*\*'|- 'corpora/**'|" "$tmp/repo/.github/workflows/cflite_pr.yml"
printf '      - name: nothing\n' >> "$tmp/repo/.github/workflows/ci.yml"
if "$py" "$root/.ci/check_files.py" "$tmp/repo" > "$tmp/bad" 2>&1; then
  fail "a broken copy passes: $(cat "$tmp/bad")"
fi
grep -q "cflite_batch.yml: job BatchFuzzing: mode 'batches'" "$tmp/bad" || fail "the bad mode is not named"
grep -q "no ClusterFuzzLite job runs mode(s) \['batch'\]" "$tmp/bad" || fail "the missing batch mode is not named"
grep -q "cflite_pr.yml: paths filter corpora/\*\* matches nothing" "$tmp/bad" || fail "the bad path is not named"
grep -q "ci.yml: job ci step 3: needs exactly one of uses and run" "$tmp/bad" || fail "the empty step is not named"

if [ "$fails" -ne 0 ]; then
  cat "$tmp/bad"
  echo "$fails failure(s)"
  exit 1
fi
echo "the CI files check passes on the repository and catches a broken copy"
