"""A WAV's own RIFF header against the file's size: a copy cut on a frame boundary, or a header claiming more
than the file holds, is refused at ingest (ffmpeg decodes such a file without an error, and ffprobe 5.1 gives
no block_align to check it by), and the library stays as it was."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from broadcaster.library.analysis import analyse
from broadcaster.library.catalogue import Library
from broadcaster.problems import BroadcasterError
from broadcaster.sound.riff import read_riff
from tests.fixtures_audio_files import make_audio


def refusal(path: Path) -> tuple[str, str]:
    with pytest.raises(BroadcasterError) as caught:
        analyse(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path) and problem.hint_en and problem.hint_vi
    return problem.message_en, problem.message_vi


def cut_on_frame(src: Path, dest: Path, seconds: float) -> Path:
    """The header and the first `seconds` of frames, exactly: what an interrupted copy can leave."""
    wave = read_riff(src)
    keep = wave.data_offset + round(seconds * wave.sample_rate) * wave.block_align
    dest.write_bytes(src.read_bytes()[:keep])
    return dest


def with_data_size(src: Path, dest: Path, size: int) -> Path:
    data = bytearray(src.read_bytes())
    at = read_riff(src).data_offset - 4
    data[at:at + 4] = struct.pack("<I", size)
    dest.write_bytes(bytes(data))
    return dest


@pytest.mark.parametrize("codec, rf64", [("pcm_s16le", False), ("pcm_s24le", False), ("pcm_s16le", True)])
def test_a_wav_cut_from_10_s_to_5_s_on_a_frame_boundary_is_refused(tmp_path, codec, rf64):
    # 24-bit is written WAVE_FORMAT_EXTENSIBLE by ffmpeg; RF64 keeps the data size in its ds64 chunk.
    whole = make_audio(tmp_path / "whole.wav", 10, 48000, 2, ["-c:a", codec, *(["-rf64", "always"] if rf64 else [])])
    assert analyse(whole).duration == pytest.approx(10.0, abs=0.001)
    cut = cut_on_frame(whole, tmp_path / "cut.wav", 5.0)
    en, vi = refusal(cut)
    assert "truncated WAV: the header says 10.0 s" in en and "holds only 5.0 s" in en
    assert "bị cắt cụt" in vi and "10.0 s" in vi


def test_a_header_claiming_4_gb_is_refused(tmp_path):
    whole = make_audio(tmp_path / "whole.wav", 10, 44100, 2, ["-c:a", "pcm_s16le"])
    en, _ = refusal(with_data_size(whole, tmp_path / "4gb.wav", 0xFFFFFFF0))
    claimed = 0xFFFFFFF0 / (44100 * 2 * 2)
    assert f"the header says {claimed:.1f} s (4294967280 bytes of sound) but the file holds only 10.0 s" in en


def test_a_wav_streamed_to_a_pipe_is_refused_saying_its_header_has_no_length(tmp_path):
    piped = tmp_path / "piped.wav"
    piped.write_bytes(subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=2", "-f", "wav", "-"], capture_output=True,
        check=True).stdout)
    spoken = tmp_path / "spoken.wav"
    spoken.write_bytes(subprocess.run(["espeak-ng", "-v", "vi", "--stdout", "xin chào"], capture_output=True,
                                      check=True).stdout)
    for path, marker in ((piped, "0xFFFFFFFF"), (spoken, "0x7FFFF000")):
        en, vi = refusal(path)
        assert f"gives no length ({marker}" in en and "cannot be checked" in en and "không ghi độ dài" in vi


def test_a_whole_wav_with_chunks_after_its_data_is_accepted(tmp_path):
    whole = make_audio(tmp_path / "whole.wav", 3, 44100, 2, ["-c:a", "pcm_s16le"])
    tail = tmp_path / "tail.wav"
    tail.write_bytes(whole.read_bytes() + b"id3 " + struct.pack("<I", 10) + b"\0" * 10)
    assert analyse(tail).duration == pytest.approx(3.0, abs=0.001)


def test_ingest_of_a_cut_wav_leaves_the_library_as_it_was(tmp_path):
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio", copies=(44100, 2))
    good = make_audio(tmp_path / "good.wav", 2, 44100, 2, ["-c:a", "pcm_s16le"])
    library.ingest(good, category="news", title="Tin")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "audio").rglob("*"))
    whole = make_audio(tmp_path / "long.wav", 10, 44100, 2, ["-c:a", "pcm_s16le"])
    with pytest.raises(BroadcasterError, match="truncated WAV"):
        library.ingest(cut_on_frame(whole, tmp_path / "cut.wav", 5.0), category="news", title="Cut")
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "audio").rglob("*")) == before
    assert [i.title for i in library.items()] == ["Tin"]
