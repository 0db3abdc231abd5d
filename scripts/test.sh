#!/usr/bin/env bash
# Set everything up and run the whole test suite against a real (headless) PulseAudio sound server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${PULSE_SERVER:-}" ] || ! pactl info >/dev/null 2>&1; then
  eval "$(bash scripts/pulse-null-sink.sh)"
  trap 'kill $(cat "$PULSE_RUNTIME_PATH/pid" 2>/dev/null) 2>/dev/null || true' EXIT
fi
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
