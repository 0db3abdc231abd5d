"""Bulletin speed: speech and composition of a 2-minute bulletin, and typed text → approved → in tomorrow's plan.

    python bench/bench_bulletin.py [--runs 3]

1. Synthesis + composition (goal: at least 20× real time): `desk.speak()` — normalise the text, espeak-ng one
   call per paragraph, the look-ahead limiter, pydub composition with the opening chime and pauses — for a text
   that reads for about 2 minutes (the demo bulletins, repeated). The peer is bare `espeak-ng -w` on the same
   raw text in one call: the floor any espeak-based pipeline stands on.
2. Typed text → approved → in tomorrow's plan (goal: under 10 s of machine time): in a temporary copy of the
   demo station with a small library, `write_bulletin` (speak, WAV, ingest: loudness, station copy, catalogue,
   bulletin store), `approve_bulletin` (catalogue, approval record), then `make_plans` for tomorrow, checking
   the bulletin is in it. Machine time = CPU seconds of this process and its children (espeak-ng, ffmpeg);
   wall time is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcaster.bulletins.approval import Person  # noqa: E402
from broadcaster.bulletins.desk import Draft, approve_bulletin, speak, write_bulletin  # noqa: E402
from broadcaster.bulletins.settings import bulletin_settings  # noqa: E402
from broadcaster.planning.inputs import make_plans  # noqa: E402
from broadcaster.station.config import load_station  # noqa: E402

TEXTS = sorted((ROOT / "scripts" / "demo-bulletins").glob("*.txt"))


def cpu_seconds() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def two_minute_text(settings, target: float = 120.0) -> tuple[str, float]:
    """The demo bulletins, paragraphs repeated until they read for at least `target` seconds."""
    paragraphs = [p for t in TEXTS for p in t.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    chosen: list[str] = []
    seconds = 0.0
    while seconds < target:
        chosen.append(paragraphs[len(chosen) % len(paragraphs)])
        seconds = speak(settings, Draft("x", "\n\n".join(chosen))).audio.duration_seconds
    return "\n\n".join(chosen), seconds


def make_station(folder: Path) -> Path:
    """The demo config and playlists, a 5-song library made with ffmpeg, the chime, all approved."""
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    shutil.copytree(ROOT / "playlists", folder / "playlists")
    from broadcaster.library.catalogue import station_library

    station = load_station(folder / "config.yaml")
    library = station_library(station)
    for n in range(5):
        song = folder / f"song{n}.mp3"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                        f"sine=frequency={220 + 40 * n}:duration=150", "-c:a", "libmp3lame", "-b:a", "64k",
                        str(song)], check=True)
        library.ingest(song, category="covid-song", title=f"Bài hát {n}")
    chime = folder / "chuong.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=784:duration=1.6",
                    str(chime)], check=True)
    library.ingest(chime, category="chuong", title="Chuông thông báo")
    return folder / "config.yaml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: nproc={os.cpu_count()}; load avg at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = make_station(folder)
        station = load_station(config)
        settings = bulletin_settings(station)
        text, seconds = two_minute_text(settings)
        words = len(text.split())
        print(f"text: {len(text)} characters, {words} words, reads for {seconds:.1f} s at {settings.rate} "
              f"words/min ({settings.engine}, voice {settings.voice}, opening chime {settings.opening_chime.name})")

        for run in range(args.runs):
            t, c = time.perf_counter(), cpu_seconds()
            spoken = speak(settings, Draft("Bản tin", text))
            wall, cpu = time.perf_counter() - t, cpu_seconds() - c
            raw = folder / "raw.wav"
            t0 = time.perf_counter()
            subprocess.run(["espeak-ng", "-v", "vi", "-s", str(settings.rate), "-w", str(raw), "-f", "/dev/stdin"],
                           input=text.encode(), check=True)
            peer = time.perf_counter() - t0
            audio = spoken.audio.duration_seconds
            print(f"speak+compose run {run + 1}: {audio:.1f} s of audio in {wall:.2f} s wall ({audio / wall:.0f}× "
                  f"real time), {cpu:.2f} s CPU; peer bare espeak-ng: {peer:.2f} s ({audio / peer:.0f}× real time)"
                  f"; load {os.getloadavg()[0]:.2f}")

        tomorrow = date(2021, 2, 23)
        for run in range(args.runs):
            t, c = time.perf_counter(), cpu_seconds()
            draft = write_bulletin(station, Draft(f"Thông báo {run}", f"Lần {run + 1}.\n\n" + text[:1500],
                                                  valid_from=tomorrow), Person("Phạm Thị Lan"))
            t_written = time.perf_counter() - t
            approve_bulletin(station, draft.id, Person("Nguyễn Văn Thành"))
            t_approved = time.perf_counter() - t
            _, (plan,) = make_plans(config, [tomorrow])
            wall, cpu = time.perf_counter() - t, cpu_seconds() - c
            assert any(i.sha256 == draft.audio_sha256 for i in plan.items), "the bulletin is not in tomorrow's plan"
            print(f"typed → approved → planned run {run + 1}: {cpu:.2f} s machine (CPU) time, {wall:.2f} s wall "
                  f"(written {t_written:.2f}, approved {t_approved - t_written:.2f}, planned "
                  f"{wall - t_approved:.2f}); {draft.duration:.0f} s clip; load {os.getloadavg()[0]:.2f}")
    print(f"load avg at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
