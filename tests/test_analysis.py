"""Whole-file analysis on real files: odd-but-valid ones pass with the right figures, broken ones are refused."""

import math
from pathlib import Path

import pytest

from broadcaster.library.analysis import analyse
from broadcaster.problems import BroadcasterError
from tests.support.audio_files import FORMATS, add_ape_tag, cut, ebur128_integrated, ffmpeg, make_audio, make_format


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    for name in FORMATS:
        make_format(folder, name)
    return folder


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_supported_format_is_measured_with_its_own_rate_and_channels(files, name):
    _, rate, channels = FORMATS[name]
    result = analyse(files / name)
    assert result.sample_rate == rate
    assert result.channels == channels
    # AAC keeps 1024 priming samples (~23 ms); the others decode to the exact length.
    assert result.duration == pytest.approx(3.0, abs=0.05)
    assert -20 < result.loudness_lufs < -8
    assert len(result.sha256) == 64


@pytest.mark.parametrize("name", ["pcm16-44k1-stereo.wav", "pcm16-8k-mono.wav", "pcm16-44000-stereo.wav",
                                  "vbr.mp3", "vorbis.ogg", "aac.m4a"])
def test_loudness_matches_ffmpeg_ebur128_within_0_3_lu(files, name):
    assert analyse(files / name).loudness_lufs == pytest.approx(ebur128_integrated(files / name), abs=0.3)


def test_relative_gate_ignores_quiet_passages_like_ffmpeg(tmp_path):
    # 2 s of tone then 6 s of faint noise: only the gates keep the noise from dragging the figure down.
    path = tmp_path / "gated.wav"
    ffmpeg("-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*1000*t):d=2,apad=pad_dur=6", "-f", "lavfi",
           "-i", "anoisesrc=d=8:a=0.003:seed=7", "-filter_complex", "amix=inputs=2:normalize=0", "-ar", "48000",
           str(path))
    measured = analyse(path).loudness_lufs
    assert measured == pytest.approx(ebur128_integrated(path), abs=0.3)
    # A half-scale 1 kHz sine is -9.03 LUFS; the 3 blocks straddling its end carry 3/4, 1/2, 1/4 of its
    # power and pass the relative gate, the 60 noise blocks (about -55 LUFS) do not: 18.5/20 of the power.
    assert measured == pytest.approx(-9.03 + 10 * math.log10(18.5 / 20), abs=0.05)


def test_sample_peak_of_a_half_scale_sine_is_minus_6_dbfs(tmp_path):
    path = make_audio(tmp_path / "half.wav", 2, 48000, 1, ["-c:a", "pcm_f32le"],
                      source="aevalsrc=0.5*sin(2*PI*997*t):s={rate}")
    assert analyse(path).peak_dbfs == pytest.approx(-6.02, abs=0.05)


def test_mp3_with_id3v2_and_ape_tags_decodes_cleanly_and_gives_its_title(tmp_path):
    path = make_audio(tmp_path / "tagged.mp3", options=["-id3v2_version", "3", "-metadata", "title=Ghen Cô Vy"])
    add_ape_tag(path, {"Title": "Ghen Cô Vy", "Artist": "Khắc Hưng"})
    result = analyse(path)
    assert result.tags["title"] == "Ghen Cô Vy"
    assert result.duration == pytest.approx(3.0, abs=0.05)


def test_long_file_is_decoded_to_the_end(tmp_path):
    # Longer than many read chunks, so a chunking bug would show as a wrong length.
    path = make_audio(tmp_path / "long.flac", 20.3, 44100, 2)  # 6.8 read chunks
    assert analyse(path).duration == pytest.approx(20.3, abs=0.001)


def reasons(path: Path) -> str:
    with pytest.raises(BroadcasterError) as caught:
        analyse(path)
    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.message_vi and problem.message_en and problem.message_vi != problem.message_en
    return problem.message_en


@pytest.mark.parametrize("name, keep, align, words", [
    ("pcm16-44k1-stereo.wav", 0.5, 4, "truncated"),  # cut on a sample boundary: only the header tells
    ("pcm24-48k-stereo.wav", 0.37, 1, "truncated"),  # cut mid-sample
    ("cbr128.mp3", 0.5, 1, "truncated"),
    ("vbr.mp3", 0.5, 1, "truncated"),
    ("vorbis.ogg", 0.5, 1, "corrupt"),  # too short to find a last page: the probe already fails
    ("lossless.flac", 0.5, 1, "truncated"),
    ("aac.m4a", 0.5, 1, "corrupt"),  # moov atom at the end is gone
])
def test_truncated_copies_are_refused(files, tmp_path, name, keep, align, words):
    assert words in reasons(cut(files / name, tmp_path / f"cut-{name}", keep, align))


def test_truncated_ogg_is_refused_although_its_duration_looks_whole(tmp_path):
    # ffprobe reads an OGG's length from its last page, so a cut copy claims its cut length: look for the end page.
    whole = make_audio(tmp_path / "long.ogg", 20, options=["-c:a", "libvorbis"])
    assert "truncated OGG" in reasons(cut(whole, tmp_path / "cut.ogg", 0.5))


def test_truncated_m4a_with_index_in_front_is_refused(tmp_path):
    whole = make_audio(tmp_path / "fast.m4a", 3, options=["-c:a", "aac", "-movflags", "+faststart"])
    assert "truncated" in reasons(cut(whole, tmp_path / "cut-fast.m4a", 0.5))


def test_random_bytes_named_mp3_are_refused(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(bytes((i * 7919 + 13) % 251 for i in range(20000)))
    assert "not an audio file" in reasons(path)


def test_zero_byte_file_is_refused(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    assert "empty" in reasons(path)


def test_text_file_named_wav_is_refused(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("Đây là văn bản, không phải âm thanh.\n" * 20, encoding="utf-8")
    assert "not an audio file" in reasons(path)


def test_picture_is_refused_as_having_no_audio(tmp_path):
    path = tmp_path / "poster.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-frames:v", "1", str(path))
    assert "no audio stream" in reasons(path)


@pytest.mark.parametrize("source", ["anullsrc=r={rate}:cl={layout}", "aevalsrc=0.0005*sin(2*PI*440*t):s={rate}"])
def test_silent_or_near_silent_file_is_refused(tmp_path, source):
    path = make_audio(tmp_path / "quiet.wav", 2, source=source)
    assert "silent" in reasons(path)


def test_quiet_but_audible_file_is_accepted(tmp_path):
    path = make_audio(tmp_path / "quiet.wav", 2, 48000, 1, source="aevalsrc=0.01*sin(2*PI*997*t):s={rate}")
    assert analyse(path).loudness_lufs == pytest.approx(-43.0, abs=0.1)  # -40 dBFS peak, -3 dB RMS


def test_cover_art_in_mp3_and_m4a_is_not_mistaken_for_the_audio(files, tmp_path):
    cover = tmp_path / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=300x300:d=1", "-frames:v", "1", str(cover))
    for name in ("cbr128.mp3", "aac.m4a"):
        path = tmp_path / f"cover-{name}"
        ffmpeg("-i", str(files / name), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a", "copy", "-c:v",
               "mjpeg", "-disposition:v", "attached_pic", str(path))
        result = analyse(path)
        assert (result.codec, result.channels) == (analyse(files / name).codec, 2)
        assert result.duration == pytest.approx(3.0, abs=0.05)
