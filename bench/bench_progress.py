"""Cost of the progress bar (broadcaster/commands/progress.py) on the longest loop it counts: the 1.3 M rows a
province-year CSV or XLSX report writes (bench/bench_report.py), compared with the same loop without it.

Run: .venv/bin/python bench/bench_progress.py [--rows 1286625] [--repeat 5]

Three loops over the same rows: plain; through `Progress.iterate` with no terminal (what a pipe, cron or a log
gets); and with the bar drawn (into memory, standing in for the terminal), told every 512 rows as `report` does.
Best of --repeat, in seconds.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from contextlib import redirect_stderr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcaster.commands.progress import Progress  # noqa: E402


def best(loop, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        loop()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_286_625)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = range(args.rows)

    def counted(enabled: bool) -> int:
        return sum(1 for _ in Progress(enabled=enabled).iterate("report-rows", rows, args.rows, every=512))

    plain = best(lambda: sum(1 for _ in rows), args.repeat)
    off = best(lambda: counted(False), args.repeat)
    with redirect_stderr(io.StringIO()):
        on = best(lambda: counted(True), args.repeat)
    print(f"rows {args.rows:,}, load average {os.getloadavg()[0]:.1f}")
    print(f"| loop | best of {args.repeat} | extra per row |")
    print("|---|---:|---:|")
    for name, seconds in (("plain", plain), ("progress, no terminal", off), ("progress, bar drawn", on)):
        print(f"| {name} | {seconds:.3f} s | {(seconds - plain) / args.rows * 1e9:.0f} ns |")


if __name__ == "__main__":
    main()
