#!/usr/bin/env bash
# Build the demo station's audio library: generate the clips (scripts/make_demo_audio.py) and ingest them
# with `python main.py ingest`, one call per category. Safe to run again: existing clips are kept and ingest
# recognises them as already in the library (by sha256) without decoding them again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${DEMO_AUDIO_OUT:-out/demo-audio}
CONFIG=${CONFIG:-config.yaml}

"$PY" scripts/make_demo_audio.py --out "$OUT"
for category in ident bluezone khai-bao-y-te news covid-song; do
  "$PY" main.py ingest "$OUT/$category"/* --category "$category" --config "$CONFIG"
done
