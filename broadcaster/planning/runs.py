"""What should be on air: a day plan cut into runs, and the item and offset due at any instant.

A *run* is one contiguous slot segment (a slot after blackout clipping) with its items; the daemon hands one
run at a time to the engine. `due_at(plans, now)` is the pure answer to "what should the loudspeakers be
playing now?" that a restart needs (LibreTime's player does the same: compare the schedule with the clock and
seek into the current item by how late it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from broadcaster.model import DayPlan, PlannedItem, Window


@dataclass(frozen=True)
class Run:
    """One slot segment of one day, played by the engine in one go."""

    window: Window
    items: tuple[PlannedItem, ...]

    @property
    def key(self) -> str:
        # Stable across re-plans of the same segment: the scheduler job id.
        return f"{self.window.id}@{self.window.start.isoformat()}"

    @property
    def start(self) -> datetime:
        return self.window.start

    @property
    def hard_stop(self) -> datetime:
        return self.window.end


@dataclass(frozen=True)
class Due:
    """The run on air at an instant, the item within it and how far into that item (seconds)."""

    run: Run
    index: int
    offset: float

    @property
    def item(self) -> PlannedItem:
        return self.run.items[self.index]


def runs_of(plan: DayPlan) -> list[Run]:
    """The plan's slot segments in time order, each with the items that start inside it."""
    runs = []
    for window in sorted(plan.slots, key=lambda w: w.start):
        items = tuple(sorted((i for i in plan.items if window.start <= i.start < window.end),
                             key=lambda i: i.start))
        runs.append(Run(window, items))
    return runs


def due_at(plans: Iterable[DayPlan], now: datetime) -> Due | None:
    """The item that should be on air at `now`, or None between runs and in gaps.

    With crossfades two items overlap; the later one is the one "on air" once it has started."""
    for plan in plans:
        for run in runs_of(plan):
            if not run.start <= now < run.hard_stop:
                continue
            for index in range(len(run.items) - 1, -1, -1):
                item = run.items[index]
                if item.start <= now < item.end:
                    return Due(run, index, (now - item.start).total_seconds())
            return None
    return None


def run_at(plans: Iterable[DayPlan], now: datetime) -> Run | None:
    """The run whose window contains `now` (even in a gap between its items)."""
    for plan in plans:
        for run in runs_of(plan):
            if run.start <= now < run.hard_stop:
                return run
    return None


def runs_ahead(plans: Iterable[DayPlan], now: datetime) -> list[Run]:
    """Runs not yet over at `now` (the one on air first): where a priority clip may still air."""
    return [run for plan in plans for run in runs_of(plan) if run.hard_stop > now]
