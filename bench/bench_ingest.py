"""Ingest analysis speed: whole-file decode + BS.1770 loudness and true peak of an MP3, against ffmpeg's ebur128.

    python bench/bench_ingest.py [--minutes 3] [--runs 3] [--code DIR]

Prints seconds, × real time and peak memory for `analyse()` (goal: at least 100× real time for a 3-minute
MP3), for ffmpeg decoding alone, and for ffmpeg decoding + its ebur128 meter, without and with its true-peak
meter (`peak=true`: the peer, since analyse() measures the true peak too). Each side runs in a
fresh child process so its peak RSS is its own; the Python figure excludes the ffmpeg child it starts, whose
footprint is about that of "ffmpeg decode only". Last, what ingest adds since station copies: writing the
file's station copy (`station_copy.write_copy`, a second decode by the engine's decoder to a synced float32 WAV).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ANALYSE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from broadcaster.library.analysis import analyse
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
a = analyse(sys.argv[1])
seconds, cpu = time.perf_counter() - t, time.process_time() - c
child = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": seconds, "cpu": cpu, "ffmpeg_cpu": child.ru_utime + child.ru_stime,
                  "duration": a.duration, "lufs": a.loudness_lufs, "tp": getattr(a, "true_peak_dbtp", float("nan")),
                  "rss_before_kb": rss0, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


# The station copy ingest writes after the analysis (broadcaster/library/station_copy.py): a second decode, by the
# engine's decoder, to a float32 WAV, synced. Timed on its own, with its CPU seconds.
_COPY = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from broadcaster.library.station_copy import write_copy
dest = Path(sys.argv[3])
t, c = time.perf_counter(), time.process_time()
write_copy(sys.argv[1], dest, 44100, 2)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": time.process_time() - c,
                  "mb": dest.stat().st_size / 2**20, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def make_mp3(path: Path, minutes: float) -> None:
    """Music-like test signal: a chord, a pulsing bass and pink noise, MP3 128 kb/s CBR, 44.1 kHz stereo."""
    source = ("aevalsrc=0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277*t)+0.1*sin(2*PI*330*t)"
              "+0.2*sin(2*PI*55*t)*lt(mod(t\\,0.5)\\,0.1):s=44100:c=stereo")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-f", "lavfi", "-i",
                    "anoisesrc=c=pink:a=0.05:r=44100", "-filter_complex", "amix=inputs=2:normalize=0,aformat=cl=stereo",
                    "-t", str(minutes * 60), "-c:a", "libmp3lame", "-b:a", "128k", str(path)], check=True)


def run_ours(path: Path, code: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _ANALYSE, str(path), str(code)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def run_copy(path: Path) -> dict:
    dest = path.with_name("copy.wav")
    out = subprocess.run([sys.executable, "-c", _COPY, str(path), str(ROOT), str(dest)], capture_output=True,
                         text=True, check=True).stdout
    dest.unlink()
    return json.loads(out)


def run_ffmpeg(path: Path, *filters: str) -> dict:
    """Time an ffmpeg child and read its peak RSS with wait4."""
    t = time.perf_counter()
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-nostats", "-i", str(path), *filters, "-f", "null", "-"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"seconds": time.perf_counter() - t, "rss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime}
    if any("ebur128" in f for f in filters):
        result["lufs"] = float([line for line in stderr.splitlines() if line.strip().startswith("I:")][-1].split()[1])
        peaks = [line.split()[1] for line in stderr.splitlines() if line.strip().startswith("Peak:")]
        result["tp"] = float(peaks[-1]) if peaks else None
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {ffmpeg.split(' Copyright')[0]}"


def best(runs: int, fn, *args) -> dict:
    results = [fn(*args) for _ in range(runs)]
    return min(results, key=lambda r: r["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="time analyse() of another checkout, e.g. one from before a change (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "song.mp3"
        make_mp3(path, args.minutes)
        real = args.minutes * 60
        ours = best(args.runs, run_ours, path, args.code)
        decode = best(args.runs, run_ffmpeg, path)
        loudness_only = best(args.runs, run_ffmpeg, path, "-filter_complex", "ebur128")
        peer = best(args.runs, run_ffmpeg, path, "-filter_complex", "ebur128=peak=true")
        copy = best(args.runs, run_copy, path)
    print(f"Machine: {machine()}")
    print(f"File: {args.minutes:g} min MP3 128 kb/s 44.1 kHz stereo; best of {args.runs}; analyse() of {args.code}")
    print(f"{'':34}{'seconds':>9}{'× real time':>13}{'peak RSS':>12}{'LUFS':>8}{'dBTP':>8}{'CPU-s':>8}")
    print(f"{'analyse() (ffmpeg decode + numpy)':34}{ours['seconds']:9.3f}{real / ours['seconds']:13.0f}"
          f"{ours['rss_kb'] / 1024:9.0f} MB{ours['lufs']:8.2f}{ours['tp']:8.2f}{ours['cpu'] + ours['ffmpeg_cpu']:8.2f}")
    print(f"{'  of which in Python (meters, hash)':34}{'':9}{'':13}{'':12}{'':8}{'':8}{ours['cpu']:8.2f}")
    print(f"{'  of which Python start-up/import':34}{'':9}{'':13}{ours['rss_before_kb'] / 1024:9.0f} MB")
    print(f"{'ffmpeg decode only (-f null)':34}{decode['seconds']:9.3f}{real / decode['seconds']:13.0f}"
          f"{decode['rss_kb'] / 1024:9.0f} MB{'':16}{decode['cpu']:8.2f}")
    lo = loudness_only
    print(f"{'ffmpeg ebur128 (loudness only)':34}{lo['seconds']:9.3f}{real / lo['seconds']:13.0f}"
          f"{lo['rss_kb'] / 1024:9.0f} MB{lo['lufs']:8.2f}{'':8}{lo['cpu']:8.2f}")
    print(f"{'peer: ffmpeg ebur128=peak=true':34}{peer['seconds']:9.3f}{real / peer['seconds']:13.0f}"
          f"{peer['rss_kb'] / 1024:9.0f} MB{peer['lufs']:8.2f}{peer['tp']:8.2f}{peer['cpu']:8.2f}")
    print(f"{'station copy (write_copy)':34}{copy['seconds']:9.3f}{real / copy['seconds']:13.0f}"
          f"{copy['rss_kb'] / 1024:9.0f} MB   ({copy['cpu']:.3f} CPU-s, {copy['mb']:.1f} MB written, synced)")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0 if real / ours["seconds"] >= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
