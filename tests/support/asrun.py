"""A small real as-run log and the `log` commands run as a program, for the as-run log's tests."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import AsRunLog

ROOT = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def cli(*args: str) -> subprocess.CompletedProcess:
    """`python main.py ARGS --config config.yaml` (the demo station), or `--help` with no arguments."""
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"] if not args else
                          [sys.executable, str(ROOT / "main.py"), *args, "--config", str(ROOT / "config.yaml")],
                          capture_output=True, text=True, timeout=60)


def fill(path: Path, rows: int = 5) -> AsRunLog:
    """`rows` aired Bluezone clips from 05:30 on 2021-02-22, three minutes apart."""
    log = AsRunLog(path)
    start = datetime(2021, 2, 22, 5, 30, tzinfo=ZONE)
    for n in range(rows):
        begin = start + timedelta(minutes=3 * n)
        log.append(planned_start=begin, actual_start=begin + timedelta(milliseconds=7),
                   actual_end=begin + timedelta(minutes=3), status="aired", slot="sang", category="bluezone",
                   title=f"Clip {n}", file=f"bluezone/{n}.mp3", sha256=f"{n:064x}")
    return log
