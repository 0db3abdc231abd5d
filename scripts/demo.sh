#!/usr/bin/env bash
# Set everything up and run the demo station (Xã Cẩm Hưng, Hải Dương, Feb–Mar 2021).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/demo_library.sh   # generate the demo clips and ingest them (idempotent)
.venv/bin/python main.py validate
