"""Emergency break-in latency: time from `engine.break_in(...)` to the emergency's audio at the sound server.

Run: .venv/bin/python bench/bench_breakin.py [--block-frames 8192] [--count 8]

A programme of a quiet 330 Hz tone plays through the daemon's engine (`broadcaster.playout.setup.make_engine`,
sounddevice → ALSA → PulseAudio) into a private headless null sink; `parec` records the sink's monitor, timed on
time.monotonic() (`tests.support.pulse.Recorder`). Every few seconds an emergency break-in (a 1 kHz tone) is
requested; its latency is the first 10 ms window after the call where the 1 kHz component reaches half its full
level, minus the moment break_in() was called. It includes, by design, the 0.1 s fade-out of what is on air
(engine.EMERGENCY_FADE_SECONDS), the device latency left after `Sink.discard()` (the sounddevice sink drops its
queue, and PortAudio's buffer too when that is above 0.15 s, by restarting the stream), and a block of rendering.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from broadcaster.asrun.log import AsRunLog  # noqa: E402
from broadcaster.model import PlannedItem  # noqa: E402
from broadcaster.playout.setup import PlayoutSetup, make_engine  # noqa: E402
from broadcaster.station.config import AudioSettings  # noqa: E402
from tests.support.audio import write_wav  # noqa: E402
from tests.support.pulse import RATE, Recorder, start_server, stop_server  # noqa: E402

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def tone(freq: float, seconds: float, level: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x], axis=1)


def level_1k(x: np.ndarray, window: int) -> np.ndarray:
    """Amplitude of the 1 kHz component in consecutive `window`-frame windows."""
    n = len(x) // window * window
    frames = x[:n].reshape(-1, window)
    t = np.arange(window) / RATE
    c, s = np.cos(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 1000 * t)
    return 2 * np.hypot(frames @ c, frames @ s) / window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--block-frames", type=int, default=AudioSettings().block_frames)
    parser.add_argument("--count", type=int, default=8, help="break-ins in the run")
    args = parser.parse_args()

    server = start_server()
    os.environ.update({k: server.env[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH")})
    work = Path(tempfile.mkdtemp(prefix="bench-breakin."))
    try:
        spacing, em_seconds, em_level = 4.0, 1.0, 0.5
        write_wav(work / "bed.wav", tone(330, 10 + spacing * args.count, 0.2), RATE)
        write_wav(work / "siren.wav", tone(1000, em_seconds, em_level), RATE)
        settings = AudioSettings(output_devices=("default",), fade_seconds=0.005, crossfade_categories=(),
                                 block_frames=args.block_frames)
        setup = PlayoutSetup("Asia/Ho_Chi_Minh", work, work / "asrun.sqlite", work, work / "none.sqlite", settings)
        engine = make_engine(setup, AsRunLog(setup.asrun_log))
        start = datetime.now(ZONE) + timedelta(seconds=2)
        duration = 10 + spacing * args.count
        item = PlannedItem(start=start, end=start + timedelta(seconds=duration), slot="s", category="song",
                           title="bed", file="bed.wav", sha256="0" * 64, gain_db=0.0, duration=duration)
        recorder = Recorder(server)
        calls: list[float] = []

        def requests() -> None:
            time.sleep((start - datetime.now(ZONE)).total_seconds() + 3.0)
            for _ in range(args.count):
                calls.append(time.monotonic())
                engine.break_in(work / "siren.wav", "emergency", "bench")
                time.sleep(spacing)

        threading.Thread(target=requests, daemon=True).start()
        load_before = os.getloadavg()
        engine.play_run([item], item.end + timedelta(seconds=0.5))
        recording, t0 = recorder.stop()
        window = RATE // 100
        amp = level_1k(recording[:, 0], window)
        latencies = []
        for called in calls:
            first = max(0, int((called - t0) * RATE) // window)
            hits = np.nonzero(amp[first:] >= em_level / 2)[0]
            if len(hits):
                latencies.append((first + hits[0]) * window / RATE + t0 - called)
        ms = np.array(latencies) * 1000
        print(f"nproc={os.cpu_count()} load avg before {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
        print(f"block_frames {args.block_frames} ({args.block_frames / RATE * 1000:.0f} ms): "
              f"{len(ms)}/{len(calls)} break-ins heard")
        if len(ms):
            print(f"break_in() → emergency at half level on the monitor, ms: min {ms.min():.0f}  "
                  f"p50 {np.percentile(ms, 50):.0f}  max {ms.max():.0f}  (includes the 0.1 s fade of what was on air)")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
