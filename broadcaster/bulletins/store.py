"""Bulletins and the approval record, in one SQLite file (`data/bulletins.sqlite`).

`bulletins` holds each bulletin's text, how it was spoken and where its audio is in the library; its status
changes as it is approved, rejected, withdrawn or replaced by an edit. `approvals` is the audit: every approval,
rejection and withdrawal of a bulletin or of any local clip, with who, when, and the sha256 of the text and of
the audio. It is append-only: triggers refuse UPDATE and DELETE, so a record cannot be changed afterwards.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from broadcaster.problems import BroadcasterError, Problem


class BulletinStatus(StrEnum):
    DRAFT = "draft"  # Chờ duyệt: never planned
    APPROVED = "approved"  # Đã duyệt: planned by the playlists' rules
    REJECTED = "rejected"  # Từ chối
    WITHDRAWN = "withdrawn"  # Đã hủy: taken off air, audio retired
    REPLACED = "replaced"  # an edit of it was approved; its audio is retired


STATUS_VI = {"draft": "Chờ duyệt", "approved": "Đã duyệt", "rejected": "Từ chối", "withdrawn": "Đã hủy",
             "replaced": "Đã thay bằng bản sửa"}


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS bulletins (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    spoken TEXT NOT NULL,               -- the normalised text the engine read
    engine TEXT NOT NULL,
    voice TEXT NOT NULL,
    rate INTEGER NOT NULL,
    category TEXT NOT NULL,
    valid_from TEXT,
    valid_until TEXT,
    plays_min INTEGER,
    plays_max INTEGER,
    emergency INTEGER NOT NULL DEFAULT 0,
    audio_sha256 TEXT NOT NULL,
    audio_file TEXT NOT NULL,           -- relative to the audio folder
    duration REAL NOT NULL,
    status TEXT NOT NULL,
    replaces INTEGER REFERENCES bulletins(id),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,                   -- ISO 8601 in the station's zone
    by TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,             -- approved | rejected | withdrawn
    kind TEXT NOT NULL,                 -- bulletin | local
    bulletin_id INTEGER,
    title TEXT NOT NULL,
    text_sha256 TEXT,                   -- NULL for a clip without text
    audio_sha256 TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    emergency INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS approvals_audio ON approvals(audio_sha256);
CREATE TRIGGER IF NOT EXISTS approvals_no_update BEFORE UPDATE ON approvals
    BEGIN SELECT RAISE(ABORT, 'the approval record is append-only'); END;
CREATE TRIGGER IF NOT EXISTS approvals_no_delete BEFORE DELETE ON approvals
    BEGIN SELECT RAISE(ABORT, 'the approval record is append-only'); END;
"""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Bulletin:
    id: int
    title: str
    text: str
    text_sha256: str
    spoken: str
    engine: str
    voice: str
    rate: int
    category: str
    valid_from: date | None
    valid_until: date | None
    plays_min: int | None
    plays_max: int | None
    emergency: bool
    audio_sha256: str
    audio_file: str
    duration: float
    status: BulletinStatus
    replaces: int | None
    created_by: str
    created_at: str


@dataclass(frozen=True)
class ApprovalRecord:
    seq: int
    at: str
    by: str
    role: str
    decision: Decision
    kind: str
    bulletin_id: int | None
    title: str
    text_sha256: str | None
    audio_sha256: str
    comment: str
    emergency: bool


STORE_NAME = "bulletins.sqlite"  # in the station's state folder (paths.state)


class BulletinStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def of_station(cls, station) -> BulletinStore:
        return cls(station.paths.state / STORE_NAME)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as db:
                db.row_factory = sqlite3.Row
                db.executescript(_SCHEMA)
                with db:
                    yield db
        except sqlite3.Error as err:
            raise BroadcasterError([Problem(str(self.path), f"không ghi/đọc được sổ thông báo ({err})",
                                            f"cannot read or write the bulletin store ({err})",
                                            "kiểm tra chỗ trống trên đĩa và quyền ghi thư mục data/",
                                            "check free disk space and write permission on data/")]) from err

    def _read(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        """Read-only: reading (the planner, reports) never writes, so it works on a read-only disk too.

        A user who may not look into the state folder (play-now run by an operator outside the service's group)
        reads no bulletins: their per-day quotas are then missing from that user's plan, while what may air is
        still decided by the catalogue's approval column, so nothing unapproved is let through."""
        try:
            if not self.path.exists():
                return []
        except PermissionError:
            return []
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)) as db:
                db.row_factory = sqlite3.Row
                return db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return []
            raise BroadcasterError([Problem(str(self.path), f"không đọc được sổ thông báo ({err})",
                                            f"cannot read the bulletin store ({err})",
                                            "kiểm tra tệp và quyền đọc",
                                            "check the file and read permission")]) from err

    # -- bulletins ---------------------------------------------------------------------------------------

    def add(self, db: sqlite3.Connection, **values) -> int:
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        cur = db.execute(f"INSERT INTO bulletins ({columns}) VALUES ({marks})",
                         [_sql(v) for v in values.values()])
        return int(cur.lastrowid)

    def set_status(self, db: sqlite3.Connection, bulletin_id: int, status: BulletinStatus) -> None:
        db.execute("UPDATE bulletins SET status = ? WHERE id = ?", (status.value, bulletin_id))

    def get(self, bulletin_id: int) -> Bulletin | None:
        rows = self._read("SELECT * FROM bulletins WHERE id = ?", (bulletin_id,))
        return _bulletin(rows[0]) if rows else None

    def bulletins(self, statuses: tuple[BulletinStatus, ...] | None = None) -> list[Bulletin]:
        rows = self._read("SELECT * FROM bulletins ORDER BY id")
        found = [_bulletin(r) for r in rows]
        return [b for b in found if statuses is None or b.status in statuses]

    def edits_of(self, bulletin_id: int) -> list[Bulletin]:
        return [b for b in self.bulletins() if b.replaces == bulletin_id]

    # -- the approval record -----------------------------------------------------------------------------

    def record(self, db: sqlite3.Connection, *, at: datetime, by: str, role: str, decision: Decision, kind: str,
               title: str, audio_sha256: str, text_sha256: str | None = None, bulletin_id: int | None = None,
               comment: str = "", emergency: bool = False) -> None:
        db.execute("INSERT INTO approvals (at, by, role, decision, kind, bulletin_id, title, text_sha256, "
                   "audio_sha256, comment, emergency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (at.isoformat(timespec="seconds"), by, role, decision.value, kind, bulletin_id, title,
                    text_sha256, audio_sha256, comment, int(emergency)))

    def records(self, audio_sha256: str | None = None, bulletin_id: int | None = None) -> list[ApprovalRecord]:
        sql, args = "SELECT * FROM approvals", ()
        if audio_sha256 is not None:
            sql, args = sql + " WHERE audio_sha256 = ?", (audio_sha256,)
        elif bulletin_id is not None:
            sql, args = sql + " WHERE bulletin_id = ?", (bulletin_id,)
        rows = self._read(sql + " ORDER BY seq", args)
        return [ApprovalRecord(**{**dict(r), "decision": Decision(r["decision"]), "emergency": bool(r["emergency"])})
                for r in rows]

    def approvers_by_audio(self) -> dict[str, ApprovalRecord]:
        """Who approved each audio sha256 (the latest approval; a later withdrawal does not undo what aired)."""
        return {r.audio_sha256: r for r in self.records() if r.decision == Decision.APPROVED}


def _sql(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    return value


def _bulletin(row: sqlite3.Row) -> Bulletin:
    values = dict(row)
    for key in ("valid_from", "valid_until"):
        values[key] = date.fromisoformat(values[key]) if values[key] else None
    values["emergency"] = bool(values["emergency"])
    values["status"] = BulletinStatus(values["status"])
    return Bulletin(**values)
