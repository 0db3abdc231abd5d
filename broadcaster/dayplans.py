"""Make a day's plan from the station's files: config, playlists/ and the library catalogue.

The only place the daemon touches the planner's inputs, so the daemon itself stays about time and playout.
Raises `BroadcasterError` when the inputs are broken; the daemon then keeps its last good plan.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from broadcaster.config import Station, load_station
from broadcaster.model import DayPlan


def library_items(station: Station) -> list:
    from broadcaster.library import Library

    return list(Library(station.paths.catalogue, station.paths.audio).items())


def make_plans(config: Path, days: list[date]) -> tuple[Station, list[DayPlan]]:
    """Load everything fresh (so an edit anywhere is seen) and plan each of `days`."""
    from broadcaster.planner import plan_day
    from broadcaster.playlists import load_playlists

    station = load_station(config)
    playlists = load_playlists(station)
    items = library_items(station)
    return station, [plan_day(station, playlists, items, day) for day in days]


def watched_inputs(station: Station) -> list[Path]:
    """Files whose change means the rest of the day must be re-planned."""
    catalogue = station.paths.catalogue
    return [station.file, station.paths.playlists, catalogue, catalogue.with_name(catalogue.name + "-wal")]
