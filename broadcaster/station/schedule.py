"""Recurring time rules: weekdays, time of day and date ranges, and where they fall on a given day.

A `Recurrence` is the shared shape of slots, blackouts and clip validity ("Mon–Sat 07:30–11:30 from
2021-02-17 to 2021-03-12", "on 2021-03-08"). `on(day, zone)` gives the concrete span, if any, in the station
zone; wall-clock times that do not exist or repeat in a DST change are resolved by zoneinfo's fold rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Vietnamese names: Thứ Hai (T2) is Monday ... Chủ nhật (CN) is Sunday.
_VI_WEEKDAYS = {"t2": 0, "t3": 1, "t4": 2, "t5": 3, "t6": 4, "t7": 5, "cn": 6}


def parse_weekday(text: str) -> int:
    key = text.strip().lower()
    if key in _VI_WEEKDAYS:
        return _VI_WEEKDAYS[key]
    if key[:3] in WEEKDAYS:
        return WEEKDAYS.index(key[:3])
    raise ValueError(f"unknown weekday {text!r} (use mon..sun or T2..T7, CN)")


def parse_weekdays(value: object) -> frozenset[int]:
    """'mon-sat', 'T2-T7', 'daily', 'mon,wed', or a list of those."""
    if value in (None, "daily", "all", "hằng ngày"):
        return frozenset(range(7))
    parts: list[str] = []
    for chunk in value if isinstance(value, list) else [value]:
        parts.extend(str(chunk).split(","))
    days: set[int] = set()
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            first, last = (parse_weekday(p) for p in part.split("-", 1))
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.update(span)
        else:
            days.add(parse_weekday(part))
    if not days:
        raise ValueError("no weekdays given")
    return frozenset(days)


def parse_clock(value: object) -> time:
    """'05:30' or '05:30:15' (24-hour); '24:00' is the end of the day."""
    text = str(value).strip()
    pieces = text.split(":")
    if len(pieces) not in (2, 3) or not all(p.isdigit() for p in pieces):
        raise ValueError(f"{text!r} is not a time like 05:30")
    hour, minute = int(pieces[0]), int(pieces[1])
    second = int(pieces[2]) if len(pieces) == 3 else 0
    if (hour, minute, second) == (24, 0, 0):
        return time.max
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute, second)


def at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    if clock == time.max:  # 24:00 is the next midnight
        return datetime.combine(day + timedelta(days=1), time(0), zone)
    return datetime.combine(day, clock, zone)


@dataclass(frozen=True)
class Recurrence:
    weekdays: frozenset[int] = frozenset(range(7))
    start: time = time(0)
    end: time = time.max
    date_from: date | None = None
    date_until: date | None = None
    dates: frozenset[date] = frozenset()  # if given, only these dates (weekdays and range still apply)

    def applies(self, day: date) -> bool:
        if self.dates and day not in self.dates:
            return False
        if self.date_from and day < self.date_from:
            return False
        if self.date_until and day > self.date_until:
            return False
        return day.weekday() in self.weekdays

    def on(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        if not self.applies(day):
            return None
        return at(day, self.start, zone), at(day, self.end, zone)


def subtract(span: tuple[datetime, datetime], holes: list[tuple[datetime, datetime]]
             ) -> list[tuple[datetime, datetime]]:
    """The parts of `span` not covered by any of `holes` (used to clip slots by blackouts)."""
    pieces = [span]
    for hole_start, hole_end in holes:
        kept = []
        for start, end in pieces:
            if hole_end <= start or hole_start >= end:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        pieces = kept
    return [p for p in pieces if p[1] > p[0]]
