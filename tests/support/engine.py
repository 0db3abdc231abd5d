"""The engine on a simulated clock into a WAV file: what the engine tests play their runs through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from broadcaster.asrun.log import AsRunLog
from broadcaster.playout.clock import SimClock
from broadcaster.playout.engine import Engine
from broadcaster.sound.sinks import WavFileSink
from broadcaster.station.config import AudioSettings
from tests.support.audio import RATE, ZONE, read_wav

SETTINGS = AudioSettings(sample_rate=RATE, channels=2, fade_seconds=0.05)


def play_to_wav(tmp_path, audio, items, hard_stop, *, start=None, resume_at=None, blackouts=(),
                on_write: Callable[[int, Engine], None] | None = None, settings: AudioSettings = SETTINGS):
    """Play one run into `tmp_path/out.wav`; `on_write(frames written, engine)` after every block, so a test can
    break in or re-plan at a known frame. Returns (samples, RunResult, AsRunLog)."""
    out = tmp_path / "out.wav"
    log = AsRunLog(tmp_path / "asrun.sqlite")
    clock = SimClock(ZONE, start or items[0].start - timedelta(seconds=5))
    engine: Engine | None = None

    class Sink(WavFileSink):
        def write(self, block):
            super().write(block)
            if on_write:
                on_write(self.frames_written, engine)

    settings = replace(settings, block_frames=4096)  # small blocks: a test can act at a frame close to its aim
    engine = Engine(audio, settings, lambda device, frames: Sink(out, RATE, 2), clock, log, ZONE,
                    blackouts=blackouts)
    result = engine.play_run(items, hard_stop, resume_at=resume_at)
    return read_wav(out), result, log
