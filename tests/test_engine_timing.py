"""The engine's re-alignment against a sound card whose DAC clock moves: a device model on a simulated clock.

The sound server is real in the live tests; here the point is the engine's control loop, so the device is a
small model (frames are heard at a latency after they are written, the clock moves by the sink writes) whose
readings can jump, which a real card does only now and then."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from broadcaster.asrun.log import AsRunLog
from broadcaster.playout.clock import SimClock
from broadcaster.playout.engine import Engine
from tests.support.audio import RATE, ZONE, chain, find, noise, write_wav
from tests.support.engine import SETTINGS

CARD_SETTINGS = replace(SETTINGS, block_frames=2048)  # the engine mixes, and the model card plays, these
LATENCY = 0.1


class DriftingCard:
    """A real-time sink: writing a block takes its length in (simulated) time; frame n is heard LATENCY after
    the time it was due, minus `early` seconds from frame `from_frame` on (the card skipped ahead)."""

    realtime = True
    name = "model"

    def __init__(self, clock: SimClock, early: float, from_frame: int):
        self.clock, self.early, self.from_frame = clock, early, from_frame
        self.underruns = 0
        self.blocks: list[np.ndarray] = []

    def open(self) -> None:
        self.t0 = self.clock.monotonic()

    def write(self, block: np.ndarray) -> None:
        self.blocks.append(block.copy())
        self.clock.advance(block.shape[0] / RATE)

    def heard_time(self, frame: int) -> float:
        return self.t0 + LATENCY + frame / RATE - (self.early if frame >= self.from_frame else 0.0)

    def wake(self) -> None:
        pass

    def discard(self, device: bool = True) -> int:
        return 0  # the model queues nothing of its own: every frame written is on its way to the listener

    def close(self, drain: bool = True) -> None:
        pass


def play(tmp_path, early: float, threshold: float | None = None):
    audio = tmp_path / "audio"
    for seed in (1, 2, 3):
        write_wav(audio / f"n{seed}.wav", noise(seed, 3.0))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    clock = SimClock(ZONE, items[0].start - timedelta(seconds=5))
    mono_at_t0 = clock.monotonic() + 5
    card = DriftingCard(clock, early, from_frame=2 * RATE)
    tuning = {} if threshold is None else {"resync_threshold": threshold}
    engine = Engine(audio, CARD_SETTINGS, lambda d, frames: card, clock, AsRunLog(tmp_path / "a.sqlite"), ZONE,
                    **tuning)
    result = engine.play_run(items, items[0].start + timedelta(seconds=9.5))
    out = np.concatenate(card.blocks)
    lag, height = find(out, noise(3, 3.0)[RATE:2 * RATE])  # 1 s into n3, planned at T0 + 7 s
    assert height > 0.99
    heard_late = card.heard_time(lag) - (mono_at_t0 + 7.0)
    return result, heard_late


@pytest.mark.parametrize("early", [0.05, -0.05])  # the card skipped ahead / fell behind (an underrun)
def test_a_card_that_jumps_is_re_aligned_once_and_the_audio_is_back_on_time(tmp_path, early):
    result, heard_late = play(tmp_path, early=early, threshold=0.02)
    assert len(result.resyncs) == 1 and result.resyncs[0] == pytest.approx(-early, abs=0.002)
    assert abs(heard_late) < 0.001  # n3 heard on its planned time


@pytest.mark.parametrize("early", [0.03, -0.03])
def test_the_default_threshold_leaves_small_errors_alone(tmp_path, early):
    result, heard_late = play(tmp_path, early=early)  # the Engine's own default, as the daemon uses it
    assert result.resyncs == []
    assert heard_late == pytest.approx(-early, abs=0.001)


@pytest.mark.parametrize("early", [0.08, -0.08])
def test_the_default_threshold_corrects_a_bigger_jump_once(tmp_path, early):
    result, heard_late = play(tmp_path, early=early)
    assert len(result.resyncs) == 1 and abs(heard_late) < 0.001


def test_rows_still_waiting_to_be_heard_are_written_when_the_run_stops_on_an_error(tmp_path):
    """n1's end is rendered (the card is 0.1 s behind) but not heard when an error stops the run: its row is
    `failed` at that moment, not lost with the run and not `aired`."""
    audio = tmp_path / "audio"
    for seed in (1, 2):
        write_wav(audio / f"n{seed}.wav", noise(seed, 3.0))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    clock = SimClock(ZONE, items[0].start - timedelta(seconds=5))
    t0 = clock.monotonic() + 5

    class BreakingCard(DriftingCard):
        def write(self, block):
            if self.clock.monotonic() >= t0 + 2.95:
                raise RuntimeError("driver bug")
            super().write(block)

    log = AsRunLog(tmp_path / "a.sqlite")
    engine = Engine(audio, CARD_SETTINGS, lambda d, frames: BreakingCard(clock, 0.0, 0), clock, log, ZONE)
    with pytest.raises(RuntimeError):
        engine.play_run(items, items[-1].end)
    rows = log.entries()
    assert [(e.title, e.status) for e in rows] == [("n1", "failed")]
    assert "driver bug" in rows[0].reason and datetime.fromisoformat(rows[0].actual_end) < items[0].end


@pytest.mark.parametrize("early", [0.08, -0.08])  # a hold (the card ran ahead) / a skip (it fell behind)
def test_the_hard_stop_keeps_its_time_after_a_re_alignment(tmp_path, early):
    """A hold plays silence and moves what is left later, the hard stop with it by the same frames, once: the
    last frame of a run cut by its hard stop is still heard at the hard stop, to the millisecond."""
    audio = tmp_path / "audio"
    for seed in (1, 2, 3):
        write_wav(audio / f"n{seed}.wav", noise(seed, 3.0))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    clock = SimClock(ZONE, items[0].start - timedelta(seconds=5))
    mono_at_t0 = clock.monotonic() + 5
    card = DriftingCard(clock, early, from_frame=2 * RATE)
    engine = Engine(audio, CARD_SETTINGS, lambda d, frames: card, clock, AsRunLog(tmp_path / "a.sqlite"), ZONE)
    result = engine.play_run(items, items[0].start + timedelta(seconds=7.5))  # cuts n3 halfway
    frames = sum(block.shape[0] for block in card.blocks)
    assert len(result.resyncs) == 1
    assert card.heard_time(frames) == pytest.approx(mono_at_t0 + 7.5, abs=0.001)  # when its end is heard
    assert [e.status for e in result.entries][-1] == "partial"
