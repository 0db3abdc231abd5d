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
# First the tests that use no sound server, on every core (pytest-xdist; a module per worker, so that module
# fixtures are made once); then the live sound tests (marked `live` by tests/conftest.py) one at a time with
# nothing else running, since they judge timing in milliseconds. Exit code 5 is "no test selected": arguments
# that name only live tests, or none.
phase() { .venv/bin/python -m pytest -q "$@" || { code=$?; [ "$code" -eq 5 ] || exit "$code"; }; }
phase -n "${TEST_WORKERS:-auto}" --dist loadfile -m "not live" "$@"
phase -m live "$@"
