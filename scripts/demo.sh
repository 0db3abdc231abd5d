#!/usr/bin/env bash
# Set everything up and run the demo station (Xã Cẩm Hưng, Hải Dương, Feb–Mar 2021) through a whole broadcast
# day: build its audio library, check it, plan Monday 22 Feb 2021 (online lessons that day), play the day
# through the playout engine on a simulated clock, verify the as-run log and make the report for the district.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/demo_library.sh                 # generate the demo clips and ingest them (idempotent)
PY=.venv/bin/python
DAY=${DEMO_DATE:-2021-02-22}
OUT=out/demo
rm -rf "$OUT"; mkdir -p "$OUT"
echo "== validate"; $PY main.py validate
echo "== plan $DAY"; $PY main.py plan --date "$DAY" --png "$OUT/plan-$DAY.png" | tee "$OUT/plan-$DAY.txt"
# The main job: the same engine as `python main.py run`, on a simulated clock (as fast as possible).
# Drop --no-audio to also get one WAV per slot in $OUT (about 640 MB per hour of audio).
echo "== playout (simulated)"; $PY main.py simulate --date "$DAY" --out "$OUT" --no-audio
echo "== as-run log (first rows; all of them in $OUT/asrun.txt)"
$PY main.py log show --date "$DAY" --log "$OUT/asrun.sqlite" > "$OUT/asrun.txt"
head -12 "$OUT/asrun.txt"
$PY main.py log verify --log "$OUT/asrun.sqlite"
echo "== report"
$PY main.py report --from "$DAY" --to "$DAY" --format pdf --out "$OUT/bao-cao-$DAY.pdf" --log "$OUT/asrun.sqlite"
$PY main.py report --from "$DAY" --to "$DAY" --format json --out "$OUT/bao-cao-$DAY.json" --log "$OUT/asrun.sqlite"
# The web console: a demo login, made (or reset) every time so the password below is true.
echo "demo-cam-hung" | $PY main.py web adduser demo --role admin --password-stdin --update >/dev/null
echo "Demo done: $OUT (plan picture, as-run log, report). Live playout: python main.py run (docs/deploy.md)."
echo "Web console: $PY main.py web   then open http://127.0.0.1:8080/  (user: demo, password: demo-cam-hung)"
