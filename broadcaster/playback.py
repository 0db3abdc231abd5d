"""The daemon's side of the engine: build the engine for the station's configured devices.

Also `NotedLog`: the same append-only log with notes keyed by planned start, added to the reason of the row the
engine writes for that item (play-now's reason on a one-item run; the engine knows only the item).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime

from broadcaster.asrun import AsRunEntry, AsRunLog, iso_ms
from broadcaster.model import Window
from broadcaster.playout_setup import PlayoutSetup


class NotedLog(AsRunLog):
    def __init__(self, path, notes: dict[str, str] | None = None):
        super().__init__(path)
        self._notes = dict(notes or {})
        self._lock = threading.Lock()

    def note(self, planned_start: datetime, text: str) -> None:
        with self._lock:
            self._notes[iso_ms(planned_start)] = text

    def append(self, **row) -> AsRunEntry:
        key = iso_ms(row.get("planned_start"))
        with self._lock:
            note = self._notes.pop(key, None) if key else None
        if note:
            row["reason"] = f"{note}; {row['reason']}" if row.get("reason") else note
        return super().append(**row)


def sink_factory_for(setup: PlayoutSetup, *, steady_latency: bool = True):
    """`device name -> Sink` for the configured backend (sounddevice by default)."""
    from broadcaster.sinks import SoundDeviceSink, sound_card_sink

    audio = setup.audio

    class SteadyLatencySink(SoundDeviceSink):
        """Times frames by the device's own pace (when PortAudio calls back for them, on the monotonic clock)
        plus the output latency read once the stream has settled. Through the ALSA→PulseAudio plugin the
        latency PortAudio reports on every callback creeps by about 1 ms per second while the audio itself
        does not (measured on the sink's monitor), and the engine, trusting it, re-aligned hundreds of times
        in a 10-minute soak (bench/bench_timing.py). Reported to the engine's owner; remove when sinks.py
        does the same."""

        _ahead: float | None = None
        _callbacks = 0

        def _callback(self, outdata, frames, t, status) -> None:
            entered = time.monotonic()
            with self._lock:
                consumed = self._consumed
            super()._callback(outdata, frames, t, status)
            self._callbacks += 1
            reported = t.outputBufferDacTime - t.currentTime
            if self._ahead is None and self._callbacks >= 4 and 0.0 <= reported < 2.0:
                self._ahead = reported
            if self._ahead is not None:
                with self._lock:
                    self._anchor = (consumed, entered + self._ahead)

        def heard_time(self, frame: int) -> float | None:
            return super().heard_time(frame) if self._ahead is not None else None

    def make(device: str):
        if audio.backend == "simpleaudio" or not steady_latency:
            return sound_card_sink(audio.backend, device, audio.sample_rate, audio.channels, audio.block_frames)
        return SteadyLatencySink(device, audio.sample_rate, audio.channels, block_frames=audio.block_frames)

    return make


def make_engine(setup: PlayoutSetup, log: AsRunLog, blackouts: Sequence[Window] = (), *,
                steady_latency: bool = True, **tuning):
    """A real engine on the station's configured device(s) and the wall clock."""
    from broadcaster.clock import WallClock
    from broadcaster.engine import Engine

    # preroll 1 s (engine default 0.3): time to open the device and line it up even on a busy PC.
    # resync 0.1 s (engine default 0.02): through PulseAudio the DAC-time estimate wanders by 20-60 ms, and at
    # 0.02 s the engine chased it (125 re-alignments, items up to 6 s late in a 10-minute soak,
    # bench/bench_timing.py); at 0.1 s the same soak has none and sample-exact joins. Real clock steps and
    # sound-card drift beyond 0.1 s are still corrected.
    return Engine(setup.audio_dir, setup.audio, sink_factory_for(setup, steady_latency=steady_latency),
                  WallClock(setup.zone), log, setup.zone,
                  blackouts=blackouts, **({"preroll": 1.0, "resync_threshold": 0.1} | tuning))
