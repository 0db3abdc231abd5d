"""True peak (BS.1770-4 Annex 2, 4x oversampled) on real files against ffmpeg's `ebur128=peak=true`, and the
gain cap set on it: with the sample peak, a tone at a quarter of the sample rate let ~3 dB overs through."""

from __future__ import annotations

import sqlite3
import subprocess

import numpy as np
import pytest

from broadcaster.library.analysis import analyse
from broadcaster.library.catalogue import Library
from broadcaster.library.loudness import TruePeakMeter
from tests.support.audio_files import MUSIC, ebur128_peaks, make_audio

QUARTER_RATE_TONE = "aevalsrc=0.9*sin(2*PI*{quarter}*t+PI/4):s={rate}:d=3,afade=t=in:d=0.5,afade=t=out:st=2.5:d=0.5"
# Bursts of that tone, 5 ms a second, over a faint 1 kHz bed: loud peaks, little loudness (a click track).
BURSTS = "aevalsrc=0.9*sin(2*PI*11025*t+PI/4)*lt(mod(t\\,1)\\,0.005)+0.002*sin(2*PI*1000*t):s=44100:c=stereo"


@pytest.mark.parametrize("rate", [44100, 48000])
def test_a_quarter_rate_tone_peaks_3_db_above_its_samples_as_ffmpeg_measures(tmp_path, rate):
    path = make_audio(tmp_path / f"tone-{rate}.wav", 3, rate, 2, ["-c:a", "pcm_f32le"],
                      source=QUARTER_RATE_TONE.replace("{quarter}", str(rate // 4)))
    measured = analyse(path)
    ff_sample, ff_true = ebur128_peaks(path)
    assert measured.peak_dbfs == pytest.approx(ff_sample, abs=0.06)
    assert measured.true_peak_dbtp == pytest.approx(ff_true, abs=0.1)
    assert measured.true_peak_dbtp - measured.peak_dbfs > 2.9


@pytest.mark.parametrize("name, source, options", [
    ("music.mp3", MUSIC, ["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("clipped.mp3", "anoisesrc=c=white:a=0.8:r={rate}:seed=3,aeval=exprs=clip(val(0)*2\\,-0.5\\,0.5)",
     ["-c:a", "libmp3lame", "-b:a", "128k"]),
    ("bursts.flac", BURSTS, ["-c:a", "flac"]),
])
def test_true_peak_of_real_files_matches_ffmpeg_ebur128(tmp_path, name, source, options):
    path = make_audio(tmp_path / name, 4, 44100, 2, options, source=source)
    _, ff_true = ebur128_peaks(path)
    assert analyse(path).true_peak_dbtp == pytest.approx(ff_true, abs=0.2)


def test_true_peak_is_the_same_whatever_the_chunks(tmp_path):
    path = make_audio(tmp_path / "music.mp3", 2, source=MUSIC)
    pcm = np.frombuffer(subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-"],
                                       capture_output=True, check=True).stdout, np.float32).reshape(-1, 2)[:11025]
    results = set()
    for size in (7, 11, 12, 4095, len(pcm)):  # shorter and longer than the filter, and one whole chunk
        meter = TruePeakMeter(2)
        for start in range(0, len(pcm), size):
            meter.add(pcm[start:start + size])
        results.add(round(meter.peak_dbtp(), 9))
    assert len(results) == 1


def test_gain_cap_keeps_the_true_peak_at_minus_1_dbtp_where_the_sample_peak_let_overs_through(tmp_path):
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")
    path = make_audio(tmp_path / "bursts.wav", 6, 44100, 2, ["-c:a", "pcm_s16le"], source=BURSTS)
    measured = analyse(path)
    item = library.ingest(path, category="test", target_lufs=-16.0).item
    wanted = -16.0 - measured.loudness_lufs
    assert item.gain_db == pytest.approx(-1.0 - measured.true_peak_dbtp, abs=0.01) and item.gain_db < wanted - 1
    sample_capped = min(wanted, -1.0 - measured.peak_dbfs)  # what the old cap allowed
    _, over = ebur128_peaks(library.audio_dir / item.file, sample_capped)
    _, now = ebur128_peaks(library.audio_dir / item.file, item.gain_db)
    assert over > -0.1  # the sample-peak cap put the true peak over full scale minus 1 dB, by about 1.4 dB
    assert now <= -0.9  # ffmpeg's reading after the gain the library stores (0.1 dB steps)
    with sqlite3.connect(library.catalogue_path) as db:
        stored = db.execute("SELECT true_peak_dbtp FROM items").fetchone()[0]
    assert stored == measured.true_peak_dbtp


def test_rebuild_measures_the_true_peak_of_items_catalogued_before_it_was_kept(tmp_path):
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")
    path = make_audio(tmp_path / "bursts.wav", 6, 44100, 2, ["-c:a", "pcm_s16le"], source=BURSTS)
    item = library.ingest(path, category="test").item
    with sqlite3.connect(library.catalogue_path) as db:  # the catalogue as the previous version wrote it
        db.execute("ALTER TABLE items DROP COLUMN true_peak_dbtp")
        db.execute("UPDATE items SET gain_db = gain_db + 1.4")
    assert library.items()[0].gain_db == pytest.approx(item.gain_db + 1.4)  # still readable as it was
    report = library.rebuild()
    assert report.analysed == 1
    assert library.items()[0].gain_db == item.gain_db
    with sqlite3.connect(library.catalogue_path) as db:
        assert db.execute("SELECT true_peak_dbtp FROM items").fetchone()[0] == analyse(path).true_peak_dbtp


def test_rebuild_keeps_measurements_it_already_has(tmp_path):
    library = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")
    library.ingest(make_audio(tmp_path / "music.mp3", 2, source=MUSIC), category="test")
    assert library.rebuild().analysed == 0

