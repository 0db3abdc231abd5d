"""Make a day's plan from the station's files: config, playlists/ and the library catalogue.

The only place the daemon touches the planner's inputs, so the daemon itself stays about time and playout.
Raises `BroadcasterError` when the inputs are broken; the daemon then keeps its last good plan.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from broadcaster.config import Station, load_station
from broadcaster.model import DayPlan


def make_plans(config: Path, days: list[date]) -> tuple[Station, list[DayPlan]]:
    """Load everything fresh (so an edit anywhere is seen) and plan each of `days`."""
    from broadcaster.plan_inputs import planner_inputs
    from broadcaster.planner import Catalogue, plan_day

    station = load_station(config)
    playlists, items = planner_inputs(station)
    items = Catalogue(items)
    return station, [plan_day(station, playlists, items, day) for day in days]


def watched_inputs(station: Station) -> list[Path]:
    """Files whose change means the rest of the day must be re-planned."""
    catalogue = station.paths.catalogue
    return [station.file, station.paths.playlists, catalogue, catalogue.with_name(catalogue.name + "-wal")]
