"""Where real-time playout's CPU goes: per thread, and per part of the engine's block loop, in steady state.

Run: .venv/bin/python bench/bench_playout_threads.py [--seconds 130] [--warm-up 60] [--block-frames 16384]

The daemon's path (broadcaster.playout.setup.make_engine + Engine.play_run, sounddevice → ALSA → PulseAudio) plays a
list of 60 s MP3s (bench_playout's, 128 kbit/s, 44.1 kHz) into a private headless PulseAudio null sink, in this
process. After the warm-up it reads, for every thread, utime+stime and context switches from
/proc/self/task/*/{stat,status} (ticks of 10 ms: a thread's figure is ±0.5 s per hour over the default window),
and the thread CPU time (time.thread_time) spent in the engine's parts, each wrapped in a timer: one block's
`step`, the mixer's `render` and the decoder calls inside it, the sink's `write` (waits for room included), the
PortAudio callback and its clock measurement, the as-run and timing checks. The wrappers cost a few µs a call.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import bench_playout as bp  # noqa: E402

TIMED = collections.defaultdict(lambda: [0.0, 0])  # part -> [thread CPU seconds, calls]
NAMES = {"threaded-ml": "PulseAudio client (ALSA plugin)"}  # thread id or name -> what it is
THREAD_OF = {"engine: one block (step)": "engine", "PortAudio callback (Python)": "PortAudio callback"}


def timed(cls, name: str, label: str) -> None:
    inner = getattr(cls, name)

    def wrapper(*args, **kwargs):
        if label in THREAD_OF:
            NAMES.setdefault(threading.get_native_id(), THREAD_OF[label])
        t = time.thread_time()
        try:
            return inner(*args, **kwargs)
        finally:
            part = TIMED[label]
            part[0] += time.thread_time() - t
            part[1] += 1

    setattr(cls, name, wrapper)


def threads() -> dict[str, tuple[str, float, int]]:
    """tid -> (name, CPU seconds, voluntary context switches: wake-ups after a wait)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
            status = Path(f"/proc/self/task/{tid}/status").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        woken = int(status.split("\nvoluntary_ctxt_switches:")[1].split()[0])
        out[tid] = (stat[stat.index("(") + 1:stat.rindex(")")], (int(fields[11]) + int(fields[12])) / bp.TICK, woken)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=130.0, help="length of the run")
    parser.add_argument("--warm-up", type=float, default=60.0, help="seconds left out at the start")
    parser.add_argument("--block-frames", type=int, default=16384)
    args = parser.parse_args()

    from broadcaster.asrun.log import AsRunLog
    from broadcaster.model import PlannedItem
    from broadcaster.playout import engine
    from broadcaster.playout.setup import PlayoutSetup, make_engine
    from broadcaster.sound import decode, mixer, sinks
    from broadcaster.station.config import AudioSettings
    from tests.support.pulse import start_server, stop_server

    parts = [(engine._Playback, "step", "engine: one block (step)"),
             (mixer.Mixer, "render", "  mixer.render"),
             (decode.AvDecoder, "read_into", "    decoder calls (PyAV)"),
             (sinks.SoundDeviceSink, "write", "  sink.write (waits included)"),
             (engine._Playback, "flush_heard", "  as-run rows heard (flush_heard)"),
             (engine._Playback, "check_timing", "  check_timing"),
             (sinks.SoundDeviceSink, "_callback", "PortAudio callback (Python)"),
             (sinks.SoundDeviceSink, "_measure", "  its clock measurement")]
    for cls, name, label in parts:
        timed(cls, name, label)
    server = start_server()
    os.environ.update({k: server.env[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH")})
    work = Path(tempfile.mkdtemp(prefix="bench-threads."))
    try:
        files = bp.make_library(work, 3, 60)
        lengths = bp.durations(files)
        start = datetime.now(bp.ZONE).replace(microsecond=0) + timedelta(seconds=4)
        stop = start + timedelta(seconds=args.seconds)
        items, at, k = [], start, 0
        while at < stop:
            f = files[k % len(files)]
            k += 1
            items.append(PlannedItem(start=at, end=at + timedelta(seconds=lengths[f.name]), slot="bench",
                                     category="song", title=f.name, file=f.name, sha256="0" * 64, gain_db=-1.0,
                                     duration=lengths[f.name]))
            at = items[-1].end
        settings = AudioSettings(output_devices=("default",), crossfade_categories=(),
                                 block_frames=args.block_frames)
        setup = PlayoutSetup("Asia/Ho_Chi_Minh", work, work / "asrun.sqlite", work, work / "none.sqlite", settings)
        eng = make_engine(setup, AsRunLog(setup.asrun_log))
        result = {}

        def play() -> None:
            result["run"] = eng.play_run(items, stop)

        player = threading.Thread(target=play)
        player.start()
        time.sleep(max(0.0, (start - datetime.now(bp.ZONE)).total_seconds()) + args.warm_up)
        t0, cpu0, th0, parts0 = time.monotonic(), sum(os.times()[:2]), threads(), {k: list(v) for k, v in TIMED.items()}
        time.sleep(max(10.0, (stop - datetime.now(bp.ZONE)).total_seconds() - 3))
        dt, cpu1, th1 = time.monotonic() - t0, sum(os.times()[:2]), threads()
        parts1 = {k: list(v) for k, v in TIMED.items()}
        player.join()
        run = result["run"]
        print(f"block {args.block_frames} frames; steady window {dt:.0f} s after {args.warm_up:.0f} s; "
              f"load avg {os.getloadavg()[0]:.2f}; underruns {run.underruns}, re-alignments {len(run.resyncs)}")
        print(f"process: {(cpu1 - cpu0) / dt * 3600:.2f} CPU-s per hour")
        for tid, (name, cpu, woken) in sorted(th1.items(), key=lambda t: th0.get(t[0], ("", 0.0, 0))[1] - t[1][1]):
            _, c0, w0 = th0.get(tid, (name, 0.0, 0))
            label = NAMES.get(int(tid), NAMES.get(name, f"{name} {tid}"))
            if cpu > c0 or woken - w0 > dt / 10:
                print(f"  thread {label:32} {(cpu - c0) / dt * 3600:6.2f} s/h   wake-ups {(woken - w0) / dt:5.1f}/s")
        for label in (label for _, _, label in parts):
            (cpu, calls), (c0, n0) = parts1.get(label, (0.0, 0)), parts0.get(label, (0.0, 0))
            print(f"  {label:36} {(cpu - c0) / dt * 3600:6.2f} s/h  {(calls - n0) / dt:4.1f} calls/s  "
                  f"{1e6 * (cpu - c0) / max(1, calls - n0):5.0f} µs a call")
    finally:
        stop_server(server)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
