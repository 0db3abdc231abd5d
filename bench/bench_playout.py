"""Playout cost: CPU seconds per hour of audio and peak RSS, our engine and Liquidsoap side by side in one run.

Run: .venv/bin/python bench/bench_playout.py [--programme-minutes 10] [--play-minutes 10] [--inputs mp3|wav]
     3-hour programme (RSS must stay flat): --programme-minutes 180 --play-minutes 10
     --inputs wav: both players get the list as float32 WAV at the station rate (made by ffmpeg from the same
     MP3s), which leaves out most of the decoding: what the playout path itself costs.
     Needs Liquidsoap for the comparison (bash scripts/bench-setup.sh); without it only our engine runs.

Both play the same list (MP3, or WAV with --inputs wav), in the same order, to the same private headless PulseAudio
null sink, at the same time, in real time (no faster-than-real-time here: a sound card sets the pace). Ours is the
daemon's path (broadcaster.playout.setup.make_engine, sounddevice → ALSA → PulseAudio) in a child process; its CPU
includes the ffmpeg decoder processes it starts (they are its children and are waited for). Liquidsoap 2.1 decodes
in-process and plays with `output.pulseaudio`. CPU is utime+stime (+ reaped children) from /proc; peak RSS is VmHWM
of each main process (ffmpeg decoders' own peak is printed separately). A programme longer than the wall time
played (the 3-hour case) is played for --play-minutes and CPU per hour is extrapolated from that wall time: it says
so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TICK = os.sysconf("SC_CLK_TCK")


def make_library(folder: Path, count: int, seconds: float) -> list[Path]:
    """`count` different MP3 "songs" (two tones and noise), 128 kbit/s stereo 44.1 kHz."""
    files = []
    for k in range(count):
        path = folder / f"song-{k:02d}.mp3"
        f1, f2 = 150 + 37 * k, 400 + 53 * k
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"aevalsrc=0.25*sin(2*PI*{f1}*t)+0.15*sin(2*PI*{f2}*t):s=44100:c=stereo:d={seconds}",
                        "-f", "lavfi", "-i", f"anoisesrc=a=0.05:c=pink:r=44100:d={seconds}",
                        "-filter_complex", "amix=inputs=2:normalize=0", "-ac", "2", "-b:a", "128k", str(path)],
                       check=True)
        files.append(path)
    return files


def to_wav(files: list[Path]) -> list[Path]:
    """Float32 WAV copies at the station rate (44.1 kHz stereo, as the MP3s): no decoding left but reading."""
    out = []
    for mp3 in files:
        wav = mp3.with_suffix(".wav")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(mp3), "-c:a", "pcm_f32le",
                        "-ar", "44100", "-ac", "2", str(wav)], check=True)
        out.append(wav)
    return out


def durations(files: list[Path]) -> dict[str, float]:
    from broadcaster.sound.decode import probe_duration

    return {f.name: probe_duration(f) for f in files}


def proc_cpu(pid: int) -> float:
    """utime+stime+cutime+cstime of a live process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---- the child: our engine playing the list ---------------------------------------------------------------------

