"""Everything the planner needs for a station, read from disk: playlists (with the district's per-clip quotas
folded in) and the library catalogue. The one place commands, the daemon and simulate get planner inputs from,
so they can never plan from different rules."""

from __future__ import annotations

from broadcaster.config import Station
from broadcaster.model import LibraryItem
from broadcaster.playlists import ItemRule, Playlist, Quota, load_playlists, with_item_rules


def library_items(station: Station) -> list[LibraryItem]:
    from broadcaster.library import Library  # the catalogue adapter (SQLite); the planner never sees it

    if not station.paths.catalogue.exists():
        return []
    return Library(station.paths.catalogue, station.paths.audio).items()


def district_item_rules(station: Station) -> list[ItemRule]:
    """Quotas sent by the district with each clip (plays_per_day MIN-MAX) as item rules; dates and priority
    travel on the library item itself."""
    from broadcaster.feed_state import district_rules

    rules = []
    for rule in district_rules(station):
        low, high = rule.get("plays_per_day_min"), rule.get("plays_per_day_max")
        if low is None and high is None:
            continue
        rules.append(ItemRule(sha256=rule["sha256"], plays=Quota(low or 0, high)))
    return rules


def planner_inputs(station: Station) -> tuple[dict[str, Playlist], list[LibraryItem]]:
    playlists = with_item_rules(load_playlists(station), district_item_rules(station))
    return playlists, library_items(station)
