#!/usr/bin/env bash
# Installs what aipa needs on Debian 12 when it is missing, and nothing else.
#   scripts/bootstrap.sh            build and test dependencies
#   scripts/bootstrap.sh --bench    also wrk and nginx (benchmarks)
#   scripts/bootstrap.sh --fuzz     also AFL++ and gnuplot (fuzz/campaign, its plot)
#   scripts/bootstrap.sh --ci       also zip (.ci/run's ClusterFuzzLite build check)
# npm packages for the SDK tests are installed by tests/sdk (npm ci).
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config gcc clang libclang-rt-14-dev llvm
      libmicrohttpd-dev libh2o-evloop-dev libcurl4-openssl-dev libxml2-dev libcjson-dev libssl-dev
      libcmocka-dev zlib1g-dev python3-yaml nodejs npm ca-certificates git)
for arg in "$@"; do
  case "$arg" in
    --bench) pkgs+=(wrk nginx-light) ;;
    --fuzz) pkgs+=(afl++ gnuplot-nox) ;;
    --ci) pkgs+=(zip unzip) ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  # nodejs may come from elsewhere (e.g. a preinstalled Node 20): accept any node/npm on PATH.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# A packaged nginx starts itself on port 80 of every address; aipa's benchmark runs its own.
if [ -x /usr/sbin/nginx ] && command -v systemctl >/dev/null && systemctl is-active -q nginx 2>/dev/null; then
  systemctl stop nginx || true
fi