def child(args) -> None:
    import resource

    from broadcaster.asrun.log import AsRunLog
    from broadcaster.model import PlannedItem
    from broadcaster.playout.setup import PlayoutSetup, make_engine
    from broadcaster.station.config import AudioSettings

    plan = json.loads(Path(args.child).read_text())
    folder = Path(plan["folder"])
    start = datetime.fromisoformat(plan["start"])
    items, at = [], start
    for name, seconds in plan["items"]:
        items.append(PlannedItem(start=at, end=at + timedelta(seconds=seconds), slot="bench", category="song",
                                 title=name, file=name, sha256="0" * 64, gain_db=-1.0, duration=seconds))
        at += timedelta(seconds=seconds)
    settings = AudioSettings(output_devices=("default",), crossfade_categories=(), block_frames=plan["block_frames"])
    work = Path(tempfile.mkdtemp(prefix="bench-playout-log."))
    setup = PlayoutSetup("Asia/Ho_Chi_Minh", folder, work / "asrun.sqlite", work, work / "none.sqlite", settings)
    engine = make_engine(setup, AsRunLog(setup.asrun_log))
    result = engine.play_run(items, datetime.fromisoformat(plan["stop"]))
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "cpu_self": me.ru_utime + me.ru_stime, "cpu_children": kids.ru_utime + kids.ru_stime,
        "rss_peak_mb": proc_hwm_mb(os.getpid()), "ffmpeg_peak_rss_mb": kids.ru_maxrss / 1024,
        "underruns": result.underruns, "resyncs": len(result.resyncs), "items": len(result.entries),
        "frames": result.frames}))


# ---- the parent ------------------------------------------------------------------------------------------------

