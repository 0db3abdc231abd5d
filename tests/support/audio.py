"""Real audio files and plans for engine tests: seeded noise and tones written as WAV/MP3 into tmp dirs."""

from __future__ import annotations

import subprocess
import wave
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from broadcaster.model import PlannedItem

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RATE = 44100
T0 = datetime(2021, 2, 22, 5, 30, tzinfo=ZONE)


def noise(seed: int, seconds: float, level: float = 0.2, channels: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (round(seconds * RATE), channels)) * level * np.sqrt(3)).astype(np.float32)


def tone(freq: float, seconds: float, level: float = 0.3, channels: int = 2) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).round().astype("<i2").tobytes())
    return path


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        raw = w.readframes(w.getnframes())
        return np.frombuffer(raw, "<i2").reshape(-1, w.getnchannels()).astype(np.float32) / 32767


def write_mp3(path: Path, samples: np.ndarray) -> Path:
    wav = write_wav(path.with_suffix(".src.wav"), samples)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "128k", str(path)], check=True)
    wav.unlink()
    return path


def planned(file: str, start: float, seconds: float, *, xf: float = 0.0, gain_db: float = 0.0,
            slot: str = "sang", t0: datetime = T0, **extra) -> PlannedItem:
    begin = t0 + timedelta(seconds=start)
    return PlannedItem(start=begin, end=begin + timedelta(seconds=seconds), slot=slot, category="test",
                       title=Path(file).stem, file=file, sha256="0" * 64, gain_db=gain_db, duration=seconds,
                       crossfade_in=xf, **extra)


def chain(files_and_seconds: list[tuple[str, float]], *, xf: float = 0.0, t0: datetime = T0,
          slot: str = "sang") -> list[PlannedItem]:
    """Items back to back (the next starts `xf` before the previous ends), as the planner lays them out."""
    items, at = [], 0.0
    for i, (file, seconds) in enumerate(files_and_seconds):
        begin = at - (xf if i else 0.0)
        items.append(planned(file, begin, seconds, xf=xf if i else 0.0, t0=t0, slot=slot))
        at = begin + seconds
    return items


def find(haystack: np.ndarray, needle: np.ndarray) -> tuple[int, float]:
    """Lag of `needle` in `haystack` by FFT cross-correlation (mono mix) and the normalised peak height."""
    h = haystack.mean(axis=1) if haystack.ndim == 2 else haystack
    n = needle.mean(axis=1) if needle.ndim == 2 else needle
    size = 1 << int(np.ceil(np.log2(len(h) + len(n))))
    corr = np.fft.irfft(np.fft.rfft(h, size) * np.conj(np.fft.rfft(n, size)), size)[:len(h) - len(n) + 1]
    lag = int(np.argmax(corr))
    seg = h[lag:lag + len(n)]
    height = float(corr[lag] / (np.linalg.norm(n) * np.linalg.norm(seg) + 1e-12))
    return lag, height


def longest_quiet(samples: np.ndarray, threshold: float, window: int = 44) -> float:
    """Longest run (seconds) of `window`-frame blocks whose peak is under `threshold`."""
    x = np.abs(samples).max(axis=1) if samples.ndim == 2 else np.abs(samples)
    blocks = x[:len(x) // window * window].reshape(-1, window).max(axis=1) < threshold
    best = run = 0
    for quiet in blocks:
        run = run + 1 if quiet else 0
        best = max(best, run)
    return best * window / RATE
