"""Ingest's limits: an item longer than `audio.max_item_minutes` is refused with a clear reason (before it is
decoded when its header tells), and nothing is written that would leave the disk without room for the as-run
log: a real tmpfs of a set size, filled for real (skipped where mounting is not allowed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broadcaster.library import catalogue, station_copy
from broadcaster.library.catalogue import Library, station_library
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import load_station
from tests.support.audio_files import make_audio
from tests.support.faults import mount_tmpfs, unmount

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20


def station_with(folder: Path, audio: str = "") -> Path:
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    config.write_text("station: {commune: Xã A, name: Đài xã A}\nslots: []\n" + audio, encoding="utf-8")
    return config


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_ingest_refuses_an_item_over_the_configured_length_saying_so_and_adds_nothing(tmp_path):
    config = station_with(tmp_path, "audio: {max_item_minutes: 1}\n")
    long_mp3 = make_audio(tmp_path / "long.mp3", 70, 22050, 1, ["-c:a", "libmp3lame", "-b:a", "32k"],
                          source="sine=f=440:r={rate}")
    before = files_under(tmp_path / "audio")
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "ingest", "--config", str(config), "--category",
                             "news", str(long_mp3)], capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "the file is 0:01:10 long, over the station's limit of 1 min for one item (audio.max_item_minutes)" in out
    assert "quá giới hạn 1 phút" in out and "raise audio.max_item_minutes in config.yaml" in out
    assert files_under(tmp_path / "audio") == before
    assert station_library(load_station(config)).items() == []


def test_a_file_with_no_length_in_its_header_is_stopped_once_the_limit_has_decoded(tmp_path):
    piped = tmp_path / "piped.flac"  # FLAC written to a pipe carries no total length
    piped.write_bytes(subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=12", "-f", "flac",
                                      "-"], capture_output=True, check=True).stdout)
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio", max_item_seconds=5)
    with pytest.raises(BroadcasterError) as err:
        library.ingest(piped, category="news")
    assert "the file is > 0:00:05 long, over the station's limit of" in err.value.problems[0].message_en
    assert library.items() == [] and files_under(tmp_path) == ["piped.flac"]


def test_the_default_limit_lets_a_normal_item_in_and_a_bad_limit_is_a_config_error(tmp_path):
    config = station_with(tmp_path)
    assert load_station(config).audio.max_item_minutes == 120
    library = station_library(load_station(config))
    assert library.ingest(make_audio(tmp_path / "song.mp3", 3), category="news").added
    config.write_text(config.read_text(encoding="utf-8") + "audio: {max_item_minutes: 0}\n", encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_station(config)
    problem = next(p for p in err.value.problems if "max_item_minutes" in p.message_en)
    assert problem.line == 3 and "at least 1" in problem.message_en


@pytest.fixture
def small_disk(tmp_path):
    """A 100 MB tmpfs: a disk that fills up for real."""
    yield mount_tmpfs(tmp_path / "disk", "100m")
    unmount(tmp_path / "disk")


def leave_free(disk: Path, free: int) -> None:
    """Fill the disk with a real file until `free` bytes remain."""
    have = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * (have - free))
        fh.flush()
        os.fsync(fh.fileno())


def test_a_station_copy_that_would_eat_the_last_free_space_is_not_written(tmp_path, small_disk):
    song = make_audio(tmp_path / "song.mp3", 30, options=["-c:a", "libmp3lame", "-b:a", "64k"])  # 0.25 MB
    library = Library(small_disk / "data" / "library.sqlite", small_disk / "audio", copies=(44100, 2))
    leave_free(small_disk, catalogue.KEEP_FREE_BYTES + 5 * MB)  # the MP3 fits, its 10 MB copy does not
    result = library.ingest(song, category="covid-song")
    assert result.added and [i.sha256 for i in library.items()] == [result.item.sha256]
    (warning,) = result.warnings
    need = station_copy.copy_size(result.item.duration, 44100, 2) / MB
    assert warning.severity == "warning"
    assert f"no room for its station copy: it needs {need:.0f} MB" in warning.message_en
    assert "MB are kept for the as-run log" in warning.message_en and "không đủ chỗ trống" in warning.message_vi
    assert not list((small_disk / "audio").rglob("*.wav")) and not list(small_disk.rglob("*.part"))
    assert os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize > catalogue.KEEP_FREE_BYTES


def test_a_file_that_would_eat_the_last_free_space_is_refused_and_nothing_is_written(tmp_path, small_disk):
    song = make_audio(tmp_path / "song.wav", 20, options=["-c:a", "pcm_s16le"])  # 3.4 MB
    library = Library(small_disk / "data" / "library.sqlite", small_disk / "audio")
    library.ingest(make_audio(tmp_path / "first.mp3", 2), category="news")
    before = files_under(small_disk / "audio")
    leave_free(small_disk, catalogue.KEEP_FREE_BYTES + 2 * MB)
    with pytest.raises(BroadcasterError) as err:
        library.ingest(song, category="covid-song")
    (problem,) = err.value.problems
    assert "not enough free space" in problem.message_en and "nothing was added" in problem.message_en
    assert "the file needs 3.4 MB" in problem.message_en and "không đủ chỗ trống" in problem.message_vi
    assert files_under(small_disk / "audio") == before and len(library.items()) == 1

