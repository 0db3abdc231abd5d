"""Render a 60-minute programme of 120 MP3 items (2 s crossfades, per-item gains) to a WAV, side by side:

  engine-wav   broadcaster's engine (SimClock + WavFileSink): the code `simulate` runs (MP3s decoded by PyAV in
               worker processes, broadcaster/sound/decode_workers.py, since the sink is not real time)
  engine-null  the same with --no-audio's NullSink (every block mixed, nothing written)
  pydub        naive pydub AudioSegment: from_mp3, apply_gain, append(crossfade=2000), export, on all the items
               (~90 s and ~1.4 GB here); it is quadratic: with --pydub-items N < items it runs on N/2 and N
               items and is extrapolated (said so in the output)
  liquidsoap   Liquidsoap from Debian (scripts/bench-setup.sh), unsynced clock, output.file(%wav)

Two input sets (--inputs mp3|station|both, default both): the MP3s themselves, and the same items as the
library's station copies (broadcaster/library/station_copy.py: float32 WAV at 44.1 kHz stereo, written by the library's
own code into CACHE/.station/). In the station set all three contenders read the SAME WAV files: the engine
finds them by sha256 as it finds any library item's copy (and reads them without decoding, broadcaster/sound/pcm.py),
pydub opens them with AudioSegment.from_file, Liquidsoap plays them from its playlist.

Each runs in its own process: CPU seconds are that process's and its children's (liquidsoap, the engine's
decoding workers); peak RSS is ru_maxrss, or for the engine the sum over its processes. Times are wall-clock
seconds including process start-up; "× real time" is programme length / time.

Run: .venv/bin/python bench/bench_render.py [--cache DIR] [--items 120] [--minutes 60] [--only engine-wav,...]
     [--inputs mp3|station|both] [--cold: the inputs dropped from the page cache before each variant]
     [--block-frames N: the engine's block, default audio.block_frames as `simulate` uses]
The MP3s are made once with ffmpeg into --cache (default /tmp/broadcaster-bench-render), their station copies
once beside them (not timed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CROSSFADE = 2.0
RATE = 44100
STATION_INDEX = "station-index.json"  # MP3 name → sha256, the key of its station copy
SETS = {"mp3": "the MP3s", "station": "station copies (float32 WAV at 44.1 kHz stereo, made by the library)"}


def programme(items: int, minutes: float) -> list[tuple[str, float, float]]:
    """(file name, seconds, gain dB) per item; lengths vary ±4 s and sum to `minutes` after crossfades."""
    base = (minutes * 60 + (items - 1) * CROSSFADE) / items
    jitter = [((i * 7) % 9 - 4) for i in range(items)]
    mean = sum(jitter) / items
    return [(f"item{i:03d}.mp3", round(base + j - mean, 3), round(((i * 5) % 13 - 6) / 2, 1))
            for i, j in enumerate(jitter)]


def make_audio(cache: Path, plan: list[tuple[str, float, float]]) -> None:
    cache.mkdir(parents=True, exist_ok=True)

    def one(i_entry):
        i, (name, seconds, _) = i_entry
        target = cache / name
        if target.exists():
            return
        tmp = target.with_suffix(".part.mp3")
        f1, f2 = 110 + (i * 37) % 300, 220 + (i * 53) % 500
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"aevalsrc=0.25*sin(2*PI*{f1}*t)+0.15*sin(2*PI*{f2}*t):s={RATE}:c=stereo:d={seconds}",
             "-f", "lavfi", "-i", f"anoisesrc=c=pink:a=0.05:r={RATE}:d={seconds}",
             "-filter_complex", "amix=inputs=2:normalize=0,aformat=cl=stereo", "-c:a", "libmp3lame", "-b:a",
             "128k", str(tmp)], check=True)
        tmp.rename(target)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, enumerate(plan)))


def make_station_copies(cache: Path, plan: list[tuple[str, float, float]]) -> None:
    """Each MP3's station copy, written by the library's own code (as ingest does), and an index of the MP3s'
    sha256 so the timed runs do not hash them."""
    from broadcaster.files import file_sha256
    from broadcaster.library.station_copy import copy_path, has_copy, write_copy

    index_path = cache / STATION_INDEX
    index = json.loads(index_path.read_text()) if index_path.exists() else {}

    def one(entry):
        name = entry[0]
        sha = index.get(name) or file_sha256(cache / name)
        if not has_copy(cache, sha, RATE, 2):
            write_copy(cache / name, copy_path(cache, sha, RATE, 2), RATE, 2)
        return name, sha

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        index = dict(pool.map(one, plan))
    index_path.write_text(json.dumps(index, indent=0))


def inputs(cache: Path, plan, which: str) -> list[tuple[str, str, float, float]]:
    """(path for pydub and Liquidsoap, sha256 for the engine or "", seconds, gain dB) per item of the set."""
    if which == "mp3":
        return [(str(cache / name), "", seconds, gain) for name, seconds, gain in plan]
    from broadcaster.library.station_copy import copy_path

    index = json.loads((cache / STATION_INDEX).read_text())
    return [(str(copy_path(cache, index[name], RATE, 2)), index[name], seconds, gain) for name, seconds, gain in plan]


# ---- the variants, each run in a child process --------------------------------------------------------------
def run_engine(cache: Path, plan, out: Path, null: bool, shas: list[str], block_frames: int) -> dict:
    from broadcaster.asrun.log import AsRunLog
    from broadcaster.model import PlannedItem
    from broadcaster.playout.clock import SimClock
    from broadcaster.playout.engine import Engine
    from broadcaster.sound.sinks import NullSink, WavFileSink
    from broadcaster.station.config import AudioSettings

    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    t0 = datetime(2021, 2, 22, 5, 30, tzinfo=zone)
    items, at = [], 0.0
    for i, (name, seconds, gain) in enumerate(plan):
        begin = at - (CROSSFADE if i else 0.0)
        start = t0 + timedelta(seconds=begin)
        items.append(PlannedItem(start=start, end=start + timedelta(seconds=seconds), slot="sang", category="song",
                                 title=name, file=name, sha256=shas[i], gain_db=gain, duration=seconds,
                                 crossfade_in=CROSSFADE if i else 0.0))
        at = begin + seconds
    log_path = out.with_suffix(".sqlite")
    log_path.unlink(missing_ok=True)
    settings = AudioSettings(sample_rate=RATE, channels=2, block_frames=block_frames)
    sink = (lambda d, frames: NullSink()) if null else (lambda d, frames: WavFileSink(out, RATE, 2))
    with AsRunLog(log_path, durable=False) as log:  # as simulate does
        engine = Engine(cache, settings, sink, SimClock(zone, t0), log, zone)
        result = engine.play_run(items, items[-1].end + timedelta(seconds=1))
    return {"seconds_of_audio": result.frames / RATE, "rows": len(result.entries), **_memory()}


def _memory() -> dict:
    """Memory of the engine's processes together: this process's peak RSS (which covers the libraries and the
    rings it shares with the workers) plus each decoding worker's private memory now (USS: the pages only it
    has, from copy-on-write and its own buffers). PSS would divide shared library pages among every process
    on the machine using them, so it moves with what else runs."""
    from broadcaster.sound.decode_workers import worker_pids

    def kb(path: str, *names: str) -> float:
        lines = Path(path).read_text().splitlines()
        return sum(int(line.split()[1]) for line in lines if line.split(":")[0] in names) / 1024

    workers = worker_pids()
    private = sum(kb(f"/proc/{pid}/smaps_rollup", "Private_Clean", "Private_Dirty") for pid in workers)
    return {"workers": len(workers), "workers_private_mb": private,
            "total_mb": kb("/proc/self/status", "VmHWM") + private}


def run_pydub(files: list[str], plan, out: Path) -> dict:
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from pydub import AudioSegment

    program = None
    for path, (_, _, gain) in zip(files, plan):
        segment = AudioSegment.from_file(path).apply_gain(gain)
        program = segment if program is None else program.append(segment, crossfade=round(CROSSFADE * 1000))
    program.export(out, format="wav")
    return {"seconds_of_audio": len(program) / 1000}


def run_liquidsoap(files: list[str], plan, out: Path) -> dict:
    work = out.parent
    m3u = work / "liquidsoap.m3u"
    m3u.write_text("".join(f'annotate:liq_amplify="{gain} dB":{path}\n' for path, (_, _, gain) in zip(files, plan)))
    script = work / "render.liq"
    script.write_text(f"""
