"""Where the render benchmark's CPU goes, part by part, each in this one process (CPU seconds, load printed):

  decode   the 120 bench MP3s (bench_render.py's, made by it) decoded to float: a bare PyAV frame loop (FFmpeg's
           decoder and PyAV's per-frame calls, no copies), then AvDecoder as the decoding workers run it, inside
           FFmpeg (amovie graph) and frame by frame, read out in 65,536-frame blocks
  write    635 MB of 16-bit audio (a 60-minute stereo WAV) written in 256 KB blocks to --work, "cold" (after a
           635 MB file was written, removed and synced, and 5 s of rest: its pages went back to the host), plain
           and with broadcaster/sound/writeback.py's rolling writeback

Run: .venv/bin/python bench/bench_render_parts.py [--cache /tmp/broadcaster-bench-render] [--work DIR] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broadcaster.sound.decode import AvDecoder  # noqa: E402
from broadcaster.sound.writeback import RollingWriteback  # noqa: E402

WAV_BYTES = 635 << 20
BLOCK_BYTES = 256 << 10


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def report(name: str, began: float, wall: float, what: str) -> None:
    print(f"{name:34} {cpu() - began:6.2f} CPU-s {time.perf_counter() - wall:6.2f} s wall  {what}  "
          f"load {os.getloadavg()[0]:.2f}", flush=True)


def decode_bare(files: list[Path]) -> int:
    import av

    frames = 0
    for path in files:
        with av.open(str(path)) as container:
            for frame in container.decode(audio=0):
                frames += frame.samples
    return frames


def decode_avdecoder(files: list[Path], graph: bool) -> int:
    plain = AvDecoder._plain_float_stream
    if not graph:
        AvDecoder._plain_float_stream = lambda self: False
    try:
        out, frames = np.zeros((65536, 2), np.float32), 0
        for path in files:
            decoder = AvDecoder(path, 44100, 2)
            while (got := decoder.read_into(out)) == len(out):
                frames += got
            frames += got
            decoder.close()
        return frames
    finally:
        AvDecoder._plain_float_stream = plain


def write(path: Path, rolling: bool) -> None:
    block = np.random.default_rng(1).integers(-3000, 3000, BLOCK_BYTES // 2).astype("<i2")
    with open(path, "wb") as f:
        writeback = RollingWriteback(f.fileno())
        for _ in range(WAV_BYTES // BLOCK_BYTES):
            f.write(block)
            if rolling:
                writeback.advance(f.tell())


def make_cold(work: Path) -> None:
    spare = work / "cold.bin"
    write(spare, rolling=False)
    spare.unlink()
    os.sync()
    time.sleep(5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path("/tmp/broadcaster-bench-render"))
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    work = args.work or args.cache / "parts"
    work.mkdir(parents=True, exist_ok=True)
    files = sorted(args.cache.glob("item*.mp3"))
    if not files:
        sys.exit(f"no MP3s in {args.cache}: run bench/bench_render.py first (it makes them)")
    for _ in range(args.repeat):
        for name, run in (("decode: bare PyAV frame loop", lambda: decode_bare(files)),
                          ("decode: AvDecoder, in FFmpeg", lambda: decode_avdecoder(files, True)),
                          ("decode: AvDecoder, frame by frame", lambda: decode_avdecoder(files, False))):
            began, wall = cpu(), time.perf_counter()
            frames = run()
            report(name, began, wall, f"{len(files)} files, {frames / 44100 / 60:.1f} min")
        for rolling in (False, True):
            make_cold(work)
            out = work / "write.bin"
            began, wall = cpu(), time.perf_counter()
            write(out, rolling)
            report(f"write cold: {'rolling writeback' if rolling else 'plain'}", began, wall, "635 MB")
            out.unlink()


if __name__ == "__main__":
    main()
