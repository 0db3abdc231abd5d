"""`simulate`: play planned days through the real engine with a simulated clock, as fast as it can mix.

One WAV per slot run in --out (`YYYY-MM-DD_<slot>_HHMMSS.wav`, the run's start in station time) and the as-run
log of the simulated days in `--out/asrun.sqlite`. `--no-audio` mixes every block and throws it away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from broadcaster.commands.progress import Progress
from broadcaster.model import DayPlan, Window
from broadcaster.planning.runs import runs_of
from broadcaster.playout.clock import SimClock
from broadcaster.playout.engine import Engine
from broadcaster.problems import fail
from broadcaster.sound.sinks import NullSink, WavFileSink
from broadcaster.station.config import Station, load_station


def register(sub, common) -> None:
    sim = sub.add_parser("simulate", parents=[common],
                         help="phát thử nhanh ra tệp WAV / simulated playout to WAV files, faster than real time")
    sim.add_argument("--date", required=True, help="first day, YYYY-MM-DD (station time)")
    sim.add_argument("--days", type=int, default=1)
    sim.add_argument("--out", required=True, help="folder for the WAVs and asrun.sqlite")
    sim.add_argument("--no-audio", action="store_true", help="mix but write no WAV (weeks of simulation)")
    sim.set_defaults(handler=cmd_simulate)


def wav_name(window: Window, zone) -> str:
    start = window.start.astimezone(zone)
    return f"{start:%Y-%m-%d}_{window.id}_{start:%H%M%S}.wav"


def simulate_plans(station: Station, plans: list[DayPlan], out: Path, *, audio: bool = True,
                   progress: Callable[[str, int, int | None], None] | None = None) -> dict:
    """Play `plans` with a SimClock into WAV files (or a NullSink). Returns counts for the summary.
    `progress("simulate", done, total)` hears of each slot run played."""
    out.mkdir(parents=True, exist_ok=True)
    zone = station.zone
    settings = station.audio
    stats = {"runs": 0, "rows": 0, "audio_seconds": 0.0, "blocks": 0, "files": []}
    total = sum(1 for plan in plans for run in runs_of(plan) if run.items)
    with AsRunLog(out / "asrun.sqlite", durable=False) as log:  # a simulation can be run again: no fsync per row
        for plan in plans:
            for run in runs_of(plan):
                if not run.items:
                    continue
                if progress:
                    progress("simulate", stats["runs"], total)
                target = out / wav_name(run.window, zone)
                clock = SimClock(zone, run.start - timedelta(seconds=1))

                def factory(device: str, block_frames: int, target: Path = target):
                    if audio:
                        return WavFileSink(target, settings.sample_rate, settings.channels)
                    return NullSink()

                engine = Engine(station.paths.audio, settings, factory, clock, log, zone, blackouts=plan.blackouts)
                result = engine.play_run(run.items, run.hard_stop)
                stats["runs"] += 1
                stats["rows"] += len(result.entries)
                stats["audio_seconds"] += result.frames / settings.sample_rate
                stats["blocks"] += result.blocks
                if audio:
                    stats["files"].append(target)
    if progress:
        progress("simulate", stats["runs"], total)
    return stats


def cmd_simulate(args) -> int:
    from broadcaster.planning.inputs import planner_inputs
    from broadcaster.planning.planner import plan_days

    try:
        first = date.fromisoformat(args.date)
    except ValueError:
        raise fail("--date", f"ngày không hợp lệ: {args.date!r}", f"not a date: {args.date!r}",
                   "viết dạng YYYY-MM-DD", "write it as YYYY-MM-DD") from None
    station = load_station(args.config)
    playlists, items = planner_inputs(station)
    plans = plan_days(station, playlists, items, first, max(args.days, 1))
    began = time.perf_counter()
    with Progress() as progress:
        stats = simulate_plans(station, plans, Path(args.out), audio=not args.no_audio, progress=progress)
    took = time.perf_counter() - began
    speed = stats["audio_seconds"] / took if took > 0 else float("inf")
    print(f"{stats['runs']} buổi phát / slot runs, {stats['rows']} dòng nhật ký / as-run rows, "
          f"{stats['audio_seconds'] / 60:.1f} phút âm thanh / minutes of audio in {took:.1f} s "
          f"({speed:.0f}× real time)")
    for path in stats["files"]:
        print(f"  {path}")
    print(f"  {Path(args.out) / 'asrun.sqlite'}")
    return 0
