"""The daemon's side of the engine: build one engine for one run, and add the daemon's reasons to its rows.

The engine writes the as-run rows; it does not know *why* a run started where it did (a restart, a re-plan).
`NotedLog` is the same append-only log with notes keyed by planned start, added to the reason of the row the
engine writes for that item, so the log says "resumed after restart at 12.3 s" next to the resumed item.
"""

from __future__ import annotations

import threading
from datetime import datetime

from broadcaster.asrun import AsRunEntry, AsRunLog, iso_ms
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
            row["reason"] = f"{row['reason']}; {note}" if row.get("reason") else note
        return super().append(**row)


def make_engine(setup: PlayoutSetup, log: AsRunLog):
    """A real engine on the station's configured device(s) and the wall clock."""
    from broadcaster.clock import WallClock
    from broadcaster.engine import Engine
    from broadcaster.sinks import sink_factory_for

    return Engine(setup.audio_dir, setup.audio, sink_factory_for(setup.audio), WallClock(setup.zone), log,
                  setup.zone)
