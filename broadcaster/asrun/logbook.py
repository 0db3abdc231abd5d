"""The weekly broadcast logbook (sổ nhật ký chương trình phát thanh): each session's date, start, end and what
aired in order, from the as-run log only.

A session is a run of consecutive rows of one slot on one day; rows without a slot (emergency break-ins) make
their own session. Failed and skipped rows stay in their session with their status, because the district reads
the logbook to see what did not air as well as what did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from broadcaster.asrun.figures import SOUNDED, Integrity, LoggedItem, logged_items, verify_chain
from broadcaster.asrun.log import STATUSES
from broadcaster.station.config import Identity, Station, topic_name


@dataclass
class Session:
    day: date
    slot: str  # "" for break-ins outside any slot
    start: str  # HH:MM:SS of the first audio (or first planned item if nothing sounded)
    end: str
    items: list[LoggedItem] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return sum(i.seconds for i in self.items if i.status in SOUNDED) / 60


@dataclass
class Logbook:
    station: Identity
    year: int
    week: int
    first: date
    last: date
    sessions: list[Session]
    integrity: Integrity
    topic_names: dict[str, str] = field(default_factory=dict)  # the station's `topics:`
    approvers: dict[str, str] = field(default_factory=dict)  # audio sha256 → who approved it (approval record)

    def topic(self, category: str) -> str:
        return topic_name(self.topic_names, category)

    def approver(self, sha256: str) -> str:
        return self.approvers.get(sha256, "")


def parse_iso_week(text: str) -> tuple[int, int]:
    """'2021-W08' -> (2021, 8); ValueError otherwise."""
    year, _, week = text.strip().upper().partition("-W")
    date.fromisocalendar(int(year), int(week), 1)  # raises ValueError for week 54 and the like
    return int(year), int(week)


def build_logbook(log_path: str | Path, station: Station, year: int, week: int,
                  integrity: Integrity | None = None) -> Logbook:
    first = date.fromisocalendar(year, week, 1)
    last = first + timedelta(days=6)
    sessions: list[Session] = []
    for item in logged_items(log_path, station, first, last, STATUSES):
        day = date.fromisoformat(item.day)
        current = sessions[-1] if sessions else None
        if current is None or current.day != day or current.slot != item.slot or not item.slot:
            current = Session(day, item.slot, item.start, item.end)
            sessions.append(current)
        current.items.append(item)
    for session in sessions:
        sounded = [i for i in session.items if i.status in SOUNDED]
        if sounded:
            session.start, session.end = sounded[0].start, max(i.end for i in sounded)
    return Logbook(station.identity, year, week, first, last, sessions, integrity or verify_chain(Path(log_path)),
                   dict(station.topics))
