"""The as-run log: the truth of what reached the sound card, kept in SQLite with a hash chain.

One row per item that reached (or failed to reach) the sink. Rows are only ever appended; each row's hash
covers its fields and the previous row's hash, so an edit or a deletion anywhere breaks the chain from there
on and `verify()` names the first bad row. Triggers refuse UPDATE and DELETE, so an edit needs a deliberate
DROP TRIGGER first; what is left to catch after that (rows cut off the end, a chain recomputed after an edit)
the district's anchors catch (`anchors.py`). WAL journal and synchronous=FULL: a power cut loses at most the
row being written, never an earlier one.

A file damaged underneath SQLite (cut mid-page by a power cut on an SD card, emptied) is found by `damage()`,
cheaply from its header, and by `verify()`, which reads every page; the daemon sets such a file aside and
starts a new log whose first row records the break (`kept.py`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

STATUSES = ("aired", "partial", "failed", "skipped")
GENESIS = "0" * 64

_COLUMNS = (
    "planned_start", "actual_start", "actual_end", "slot", "category", "title", "file", "sha256",
    "level", "status", "reason",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS asrun (
    id INTEGER PRIMARY KEY,
    planned_start TEXT,          -- ISO 8601 with offset, millisecond precision; NULL for unplanned break-ins
    actual_start TEXT,           -- when audio of this item was first heard at the sink
    actual_end TEXT,             -- when its last sample was heard (or it was cut); the row is written after it
    slot TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    file TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL DEFAULT 'normal',
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS asrun_actual_start ON asrun(actual_start);
CREATE INDEX IF NOT EXISTS asrun_planned_start ON asrun(planned_start);
"""

# Rows are appended, never changed: created on open when missing (an older log gets them on its next write).
_TRIGGERS = {
    "asrun_no_update": "CREATE TRIGGER asrun_no_update BEFORE UPDATE ON asrun "
                       "BEGIN SELECT RAISE(ABORT, 'as-run rows are append-only: UPDATE refused'); END",
    "asrun_no_delete": "CREATE TRIGGER asrun_no_delete BEFORE DELETE ON asrun "
                       "BEGIN SELECT RAISE(ABORT, 'as-run rows are append-only: DELETE refused'); END",
}
BREAK_CATEGORY = "nhat-ky-dut"  # the first row of a log started after the last one was found damaged
SQLITE_MAGIC = b"SQLite format 3\x00"


