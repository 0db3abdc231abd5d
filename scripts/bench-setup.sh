#!/usr/bin/env bash
# Optional: what the benchmarks compare against (not needed to run or test broadcaster).
# Liquidsoap from Debian, for bench/bench_render.py (and the playout CPU comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! command -v liquidsoap >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends liquidsoap >/dev/null
fi
liquidsoap --version | head -1
