"""What this commune has accepted from its district feed, kept in SQLite under paths.state (feed.sqlite).

The planner reads the clips' quotas, priority and validity back through `library.district_rules` (below the
feed, so planning never imports it). Sync asks the daemon to re-plan through `planning.replan`.

Also kept here: the last manifest version accepted per (trusted key, district) (rollback protection), the HTTP
validators for conditional requests, the folder (USB) manifests already looked at, and the district's
emergency/priority clips handed to the daemon's break-in spool (until a receipt says when they aired).
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broadcaster.library.district_rules import STATE_FILE
from broadcaster.station.config import Station

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accepted_versions (
    anchor TEXT NOT NULL,          -- the key this commune trusts (feed.public_key), however the manifest was signed
    district TEXT NOT NULL,
    version INTEGER NOT NULL,      -- never goes down: older manifests are rollbacks
    envelope_sha256 TEXT NOT NULL,
    envelope BLOB NOT NULL,        -- re-used when the server answers 304 Not Modified
    expires TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (anchor, district)
);
CREATE TABLE IF NOT EXISTS roots (
    anchor TEXT NOT NULL,          -- the pinned root key
    district TEXT NOT NULL,
    version INTEGER NOT NULL,      -- the newest root metadata trusted (root.py)
    envelope BLOB NOT NULL,
    PRIMARY KEY (anchor, district)
);
CREATE TABLE IF NOT EXISTS breakins (
    request_id TEXT PRIMARY KEY,   -- the break-in spool request (broadcaster/playout/breakin.py)
    sha256 TEXT NOT NULL,
    district TEXT NOT NULL,
    level TEXT NOT NULL,
    submitted_at TEXT NOT NULL,    -- UTC ISO
    outcome TEXT NOT NULL DEFAULT '',  -- '' while waiting | aired | refused
    aired_at TEXT
);
CREATE TABLE IF NOT EXISTS http_cache (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT);
CREATE TABLE IF NOT EXISTS folder_seen (envelope_sha256 TEXT PRIMARY KEY, outcome TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clips (
    sha256 TEXT PRIMARY KEY,
    keyid TEXT NOT NULL,
    district TEXT NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    priority TEXT NOT NULL DEFAULT 'normal',
    valid_from TEXT,
    valid_until TEXT,
    plays_per_day_min INTEGER,
    plays_per_day_max INTEGER,
    status TEXT NOT NULL,          -- ingested | rejected | withdrawn
    reason TEXT NOT NULL DEFAULT '',
    added INTEGER NOT NULL DEFAULT 0,  -- 1 if the feed added it to the library (so only then may it remove it)
    version INTEGER NOT NULL,
    updated TEXT NOT NULL
);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Accepted:
    anchor: str
    district: str
    version: int
    envelope_sha256: str
    envelope: bytes


@dataclass(frozen=True)
class ClipState:
    sha256: str
    status: str
    reason: str
    added: bool
    priority: str
    valid_from: str | None
    valid_until: str | None
    plays_per_day_min: int | None
    plays_per_day_max: int | None


class FeedState:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        if self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'accepted'").fetchone():
            # versions from before they were kept per district: still never to go back below them
            self.db.execute("INSERT OR IGNORE INTO accepted_versions SELECT keyid, district, version, "
                            "envelope_sha256, envelope, expires, accepted_at FROM accepted")

    @classmethod
    def of(cls, station: Station) -> FeedState:
        return cls(station.paths.state / STATE_FILE)

    def close(self) -> None:
        self.db.close()

    def accepted(self, anchor: str, district: str) -> Accepted | None:
        row = self.db.execute("SELECT anchor, district, version, envelope_sha256, envelope FROM accepted_versions "
                              "WHERE anchor = ? AND district = ?", (anchor, district)).fetchone()
        return Accepted(*row) if row else None

    def accept(self, anchor: str, district: str, version: int, envelope: bytes, expires: str) -> None:
        self.db.execute(
            "INSERT INTO accepted_versions VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(anchor, district) DO UPDATE SET "
            "version=excluded.version, envelope_sha256=excluded.envelope_sha256, envelope=excluded.envelope, "
            "expires=excluded.expires, accepted_at=excluded.accepted_at WHERE excluded.version >= version",
            (anchor, district, version, hashlib.sha256(envelope).hexdigest(), envelope, expires, now_iso()))

    def trusted_root(self, anchor: str, district: str) -> bytes | None:
        row = self.db.execute("SELECT envelope FROM roots WHERE anchor = ? AND district = ?",
                              (anchor, district)).fetchone()
        return row[0] if row else None

    def trust_root(self, anchor: str, district: str, version: int, envelope: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO roots VALUES (?, ?, ?, ?)", (anchor, district, version, envelope))

    def forget_version(self, anchor: str, district: str) -> None:
        """The online keys changed: versions signed by the old ones no longer bind (fast-forward recovery)."""
        self.db.execute("DELETE FROM accepted_versions WHERE anchor = ? AND district = ?", (anchor, district))

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO http_cache VALUES (?, ?, ?)", (url, etag, last_modified))

    def folder_outcome(self, envelope: bytes) -> str | None:
        row = self.db.execute("SELECT outcome FROM folder_seen WHERE envelope_sha256 = ?",
                              (hashlib.sha256(envelope).hexdigest(),)).fetchone()
        return row[0] if row else None

    def remember_folder(self, envelope: bytes, outcome: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO folder_seen VALUES (?, ?, ?)",
                        (hashlib.sha256(envelope).hexdigest(), outcome, now_iso()))

    def clip(self, sha256: str) -> ClipState | None:
        row = self.db.execute("SELECT sha256, status, reason, added, priority, valid_from, valid_until, "
                              "plays_per_day_min, plays_per_day_max FROM clips WHERE sha256 = ?", (sha256,)).fetchone()
        return ClipState(row[0], row[1], row[2], bool(row[3]), *row[4:]) if row else None

    def clips_with_status(self, district: str, status: str) -> list[ClipState]:
        """The district's clips in that status, whichever key signed them (a revoke holds across rotations)."""
        rows = self.db.execute("SELECT sha256 FROM clips WHERE district = ? AND status = ?", (district, status))
        return [self.clip(r[0]) for r in rows.fetchall()]

    def add_breakin(self, request_id: str, sha256: str, district: str, level: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO breakins (request_id, sha256, district, level, submitted_at) "
                        "VALUES (?, ?, ?, ?, ?)", (request_id, sha256, district, level, now_iso()))

    def waiting_breakins(self) -> list[tuple[str, str, str, str, str]]:
        """(request_id, sha256, district, level, submitted_at) of break-ins with no outcome yet."""
        return self.db.execute("SELECT request_id, sha256, district, level, submitted_at FROM breakins "
                               "WHERE outcome = '' ORDER BY submitted_at").fetchall()

    def breakin_outcome(self, request_id: str, outcome: str, aired_at: str | None = None) -> None:
        self.db.execute("UPDATE breakins SET outcome = ?, aired_at = ? WHERE request_id = ?",
                        (outcome, aired_at, request_id))

    def record_clip(self, *, sha256: str, keyid: str, district: str, category: str, title: str, priority: str,
                    valid_from: str | None, valid_until: str | None, plays_per_day_min: int | None,
                    plays_per_day_max: int | None, status: str, reason: str, added: bool, version: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO clips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sha256, keyid, district, category, title, priority, valid_from, valid_until, plays_per_day_min,
             plays_per_day_max, status, reason, int(added), version, now_iso()))

    def set_status(self, sha256: str, status: str, reason: str = "") -> None:
        self.db.execute("UPDATE clips SET status = ?, reason = ?, updated = ? WHERE sha256 = ?",
                        (status, reason, now_iso(), sha256))
