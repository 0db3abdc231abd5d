"""How the feed reaches the station library: the normal ingest, `broadcaster.library.catalogue.Library`.

`ClipLibrary` names the five calls sync uses, so the benchmark can swap in a copy-only stand-in (and say so).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Protocol

from broadcaster.library.catalogue import station_library
from broadcaster.model import Level, LibraryItem
from broadcaster.station.config import Station


class ClipLibrary(Protocol):
    def ingest(self, src: str | Path, *, category: str, title: str | None = None, valid_from: date | None = None,
               valid_until: date | None = None, priority: str = Level.NORMAL, source: str = "local",
               target_lufs: float = -16.0): ...

    def get(self, sha256: str) -> LibraryItem | None: ...

    def set_validity(self, sha256: str, valid_from: date | None, valid_until: date | None) -> LibraryItem: ...

    def remove(self, sha256: str) -> Path: ...


def open_library(station: Station) -> ClipLibrary:
    return station_library(station)
