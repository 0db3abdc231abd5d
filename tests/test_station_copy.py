"""Station copies: written at ingest and rebuild from real ffmpeg-made files into a real library, read without
decoding, the same samples as decoding, and never the cause of a lost item or a wrong render."""

from __future__ import annotations

import logging
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from broadcaster.cli import main
from broadcaster.library.catalogue import Library
from broadcaster.library.station_copy import STATION_DIR, copy_path, has_copy, playable_path, write_copy
from broadcaster.sound.decode import AvDecoder, open_decoder
from broadcaster.sound.pcm import PcmDecoder, open_pcm, station_layout
from tests.support.audio import RATE, noise, write_mp3, write_wav

FORMAT = (RATE, 2)


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("usb")
    write_mp3(folder / "a.mp3", noise(1, 3.0))
    write_mp3(folder / "b.mp3", noise(2, 2.0, level=0.05))
    write_wav(folder / "mono.wav", noise(3, 2.0, channels=1), rate=22050)  # resampled and spread to stereo
    return folder


@pytest.fixture
def library(tmp_path) -> Library:
    return Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio", copies=FORMAT)


def decoded(path: Path, frames: int, offset: float = 0.0, decoder=AvDecoder) -> np.ndarray:
    out = np.zeros((frames, 2), np.float32)
    dec = decoder(path, RATE, 2, offset=offset)
    dec.read_into(out[:frames // 3])
    dec.read_into(out[frames // 3:])  # in two reads, as the mixer does
    dec.close()
    return out


def copy_of(library: Library, item) -> Path:
    return copy_path(library.audio_dir, item.sha256, *FORMAT)


@pytest.mark.parametrize("name", ["a.mp3", "mono.wav"])
def test_ingest_writes_a_copy_bit_identical_to_the_engines_decoder(library, sources, name):
    result = library.ingest(sources / name, category="spot")
    assert result.added and not result.warnings
    copy = copy_of(library, result.item)
    assert copy.name == f"{result.item.sha256}-44100-2.wav" and copy.parent.name == STATION_DIR
    frames = round(result.item.duration * RATE) + RATE  # a second past the end: silence in both
    original = decoded(library.audio_dir / result.item.file, frames)
    assert np.array_equal(decoded(copy, frames, decoder=open_decoder), original)
    assert isinstance(open_decoder(copy, RATE, 2), PcmDecoder)
    assert abs(station_layout(copy, *FORMAT).frames - round(result.item.duration * RATE)) <= 2
    assert library.untracked() == [] and not list(copy.parent.glob(".copy-*"))  # no temp file left
    assert library.rebuild().catalogued == [result.item.file]  # the copy is not an item


def test_copy_seeks_to_the_exact_frame_and_loops(library, sources):
    item = library.ingest(sources / "a.mp3", category="spot").item
    copy = copy_of(library, item)
    whole = decoded(copy, 3 * RATE, decoder=open_decoder)
    for offset in (0.5, 1.2345, 2.999):
        start = round(offset * RATE)
        part = decoded(copy, RATE // 2, offset=offset, decoder=open_decoder)
        assert np.array_equal(part[:3 * RATE - start], whole[start:start + RATE // 2])
        assert np.array_equal(part, decoded(library.audio_dir / item.file, RATE // 2, offset=offset))
    looped = np.zeros((7 * RATE, 2), np.float32)
    dec = open_pcm(copy, RATE, 2, offset=1.0, loop=True)
    assert dec.read_into(looped, 0.5) == 7 * RATE
    frames = station_layout(copy, *FORMAT).frames
    assert np.array_equal(looped[frames - RATE:frames - RATE + 100], whole[:100] * np.float32(0.5))
    dec.close()


def test_s16_wav_at_the_station_rate_is_read_like_the_decoder_reads_it(tmp_path):
    path = write_wav(tmp_path / "peer.wav", noise(4, 1.5))
    dec = open_decoder(path, RATE, 2, offset=0.25)
    assert isinstance(dec, PcmDecoder)
    dec.close()
    for gain in (1.0, 0.7):
        ours = np.zeros((RATE, 2), np.float32)
        theirs = np.zeros((RATE, 2), np.float32)
        (a := open_decoder(path, RATE, 2, offset=0.25)).read_into(ours, gain)
        (b := AvDecoder(path, RATE, 2, offset=0.25)).read_into(theirs, gain)
        a.close(), b.close()
        assert np.array_equal(ours, theirs)


def test_rebuild_makes_missing_copies_and_leaves_the_others(library, sources):
    a = library.ingest(sources / "a.mp3", category="spot").item
    b = library.ingest(sources / "b.mp3", category="spot").item
    kept = copy_of(library, a).stat()
    copy_of(library, b).unlink()
    orphan = copy_path(library.audio_dir, "0" * 64, *FORMAT)
    shutil.copy(copy_of(library, a), orphan)
    stale = copy_of(library, a).with_name(f"{a.sha256}-48000-2.wav")  # the station's format before
    stale.write_bytes(b"old")
    (stale.parent / ".copy-x.part").write_bytes(b"cut by a power cut")
    report = library.rebuild()
    assert report.copies_made == 1 and not report.copy_warnings
    assert report.copies_pruned == 3 and not orphan.exists() and not stale.exists()
    assert sorted(p.name for p in orphan.parent.iterdir()) == sorted(copy_of(library, i).name for i in (a, b))
    assert has_copy(library.audio_dir, b.sha256, *FORMAT)
    after = copy_of(library, a).stat()
    assert (after.st_ino, after.st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    assert sorted(report.catalogued) == sorted([a.file, b.file])
    assert library.missing_copies() == []


def test_ingesting_the_same_audio_again_mends_a_missing_copy(library, sources):
    item = library.ingest(sources / "a.mp3", category="spot").item
    copy_of(library, item).unlink()
    again = library.ingest(sources / "a.mp3", category="spot")
    assert not again.added and not again.warnings and has_copy(library.audio_dir, item.sha256, *FORMAT)


def test_remove_deletes_the_copy(library, sources):
    item = library.ingest(sources / "a.mp3", category="spot").item
    library.remove(item.sha256)
    assert not copy_of(library, item).exists()
    assert (library.audio_dir / ".retired" / item.file).exists()


def test_copy_that_cannot_be_written_keeps_the_ingest_and_warns(library, sources):
    (library.audio_dir).mkdir(parents=True)
    (library.audio_dir / STATION_DIR).write_text("not a folder")  # as unwritable as a full disk, even for root
    result = library.ingest(sources / "a.mp3", category="spot")
    assert result.added and library.get(result.item.sha256) is not None
    assert (library.audio_dir / result.item.file).exists()
    [warning] = result.warnings
    assert warning.severity == "warning" and result.item.file in warning.message_en
    assert "library rebuild" in warning.hint_en and "bản sao" in warning.message_vi
    assert library.missing_copies() == [result.item]
    assert playable_path(library.audio_dir, result.item.file, result.item.sha256, *FORMAT) == \
        library.audio_dir / result.item.file


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_copy_folder_keeps_the_ingest_and_warns(library, sources):
    (library.audio_dir / STATION_DIR).mkdir(parents=True)
    (library.audio_dir / STATION_DIR).chmod(0o500)
    try:
        result = library.ingest(sources / "a.mp3", category="spot")
    finally:
        (library.audio_dir / STATION_DIR).chmod(0o700)
    assert result.added and len(result.warnings) == 1


def test_damaged_copy_is_not_trusted_and_the_original_is_decoded(library, sources, caplog):
    item = library.ingest(sources / "a.mp3", category="spot").item
    copy = copy_of(library, item)
    with open(copy, "r+b") as f:
        f.truncate(copy.stat().st_size - 4096)  # a lost block on a damaged disk
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert playable_path(library.audio_dir, item.file, item.sha256, *FORMAT) == library.audio_dir / item.file
    assert sum("damaged" in r.getMessage() for r in caplog.records) == 1  # said once
    assert library.missing_copies() == [item]
    assert library.rebuild().copies_made == 1 and has_copy(library.audio_dir, item.sha256, *FORMAT)


def test_write_copy_of_undecodable_file_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\xff\xfb" + b"\x00" * 100)
    dest = tmp_path / STATION_DIR / "x-44100-2.wav"
    with pytest.raises((ValueError, OSError)):
        write_copy(bad, dest, *FORMAT)
    assert not dest.exists() and list(dest.parent.iterdir()) == []


def test_copy_header_is_a_float_wav_ffmpeg_reads(library, sources):
    import subprocess

    item = library.ingest(sources / "b.mp3", category="spot").item
    copy = copy_of(library, item)
    head = copy.read_bytes()[:20]
    assert head[:4] == b"RIFF" and struct.unpack("<I", head[4:8])[0] == copy.stat().st_size - 8
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
                            "-of", "csv=p=0", str(copy)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "pcm_f32le,44100,2"


CONFIG = """station: {commune: Xã Thử, name: Đài xã Thử}
approval: {approvers: [Lê Duyệt]}  # local clips air once an approver adds them (TT 39/2020)
slots:
  - {id: sang, start: "05:30", end: "05:31", playlist: p}
audio: {sample_rate: 44100, channels: 2, fade_seconds: 0.05, crossfade_seconds: 1.5, crossfade_categories: [song]}
"""


def test_simulate_via_copies_is_bit_identical_to_simulate_via_originals(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "p.yaml").write_text("name: p\nsequence:\n  - category: song\nfill: song\n",
                                                   encoding="utf-8")
    files = [write_mp3(tmp_path / "in" / f"song{seed}.mp3", noise(seed, 13.0, level=0.05 * seed))
             for seed in (1, 2, 3)]
    config = str(tmp_path / "config.yaml")
    assert main(["ingest", *map(str, files), "--category", "song", "--by", "Lê Duyệt", "--config", config]) == 0
    copies = sorted((tmp_path / "audio" / STATION_DIR).glob("*.wav"))
    assert len(copies) == 3
    assert "station copy" not in capsys.readouterr().out  # no warning: `validate` is quiet about copies too
    assert main(["validate", "--config", config]) == 0
    assert "station copy" not in capsys.readouterr().out

    def render(out: str) -> bytes:
        assert main(["simulate", "--date", "2021-02-22", "--out", str(tmp_path / out), "--config", config]) == 0
        [wav] = (tmp_path / out).glob("*.wav")
        return wav.read_bytes()

    # With the originals moved away, only the copies can have made the audio.
    (tmp_path / "audio" / "song").rename(tmp_path / "away")
    via_copies = render("sim-copies")
    (tmp_path / "away").rename(tmp_path / "audio" / "song")
    shutil.rmtree(tmp_path / "audio" / STATION_DIR)
    via_originals = render("sim-originals")
    assert len(via_copies) > 50 * RATE * 2 and via_copies == via_originals
    capsys.readouterr()
    assert main(["validate", "--config", config]) == 0  # a warning, not an error
    assert capsys.readouterr().out.count("no station copy") == 3
    assert main(["library", "rebuild", "--config", config]) == 0
    assert "station copies: wrote 3, deleted 0" in capsys.readouterr().out


def test_config_station_copies_must_be_true_or_false(tmp_path):
    from broadcaster.problems import BroadcasterError
    from broadcaster.station.config import load_station

    (tmp_path / "config.yaml").write_text(CONFIG.replace("crossfade_seconds", "station_copies: maybe, "
                                                         "crossfade_seconds"), encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_station(tmp_path / "config.yaml")
    [problem] = err.value.problems
    assert problem.field == "audio.station_copies" and "true or false" in problem.message_en
    (tmp_path / "config.yaml").write_text(CONFIG.replace("crossfade_seconds", "station_copies: false, "
                                                         "crossfade_seconds"), encoding="utf-8")
    assert load_station(tmp_path / "config.yaml").audio.station_copies is False


def test_mixer_reads_the_copy_unless_copies_are_switched_off(library, sources):
    from broadcaster.asrun.log import AsRunLog
    from broadcaster.playout.clock import SimClock
    from broadcaster.playout.engine import Engine
    from broadcaster.sound.sinks import NullSink
    from broadcaster.station.config import AudioSettings
    from tests.support.audio import T0, ZONE

    item = library.ingest(sources / "a.mp3", category="spot").item
    for on, expected in ((True, copy_of(library, item)), (False, library.audio_dir / item.file)):
        settings = AudioSettings(sample_rate=RATE, channels=2, station_copies=on)
        engine = Engine(library.audio_dir, settings, lambda device, frames: NullSink(), SimClock(ZONE, T0),
                        AsRunLog(library.audio_dir.parent / "asrun.sqlite"), ZONE)
        assert engine._mixer()._source(item.file, item.sha256) == expected