def iso_ms(moment: datetime | None) -> str | None:
    """ISO 8601 with the zone offset, to the millisecond (the log's only time format)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("as-run times must be timezone-aware")
    return moment.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class AsRunEntry:
    planned_start: str | None
    actual_start: str | None
    actual_end: str | None
    slot: str
    category: str
    title: str
    file: str
    sha256: str
    level: str
    status: str
    reason: str = ""
    id: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    message: str = ""
    head: str = GENESIS  # row_hash of the last row checked (what a district anchor holds)


def _row_hash(prev_hash: str, values: dict) -> str:
    payload = json.dumps([values[c] for c in _COLUMNS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


class AsRunLog:
    """Append-only as-run log in one SQLite file."""

    def __init__(self, path: str | Path, *, durable: bool = True, read_only: bool = False):
        """`durable=False` skips the fsync per row: only for logs that can be made again (simulate).
        `read_only`: for checking a log as it is (nothing created, nothing written; the file must exist)."""
        self.path = Path(path)
        # One connection, written from the engine's thread and the daemon's (failed runs, expired priority
        # clips): two BEGIN IMMEDIATEs on one connection at once would fail.
        self._write_lock = threading.Lock()
        if read_only:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")
        self._db.executescript(_SCHEMA)
        self._guard()

    def _guard(self) -> None:
        """The append-only triggers, if missing; a read-only file keeps going without (verify() says so)."""
        have = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        try:
            for name, sql in _TRIGGERS.items():
                if name not in have:
                    self._db.execute(sql)
        except sqlite3.OperationalError:
            pass  # read-only or full: the next open tries again

    def guarded(self) -> bool:
        have = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        return set(_TRIGGERS) <= have

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AsRunLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def append(
        self,
        *,
        planned_start: datetime | None,
        actual_start: datetime | None,
        actual_end: datetime | None,
        status: str,
        slot: str = "",
        category: str = "",
        title: str = "",
        file: str = "",
        sha256: str = "",
        level: str = "normal",
        reason: str = "",
    ) -> AsRunEntry:
        return self.append_values(row_values(
            planned_start=planned_start, actual_start=actual_start, actual_end=actual_end, status=status,
            slot=slot, category=category, title=title, file=file, sha256=sha256, level=level, reason=reason))

    def append_values(self, values: dict) -> AsRunEntry:
        """Append a row already made by `row_values` (a row kept in memory while the disk was full)."""
        # BEGIN IMMEDIATE: two writers (daemon and play-now) cannot both read the same chain tip.
        with self._write_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                tip = self._db.execute("SELECT row_hash FROM asrun ORDER BY id DESC LIMIT 1").fetchone()
                prev = tip[0] if tip else GENESIS
                cur = self._db.execute(
                    f"INSERT INTO asrun ({', '.join(_COLUMNS)}, prev_hash, row_hash) "
                    f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?, ?)",
                    [values[c] for c in _COLUMNS] + [prev, _row_hash(prev, values)],
                )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a COMMIT that failed (disk full) has rolled back already
                    self._db.execute("ROLLBACK")
                raise
        return AsRunEntry(id=cur.lastrowid, **values)

    def entries(self, start: datetime | None = None, end: datetime | None = None) -> list[AsRunEntry]:
        """Rows whose actual (or, if never started, planned) start is in [start, end), in log order.

        Comparison is on instants, not strings, so rows written with another offset still count."""
        return [e for e in self.iter_entries() if _in_range(e, start, end)]

    def iter_entries(self) -> Iterator[AsRunEntry]:
        cur = self._db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM asrun ORDER BY id")
        for row in cur:
            yield AsRunEntry(id=row[0], **dict(zip(_COLUMNS, row[1:])))

    def with_reason(self, text: str) -> list[AsRunEntry]:
        """Rows whose reason contains `text` (a break-in's ticket tag), in log order."""
        cur = self._db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM asrun WHERE instr(reason, ?) > 0 ORDER BY id",
                               (text,))
        return [AsRunEntry(id=row[0], **dict(zip(_COLUMNS, row[1:]))) for row in cur]

    def verify(self) -> ChainCheck:
        prev = GENESIS
        count = 0
        expected_id = None
        n = len(_COLUMNS)
        encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        sha256 = hashlib.sha256
        cur = self._db.execute(f"SELECT id, {', '.join(_COLUMNS)}, prev_hash, row_hash FROM asrun ORDER BY id")
        cur.arraysize = 4096
        while rows := cur.fetchmany():
            for row in rows:  # the hot loop for a province-year (1.3 M rows): no per-row dicts
                count += 1
                row_id = row[0]
                if expected_id is not None and row_id != expected_id:
                    return ChainCheck(False, count, expected_id, f"row {expected_id} is missing (deleted)")
                if row[n + 1] != prev:
                    return ChainCheck(False, count, row_id, f"row {row_id} does not follow the row before it")
                if sha256((prev + encode(list(row[1:n + 1]))).encode("utf-8")).hexdigest() != row[n + 2]:
                    return ChainCheck(False, count, row_id, f"row {row_id} was changed after it was written")
                prev = row[n + 2]
                expected_id = row_id + 1
        return ChainCheck(True, count, head=prev)

    def head_at(self, rows: int) -> str | None:
        """row_hash of the `rows`-th row (1-based, in id order); None if the log has fewer rows."""
        if rows <= 0:
            return GENESIS
        found = self._db.execute("SELECT row_hash FROM asrun ORDER BY id LIMIT 1 OFFSET ?", (rows - 1,)).fetchone()
        return found[0] if found else None

    def first_entry(self) -> AsRunEntry | None:
        return next(self.iter_entries(), None)


def row_values(*, planned_start: datetime | None, actual_start: datetime | None, actual_end: datetime | None,
               status: str, slot: str = "", category: str = "", title: str = "", file: str = "",
               sha256: str = "", level: str = "normal", reason: str = "") -> dict:
    """A row's fields as the log stores them (times as ISO text)."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    return {
        "planned_start": iso_ms(planned_start), "actual_start": iso_ms(actual_start),
        "actual_end": iso_ms(actual_end), "slot": slot, "category": category, "title": title,
        "file": file, "sha256": sha256, "level": level, "status": status, "reason": reason,
    }


def damage(path: Path) -> str | None:
    """What is wrong with the file under SQLite, from its header alone (cheap enough for every start): empty,
    not a database, or shorter than its header says (cut mid-page); None if it looks whole, or is missing.
    A cut inside the pages the header still covers is found by `verify()` (integrity_check)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            header = handle.read(100)
    except FileNotFoundError:
        return None
    except OSError as err:
        return f"cannot be read: {err.strerror or err}"
    if size == 0:
        return "the file is empty (0 bytes)"
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return f"not an SQLite database ({size} bytes)"
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    pages, counter, valid_for = (int.from_bytes(header[a:a + 4], "big") for a in (28, 24, 92))
    if page < 512 or page & (page - 1):
        return f"its header is damaged (page size {page})"
    if size % page:
        return f"cut mid-page: {size} bytes is not a whole number of {page}-byte pages"
    if pages and counter == valid_for and size < pages * page and not _wal_frames(path):
        # (with frames in the WAL the file may lag its header until the next checkpoint: not damage)
        return f"cut short: {size} bytes, its header says {pages * page}"
    return None


def _wal_frames(path: Path) -> bool:
    try:
        return Path(f"{path}-wal").stat().st_size > 32  # more than the WAL's header
    except OSError:
        return False


def _in_range(entry: AsRunEntry, start: datetime | None, end: datetime | None) -> bool:
    stamp = entry.actual_start or entry.planned_start
    if stamp is None:
        return start is None and end is None
    moment = datetime.fromisoformat(stamp)
    return (start is None or moment >= start) and (end is None or moment < end)
