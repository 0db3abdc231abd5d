"""Start-time error, gaps and underruns of the playout path the daemon uses, measured at the sound server.

Run: .venv/bin/python bench/bench_timing.py [--minutes 1] [--item-seconds 3]
     (10-minute soak for the figures in docs/benchmarks.md: --minutes 10)

A programme of many short items (each a different noise burst, 2–4 s, back to back) is planned on the wall clock
and played by the same engine the daemon builds (broadcaster.playout.setup.make_engine: sounddevice → ALSA →
PulseAudio) into a private headless PulseAudio null sink. `parec` records the sink's monitor; chunk arrival
times give the recording its own clock (tests/support/pulse.Recorder). Each item is found in the recording by
cross-correlation near where it should be; its start error is (heard − planned). Gaps: the longest stretch of
near-silence inside the programme. Underruns: PortAudio's count from the engine, plus dropouts in the recording.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from broadcaster.asrun.log import AsRunLog  # noqa: E402
from broadcaster.model import PlannedItem  # noqa: E402
from broadcaster.playout.setup import (  # noqa: E402
    PlayoutSetup,  # noqa: E402
    engine_preroll,
    make_engine,
)
from broadcaster.station.config import AudioSettings  # noqa: E402
from tests.support.audio import noise, write_wav  # noqa: E402
from tests.support.pulse import RATE, Recorder, start_server, stop_server  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROBE_SECONDS = 0.01  # the part of each item looked for (short: the sink repeats a sample every few thousand)
SEARCH_SECONDS = 0.5  # how far from the planned time it is looked for


def programme(folder: Path, minutes: float, item_seconds: float, start: datetime) -> tuple[list[PlannedItem], dict]:
    items, audio, at, k = [], {}, start, 0
    while at < start + timedelta(minutes=minutes):
        seconds = round(item_seconds * (0.7 + 0.6 * ((k * 7919) % 100) / 100), 3)  # 0.7–1.3 × item_seconds
        samples = noise(1000 + k, seconds, level=0.2)
        name = f"item-{k:04d}.wav"
        write_wav(folder / name, samples)
        audio[name] = samples
        items.append(PlannedItem(start=at, end=at + timedelta(seconds=seconds), slot="bench", category="noise",
                                 title=name, file=name, sha256="0" * 64, gain_db=0.0, duration=seconds))
        at += timedelta(seconds=seconds)
        k += 1
    return items, audio


def locate(recording: np.ndarray, probe: np.ndarray, around: int) -> tuple[int, float]:
    """Frame where `probe` starts in `recording`, searched ±SEARCH_SECONDS around `around`; and match quality."""
    lo = max(0, around - int(SEARCH_SECONDS * RATE))
    hi = min(len(recording), around + int(SEARCH_SECONDS * RATE) + len(probe))
    seg = recording[lo:hi]
    if len(seg) < len(probe):
        return -1, 0.0
    size = 1 << int(np.ceil(np.log2(len(seg) + len(probe))))
    corr = np.fft.irfft(np.fft.rfft(seg, size) * np.conj(np.fft.rfft(probe, size)), size)[:len(seg) - len(probe) + 1]
    lag = int(np.argmax(corr))
    quality = float(corr[lag] / (np.linalg.norm(probe) * np.linalg.norm(seg[lag:lag + len(probe)]) + 1e-12))
    return lo + lag, quality


def longest_quiet_ms(x: np.ndarray, threshold: float = 0.005, window: int = 22) -> tuple[float, float]:
    """Longest near-silence in `x` (ms) and where it starts (s into `x`)."""
    blocks = np.abs(x[:len(x) // window * window]).reshape(-1, window).max(axis=1) < threshold
    best = run = at = 0
    for k, quiet in enumerate(blocks):
        run = run + 1 if quiet else 0
        if run > best:
            best, at = run, k - run + 1
    return 1000.0 * best * window / RATE, at * window / RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="programme (soak) length; 10 for the figures")
    parser.add_argument("--item-seconds", type=float, default=3.0, help="mean item length")
    parser.add_argument("--resync-threshold", type=float, default=None,
                        help="engine re-alignment threshold, seconds (default: the engine's)")
    parser.add_argument("--backend", default="sounddevice", choices=["sounddevice", "simpleaudio"])
    parser.add_argument("--block-frames", type=int, default=None, help="default: audio.block_frames")
    args = parser.parse_args()

    server = start_server()
    os.environ.update({k: server.env[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH")})
    work = Path(tempfile.mkdtemp(prefix="bench-timing."))
    try:
        start = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=4)
        items, audio = programme(work, args.minutes, args.item_seconds, start)
        settings = AudioSettings(output_devices=("default",), backend=args.backend, fade_seconds=0.005,
                                 crossfade_categories=(),
                                 block_frames=args.block_frames or AudioSettings().block_frames)
        setup = PlayoutSetup("Asia/Ho_Chi_Minh", work, work / "asrun.sqlite", work, work / "none.sqlite", settings)
        log = AsRunLog(setup.asrun_log)
        tuning = {} if args.resync_threshold is None else {"resync_threshold": args.resync_threshold}
        engine = make_engine(setup, log, **tuning)
        recorder = Recorder(server, channels=1)
        # The programme starts with the daemon's lead from now (the engine's preroll + 1 s), whatever writing
        # the files and starting the recorder took: with a fixed 4 s from before that, a 10-minute programme's
        # first item could be due sooner than the engine can line the sink up, and start late.
        lead = (datetime.now(ZONE) + timedelta(seconds=engine_preroll(settings) + 1.0)).replace(microsecond=0) \
            + timedelta(seconds=1) - start
        items = [replace(i, start=i.start + lead, end=i.end + lead) for i in items]
        # One instant on both clocks: planned wall times → monotonic → recording frames.
        wall_now, mono_now = datetime.now(ZONE), time.monotonic()
        load_before = os.getloadavg()
        result = engine.play_run(items, items[-1].end + timedelta(seconds=0.5))
        time.sleep(0.3)
        recording, _ = recorder.stop()
        recording = recording[:, 0]
        load_after = os.getloadavg()

        errors, qualities, found_at = [], [], {}  # found_at: item index → frame heard
        for k, item in enumerate(items):
            planned_mono = mono_now + (item.start - wall_now).total_seconds()
            expected = round(recorder.frame_at(planned_mono))
            probe = audio[item.file][:int(PROBE_SECONDS * RATE)].mean(axis=1)
            found, quality = locate(recording, probe, expected)
            if found >= 0 and quality > 0.5:
                errors.append((recorder.time_of(found) - planned_mono) * 1000.0)
                qualities.append(quality)
                found_at[k] = found
        # Item k+1 heard exactly one planned duration after item k: no gap, no overlap. Measured in time (the
        # recording's fitted clock): the sink keeps a device that runs off its nominal rate on time by adding or
        # dropping a sample every few thousand, so in device frames the spacing is off by design.
        pairs = [k for k in range(len(items) - 1) if k in found_at and k + 1 in found_at]
        joins = [abs(recorder.time_of(found_at[k + 1]) - recorder.time_of(found_at[k]) - items[k].seconds) * 1000.0
                 for k in pairs]
        joins_frames = [abs(found_at[k + 1] - found_at[k] - round(items[k].seconds * RATE)) / RATE * 1000.0
                        for k in pairs]
        # Gaps are looked for between where the first item was heard and where the last one ended.
        k0, k1 = (min(found_at), max(found_at)) if found_at else (0, 0)
        first = found_at.get(k0, 0)
        last = found_at.get(k1, 0) + round(items[k1].seconds * RATE)
        inner = recording[first + int(0.02 * RATE):max(first, last - int(0.02 * RATE))]
        abs_err = np.abs(np.array(errors)) if errors else np.array([np.nan])
        entries = log.entries()
        logged = [(datetime.fromisoformat(e.actual_start) - datetime.fromisoformat(e.planned_start)).total_seconds()
                  * 1000 for e in entries if e.actual_start and e.planned_start]

        print(f"machine: {platform.node()} nproc={os.cpu_count()} load avg before {load_before[0]:.1f}, "
              f"after {load_after[0]:.1f}")
        print(f"programme: {len(items)} items, {args.minutes:g} min, mean item {args.item_seconds:g} s, "
              f"backend {args.backend}")
        ppm = (1.0 / (recorder.time_of(RATE) - recorder.time_of(0)) - 1.0) * 1e6
        print(f"null sink's clock (recorded monitor) vs time.monotonic: {ppm:+.0f} ppm")
        print(f"found in recording: {len(errors)}/{len(items)} items (correlation ≥ 0.5, median "
              f"{np.median(qualities) if qualities else 0:.3f})")
        print(f"start error at the sound server (heard − planned), ms: p50 {np.percentile(abs_err, 50):.1f}  "
              f"p99 {np.percentile(abs_err, 99):.1f}  max {abs_err.max():.1f}  "
              f"(signed mean {np.mean(errors) if errors else float('nan'):+.1f})")
        jitter = np.abs(np.array(errors) - np.median(errors)) if errors else np.array([np.nan])
        print(f"same, about the run's median (jitter; a constant offset is the monitor tapping the null sink "
              f"ahead of its latency), ms: p50 {np.percentile(jitter, 50):.1f}  p99 {np.percentile(jitter, 99):.1f}  "
              f"max {jitter.max():.1f}")
        if joins:
            print(f"joins between consecutive items (|heard spacing − planned duration|, in time), ms: "
                  f"p50 {np.percentile(joins, 50):.2f}  p99 {np.percentile(joins, 99):.2f}  max {max(joins):.2f}"
                  f"  (in device frames: p50 {np.percentile(joins_frames, 50):.2f}  "
                  f"p99 {np.percentile(joins_frames, 99):.2f})")
        print(f"engine's own as-run (actual − planned), ms: p50 {np.percentile(np.abs(logged), 50):.1f}  "
              f"p99 {np.percentile(np.abs(logged), 99):.1f}" if logged else "no as-run rows")
        gap_ms, gap_at = longest_quiet_ms(inner)
        print(f"longest near-silence inside the programme (gap): {gap_ms:.1f} ms, {gap_at:.2f} s in")
        print(f"underruns: PortAudio {result.underruns}; re-alignments {len(result.resyncs)} "
              f"{[round(r * 1000, 1) for r in result.resyncs][:10]}; sink failures {len(result.sink_failures)}")
        print(f"as-run: {sum(e.status == 'aired' for e in entries)} aired, "
              f"{sum(e.status != 'aired' for e in entries)} other")
        for e in entries:
            if e.status != "aired":
                print(f"  {e.title}: {e.status} ({e.reason})")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
