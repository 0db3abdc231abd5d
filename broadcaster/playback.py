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


def sink_factory_for(setup: PlayoutSetup):
    """`device name -> Sink` for the configured backend (sounddevice by default)."""
    from broadcaster.sinks import SoundDeviceSink, sound_card_sink

    audio = setup.audio

    class SteadySoundDeviceSink(SoundDeviceSink):
        """Works around a start-up race in SoundDeviceSink: PortAudio may run the first callback before
        `open()` has set the PortAudio→monotonic offset, so the first timing anchor is an epoch time and the
        engine believes it is ~56 years late and skips the whole run. Such an anchor is ignored here until
        the next callback replaces it (reported to the engine's owner; drop this when sinks.py is fixed)."""

        def heard_time(self, frame: int) -> float | None:
            with self._lock:
                anchor = self._anchor
            if anchor is None or abs(anchor[1] - time.monotonic()) > 60.0:
                return None
            return super().heard_time(frame)

    def make(device: str):
        if audio.backend == "simpleaudio":
            return sound_card_sink(audio.backend, device, audio.sample_rate, audio.channels, audio.block_frames)
        return SteadySoundDeviceSink(device, audio.sample_rate, audio.channels, block_frames=audio.block_frames)

    return make


def make_engine(setup: PlayoutSetup, log: AsRunLog, blackouts: Sequence[Window] = ()):
    """A real engine on the station's configured device(s) and the wall clock."""
    from broadcaster.clock import WallClock
    from broadcaster.engine import Engine

    # preroll 1 s (engine default 0.3): time to open the device and line it up even on a busy PC.
    return Engine(setup.audio_dir, setup.audio, sink_factory_for(setup), WallClock(setup.zone), log, setup.zone,
                  blackouts=blackouts, preroll=1.0)
