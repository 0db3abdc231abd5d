#!/usr/bin/env bash
# Set everything up and run the demo station (Xã Cẩm Hưng, Hải Dương, Feb–Mar 2021).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python main.py validate