settings.init.allow_root.set(true)
settings.log.stdout.set(false)
settings.log.file.set(false)
s = playlist(mode="normal", reload_mode="never", loop=false, "{m3u}")
s = amplify(1.0, override="liq_amplify", s)
s = crossfade(duration={CROSSFADE}, fade_in={CROSSFADE}, fade_out={CROSSFADE}, s)
clock.assign_new(sync="none", [s])
output.file(%wav, "{out}", fallible=true, on_stop=shutdown, s)
""")
    subprocess.run(["liquidsoap", str(script)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"seconds_of_audio": wav_seconds(out)}


def wav_seconds(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "default=nw=1:nk=1", str(path)], capture_output=True, text=True)
    try:
        return float(out.stdout)
    except ValueError:
        return 0.0


def child(args) -> None:
    plan = programme(args.items, args.minutes)
    if args.variant == "pydub":
        plan = plan[:args.pydub_items]
    items = inputs(args.cache, plan, args.set)
    files, shas = [i[0] for i in items], [i[1] for i in items]
    out = Path(args.work) / f"{args.variant}.wav"
    runner = {"engine-wav": lambda: run_engine(args.cache, plan, out, False, shas, args.block_frames),
              "engine-null": lambda: run_engine(args.cache, plan, out, True, shas, args.block_frames),
              "pydub": lambda: run_pydub(files, plan, out),
              "liquidsoap": lambda: run_liquidsoap(files, plan, out)}[args.variant]
    print(json.dumps(runner()))


def measure(args, variant: str, extra: list[str] = ()) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--cache", str(args.cache), "--work", str(args.work),
           "--items", str(args.items), "--minutes", str(args.minutes), "--set", args.set,
           "--block-frames", str(args.block_frames), *extra]
    # Each variant starts on a quiet disk: the last one's WAV (up to 635 MB) removed and written back first,
    # so no variant pays for another's file (truncating it, or writeback competing with its own writes).
    (args.work / f"{variant}.wav").unlink(missing_ok=True)
    os.sync()
    if args.cold:  # the set's input files out of the page cache: read from the disk, as after a reboot
        for path, *_ in inputs(args.cache, programme(args.items, args.minutes), args.set):
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - began
    output = proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return {"variant": variant, "error": f"exit {os.waitstatus_to_exitcode(status)}"}
    result = json.loads(output.strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime
    # CPU: the child and every process it waited for (liquidsoap; the engine's decoding workers). Peak RSS:
    # ru_maxrss of the largest single process (for the engine its main process; with its workers' private
    # memory on a line of its own).
    return {"variant": variant, "seconds": took, "cpu_seconds": cpu, "rss_mb": usage.ru_maxrss / 1024,
            "load_before": load, **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/broadcaster-bench-render"))
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--items", type=int, default=120)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--pydub-items", type=int, default=None,
                        help="pydub on this many (and half as many), extrapolated to --items; default: all items")
    parser.add_argument("--only", default="engine-wav,engine-null,pydub,liquidsoap")
    parser.add_argument("--inputs", choices=("mp3", "station", "both"), default="both",
                        help="render from the MP3s, from their station copies, or both (one after the other)")
    parser.add_argument("--cold", action="store_true",
                        help="drop the input files from the page cache before each variant (only those files)")
    parser.add_argument("--block-frames", type=int, default=None,
                        help="the engine's mixing block (default: audio.block_frames, what simulate uses)")
    parser.add_argument("--child", dest="variant", help=argparse.SUPPRESS)
    parser.add_argument("--set", default="mp3", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work = args.work or args.cache / "out"
    if args.block_frames is None:
        from broadcaster.station.config import AudioSettings

        args.block_frames = AudioSettings().block_frames
    if args.pydub_items is None:
        args.pydub_items = args.items
    if args.variant:
        child(args)
        return
    plan = programme(args.items, args.minutes)
    began = time.perf_counter()
    make_audio(args.cache, plan)
    sets = ["mp3", "station"] if args.inputs == "both" else [args.inputs]
    if "station" in sets:
        make_station_copies(args.cache, plan)
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{_cpu_model()}, Python {platform.python_version()}; audio ready in {time.perf_counter() - began:.1f} s")
    print(f"programme: {args.items} items, {args.minutes:g} min after {CROSSFADE:g} s crossfades, gains -3..+3 dB")
    args.renders = {}
    for which in sets:
        args.set = which
        print(f"\n== inputs: {SETS[which]}")
        run_set(args)
    if len(args.renders) == 2:
        same = len(set(args.renders.values())) == 1
        print(f"\nengine-wav from MP3s and from station copies: {'the same bytes' if same else 'DIFFERENT'} "
              f"(md5 {', '.join(args.renders.values())})")


def run_set(args) -> None:
    rows = []
    for variant in args.only.split(","):
        if variant == "liquidsoap" and not shutil.which("liquidsoap"):
            print("liquidsoap: not installed (bash scripts/bench-setup.sh)")
            continue
        if variant == "pydub" and args.pydub_items >= args.items:
            rows.append(dict(measure(args, "pydub", ["--pydub-items", str(args.items)]),
                             variant=f"pydub ({args.items} items)"))
            continue
        if variant == "pydub":
            small = max(2, args.pydub_items // 2)
            a = measure(args, "pydub", ["--pydub-items", str(small)])
            b = measure(args, "pydub", ["--pydub-items", str(args.pydub_items)])
            rows += [dict(a, variant=f"pydub ({small} items)"), dict(b, variant=f"pydub ({args.pydub_items} items)")]
            if "error" not in a and "error" not in b and args.pydub_items < args.items:
                rows.append(_extrapolate(a, b, small, args.pydub_items, args.items, args.minutes))
            continue
        rows.append(measure(args, variant))
        if variant == "engine-wav" and "error" not in rows[-1]:  # not timed: to compare the sets' renders
            with open(args.work / "engine-wav.wav", "rb") as f:  # in pieces: the children fork from this process
                rows[-1]["md5"] = hashlib.file_digest(f, "md5").hexdigest()
            args.renders[args.set] = rows[-1]["md5"]
    print(f"{'variant':34} {'wall s':>8} {'CPU s':>8} {'× real time':>12} {'peak RSS MB':>12} {'audio min':>10} "
          f"{'load':>5}")
    for r in rows:
        if "error" in r:
            print(f"{r['variant']:34} {r['error']}")
            continue
        speed = r["seconds_of_audio"] / r["seconds"] if r["seconds"] else 0
        print(f"{r['variant']:34} {r['seconds']:8.2f} {r.get('cpu_seconds', float('nan')):8.2f} {speed:12.0f} "
              f"{r.get('rss_mb', float('nan')):12.0f} {r['seconds_of_audio'] / 60:10.1f} "
              f"{r.get('load_before', float('nan')):5.1f}")
    _against_goals(rows, args.set)
    for r in rows:
        if "workers" in r:
            print(f"{r['variant']}: with its {r['workers']} decoding worker processes {r['total_mb']:.0f} MB "
                  f"(its peak RSS + the workers' private memory, {r['workers_private_mb']:.0f} MB)")


def _against_goals(rows: list[dict], inputs: str) -> None:
    """The issue's goals, in this run: the engine at least 10× faster than Liquidsoap and 50× than naive pydub."""
    done = {r["variant"].split(" (")[0]: r for r in rows if "error" not in r}
    peers = [(goal, done[name]) for name, goal in (("liquidsoap", 10), ("pydub", 50)) if name in done]
    for engine in ("engine-wav", "engine-null"):
        if engine not in done:
            continue
        for goal, peer in peers:
            times = peer["seconds"] / done[engine]["seconds"]
            print(f"[from {inputs}] {engine} vs {peer['variant']}: {times:.1f}× faster (goal {goal}×: "
                  f"{'met' if times >= goal else 'NOT met'})")


def _extrapolate(a: dict, b: dict, n1: int, n2: int, n: int, minutes: float) -> dict:
    """Fit t = p·n + q·n² (append with crossfade copies the whole programme each time) through two runs,
    for wall and CPU seconds alike; never less than linear growth from the larger run."""
    def fit(t1: float, t2: float) -> float:
        q = (t2 / n2 - t1 / n1) / (n2 - n1)
        p = t1 / n1 - q * n1
        return max(p * n + q * n * n, t2 * n / n2)

    rss = b["rss_mb"] * n / n2  # it holds the whole programme decoded, several times over while appending
    return {"variant": f"pydub ({n} items, extrapolated)", "seconds": fit(a["seconds"], b["seconds"]),
            "cpu_seconds": fit(a["cpu_seconds"], b["cpu_seconds"]), "rss_mb": rss,
            "seconds_of_audio": minutes * 60, "load_before": float("nan")}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
