"""Benchmark: a province-year of as-run rows (235 communes × 365 days × 15 items = 1,286,625 rows) aggregated
into a yearly report, and each report format generated from it, with time and peak memory.

The rows go into ONE as-run SQLite file with the real schema and a valid hash chain (so `verify` is measured
too), written with executemany rather than the row-by-row `AsRunLog.append`. The commune is folded into the slot
id ("017-sang"), so "sessions per day" is the province's total. Year 2021 at the demo station's config: its
online-learning blackouts (17 Feb–12 Mar) apply, and a few emergency break-ins, failures and partial plays are
mixed in so every part of the report has work to do.

    .venv/bin/python bench/bench_report.py                 # generate (cached) + measure, prints a Markdown table
    .venv/bin/python bench/bench_report.py --formats json  # only some formats
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcaster.asrun.figures import build_report, verify_chain  # noqa: E402
from broadcaster.asrun.log import _COLUMNS, GENESIS, AsRunLog, _row_hash  # noqa: E402
from broadcaster.station.config import load_station  # noqa: E402

COMMUNES, DAYS, ITEMS_PER_DAY = 235, 365, 15
YEAR = 2021
CATEGORIES = ("bluezone", "khai-bao-y-te", "covid-song", "tin-xa", "chi-dao")
SLOTS = (("sang", 5, 30), ("trua", 11, 30), ("chieu", 17, 0))
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def rows(communes: int = COMMUNES):
    """All rows in time order per commune-day, with the hash chain computed as AsRunLog.append would."""
    prev = GENESIS
    first = datetime(YEAR, 1, 1, tzinfo=ZONE)
    for d in range(DAYS):
        day = first + timedelta(days=d)
        for c in range(communes):
            for i in range(ITEMS_PER_DAY):
                slot, hour, minute = SLOTS[i // 5]
                category = CATEGORIES[i % 5]
                item = f"{category}-{(i + d // 14) % 12}"  # a fortnightly rotation of 12 items per topic
                start = day + timedelta(hours=hour, minutes=minute + (i % 5) * 3, seconds=c % 60)
                seconds, status, level, reason = 150.0, "aired", "normal", ""
                key = (d * 7 + c * 13 + i) % 997
                if key == 0:
                    status, reason = "failed", "thiết bị âm thanh mất kết nối / sound device lost"
                elif key == 1:
                    status, seconds, reason = "partial", 40.0, "cắt khi hết buổi / cut at slot end"
                elif key == 2 and i == 7:  # an emergency break-in at 09:00, inside the morning lessons
                    start = day + timedelta(hours=9, seconds=c)
                    slot, level, reason = "", "emergency", "Thông báo khẩn của BCĐ phòng, chống dịch"
                stamp = start.isoformat(timespec="milliseconds")
                values = {"planned_start": stamp, "actual_start": None if status == "failed" else stamp,
                          "actual_end": None if status == "failed" else
                          (start + timedelta(seconds=seconds)).isoformat(timespec="milliseconds"),
                          "slot": f"{c:03d}-{slot}" if slot else "", "category": category,
                          "title": f"Bản tin {item}", "file": f"audio/{category}/{item}.mp3",
                          "sha256": hashlib.sha256(item.encode()).hexdigest(), "level": level, "status": status,
                          "reason": reason}
                row_hash = _row_hash(prev, values)
                yield [values[k] for k in _COLUMNS] + [prev, row_hash]
                prev = row_hash


def generate(path: Path, communes: int = COMMUNES) -> float:
    if path.exists():
        path.unlink()
    AsRunLog(path).close()  # the real schema and indexes
    started = time.perf_counter()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous=OFF")
        db.executemany(f"INSERT INTO asrun ({', '.join(_COLUMNS)}, prev_hash, row_hash) "
                       f"VALUES ({', '.join('?' * (len(_COLUMNS) + 2))})", rows(communes))
    return time.perf_counter() - started


def run_measured(argv: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"load average {os.getloadavg()[0]:.1f} at start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", default="/tmp/broadcaster-bench/asrun-province-2021.sqlite")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--formats", nargs="*", default=["json", "docx", "pdf", "csv", "xlsx"])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    log = Path(args.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    if args.regenerate or not log.exists():
        print(f"generating {COMMUNES * DAYS * ITEMS_PER_DAY:,} rows ...", file=sys.stderr)
        print(f"generated in {generate(log):.1f} s", file=sys.stderr)
    station = load_station(ROOT / "config.yaml")
    first, last = date(YEAR, 1, 1), date(YEAR, 12, 31)

    started = time.perf_counter()
    integrity = verify_chain(log)
    verify_s = time.perf_counter() - started
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = build_report(log, station, first, last, "month", integrity=integrity)
        timings.append(time.perf_counter() - started)
    single = []
    for _ in range(max(1, args.repeat // 2)):
        started = time.perf_counter()
        build_report(log, station, first, last, "month", integrity=integrity, threads=1)
        single.append(time.perf_counter() - started)

    print(f"Machine: {machine()}")
    print(f"Log: {log} ({log.stat().st_size / 2**20:.0f} MB, {integrity.rows:,} rows, chain ok: {integrity.ok})")
    print(f"Report: {report.plays:,} plays, {report.items} items, {report.minutes:,.0f} min, "
          f"{report.sessions:,} sessions, {len(report.exceptions)} blackout exceptions "
          f"({report.blackout_seconds:,.0f} s), {len(report.failures)} failures\n")
    print("| step | time | peak memory |\n|---|---|---|")
    print(f"| yearly aggregation (`build_report`, default threads), median of {args.repeat} | "
          f"{statistics.median(timings):.2f} s (best {min(timings):.2f} s) | |")
    print(f"| yearly aggregation, one thread, median of {len(single)} | {statistics.median(single):.2f} s | |")
    print(f"| hash-chain verification (`AsRunLog.verify`) | {verify_s:.2f} s | |")
    for fmt in args.formats:
        out = log.parent / f"report-2021.{fmt}"
        elapsed, peak = run_measured([sys.executable, "main.py", "report", "--from", str(first), "--to", str(last),
                                      "--period", "month", "--format", fmt, "--out", str(out), "--log", str(log)])
        print(f"| `report --format {fmt}` (whole command incl. verification; {out.stat().st_size / 2**20:.1f} MB) "
              f"| {elapsed:.1f} s | {peak:.0f} MB |")
    one = log.parent / "asrun-one-commune-2021.sqlite"
    generate(one, communes=1)
    elapsed, peak = run_measured([sys.executable, "main.py", "report", "--from", str(first), "--to", str(last),
                                  "--format", "pdf", "--out", str(log.parent / "one.pdf"), "--log", str(one)])
    print(f"| one commune's year ({DAYS * ITEMS_PER_DAY:,} rows): `report --format pdf`, whole command | "
          f"{elapsed:.1f} s | {peak:.0f} MB |")
    for fmt in ("pdf", "docx", "xlsx"):
        elapsed, peak = run_measured([sys.executable, "main.py", "logbook", "--week", f"{YEAR}-W08", "--format", fmt,
                                      "--out", str(log.parent / f"logbook.{fmt}"), "--log", str(one)])
        print(f"| one commune: `logbook --week {YEAR}-W08 --format {fmt}` | {elapsed:.1f} s | {peak:.0f} MB |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
