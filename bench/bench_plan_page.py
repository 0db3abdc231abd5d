"""Week plan page, server side and in-process: the time Django takes to answer /plan/?days=7 (view + template),
with no HTTP, no other process, and the 7 plans already made (as on every request after the first). The same
station as bench/bench_web.py: the demo's config.yaml and playlist, a synthetic tone library, a year of as-run log.

Run: .venv/bin/python bench/bench_plan_page.py [--requests 40]
Prints the median and p95 of the whole request (Django's test Client: middleware, view, template), in wall time
and in the process's CPU time, and the load average: compare figures taken at a similar load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_web import percentile, year_of_asrun  # noqa: E402

from tests.support.web import demo_station  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    config = demo_station(Path(tempfile.mkdtemp(prefix="bench-plan-page-")) / "station")
    rows = year_of_asrun(config)
    from broadcaster.commands.web import start_django

    start_django(str(config))
    from django.contrib.auth import get_user_model
    from django.test import Client

    from broadcaster.web import station_view
    from broadcaster.web.accounts import add_user

    add_user("viewer", "viewer", "mat-khau-thu-1")
    client = Client()
    client.force_login(get_user_model().objects.get(username="viewer"))
    monday = date.today() - timedelta(days=date.today().weekday())
    path = f"/plan/?date={monday}&days=7"
    first = client.get(path)  # plans the week (not counted: every later request finds the plans made)
    assert first.status_code == 200, first.status_code
    items = sum(len(p.items) for p in station_view.plans(station_view.station(), monday, 7))
    times, cpu = [], []  # wall time, and this process's CPU time (what a shared, loaded machine disturbs less)
    for _ in range(args.requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"station: demo config.yaml + playlist, synthetic tone library; as-run log {rows} rows over 365 days")
    print(f"week plan {monday}: {items} items, {len(response.content) // 1024} KB of HTML")
    print(f"request (view + template), median {statistics.median(times) * 1000:6.1f} ms, "
          f"p95 {percentile(times, 0.95) * 1000:6.1f} ms ({args.requests} requests)")
    print(f"  CPU time of the process,  median {statistics.median(cpu) * 1000:6.1f} ms, "
          f"p95 {percentile(cpu, 0.95) * 1000:6.1f} ms")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
