"""Every aired item of a period as CSV: one row per aired or partial play, in log order.

UTF-8 with a byte-order mark, so spreadsheet programs open the Vietnamese text correctly. Columns are the
stable interface documented in docs/cli.md ("Reports"); `category_name`, the topic's name, came last so the
earlier columns kept their places."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from broadcaster.asrun.figures import LoggedItem
from broadcaster.station.config import topic_name

COLUMNS = ["id", "date", "start", "end", "seconds", "slot", "category", "title", "file", "sha256", "level",
           "status", "reason", "category_name"]


def render_items_csv(items: Iterable[LoggedItem], out: str | Path, topics: Mapping[str, str] | None = None) -> int:
    count = 0
    with open(out, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for item in items:
            writer.writerow([item.id, item.day, item.start, item.end, f"{item.seconds:.3f}", item.slot,
                             item.category, item.title, item.file, item.sha256, item.level, item.status,
                             item.reason, topic_name(topics, item.category)])
            count += 1
    return count
