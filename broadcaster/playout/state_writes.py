"""The daemon's writes to its state folder (on-air marker, heartbeat, plan cache, setup snapshot, held priority
clips, break-in answers), none of which may hold up a slot.

A write that fails (disk full, folder read-only) is kept, the latest one per file, and tried again every tick
until it goes through; `trouble` says what waits meanwhile, for the daemon's alarm.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("broadcaster.daemon")


class StateWrites:
    def __init__(self):
        self._waiting: dict[str, tuple[Callable[[], object], Path, str]] = {}
        self._lock = threading.Lock()

    def do(self, key: str, write: Callable[[], object], path: Path) -> bool:
        """Run `write` now; if it fails it replaces any earlier write of `key` still waiting. True if done."""
        with self._lock:
            self._waiting.pop(key, None)
        try:
            write()
            return True
        except OSError as err:
            with self._lock:
                new = not self._waiting
                self._waiting[key] = (write, Path(path), err.strerror or str(err))
            if new:
                log.warning("state not written (%s: %s), kept in memory and tried again / chưa ghi được trạng "
                            "thái, giữ trong bộ nhớ", path, err.strerror or err)
            return False

    def retry(self) -> None:
        with self._lock:
            waiting = list(self._waiting.items())
        for key, (write, path, _) in waiting:
            try:
                write()
            except OSError as err:
                with self._lock:
                    if key in self._waiting:
                        self._waiting[key] = (write, path, err.strerror or str(err))
                continue
            with self._lock:
                if self._waiting.get(key, (None,))[0] is write:
                    del self._waiting[key]

    def trouble(self) -> tuple[int, Path, str] | None:
        """(writes waiting, the path of one, its error), or None when nothing waits."""
        with self._lock:
            if not self._waiting:
                return None
            _, path, error = next(iter(self._waiting.values()))
            return len(self._waiting), path, error
