#!/usr/bin/env bash
# Install everything broadcaster needs on Debian/Ubuntu: system packages (as root or via sudo) and a
# virtualenv in .venv with the Python packages. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3 python3-venv python3-dev gcc ffmpeg sox libsox-fmt-mp3 espeak-ng libportaudio2 libasound2-dev
  libasound2-plugins pulseaudio pulseaudio-utils alsa-utils)
# Tests of the daemon across midnight and clock steps fake its wall clock with libfaketime (tests/support/daemon.py).
APT_PACKAGES+=(faketime)
# Reports: Vietnamese glyphs for PDFs (DejaVu) and Times New Roman's metric twin (Liberation) for DOCX; the tests
# open DOCX/XLSX in headless LibreOffice (the -nogui builds skip the desktop) and read PDFs with pdftotext.
APT_PACKAGES+=(fonts-dejavu-core fonts-liberation2 libreoffice-writer-nogui libreoffice-calc-nogui poppler-utils)
# The web console's tests drive a real browser: Debian's chromium through Playwright (it cannot download its own).
APT_PACKAGES+=(chromium)
APT_PACKAGES+=(${EXTRA_APT_PACKAGES:-})

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import broadcaster, pytest, hypothesis" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "== pip install"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".[test]"
  touch .venv/.installed
fi
echo "== setup done"
