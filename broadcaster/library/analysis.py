"""Decode a whole audio file with ffmpeg and measure it, or say in two languages why it cannot air.

`analyse(path)` probes the file with ffprobe, then streams the decoded float PCM from ffmpeg's stdout through
the loudness meter, so every frame is decoded (a bad frame in minute 40 is found at ingest, not on air) and
memory stays flat. A file is rejected when it is not audio, cannot be decoded, is empty, silent, or shorter
than its own header says (truncated downloads and copies).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from broadcaster.files import file_sha256
from broadcaster.library.loudness import LoudnessMeter
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.sound.riff import read_riff

SILENT_PEAK_DBFS = -60.0
SILENT_LOUDNESS_LUFS = -70.0
CHUNK_FRAMES = 1 << 17  # ~3 s at 44.1 kHz per read: big enough for numpy, small enough to keep memory flat
# A decoded length short of the header's duration by more than this is truncation (MP3 encoder delay and
# padding account for ~50 ms).
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.02
# ffmpeg error lines about tags or cover art, not about the sound: they do not make a file unplayable.
_METADATA_ERRORS = re.compile(r"id3|ape ?tag|apetag|metadata|BOM|cover|attached pic|mjpeg|png|chapter", re.I)


@dataclass(frozen=True)
class AudioAnalysis:
    duration: float  # seconds, counted from the decoded frames
    sample_rate: int
    channels: int
    codec: str  # ffmpeg codec name, e.g. "mp3", "pcm_s24le", "vorbis"
    loudness_lufs: float  # integrated, BS.1770-4 gated
    peak_dbfs: float  # sample peak
    true_peak_dbtp: float  # BS.1770-4 Annex 2 (4x oversampled): what the gain cap is set on
    sha256: str
    container: str = ""  # ffmpeg format name, e.g. "wav", "mp3", "ogg"
    tags: dict[str, str] = field(default_factory=dict)  # lower-cased tag names (title, artist, ...)


def analyse(path: str | Path, max_seconds: float | None = None) -> AudioAnalysis:
    """Measure one file; raise `BroadcasterError` naming the file when it is not fit to air, or longer than
    `max_seconds` (from its header when it has one, else once that much has decoded)."""
    path = Path(path)
    if not path.is_file():
        raise _reject(path, "không tìm thấy tệp", "file not found", "kiểm tra đường dẫn", "check the path")
    if path.stat().st_size == 0:
        raise _reject(path, "tệp rỗng (0 byte)", "empty file (0 bytes)",
                      "chép lại tệp từ nguồn", "copy the file again from its source")
    stream, container, tags = _probe(path)
    sample_rate, channels = int(stream.get("sample_rate") or 0), int(stream.get("channels") or 0)
    codec = stream.get("codec_name", "?")
    if sample_rate <= 0 or channels <= 0:
        raise _reject(path, f"không đọc được tần số lấy mẫu/số kênh (codec {codec})",
                      f"no sample rate or channel count (codec {codec})",
                      "chuyển sang WAV hoặc MP3 rồi thử lại", "convert to WAV or MP3 and try again")
    if container == "wav":
        _check_wav_header(path)
    promised = _promised_duration(path, stream, container, sample_rate, channels)
    if max_seconds is not None and promised and promised > max_seconds:
        raise _too_long(path, f"{_clock(promised)}", max_seconds)
    max_frames = math.ceil(max_seconds * sample_rate) if max_seconds is not None else None
    meter, errors = _decode(path, sample_rate, channels, max_frames)
    duration = meter.frames / sample_rate
    if max_frames is not None and meter.frames > max_frames:
        raise _too_long(path, f"> {_clock(max_seconds)}", max_seconds)
    if meter.frames == 0:
        raise _reject(path, "không giải mã được âm thanh nào", "no audio could be decoded",
                      "tệp hỏng hoặc rỗng; chép lại từ nguồn", "the file is corrupt or empty; copy it again",
                      detail=errors)
    if errors:
        raise _reject(path, f"tệp hỏng hoặc bị cắt cụt: ffmpeg báo lỗi khi giải mã ({errors[0]})",
                      f"corrupt or truncated: ffmpeg reported decoding errors ({errors[0]})",
                      "chép hoặc tải lại tệp từ nguồn", "copy or download the file again from its source")
    if promised and promised - duration > max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_RATIO * promised):
        raise _reject(path, f"tệp bị cắt cụt: phần đầu tệp ghi {promised:.1f} s nhưng chỉ giải mã được "
                      f"{duration:.1f} s",
                      f"truncated: the header says {promised:.1f} s but only {duration:.1f} s decode",
                      "chép hoặc tải lại tệp đầy đủ", "copy or download the whole file again")
    if container == "ogg" and not _ogg_has_end(path):
        raise _reject(path, "tệp OGG bị cắt cụt: thiếu trang kết thúc", "truncated OGG: no end-of-stream page",
                      "chép hoặc tải lại tệp đầy đủ", "copy or download the whole file again")
    loudness, peak, true_peak = meter.integrated(), meter.peak_dbfs(), meter.true_peak_dbtp()
    if peak < SILENT_PEAK_DBFS or loudness < SILENT_LOUDNESS_LUFS:
        shown = "-∞" if math.isinf(peak) else f"{peak:.1f}"
        raise _reject(path, f"tệp chỉ có im lặng (đỉnh {shown} dBFS)", f"silent only (peak {shown} dBFS)",
                      "kiểm tra lại bản ghi âm", "check the recording")
    return AudioAnalysis(duration, sample_rate, channels, codec, round(loudness, 2), round(peak, 2),
                         round(true_peak, 2), file_sha256(path), container, tags)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _too_long(path: Path, length: str, max_seconds: float) -> BroadcasterError:
    limit = f"{max_seconds / 60:g}"
    return _reject(path, f"tệp dài {length}, quá giới hạn {limit} phút cho một bài của đài (audio.max_item_minutes)",
                   f"the file is {length} long, over the station's limit of {limit} min for one item "
                   "(audio.max_item_minutes)",
                   f"cắt thành các phần ngắn hơn {limit} phút, hoặc tăng audio.max_item_minutes trong config.yaml",
                   f"cut it into parts shorter than {limit} min, or raise audio.max_item_minutes in config.yaml")


def _reject(path: Path, vi: str, en: str, hint_vi: str = "", hint_en: str = "",
            detail: list[str] | None = None) -> BroadcasterError:
    if detail:
        vi, en = f"{vi}: {detail[0]}", f"{en}: {detail[0]}"
    return BroadcasterError([Problem(str(path), vi, en, hint_vi, hint_en)])


def _probe(path: Path) -> tuple[dict, str, dict[str, str]]:
    """The first audio stream, the container name and the tags, per ffprobe."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True, errors="replace")
    reason = _first_line(result.stderr, path)
    if result.returncode != 0:
        raise _reject(path, f"không phải tệp âm thanh, định dạng không hỗ trợ, hoặc tệp hỏng ({reason})",
                      f"not an audio file, an unsupported format, or a corrupt file ({reason})",
                      "dùng WAV, MP3, OGG, FLAC hoặc M4A; nếu đúng định dạng thì chép lại tệp",
                      "use WAV, MP3, OGG, FLAC or M4A; if it is one, copy the file again")
    info = json.loads(result.stdout or "{}")
    fmt = info.get("format", {})
    audio = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not audio:
        raise _reject(path, f"tệp không có âm thanh (định dạng {fmt.get('format_name', '?')})",
                      f"no audio stream in this file (format {fmt.get('format_name', '?')})",
                      "dùng WAV, MP3, OGG, FLAC hoặc M4A", "use WAV, MP3, OGG, FLAC or M4A")
    tags = {k.lower(): str(v) for k, v in {**fmt.get("tags", {}), **audio[0].get("tags", {})}.items()}
    stream = dict(audio[0])
    stream.setdefault("format_duration", fmt.get("duration"))
    return stream, fmt.get("format_name", ""), tags


