#!/bin/sh
# Installs the pinned SDKs (package-lock.json) into a build-tree copy, once per
# lock-file change: npm_setup.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1
dst=$2
mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
if [ -d "$dst/node_modules" ] && cmp -s "$dst/package-lock.json" "$dst/.installed-lock"; then
  echo "SDKs already installed in $dst"
  exit 0
fi
cd "$dst"
# --ignore-scripts: no install hooks (the only one, in openapi-core, picks a
# TypeScript version for old Node releases and does nothing on Node 20).
npm ci --no-audit --no-fund --ignore-scripts
cp package-lock.json .installed-lock