LIQ = """settings.init.allow_root.set(true)
settings.log.stdout.set(false)
settings.log.file.set(false)
s = playlist(mode="normal", reload_mode="never", "{m3u}")
output.pulseaudio(fallible=true, s)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--programme-minutes", type=float, default=10.0)
    parser.add_argument("--play-minutes", type=float, default=None, help="wall time played (default: programme)")
    parser.add_argument("--song-seconds", type=float, default=180.0)
    parser.add_argument("--no-liquidsoap", action="store_true")
    parser.add_argument("--inputs", choices=("mp3", "wav"), default="mp3",
                        help="the list as MP3 (128 kbit/s) or as float32 WAV at the station rate, for both players")
    parser.add_argument("--block-frames", type=int, default=None, help="mixer block (default: audio.block_frames)")
    parser.add_argument("--warm-up", type=float, default=60.0,
                        help="seconds left out of the steady-state figures (start-up: imports, script compile)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.block_frames is None:
        from broadcaster.station.config import AudioSettings

        args.block_frames = AudioSettings().block_frames

    from tests.support.pulse import start_server, stop_server

    play_minutes = args.play_minutes or args.programme_minutes
    server = start_server()
    env = dict(os.environ, **{k: server.env[k] for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH")})
    work = Path(tempfile.mkdtemp(prefix="bench-playout."))
    liquidsoap = None if args.no_liquidsoap else shutil.which("liquidsoap")
    try:
        files = make_library(work, 12, args.song_seconds)
        if args.inputs == "wav":
            files = to_wav(files)
        lengths = durations(files)
        names, total, k = [], 0.0, 0
        while total < args.programme_minutes * 60:
            name = files[k % len(files)].name
            names.append([name, lengths[name]])
            total += lengths[name]
            k += 1
        start = datetime.now(ZONE).replace(microsecond=0) + timedelta(seconds=5)
        stop = start + timedelta(minutes=play_minutes)
        plan = work / "plan.json"
        plan.write_text(json.dumps({"folder": str(work), "start": start.isoformat(), "stop": stop.isoformat(),
                                    "items": names, "block_frames": args.block_frames}))
        (work / "list.m3u").write_text("".join(f"{work / n}\n" for n, _ in names))
        (work / "bench.liq").write_text(LIQ.format(m3u=work / "list.m3u"))

        ours = subprocess.Popen([sys.executable, __file__, "--child", str(plan)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        liq = None
        if liquidsoap:
            time.sleep(max(0.0, (start - datetime.now(ZONE)).total_seconds()))  # both start together
            liq = subprocess.Popen([liquidsoap, str(work / "bench.liq")], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        liq_cpu = liq_hwm = 0.0
        liq_started = time.monotonic()
        rss_ours: list[float] = []
        samples: list[tuple[float, float, float]] = []  # (monotonic, our CPU, Liquidsoap's CPU) while both run
        while ours.poll() is None:
            time.sleep(1.0)
            try:
                hwm, our_cpu = proc_hwm_mb(ours.pid), proc_cpu(ours.pid)
            except OSError:
                continue
            if hwm == hwm:  # not NaN: the process was still there
                rss_ours.append(hwm)
            if liq is not None and liq.poll() is None:
                liq_cpu, liq_hwm = proc_cpu(liq.pid), proc_hwm_mb(liq.pid)
            samples.append((time.monotonic(), our_cpu, liq_cpu))
        liq_wall = time.monotonic() - liq_started
        if liq is not None:
            liq.terminate()
            liq.wait(10)
        report = json.loads(ours.stdout.read().strip().splitlines()[-1])
        played = play_minutes * 60
        ours_cpu = report["cpu_self"] + report["cpu_children"]
        print(f"machine: nproc={os.cpu_count()} {cpu_model()}; load avg now {os.getloadavg()[0]:.1f}")
        reading = ("station-format WAVs are read without decoding (pcm.py)" if args.inputs == "wav"
                   else "decoding is in the engine's process (PyAV)")
        print(f"mixer block {args.block_frames} frames; {reading}, counted in its CPU")
        print(f"programme {args.programme_minutes:g} min ({len(names)} {args.inputs.upper()} items of "
              f"~{args.song_seconds:g} s), "
              f"played {play_minutes:g} min of it in real time"
              + ("; CPU per hour extrapolated from that wall time" if play_minutes < args.programme_minutes else ""))
        print(f"ours:       CPU {ours_cpu:.2f} s (engine {report['cpu_self']:.2f} + ffmpeg decoders "
              f"{report['cpu_children']:.2f}) = {ours_cpu / played * 3600:.1f} s per hour of audio "
              f"({100 * ours_cpu / played:.2f}% of a core); peak RSS {report['rss_peak_mb']:.1f} MB "
              f"(ffmpeg decoder peak {report['ffmpeg_peak_rss_mb']:.1f} MB each); underruns {report['underruns']}, "
              f"re-alignments {report['resyncs']}, {report['items']} as-run rows")
        if rss_ours:
            half = len(rss_ours) // 2
            print(f"ours RSS high-water: after first half {rss_ours[max(half - 1, 0)]:.1f} MB, "
                  f"at end {rss_ours[-1]:.1f} MB")
        if liq is not None:
            print(f"liquidsoap: CPU {liq_cpu:.2f} s over {liq_wall:.0f} s = {liq_cpu / liq_wall * 3600:.1f} s per hour "
                  f"of audio ({100 * liq_cpu / liq_wall:.2f}% of a core); peak RSS {liq_hwm:.1f} MB")
            print(f"ratio ours/liquidsoap CPU per hour: {(ours_cpu / played) / (liq_cpu / liq_wall):.2f}")
            steady(samples, liq_started + args.warm_up)
        else:
            print("liquidsoap: not run (not installed or --no-liquidsoap); bash scripts/bench-setup.sh installs it")
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


def steady(samples: list[tuple[float, float, float]], after: float) -> None:
    """CPU per hour with start-up left out: a daemon runs for weeks, so its steady cost is what an hour costs.
    Liquidsoap compiles its script at start (about 1.4 CPU-s here), we import numpy/PyAV (about 0.3 CPU-s)."""
    window = [s for s in samples if s[0] >= after]
    if len(window) < 2 or window[-1][0] - window[0][0] < 60:
        print("steady state: run too short to measure (needs a minute after the warm-up)")
        return
    (t0, o0, l0), (t1, o1, l1) = window[0], window[-1]
    ours, liq = (o1 - o0) / (t1 - t0) * 3600, (l1 - l0) / (t1 - t0) * 3600
    print(f"steady state over {t1 - t0:.0f} s after the first {after - samples[0][0] + 1:.0f} s: "
          f"ours {ours:.1f} s per hour, liquidsoap {liq:.1f} s per hour, ratio {ours / liq:.2f}")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


if __name__ == "__main__":
    main()
