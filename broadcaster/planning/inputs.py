"""Everything the planner needs for a station, read from disk: playlists (with the district's per-clip quotas
folded in) and the library catalogue. The one place commands, the daemon and simulate get planner inputs from,
so they can never plan from different rules.

`make_plans` is the only place the daemon touches the planner's inputs, so the daemon itself stays about time
and playout. It raises `BroadcasterError` when the inputs are broken; the daemon then keeps its last good plan.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from broadcaster.bulletins.store import STORE_NAME
from broadcaster.model import DayPlan, LibraryItem
from broadcaster.station.config import Station, load_station
from broadcaster.station.playlists import ItemRule, Playlist, Quota, load_playlists, with_item_rules


def library_items(station: Station) -> list[LibraryItem]:
    from broadcaster.library.catalogue import Library  # the catalogue adapter (SQLite); the planner never sees it

    if not station.paths.catalogue.exists():
        return []
    return Library(station.paths.catalogue, station.paths.audio).items()


def district_item_rules(station: Station) -> list[ItemRule]:
    """Quotas sent by the district with each clip (plays_per_day MIN-MAX) as item rules; dates and priority
    travel on the library item itself."""
    from broadcaster.feed.state import district_rules

    rules = []
    for rule in district_rules(station):
        low, high = rule.get("plays_per_day_min"), rule.get("plays_per_day_max")
        if low is None and high is None:
            continue
        rules.append(ItemRule(sha256=rule["sha256"], plays=Quota(low or 0, high)))
    return rules


def bulletin_item_rules(station: Station) -> list[ItemRule]:
    """Plays per day chosen when each approved bulletin was written."""
    from broadcaster.bulletins.store import BulletinStatus, BulletinStore

    store = BulletinStore.of_station(station)
    return [ItemRule(sha256=b.audio_sha256, plays=Quota(b.plays_min or 0, b.plays_max))
            for b in store.bulletins((BulletinStatus.APPROVED,)) if b.plays_min is not None]


def planner_inputs(station: Station) -> tuple[dict[str, Playlist], list[LibraryItem]]:
    playlists = with_item_rules(load_playlists(station), bulletin_item_rules(station) + district_item_rules(station))
    return playlists, library_items(station)



def make_plans(config: Path, days: list[date]) -> tuple[Station, list[DayPlan]]:
    """Load everything fresh (so an edit anywhere is seen) and plan each of `days`."""
    from broadcaster.planning.planner import Catalogue, plan_day

    station = load_station(config)
    playlists, items = planner_inputs(station)
    items = Catalogue(items)
    return station, [plan_day(station, playlists, items, day) for day in days]


def watched_inputs(station: Station) -> list[Path]:
    """Files whose change means the rest of the day must be re-planned."""
    catalogue = station.paths.catalogue
    return [station.file, station.paths.playlists, catalogue, catalogue.with_name(catalogue.name + "-wal"),
            station.paths.state / STORE_NAME]
