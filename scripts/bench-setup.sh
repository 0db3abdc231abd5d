#!/usr/bin/env bash
# Extra packages for the benchmarks only (not needed on air): Liquidsoap from Debian, the peer that
# bench/bench_playout.py (and the render benchmark) compare against. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_APT_PACKAGES="liquidsoap ${EXTRA_APT_PACKAGES:-}" bash scripts/setup.sh
liquidsoap --version | head -1
