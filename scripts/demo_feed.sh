#!/usr/bin/env bash
# District feed, end to end with the real commands: the district makes a key, publishes a Bluezone spot, serves
# the feed and runs its collector; a commune syncs, the clip lands in its library, its receipts reach the
# district, and the district report shows them. Everything happens in a temporary folder on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ROOT=$(pwd)
W=$(mktemp -d /tmp/demo-feed.XXXX)
cleanup() { kill "${SERVE:-}" "${COLLECT:-}" 2>/dev/null || true; }
trap cleanup EXIT
run() { echo "+ python main.py $*"; "$PY" "$ROOT/main.py" "$@"; }

ffmpeg -v error -f lavfi -i "sine=frequency=660:duration=20" -ac 1 -ar 44100 -b:a 64k "$W/bluezone.mp3"
run district keygen --out "$W/district-keys"
run district publish "$W/bluezone.mp3" --feed "$W/feed" --key "$W/district-keys/district.key" \
    --district cam-giang --category bluezone --title "Cài đặt Bluezone" --plays-per-day 3-5 --priority priority
run district token cam-hung --tokens "$W/tokens.yaml" | tee "$W/token.txt"
TOKEN=$(grep "^cam-hung:" "$W/token.txt" | cut -d" " -f2)

"$PY" "$ROOT/main.py" district serve --feed "$W/feed" --port 18080 & SERVE=$!
"$PY" "$ROOT/main.py" district collector --port 18765 --db "$W/collector.sqlite" --tokens "$W/tokens.yaml" \
    --config "$W/none.yaml" & COLLECT=$!
sleep 4

mkdir -p "$W/cam-hung"
cat > "$W/cam-hung/config.yaml" <<YAML
station: {commune: Xã Cẩm Hưng, name: Đài truyền thanh xã Cẩm Hưng, id: cam-hung}
slots:
  - {id: sang, start: 05:30, end: 06:30, playlist: covid-2021}
feed:
  url: http://127.0.0.1:18080/
  public_key: $W/district-keys/district.pub
  district: cam-giang
  collector_url: http://127.0.0.1:18765/
  collector_token: "$TOKEN"
YAML
run sync --once --config "$W/cam-hung/config.yaml"
run sync --once --config "$W/cam-hung/config.yaml"     # nothing new: a 304, nothing downloaded
run library list --config "$W/cam-hung/config.yaml" 2>/dev/null || ls -R "$W/cam-hung/audio"
# The district names the topics it publishes; its report shows the names, not the slugs.
cat > "$W/district.yaml" <<YAML
station: {district: Huyện Cẩm Giàng, commune: Thị trấn Lai Cách, name: Đài Phát thanh huyện Cẩm Giàng, id: cam-giang}
slots: []
topics:
  bluezone: "Cài đặt ứng dụng Bluezone"
YAML
TODAY=$(date -u +%F)
run district report --from "$TODAY" --to "$TODAY" --db "$W/collector.sqlite" --tokens "$W/tokens.yaml" \
    --feed "$W/feed" --config "$W/district.yaml"
run district report --from "$TODAY" --to "$TODAY" --db "$W/collector.sqlite" --tokens "$W/tokens.yaml" \
    --feed "$W/feed" --config "$W/district.yaml" --format pdf --out "$W/district-report.pdf"
echo "Demo folder: $W"
