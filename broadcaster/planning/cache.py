"""The last good day plans on disk, so a broken config edit or a restart keeps the station playing.

`paths.state/plans/YYYY-MM-DD.json` holds one DayPlan; it is written atomically (temp file + rename) every time
a plan is made from good inputs. The daemon reads it back when the config stops loading, and after a restart to
know what should be on air (the same plan that was playing, not a fresh one made from files changed since).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.files import write_atomic
from broadcaster.model import DayPlan, PlanException, PlannedItem, Window


def plan_to_json(plan: DayPlan) -> dict:
    def encode(value):
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [encode(v) for v in value]
        return value

    return encode(asdict(plan))


def plan_from_json(data: dict) -> DayPlan:
    def window(d: dict) -> Window:
        return Window(d["id"], d["name"], datetime.fromisoformat(d["start"]), datetime.fromisoformat(d["end"]))

    def item(d: dict) -> PlannedItem:
        known = {f.name for f in fields(PlannedItem)}
        values = {k: v for k, v in d.items() if k in known}
        values["start"] = datetime.fromisoformat(d["start"])
        values["end"] = datetime.fromisoformat(d["end"])
        return PlannedItem(**values)

    return DayPlan(
        date=date.fromisoformat(data["date"]), timezone=data["timezone"],
        slots=[window(w) for w in data.get("slots", [])],
        blackouts=[window(w) for w in data.get("blackouts", [])],
        items=[item(i) for i in data.get("items", [])],
        unfilled_seconds=dict(data.get("unfilled_seconds", {})),
        exceptions=[PlanException(**e) for e in data.get("exceptions", [])],
    )


class PlanCache:
    def __init__(self, state_dir: Path):
        self.folder = Path(state_dir) / "plans"

    def path(self, day: date) -> Path:
        return self.folder / f"{day.isoformat()}.json"

    def save(self, plan: DayPlan) -> None:
        write_atomic(self.path(plan.date), json.dumps(plan_to_json(plan), ensure_ascii=False, indent=1))

    def load(self, day: date) -> DayPlan | None:
        try:
            return plan_from_json(json.loads(self.path(day).read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def latest_before(self, day: date) -> DayPlan | None:
        """The newest cached plan for a day before `day` (yesterday's good plan when today's cannot be made)."""
        if not self.folder.is_dir():
            return None
        days = sorted(p.stem for p in self.folder.glob("*.json") if p.stem < day.isoformat())
        return self.load(date.fromisoformat(days[-1])) if days else None


def shifted_to(plan: DayPlan, day: date) -> DayPlan:
    """The same plan on another day, at the same wall-clock times in the station zone."""
    zone = ZoneInfo(plan.timezone)

    def move(moment: datetime) -> datetime:
        return datetime.combine(day + (moment.date() - plan.date), moment.time(), zone)

    def window(w: Window) -> Window:
        return Window(w.id, w.name, move(w.start), move(w.end))

    return DayPlan(
        date=day, timezone=plan.timezone, slots=[window(w) for w in plan.slots],
        blackouts=[window(w) for w in plan.blackouts],
        items=[replace(i, start=move(i.start), end=move(i.end)) for i in plan.items],
        unfilled_seconds=dict(plan.unfilled_seconds), exceptions=list(plan.exceptions))
