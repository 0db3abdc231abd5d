"""Station copies: each library item's audio decoded once, at import, to the station's own format.

`audio/.station/<sha256>-<rate>-<channels>.wav` holds the item's samples as the engine's decoder gives them
(IEEE float32 WAV, bit for bit), so playout and simulate read them (`pcm`) instead of decoding: decode
problems show at import, seeks are exact and instant, and a small box runs cooler. A copy is derived and
disposable (the hidden folder is never catalogued; `library rebuild` remakes missing ones), costs about
21.2 MB per minute at 44.1 kHz stereo (float32), and is written atomically: a copy that exists is whole.
Without one
(or with one whose size does not match its header) the engine decodes the original, as before.
"""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path

import numpy as np

from broadcaster.files import GROUP_READABLE, make_folder, replacing
from broadcaster.sound.decode import open_decoder
from broadcaster.sound.pcm import station_layout, wav_layout
from broadcaster.sound.riff import WAVE_FORMAT_IEEE_FLOAT

STATION_DIR = ".station"
WRITE_FRAMES = 1 << 16  # frames decoded and written per step: ~0.5 MB of stereo float32
logger = logging.getLogger(__name__)
_distrusted: set[Path] = set()  # copies already reported as damaged (once per process)


def copy_path(audio_dir: str | Path, sha256: str, sample_rate: int, channels: int) -> Path:
    return Path(audio_dir) / STATION_DIR / f"{sha256}-{sample_rate}-{channels}.wav"


def has_copy(audio_dir: str | Path, sha256: str, sample_rate: int, channels: int) -> bool:
    """A whole copy in this format exists (the header and the size agree)."""
    return station_layout(copy_path(audio_dir, sha256, sample_rate, channels), sample_rate, channels) is not None


def playable_path(audio_dir: str | Path, file: str | Path, sha256: str | None, sample_rate: int,
                  channels: int) -> Path:
    """What the engine should open for an item: its station copy when there is a whole one, else the original."""
    original = Path(file) if Path(file).is_absolute() else Path(audio_dir) / file
    if not sha256:
        return original
    copy = copy_path(audio_dir, sha256, sample_rate, channels)
    if station_layout(copy, sample_rate, channels) is not None:
        return copy
    if copy.exists() and copy not in _distrusted:
        _distrusted.add(copy)
        layout = wav_layout(copy)
        why = "not a float32/s16 WAV" if layout is None else (
            f"{layout.file_bytes} bytes, its header says {layout.data_offset + layout.data_bytes}")
        logger.warning("station copy %s is damaged (%s): decoding the original %s instead; "
                       "delete the copy and run 'python main.py library rebuild' to make it again",
                       copy, why, original)
    return original


def write_copy(src: str | Path, dest: Path, sample_rate: int, channels: int) -> None:
    """Decode `src` with the engine's own decoder into `dest` (float32 WAV): temp file, fsync, rename.
    Raises OSError when it cannot be written, ValueError when `src` cannot be decoded; `dest` is then
    untouched."""
    make_folder(dest.parent)
    decoder = open_decoder(src, sample_rate, channels)
    try:
        with replacing(dest, mode=GROUP_READABLE) as tmp, open(tmp, "wb") as f:
            f.write(_header(sample_rate, channels, 0))  # sizes filled in at the end
            block = np.empty((WRITE_FRAMES, channels), np.float32)
            frames = 0
            while n := decoder.read_into(block):
                f.write(memoryview(block[:n].reshape(-1)).cast("B"))
                frames += n
            if decoder.error:
                raise ValueError(decoder.error)
            f.seek(0)
            f.write(_header(sample_rate, channels, frames))
    finally:
        decoder.close()


def copy_size(seconds: float, sample_rate: int, channels: int) -> int:
    """Bytes a station copy of `seconds` of audio takes (float32), with 1 % to spare for the decoder's rounding."""
    return 4096 + math.ceil(seconds * 1.01 * sample_rate) * channels * 4


def prune(audio_dir: str | Path, keep: set[str]) -> int:
    """Delete what the copy folder holds but nobody will read: copies not named in `keep` (items gone, or an
    old station format) and temp files a power cut left behind. Returns how many."""
    folder = Path(audio_dir) / STATION_DIR
    gone = [p for p in folder.glob("*") if p.is_file() and p.name not in keep] if folder.is_dir() else []
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)


def _header(sample_rate: int, channels: int, frames: int) -> bytes:
    """RIFF header of an IEEE float32 WAV (fmt with cbSize, and the fact chunk non-PCM formats carry)."""
    data = frames * channels * 4
    fmt = struct.pack("<HHIIHHH", WAVE_FORMAT_IEEE_FLOAT, channels, sample_rate, sample_rate * channels * 4,
                      channels * 4, 32, 0)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<II", 4, frames)
            + b"data" + struct.pack("<I", data))
    if len(body) + data > 0xFFFFFFFF:
        raise ValueError(f"too long for a WAV file ({frames / sample_rate / 3600:.1f} h)")
    return b"RIFF" + struct.pack("<I", len(body) + data) + body
