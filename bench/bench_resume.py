"""Restart after kill -9: how soon the cut item is back on air, and how late a slot's first item starts, per
block size. The daemon as the station runs it (`python main.py run`, a real process) on a private headless
PulseAudio null sink.

Run: .venv/bin/python bench/bench_resume.py [--block-frames 16384 32768] [--repeat 3]

Per run: a slot of 6 s tones starts 8 s after the daemon; 2.5 s into its second item the daemon is killed
(SIGKILL) and started again at once. Printed: the first item's as-run start minus its planned start (the lead
before a slot), and the resumed item's as-run start (when its first frame is heard, by the sink's clock) minus
the moment of the restart: issue 3's goal is 2 s. With the load average, as the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from tests.support.daemon import (  # noqa: E402
    DaemonProcess,
    now_in_zone,
    station_dir,
    warm_up,
)
from tests.support.pulse import start_server, stop_server  # noqa: E402


def rows(config: Path, env: dict, day) -> list[dict]:
    out = subprocess.run([sys.executable, "main.py", "log", "show", "--config", str(config), "--date", day.isoformat(),
                          "--json"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def lined_up(daemon: DaemonProcess) -> str:
    """The engine's own reading of how early (-) or late (+) the run's first frame was lined up."""
    found = re.search(r"run frame 0 is ([-+0-9.]+) ms", daemon.text())
    return f"{found.group(1)} ms" if found else "?"


def one_run(folder: Path, env: dict, block_frames: int) -> tuple[float, float, str]:
    config, start = station_dir(folder, 7, 30, item_seconds=6, block_frames=block_frames)
    daemon = DaemonProcess(config, env)
    time.sleep(max(0.0, (start - now_in_zone()).total_seconds() + 8.5))
    daemon.kill9()
    restarted = now_in_zone()
    again = DaemonProcess(config, env)
    again.wait_for("run thu start", 10)
    time.sleep(4)
    again.stop()
    logged = rows(config, env, start.date())
    first = logged[0]
    resumed = next((r for r in logged if "resumed after restart" in r["reason"]), None)
    first_late = (datetime.fromisoformat(first["actual_start"]) - start).total_seconds()
    back = (datetime.fromisoformat(resumed["actual_start"]) - restarted).total_seconds() if resumed and \
        resumed["actual_start"] else float("nan")
    return first_late, back, (f"first {first['status']} {first['reason'][:60]!r}, lined up at {lined_up(daemon)}; "
                              f"resumed {resumed['status'] if resumed else 'missing'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--block-frames", type=int, nargs="+", default=[16384, 32768])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    server = start_server()
    env = server.env
    try:
        warm_up(env, Path(server.runtime))
        for block_frames in args.block_frames:
            for n in range(args.repeat):
                load = os.getloadavg()[0]
                with tempfile.TemporaryDirectory(prefix="bench-resume.") as tmp:
                    first_late, back, statuses = one_run(Path(tmp), env, block_frames)
                print(f"block_frames {block_frames:6d}  run {n + 1}: first item {1000 * first_late:+7.1f} ms from "
                      f"planned; resumed item on air {back:5.2f} s after the restart ({statuses}); "
                      f"load {load:.2f} -> {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