def _decode(path: Path, sample_rate: int, channels: int,
            max_frames: int | None = None) -> tuple[LoudnessMeter, list[str]]:
    """Stream the first audio stream as native-rate float32 through a meter; return it and ffmpeg's errors.
    Past `max_frames` it stops early (the meter then holds more than `max_frames`)."""
    meter = LoudnessMeter(sample_rate, channels)
    frame_bytes = 4 * channels
    # stderr goes to a file, not a pipe: a file with thousands of bad frames must not block ffmpeg.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-sn",
             "-f", "f32le", "-acodec", "pcm_f32le", "-ar", str(sample_rate), "-ac", str(channels), "pipe:1"],
            stdout=subprocess.PIPE, stderr=err)
        try:
            leftover = b""
            while block := proc.stdout.read(CHUNK_FRAMES * frame_bytes):
                data = leftover + block if leftover else block
                usable = len(data) - len(data) % frame_bytes
                leftover = data[usable:]
                meter.add(np.frombuffer(data, np.float32, usable // 4).reshape(-1, channels))
                if max_frames is not None and meter.frames > max_frames:
                    proc.kill()
                    return meter, []
        finally:
            proc.stdout.close()
            code = proc.wait()
        err.seek(0)
        lines = [_tidy(line, path) for line in err.read().decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if not _METADATA_ERRORS.search(line)]
    if code != 0 and not errors:
        errors = [f"ffmpeg exit code {code}"]
    return meter, errors


def _promised_duration(path: Path, stream: dict, container: str, sample_rate: int, channels: int) -> float | None:
    """How long the file says it is. For WAV ffprobe trusts the file size, so read the data chunk's size."""
    if container == "wav":
        wave = read_riff(path)
        return wave.declared_seconds if wave and not wave.streamed else None
    for key in ("duration", "format_duration"):
        try:
            value = float(stream.get(key) or "nan")
        except ValueError:
            continue
        if math.isfinite(value) and value > 0:
            return value
    return None


def _check_wav_header(path: Path) -> None:
    """Refuse a WAV whose data chunk claims more bytes than the file holds: ffmpeg decodes what is there
    without a word, so a copy cut on a frame boundary would otherwise air short."""
    wave = read_riff(path)
    if wave is None or not wave.cut_short:
        return
    holds_vi = f"{wave.present_seconds:.1f} s ({wave.file_bytes} byte)"
    holds = f"{wave.present_seconds:.1f} s ({wave.file_bytes} bytes)"
    if wave.streamed:
        marker = f"0x{wave.data_bytes:08X}"
        raise _reject(path, f"phần đầu tệp WAV không ghi độ dài ({marker}, kiểu tệp ghi qua ống dẫn), tệp có "
                      f"{holds_vi}: không kiểm tra được tệp có đủ hay bị cắt",
                      f"the WAV header gives no length ({marker}, as a WAV written to a pipe has), the file holds "
                      f"{holds}: whether it is whole or cut cannot be checked",
                      "dùng tệp gốc, hoặc ghi ra tệp thay vì ống dẫn (espeak-ng -w, ffmpeg -i vao.wav ra.wav)",
                      "use the original, or write it to a file rather than a pipe (espeak-ng -w, "
                      "ffmpeg -i in.wav out.wav)")
    raise _reject(path, f"tệp WAV bị cắt cụt: phần đầu tệp ghi {wave.declared_seconds:.1f} s "
                  f"({wave.data_bytes} byte âm thanh) nhưng tệp chỉ có {holds_vi}",
                  f"truncated WAV: the header says {wave.declared_seconds:.1f} s ({wave.data_bytes} bytes of "
                  f"sound) but the file holds only {holds}",
                  "chép hoặc tải lại tệp đầy đủ", "copy or download the whole file again")


def _ogg_has_end(path: Path) -> bool:
    """An OGG stream ends with a page flagged end-of-stream; a cut copy does not (its duration looks fine)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65536))
        tail = f.read()
    at = tail.rfind(b"OggS")
    return at >= 0 and len(tail) > at + 5 and bool(tail[at + 5] & 0x04)


def _first_line(text: str, path: Path) -> str:
    lines = [_tidy(line, path) for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "?"


def _tidy(line: str, path: Path) -> str:
    """ffmpeg's message without object addresses or the file name, which the Problem already shows."""
    line = re.sub(r"\[([^\]@]+?) @ 0x[0-9a-f]+\] ", r"[\1] ", line.strip())
    return line.removeprefix(f"{path}: ")
