"""Planning speed: 365 days for the demo station (goal: under 1 s).

Run: .venv/bin/python bench/bench_plan.py [--days 365]
Uses the demo station's config.yaml and playlists; the library is the demo catalogue if it has been built
(scripts/demo.sh), else a synthetic one of the same shape (16 songs, 3+3 spots, idents, news).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from broadcaster.planning.planner import Catalogue, plan_days  # noqa: E402
from broadcaster.station.config import load_station  # noqa: E402
from broadcaster.station.playlists import load_playlists  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    station = load_station(ROOT / "config.yaml")
    playlists = load_playlists(station)
    source = "demo catalogue"
    try:
        from broadcaster.planning.inputs import library_items

        items = library_items(station)
    except Exception:  # noqa: BLE001 - the bench still runs before the library is built
        items = []
    if not items:
        from tests.support.library import demo_library

        items, source = demo_library(), "synthetic demo-shaped library"
    catalogue = Catalogue(items)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        plans = plan_days(station, playlists, catalogue, date(2021, 1, 1), args.days)
        times.append(time.perf_counter() - started)
    count = sum(len(p.items) for p in plans)
    print(f"library: {source}, {len(items)} items")
    best, median = min(times), sorted(times)[len(times) // 2]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"planned {args.days} days, {count} items: best {best:.3f} s, median {median:.3f} s "
          f"({best / args.days * 1000:.2f} ms/day); peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
