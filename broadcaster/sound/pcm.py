"""Read a WAV already in the station's format (rate, channels; float32, or s16) without decoding it.

The library keeps such a copy of every item (`station_copy`), so playout and simulate read frames from the
file straight into the mixer's buffer: no codec, no resampler, no worker process, and a seek is a file
position (sample-exact and instant). `PcmDecoder` keeps the `Decoder` contract: `read_into`, `error`,
silence past the end, `loop`, `close`. The samples are those the decoders give for the same file (float32
as stored; s16 scaled by 1/32768 like FFmpeg's converter), so a render is the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcaster.sound.riff import WAVE_FORMAT_IEEE_FLOAT, WAVE_FORMAT_PCM, read_riff

S16_SCALE = np.float32(1.0 / 32768.0)  # exact (a power of two), as FFmpeg converts s16 to float


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV's samples are and what they are."""

    sample_rate: int
    channels: int
    sample_format: str  # "f32" or "s16"; anything else is not read here
    data_offset: int  # byte position of the first frame
    data_bytes: int  # as the header says
    file_bytes: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * (4 if self.sample_format == "f32" else 2)

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    @property
    def whole(self) -> bool:
        """The file holds exactly what its header promises (plus the pad byte of an odd chunk)."""
        end = self.data_offset + self.data_bytes
        return self.file_bytes in (end, end + (self.data_bytes & 1))


def wav_layout(path: str | Path) -> WavLayout | None:
    """The layout of a WAVE file with float32 or s16 samples; None for anything else (let a decoder try)."""
    wave = read_riff(path)
    if wave is None:
        return None
    if wave.format_tag == WAVE_FORMAT_IEEE_FLOAT and wave.bits_per_sample == 32:
        sample_format = "f32"
    elif wave.format_tag == WAVE_FORMAT_PCM and wave.bits_per_sample == 16:
        sample_format = "s16"
    else:
        return None
    return WavLayout(wave.sample_rate, wave.channels, sample_format, wave.data_offset, wave.data_bytes,
                     wave.file_bytes)


def station_layout(path: str | Path, sample_rate: int, channels: int) -> WavLayout | None:
    """The layout when `path` is a whole WAV at the station's rate and channels, else None."""
    layout = wav_layout(path)
    if layout is None or layout.sample_rate != sample_rate or layout.channels != channels or not layout.whole:
        return None
    return layout


class PcmDecoder:
    """Frames of a station-format WAV, read into the mixer's buffer with the gain applied on the way."""

    def __init__(self, path: str | Path, layout: WavLayout, *, offset: float = 0.0, loop: bool = False):
        self.path = Path(path)
        self.channels = layout.channels
        self.error: str | None = None
        self.frames_read = 0
        self._layout = layout
        self._loop = loop and layout.frames > 0
        self._scratch = np.zeros((0, layout.channels), np.int16)  # s16 only
        self._file = open(path, "rb")  # noqa: SIM115 (kept open while the item plays; closed by close())
        first = round(offset * layout.sample_rate)
        if self._loop:
            first %= layout.frames
        self._left = max(0, layout.frames - first)  # frames before the end of the data
        self._file.seek(layout.data_offset + min(first, layout.frames) * layout.frame_bytes)

    def read_into(self, out: np.ndarray, gain: float = 1.0) -> int:
        """Fill `out` (frames × channels float32); past the end, silence. Returns the frames of audio."""
        want, got = out.shape[0], 0
        while got < want and self._file is not None:
            if self._left == 0:
                if not self._loop:
                    break
                self._file.seek(self._layout.data_offset)  # a bed shorter than the speech over it repeats
                self._left = self._layout.frames
            take = min(want - got, self._left)
            n = self._read(out[got:got + take])
            got += n
            self._left -= n
            if n < take:  # the file shrank since it was opened
                self.error = f"{self.path.name} ended early ({self.frames_read + got} frames read)"
                self._left = 0
                self._loop = False
        if got < want:
            out[got:].fill(0.0)
        if gain != 1.0:
            out[:got] *= np.float32(gain)  # the same float32 product as the decoders' copy_with_gain
        self.frames_read += got
        return got

    def _read(self, dst: np.ndarray) -> int:
        width = self._layout.frame_bytes
        if self._layout.sample_format == "f32":
            n = self._file.readinto(memoryview(dst.reshape(-1)).cast("B")) or 0
            return n // width
        if self._scratch.shape[0] < dst.shape[0]:
            self._scratch = np.empty((dst.shape[0], self.channels), np.int16)
        raw = self._scratch[:dst.shape[0]]
        frames = (self._file.readinto(memoryview(raw.reshape(-1)).cast("B")) or 0) // width
        np.multiply(raw[:frames], S16_SCALE, out=dst[:frames])
        return frames

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def open_pcm(path: str | Path, sample_rate: int, channels: int, *, offset: float = 0.0,
             loop: bool = False) -> PcmDecoder | None:
    """A `PcmDecoder` when `path` is a whole station-format WAV, else None (decode it instead)."""
    if Path(path).suffix.lower() != ".wav":
        return None
    layout = station_layout(path, sample_rate, channels)
    return None if layout is None else PcmDecoder(path, layout, offset=offset, loop=loop)
