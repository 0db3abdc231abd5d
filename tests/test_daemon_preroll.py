"""The daemon's lead follows the engine's preroll: with big blocks (the engine then needs 1 s + 4 blocks to have
the device timed) the first item of a slot still starts on time. Live: `python main.py run` as a real process
(wall clock faked to a fixed time of day, libfaketime), the null sink's monitor recorded and searched."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.support.daemon import (
    LIVE_FAKETIME,
    heard_at,
    log_rows,
    noise_station,
    play_faked,
)

TOLERANCE = 0.03  # heard vs planned, as the other live tests (goal 20 ms p99: bench/bench_timing.py)
ITEM = 4.0


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2021-02-22T{hms}+07:00")


def test_the_daemon_starts_a_run_the_engines_preroll_ahead_whatever_the_block(tmp_path):
    from broadcaster.playout.daemon import Daemon
    from broadcaster.playout.setup import START_MARGIN, PlayoutSetup, engine_preroll
    from broadcaster.station.config import AudioSettings

    def lead(block_frames: int, asked: float | None = None) -> float:
        daemon = Daemon(tmp_path / "config.yaml", preroll_seconds=asked)
        daemon.setup = PlayoutSetup("Asia/Ho_Chi_Minh", tmp_path, tmp_path / "asrun.sqlite", tmp_path,
                                    tmp_path / "library.sqlite", AudioSettings(block_frames=block_frames))
        return daemon.lead().total_seconds()

    assert engine_preroll(AudioSettings(block_frames=2048)) == 2.0
    assert engine_preroll(AudioSettings(block_frames=32768)) == pytest.approx(1 + 4 * 32768 / 44100)
    for block_frames in (2048, 16384, 32768, 65536):
        needed = engine_preroll(AudioSettings(block_frames=block_frames))
        assert lead(block_frames) == pytest.approx(needed + START_MARGIN, abs=1e-5)
    assert lead(32768, asked=3.0) == pytest.approx(3.97, abs=0.01)  # a lead too short for the engine is raised
    assert lead(2048, asked=10.0) == 10.0


# Not 65536 frames: there the sink needs 3 callbacks of 1.5 s before it can time a frame, longer than the 3 s the
# engine's align() waits for that, and the first item starts untimed (`run frame 0 is +0.0 ms`) whatever the lead.
@pytest.mark.parametrize("block_frames", [32768])
@LIVE_FAKETIME[0]
@LIVE_FAKETIME[1]
def test_with_big_blocks_the_first_item_of_a_slot_starts_on_time(tmp_path, warm_pulse, block_frames):
    # the engine opens the device 1 s + 4 blocks = 3.97 s ahead at 32768 frames: the daemon's old fixed 3 s lead
    # left it ~0.7 s to spare on a quiet machine (measured), now ~1.7 s
    config = noise_station(tmp_path, [("thu", "10:00:12", "10:00:20")], item_seconds=ITEM, block_frames=block_frames)
    run = play_faked(tmp_path, warm_pulse, config, at("10:00:00"), at("10:00:20.5"))
    recording, recorder, clock = run.recording, run.recorder, run.clock
    rows = log_rows(config, at("10:00:00").date())
    text = run.log
    print(text)

    # the engine had the device timed before the slot: frame 0 lined up early (silence until then), not late
    lined_up = float(re.search(r"run frame 0 is ([-+0-9.]+) ms from its time", text).group(1))
    assert lined_up < 0, text
    first = rows[0]
    assert (first["planned_start"][11:19], first["status"]) == ("10:00:12", "aired"), rows
    logged = (datetime.fromisoformat(first["actual_start"]) - at("10:00:12")).total_seconds()
    planned = clock.monotonic_of(at("10:00:12"))
    heard, height = heard_at(recording, recorder, first["title"], planned, item_seconds=ITEM)
    print(f"first item: as-run {1000 * logged:+.1f} ms, heard {1000 * (heard - planned):+.1f} ms from planned")
    assert height > 0.9, f"{first['title']} not heard intact ({height:.2f})"
    assert abs(logged) < 0.02 and abs(heard - planned) < TOLERANCE, (logged, heard - planned)
