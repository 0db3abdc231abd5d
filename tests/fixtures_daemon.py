"""Hand-made day plans and small station configs for the daemon tests (imported explicitly, not a conftest)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from broadcaster.model import DayPlan, PlannedItem, Window

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 3, 1)


def at(hms: str, day: date = DAY) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=ZONE)


def item(start: datetime, seconds: float, title: str, slot: str = "sang", level: str = "normal") -> PlannedItem:
    return PlannedItem(start=start, end=start + timedelta(seconds=seconds), slot=slot, category="tin-tuc",
                       title=title, file=f"tin-tuc/{title}.wav", sha256=title * 2, gain_db=0.0, duration=seconds,
                       level=level)


def plan(day: date = DAY) -> DayPlan:
    """Morning slot 05:30–06:00 (three 10-minute items), a blackout 07:30–11:30, noon slot 11:30–11:45."""
    morning = Window("sang", "Buổi sáng", at("05:30:00", day), at("06:00:00", day))
    noon = Window("trua", "Buổi trưa", at("11:30:00", day), at("11:45:00", day))
    items = [item(at("05:30:00", day) + timedelta(minutes=10 * i), 600, f"sang-{i}") for i in range(3)]
    items += [item(at("11:30:00", day), 300, "trua-0", "trua"), item(at("11:35:00", day), 300, "trua-1", "trua")]
    return DayPlan(date=day, timezone="Asia/Ho_Chi_Minh", slots=[morning, noon],
                   blackouts=[Window("hoc", "Học trực tuyến", at("07:30:00", day), at("11:30:00", day))],
                   items=items)
