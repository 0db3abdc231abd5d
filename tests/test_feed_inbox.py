"""A hostile or broken USB inbox (issue 11, item 9): a symlink to /dev/zero, a FIFO, a file bigger than declared, a
disk that fills. Real files, a real FIFO, a real tmpfs where the disk must fill (skipped where mount is refused).
Each is refused with a bilingual message, leaves no .part behind, never raises out of sync_once, and the genuine
clip gets in once the inbox is fixed."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from broadcaster.feed.library_access import open_library
from broadcaster.feed.sync import sync_once
from tests.support.faults import mount_tmpfs, unmount
from tests.support.feed import make_audio, make_station, snapshot


@pytest.fixture
def small_disk(tmp_path):
    """A real 128 MB tmpfs (the sync wants 80 MB free beyond the clip), unmounted afterwards."""
    yield mount_tmpfs(tmp_path / "disk", "128m")
    unmount(tmp_path / "disk")


def usb_station(root: Path, district, inbox: Path | None = None):
    """A commune with no HTTP feed, taking the district's feed from its inbox (optionally outside `root`)."""
    station = make_station(root, feed={"public_key": str(district.pub)})
    if inbox is not None:
        config = root / "config.yaml"
        config.write_text(config.read_text(encoding="utf-8") + f"paths: {{inbox: {inbox}}}\n", encoding="utf-8")
        from broadcaster.station.config import load_station

        station = load_station(config)
    return station


def usb_copy(district, station) -> Path:
    stick = station.paths.inbox / "usb"
    shutil.copytree(district.feed, stick)
    return stick


def parts(station) -> list[Path]:
    staging = station.paths.state / "feed-staging"
    return [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else []


def test_symlink_to_dev_zero_is_refused_fills_nothing_and_retries(tmp_path, district, small_disk):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = usb_station(small_disk / "xa-a", district)
    stick = usb_copy(district, station)
    genuine = stick / clip.file
    shutil.move(genuine, tmp_path / "kept.mp3")
    os.symlink("/dev/zero", genuine)
    used = shutil.disk_usage(small_disk).used

    source = sync_once(station).sources[0]

    assert source.pending == {clip.sha256: "not-a-file"} and source.added == []
    assert shutil.disk_usage(small_disk).used - used < 2 * 2**20  # the state files, not /dev/zero's bytes
    assert parts(station) == [] and snapshot(station)["audio"] == []
    genuine.unlink()
    shutil.copyfile(tmp_path / "kept.mp3", genuine)  # the operator copies the stick again
    again = sync_once(station)
    assert again.added == [clip.sha256], again.sources[0]


def test_fifo_as_clip_or_manifest_never_blocks_the_sync(tmp_path, district):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = usb_station(tmp_path / "xa-a", district)
    stick = usb_copy(district, station)
    (stick / clip.file).unlink()
    os.mkfifo(stick / clip.file)
    other = station.paths.inbox / "fifo-manifest"
    other.mkdir()
    os.mkfifo(other / "manifest.json")
    results = []
    worker = threading.Thread(target=lambda: results.append(sync_once(station)), daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(20)

    assert not worker.is_alive(), "sync blocked on a FIFO"
    assert time.monotonic() - started < 20
    by_name = {Path(s.source).name: s for s in results[0].sources}
    assert by_name["usb"].pending == {clip.sha256: "not-a-file"}
    fifo = by_name["fifo-manifest"]
    assert (fifo.status, fifo.code) == ("rejected", "not-a-file")
    assert "FIFO" in fifo.message and " / " in fifo.message  # Vietnamese / English
    assert parts(station) == []


def test_symlinked_manifest_and_clips_folder_are_refused(tmp_path, district):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = usb_station(tmp_path / "xa-a", district)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(district.feed, elsewhere)
    stick = station.paths.inbox / "usb"
    stick.mkdir(parents=True)
    os.symlink(elsewhere / "manifest.json", stick / "manifest.json")
    source = sync_once(station).sources[0]
    assert (source.status, source.code) == ("rejected", "not-a-file") and "symbolic link" in source.message

    (stick / "manifest.json").unlink()
    shutil.copyfile(elsewhere / "manifest.json", stick / "manifest.json")
    os.symlink(elsewhere / "clips", stick / "clips")
    source = sync_once(station).sources[0]
    assert source.pending == {clip.sha256: "not-a-file"} and snapshot(station)["audio"] == []


def test_file_bigger_than_declared_is_not_copied(tmp_path, district):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = usb_station(tmp_path / "xa-a", district)
    stick = usb_copy(district, station)
    with open(stick / clip.file, "ab") as grown:
        grown.write(b"\0" * 2**20)
    source = sync_once(station).sources[0]
    assert source.rejected == {clip.sha256: "oversized"} and parts(station) == []
    assert snapshot(station)["audio"] == []


def test_full_disk_is_a_message_and_a_later_retry_never_an_exception(tmp_path, district, small_disk):
    _, first = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    inbox = tmp_path / "inbox"  # the stick is elsewhere; the station's own disk is the one that fills
    station = usb_station(small_disk / "xa-a", district, inbox)
    shutil.copytree(district.feed, inbox / "usb")
    assert sync_once(station).added == [first.sha256]
    _, second = district.publish(make_audio(tmp_path / "src" / "b.mp3", freq=660))
    shutil.rmtree(inbox / "usb")
    shutil.copytree(district.feed, inbox / "usb")
    filler = small_disk / "filler"
    with open(filler, "wb") as out:  # fill the disk for real, to the last block
        try:
            while True:
                out.write(b"\xff" * 2**20)
        except OSError:
            pass
    audio_before = sorted(p.name for p in station.paths.audio.rglob("*"))

    result = sync_once(station)  # must not raise, whatever part of it meets the full disk

    assert not result.ok
    said = result.error or " ".join(s.message for s in result.sources) or str(result.sources[0].pending)
    assert "disk" in said or "disk-full" in said
    assert sorted(p.name for p in station.paths.audio.rglob("*")) == audio_before and parts(station) == []
    filler.unlink()
    again = sync_once(station)
    assert again.added == [second.sha256], again
    assert open_library(station).get(second.sha256) is not None
