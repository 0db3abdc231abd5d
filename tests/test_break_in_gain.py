"""A clip handed to play-now or the daemon gets its gain from the library when the same audio is catalogued
(looked up by sha256, so a long known clip airs without being decoded first), and is measured when it is not."""

from __future__ import annotations

import shutil

import pytest

from broadcaster.library.catalogue import Library
from broadcaster.playout.play_now import clip_gain
from broadcaster.playout.setup import PlayoutSetup
from broadcaster.station.config import load_station
from tests.support.daemon import station_dir, tone


def test_a_catalogued_clip_takes_the_librarys_gain_without_being_analysed_again(tmp_path, monkeypatch):
    config, _ = station_dir(tmp_path, 900, 60, item_seconds=2)
    setup = PlayoutSetup.of(load_station(config))
    known = Library(setup.catalogue, setup.audio_dir).items()[0]
    copy = shutil.copyfile(setup.audio_dir / known.file, tmp_path / "elsewhere.wav")  # same bytes, other path

    # a spy, not a stand-in: analysing a catalogued clip again would fail this test
    def analysed(path):
        raise AssertionError(f"{path} was analysed although the library knows it")

    monkeypatch.setattr("broadcaster.library.analysis.analyse", analysed)
    assert clip_gain(setup, copy) == (known.gain_db, None)


def test_an_unknown_clip_is_measured_now(tmp_path):
    from broadcaster.library.analysis import analyse
    from broadcaster.library.catalogue import gain_for

    config, _ = station_dir(tmp_path, 900, 60, item_seconds=2)
    setup = PlayoutSetup.of(load_station(config))
    clip = tone(tmp_path / "unknown.wav", 700, 2.0)  # ffmpeg's sine at 1/8 of full scale: about -21 LUFS
    found = analyse(clip)
    gain, warning = clip_gain(setup, clip)
    assert warning is None
    assert gain == pytest.approx(gain_for(found.loudness_lufs, found.true_peak_dbtp, setup.audio.target_lufs))
    assert abs(gain) > 1  # really brought to the target, not left at unity
