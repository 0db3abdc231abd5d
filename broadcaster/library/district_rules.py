"""What the district asked of each of its clips now in the library (quota, priority, validity), as the planner
needs it. Feed sync records it in `<paths.state>/feed.sqlite` (broadcaster.feed.state); this reads it back, so the
planner's inputs come from below the feed, not from the feed itself.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

from broadcaster.station.config import Station

STATE_FILE = "feed.sqlite"  # written by broadcaster.feed.state.FeedState


def district_rules(station: Station) -> list[dict]:
    """Per district clip in the library: sha256, category, title, plays_per_day_min/max (None = no quota),
    priority, valid_from/valid_until (ISO dates or None), district. Read-only; [] before the first sync."""
    path = station.paths.state / STATE_FILE
    try:
        if not path.exists():
            return []
    except PermissionError:  # a user outside the service's group (play-now): no quotas, the catalogue still rules
        return []
    with closing(sqlite3.connect(path)) as db:
        cur = db.execute(
            "SELECT sha256, category, title, plays_per_day_min, plays_per_day_max, priority, valid_from, valid_until,"
            " district FROM clips WHERE status = 'ingested' ORDER BY category, sha256")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
