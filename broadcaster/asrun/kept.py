"""The daemon's as-run log: rows never wait on the disk, and the disk never stops the audio.

A row that cannot be written now (disk full, file read-only or owned by another user, folder gone) waits in
memory, in order, and is written by the next append or `flush()` once it can; `trouble` says why meanwhile, for
the daemon's alarm. A file damaged under SQLite (cut mid-page, emptied, not a database) is set aside, named by
the moment it was found, and a new log begins whose first row records the break: the old file's name and its
sha256, so the two files together still tell the whole story.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from broadcaster.asrun.log import BREAK_CATEGORY, AsRunEntry, AsRunLog, damage, row_values
from broadcaster.files import file_sha256

log = logging.getLogger("broadcaster.asrun")

_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")  # the file itself is bad; every other error may pass


@dataclass(frozen=True)
class SetAside:
    """A damaged log moved out of the way."""

    name: str  # its new name, beside the log
    sha256: str
    why: str


class KeptLog:
    def __init__(self, path: str | Path, zone: tzinfo):
        self.path = Path(path)
        self.zone = zone
        self._log: AsRunLog | None = None
        self._waiting: list[dict] = []
        # the engine's thread and the daemon's (failed runs, expired priority clips, flush) share one connection
        self._lock = threading.RLock()
        self.trouble: str | None = None  # why rows are waiting in memory (None: all written)
        self.set_aside: list[SetAside] = []

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting)

    # ---- writing ----------------------------------------------------------------------------------------
    def append(self, **row) -> AsRunEntry:
        """The row, written if the disk lets it (with its id), else kept in memory (id None) until it does."""
        values = row_values(**row)
        with self._lock:
            self._waiting.append(values)
            written = self._write_waiting()
        return written if written is not None and not self._waiting else AsRunEntry(id=None, **values)

    def flush(self) -> int:
        """Write the rows waiting, if the disk now lets us; returns how many still wait."""
        with self._lock:
            if self._waiting:
                self._write_waiting()
            elif self._log is None:
                self._readable()  # made (or found damaged) now, not at the first row
            return len(self._waiting)

    def _write_waiting(self) -> AsRunEntry | None:
        entry = None
        retried = False
        while self._waiting:
            try:
                entry = self._open().append_values(self._waiting[0])
                self._waiting.pop(0)
                continue
            except sqlite3.DatabaseError as err:
                name = getattr(err, "sqlite_errorname", type(err).__name__)
                if name not in _DAMAGED or retried:
                    self._trouble(f"{err} ({name})")
                    return None
                why = f"SQLite: {err}"
            except OSError as err:
                self._trouble(f"{err.strerror or err}")
                return None
            retried = True  # found damaged while writing: set aside once, then write to the new log
            try:
                self._set_aside(why)
            except OSError as err:
                self._trouble(f"damaged, and cannot be set aside: {err.strerror or err}")
                return None
        if self.trouble is not None:
            log.info("as-run log writable again: every row kept in memory is written / "
                     "nhật ký ghi được trở lại: đã ghi hết các dòng chờ (%s)", self.path)
        self.trouble = None
        return entry

    def _trouble(self, why: str) -> None:
        self._close()  # reopened next time: a folder or mount fixed meanwhile is then seen
        self.trouble = why

    def _open(self) -> AsRunLog:
        if self._log is None:
            why = damage(self.path)
            if why:
                self._set_aside(why)
            new = not self.path.exists()
            try:
                self._log = AsRunLog(self.path)
            except sqlite3.Error:
                if new:  # made empty by this failed try (a full disk): not a damaged log next time
                    try:
                        self.path.unlink(missing_ok=True)
                    except OSError:
                        pass
                raise
        return self._log

    def _close(self) -> None:
        if self._log is not None:
            try:
                self._log.close()
            except sqlite3.Error:
                pass
            self._log = None

    def _set_aside(self, why: str) -> None:
        """Move the damaged file (and its WAL) aside, named by now; the new log's first row records it."""
        self._close()
        found = datetime.now(self.zone)
        target = self.path.with_name(f"{self.path.stem}.damaged-{found:%Y-%m-%dT%H-%M-%S}{self.path.suffix}")
        sha = file_sha256(self.path)
        os.replace(self.path, target)
        for extra in ("-wal", "-shm"):
            side = Path(f"{self.path}{extra}")
            if side.exists():
                os.replace(side, Path(f"{target}{extra}"))
        kept = SetAside(target.name, sha, why)
        self.set_aside.append(kept)
        log.critical("as-run log damaged (%s): kept as %s (sha256 %s); a new log begins / nhật ký phát sóng bị "
                     "hỏng: giữ lại thành %s, bắt đầu nhật ký mới", why, target.name, sha, target.name)
        self._waiting.insert(0, row_values(
            planned_start=found, actual_start=None, actual_end=None, status="skipped", category=BREAK_CATEGORY,
            title="Nhật ký phát sóng bị hỏng, bắt đầu nhật ký mới / as-run log damaged, a new log begins",
            file=target.name, sha256=sha,
            reason=f"nhật ký cũ hỏng ({why}), giữ lại thành {target.name} / the previous log was damaged "
                   f"({why}) and is kept as {target.name}, sha256 {sha}"))

    # ---- reading (written rows, then those waiting) ---------------------------------------------------------
    def iter_entries(self) -> Iterator[AsRunEntry]:
        with self._lock:
            written = self._readable()
            rows = list(written.iter_entries()) if written is not None else []
            waiting = list(self._waiting)
        yield from rows
        for values in waiting:
            yield AsRunEntry(id=None, **values)

    def with_reason(self, text: str) -> list[AsRunEntry]:
        with self._lock:
            written = self._readable()
            rows = written.with_reason(text) if written is not None else []
            return rows + [AsRunEntry(id=None, **v) for v in self._waiting if text in v["reason"]]

    def _readable(self) -> AsRunLog | None:
        try:
            return self._open()
        except (sqlite3.Error, OSError) as err:
            self._trouble(str(err))
            return None

    def close(self) -> None:
        """Last try to write; rows that still cannot be written go to the daemon's log (journald), whole."""
        with self._lock:
            self.flush()
            for values in self._waiting:
                log.critical("as-run row not written (%s), kept here / dòng nhật ký chưa ghi được: %s",
                             self.trouble, json.dumps(values, ensure_ascii=False))
            self._close()

