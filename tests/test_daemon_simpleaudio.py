"""The daemon with `audio.backend: simpleaudio`, live: `python main.py run` as a real process playing a slot
through simpleaudio (ALSA `default` → PulseAudio's ALSA plugin → the null sink), the monitor recorded back.
The wall clock is faked (libfaketime) only to give the slot a fixed time of day, far from midnight."""

from __future__ import annotations

from datetime import datetime

from tests.support.audio import longest_quiet
from tests.support.daemon import (
    LIVE_FAKETIME,
    heard_at,
    log_rows,
    noise_station,
    play_faked,
)

pytestmark = LIVE_FAKETIME

TOLERANCE = 0.05  # simpleaudio: no latency report from the driver, each 0.5 s chunk on its own ALSA stream
ITEM = 3.0


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2021-02-22T{hms}+07:00")


def test_simpleaudio_backend_airs_the_slot_intact_and_on_time(tmp_path, warm_pulse):
    config = noise_station(tmp_path, [("thu", "10:00:08", "10:00:20")], item_seconds=ITEM, backend="simpleaudio")
    run = play_faked(tmp_path, warm_pulse, config, at("10:00:00"), at("10:00:20.5"), ready_timeout=6)
    recording, recorder, clock = run.recording, run.recorder, run.clock
    rows = log_rows(config, at("10:00:00").date())
    print(run.log)

    assert "simpleaudio" in run.log
    assert [(r["planned_start"][11:19], r["status"]) for r in rows] == [
        ("10:00:08", "aired"), ("10:00:11", "aired"), ("10:00:14", "aired"), ("10:00:17", "aired")], rows
    heard_errors, logged_errors = [], []
    for row in rows:
        planned = clock.monotonic_of(datetime.fromisoformat(row["planned_start"]))
        heard, height = heard_at(recording, recorder, row["title"], planned, item_seconds=ITEM)
        assert height > 0.9, f"{row['title']} not heard intact ({height:.2f})"
        heard_errors.append(round(1000 * (heard - planned), 1))
        logged_errors.append(round(1000 * (clock.monotonic_of(datetime.fromisoformat(row["actual_start"])) - heard), 1))
    print("heard - planned (ms):", heard_errors, "as-run - heard (ms):", logged_errors)
    assert max(map(abs, heard_errors + logged_errors)) < 1000 * TOLERANCE, (heard_errors, logged_errors)
    begin = round(recorder.frame_at(clock.monotonic_of(at("10:00:08"))))
    span = recording[begin + 441:begin + round(4 * ITEM * 44100) - 441]  # the slot, less 10 ms either end
    # no gap between items or simpleaudio's 0.5 s chunks (each its own ALSA stream) longer than the tolerance;
    # 10-20 ms (the anti-click fades) on a quiet machine, 109 ms seen at load average 2.6
    assert len(span) > 11.9 * 44100 and longest_quiet(span, 0.01) < TOLERANCE
