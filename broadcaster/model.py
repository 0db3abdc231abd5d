"""Plain data passed between the library, the planner, the engine and the reports.

These are the contracts between modules: the planner makes `DayPlan`s from `LibraryItem`s, the engine plays
`PlannedItem`s. Times are timezone-aware datetimes in the station's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

# A category is a folder name under audio/ and a key in playlists: lower-case ASCII, digits and '-'.
# Checked with fullmatch: `$` would let a trailing newline through and make a folder named "bluezone\n".
CATEGORY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def is_category(text: object) -> bool:
    return isinstance(text, str) and CATEGORY.fullmatch(text) is not None


class Level(StrEnum):
    """How urgent an item is (Circular 39/2020: thông thường, ưu tiên, khẩn cấp). A str: JSON and SQLite keep
    the plain word."""

    NORMAL = "normal"
    PRIORITY = "priority"  # airs at the next item boundary of the run on air
    EMERGENCY = "emergency"  # interrupts at once


class Status(StrEnum):
    """What happened to an item, as the as-run log records it."""

    AIRED = "aired"  # whole, from its first frame to its last
    PARTIAL = "partial"  # some of it reached the loudspeakers
    FAILED = "failed"  # it should have aired and did not (a device or file fault)
    SKIPPED = "skipped"  # it did not air by rule (no room before the slot end, a blackout, an emergency)


LEVELS = tuple(Level)
BREAK_IN_LEVELS = (Level.PRIORITY, Level.EMERGENCY)
STATUSES = tuple(Status)
SOUNDED = (Status.AIRED, Status.PARTIAL)  # statuses whose audio reached the loudspeakers


class Approval(StrEnum):
    """Whether the commune leadership let an item air (TT 39/2020): Chờ duyệt / Đã duyệt / Từ chối."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class LibraryItem:
    """One audio file in the station library (`audio/`), as catalogued at ingest."""

    sha256: str
    file: str  # path relative to the audio directory, e.g. "bluezone/bluezone-cai-dat.mp3"
    title: str
    category: str
    duration: float  # seconds, from decoding the whole file
    sample_rate: int
    channels: int
    loudness_lufs: float  # integrated loudness, ITU-R BS.1770 / EBU R128
    gain_db: float  # gain that brings the file to the station loudness target
    source: str = "local"  # "local", "district:<feed>", ...
    valid_from: date | None = None
    valid_until: date | None = None
    priority: str = "normal"  # one of LEVELS
    approval: str = Approval.APPROVED  # only approved items are planned; the rest are listed as exceptions

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Window:
    """A concrete time span on one day, e.g. a slot or a blackout occurrence."""

    id: str
    name: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


DUCK_DB = -15.0  # how far a music bed dips under the speech item it carries (playlists: duck_db)


@dataclass(frozen=True)
class PlannedItem:
    """One item in a day's plan, with the exact time it is to start and end at the sound card."""

    start: datetime
    end: datetime
    slot: str
    category: str
    title: str
    file: str  # relative to the audio directory
    sha256: str
    gain_db: float
    duration: float  # full length of the file; end - start may be shorter only if crossfaded out
    level: Level = Level.NORMAL
    crossfade_in: float = 0.0  # seconds this item overlaps the previous one (songs into songs)
    bed_file: str | None = None  # music bed under a speech clip, ducked (None = no bed)
    bed_sha256: str | None = None
    bed_gain_db: float = 0.0
    duck_db: float = DUCK_DB

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class PlanException:
    """A rule the planner could not keep; the plan is still made (Rivendell's exception report)."""

    rule: str  # e.g. "quota", "fill", "material", "blackout", "cap"
    message: str
    slot: str | None = None


@dataclass
class DayPlan:
    date: date
    timezone: str
    slots: list[Window] = field(default_factory=list)  # after clipping by blackouts and caps
    blackouts: list[Window] = field(default_factory=list)
    items: list[PlannedItem] = field(default_factory=list)
    unfilled_seconds: dict[str, float] = field(default_factory=dict)
    exceptions: list[PlanException] = field(default_factory=list)
