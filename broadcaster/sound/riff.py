"""What a WAV's RIFF header says: the sample format (through WAVE_FORMAT_EXTENSIBLE), and where the data
chunk starts and how many bytes it claims (64-bit in RF64's ds64 chunk), beside the file's real size.

Read directly because ffprobe does not report `block_align` for WAV in every version, and derives the
duration from the file size, so a copy cut short looks whole to it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

WAVE_FORMAT_PCM = 1
WAVE_FORMAT_IEEE_FLOAT = 3
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
# Sizes written by tools streaming a WAV to a pipe, which cannot go back to fill in the real one
# (ffmpeg, most tools: 0xFFFFFFFF; espeak-ng --stdout: 0x7FFFF000).
STREAMED_SIZES = frozenset({0xFFFFFFFF, 0x7FFFF000})


@dataclass(frozen=True)
class RiffWave:
    format_tag: int  # the plain tag; an extensible header's sub-format is resolved
    channels: int
    sample_rate: int
    byte_rate: int  # nAvgBytesPerSec: the data's bytes per second, for any codec
    block_align: int
    bits_per_sample: int
    data_offset: int  # byte position of the first frame
    data_bytes: int  # as the header says
    file_bytes: int

    @property
    def declared_seconds(self) -> float:
        return self.data_bytes / self.byte_rate if self.byte_rate else 0.0

    @property
    def streamed(self) -> bool:
        """The data size is a streaming writer's placeholder, not a length."""
        return self.data_bytes in STREAMED_SIZES and self.cut_short

    @property
    def present_bytes(self) -> int:
        """Bytes of the data chunk actually in the file."""
        return max(0, min(self.data_bytes, self.file_bytes - self.data_offset))

    @property
    def present_seconds(self) -> float:
        return self.present_bytes / self.byte_rate if self.byte_rate else 0.0

    @property
    def cut_short(self) -> bool:
        """The file ends before the data chunk it announces."""
        return self.data_offset + self.data_bytes > self.file_bytes

    @property
    def whole(self) -> bool:
        """The file holds exactly what its header promises (plus the pad byte of an odd chunk)."""
        end = self.data_offset + self.data_bytes
        return self.file_bytes in (end, end + (self.data_bytes & 1))


def read_riff(path: str | Path) -> RiffWave | None:
    """The header of a RIFF or RF64 WAVE file; None when it is not one (or has no fmt before its data)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
                return None
            fmt = None
            ds64_data: int | None = None
            while len(chunk := f.read(8)) == 8:
                name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"data":
                    if fmt is None:
                        return None
                    if head[:4] == b"RF64" and size == 0xFFFFFFFF and ds64_data is not None:
                        size = ds64_data
                    return RiffWave(*fmt, data_offset=f.tell(), data_bytes=size,
                                    file_bytes=Path(path).stat().st_size)
                if name in (b"fmt ", b"ds64") and size <= 1024:  # small by definition; anything else is skipped
                    body = f.read(size)
                    if name == b"fmt ":
                        fmt = _fmt(body)
                    elif len(body) >= 16:
                        ds64_data = struct.unpack("<Q", body[8:16])[0]
                    f.seek(size & 1, 1)
                else:
                    f.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None


def _fmt(body: bytes) -> tuple[int, int, int, int, int, int] | None:
    if len(body) < 16:
        return None
    tag, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID starts with the plain format tag
    return tag, channels, rate, byte_rate, block_align, bits
