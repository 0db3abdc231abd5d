"""Real audio files for tests, made with ffmpeg on the spot: odd-but-valid ones and broken ones.

Import explicitly: `from tests.fixtures_audio_files import make_audio, ...`.
"""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
from pathlib import Path

# A few seconds of music-like sound: a chord over pink noise, so loudness gating and K-weighting both matter.
MUSIC = ("aevalsrc=0.2*sin(2*PI*220*t)+0.15*sin(2*PI*277*t)+0.1*sin(2*PI*330*t)"
         "+0.2*sin(2*PI*55*t)*lt(mod(t\\,0.5)\\,0.1):s={rate}:c={layout}")

# name → (ffmpeg output options, sample rate, channels): the formats the station must accept.
FORMATS: dict[str, tuple[list[str], int, int]] = {
    "pcm16-44k1-stereo.wav": (["-c:a", "pcm_s16le"], 44100, 2),
    "pcm24-48k-stereo.wav": (["-c:a", "pcm_s24le"], 48000, 2),
    "pcm16-8k-mono.wav": (["-c:a", "pcm_s16le"], 8000, 1),
    "pcm16-44000-stereo.wav": (["-c:a", "pcm_s16le"], 44000, 2),
    "cbr128.mp3": (["-c:a", "libmp3lame", "-b:a", "128k"], 44100, 2),
    "vbr.mp3": (["-c:a", "libmp3lame", "-q:a", "5"], 44100, 2),
    "mono-22k.mp3": (["-c:a", "libmp3lame", "-b:a", "64k"], 22050, 1),
    "vorbis.ogg": (["-c:a", "libvorbis", "-q:a", "3"], 44100, 2),
    "lossless.flac": (["-c:a", "flac"], 48000, 2),
    "aac.m4a": (["-c:a", "aac", "-b:a", "96k"], 44100, 2),
}


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_audio(path: Path, seconds: float = 3.0, rate: int = 44100, channels: int = 2,
               options: list[str] | None = None, source: str = MUSIC) -> Path:
    """Encode `seconds` of `source` (an ffmpeg lavfi graph) to `path`; the extension picks the format."""
    layout = "mono" if channels == 1 else "stereo"
    ffmpeg("-f", "lavfi", "-i", source.format(rate=rate, layout=layout), "-t", str(seconds),
           "-ar", str(rate), "-ac", str(channels), *(options or []), str(path))
    return path


def make_format(folder: Path, name: str, seconds: float = 3.0) -> Path:
    options, rate, channels = FORMATS[name]
    return make_audio(folder / name, seconds, rate, channels, options)


def cut(src: Path, dest: Path, keep: float = 0.5, align: int = 1) -> Path:
    """A copy of the first `keep` share of `src` (rounded down to `align` bytes): an interrupted copy."""
    data = src.read_bytes()
    size = int(len(data) * keep) // align * align
    dest.write_bytes(data[:size])
    return dest


def add_ape_tag(path: Path, items: dict[str, str]) -> Path:
    """Append an APEv2 tag (header, items, footer) as some Windows taggers write to MP3s."""
    body = b"".join(struct.pack("<II", len(v.encode()), 0) + k.encode("ascii") + b"\0" + v.encode()
                    for k, v in items.items())
    size = len(body) + 32

    def frame(flags: int) -> bytes:
        return b"APETAGEX" + struct.pack("<IIII", 2000, size, len(items), flags) + b"\0" * 8

    with open(path, "ab") as f:
        f.write(frame(0xA0000000) + body + frame(0x80000000))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ebur128_integrated(path: Path) -> float:
    """The peer measurement: ffmpeg's own EBU R128 meter."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-nostats", "-i", str(path), "-filter_complex", "ebur128",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", out)[-1])


def ebur128_peaks(path: Path, gain_db: float = 0.0) -> tuple[float, float]:
    """ffmpeg's sample peak and true peak (`ebur128=peak=sample+true`, 0.1 dB steps), after `gain_db`."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-nostats", "-i", str(path), "-filter_complex",
                          f"volume={gain_db}dB:precision=float,ebur128=peak=sample+true", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    summary = out[out.rindex("Summary:"):]
    sample = float(re.search(r"Sample peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    true = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return sample, true
