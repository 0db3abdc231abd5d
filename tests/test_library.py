"""The library on a real SQLite file and a real audio folder: ingest, duplicates, rebuild, revoke, CLI."""

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from broadcaster.cli import main
from broadcaster.library.catalogue import Library, gain_for, slug
from broadcaster.problems import BroadcasterError
from tests.fixtures_audio_files import add_ape_tag, cut, make_audio, make_format, sha256

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    """Files as an operator would bring them, outside the station folder."""
    folder = tmp_path_factory.mktemp("usb-stick")
    make_format(folder, "cbr128.mp3", 4)
    make_format(folder, "pcm16-8k-mono.wav", 3)
    make_format(folder, "vorbis.ogg", 3)
    make_audio(folder / "song.mp3", 5, source="aevalsrc=0.3*sin(2*PI*330*t)+0.2*sin(2*PI*415*t):s={rate}:c={layout}",
               options=["-id3v2_version", "3", "-metadata", "title=Việt Nam ơi! Đánh bay COVID"])
    cut(folder / "cbr128.mp3", folder / "broken.mp3", 0.5)
    (folder / "empty.mp3").touch()
    (folder / "notes.txt").write_text("không phải âm thanh\n", encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path) -> Library:
    return Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio")


def station_files(library: Library) -> list[str]:
    return sorted(p.relative_to(library.audio_dir).as_posix() for p in library.audio_dir.rglob("*")) \
        if library.audio_dir.exists() else []


def test_ingest_copies_into_category_folder_and_leaves_the_source_untouched(library, sources):
    src = sources / "song.mp3"
    before = (sha256(src), src.stat().st_mtime_ns, src.stat().st_size)
    result = library.ingest(src, category="covid-song", valid_from=date(2021, 2, 17), priority="priority")
    assert result.added
    item = result.item
    assert item.file == "covid-song/viet-nam-oi-danh-bay-covid.mp3"
    assert item.title == "Việt Nam ơi! Đánh bay COVID"  # from the ID3 tag
    assert (item.category, item.priority, item.valid_from, item.valid_until) == (
        "covid-song", "priority", date(2021, 2, 17), None)
    assert item.duration == pytest.approx(5.0, abs=0.05) and item.sample_rate == 44100 and item.channels == 2
    assert item.sha256 == sha256(src) == sha256(library.audio_dir / item.file)
    assert (sha256(src), src.stat().st_mtime_ns, src.stat().st_size) == before
    assert src.exists()
    assert station_files(library) == ["covid-song", "covid-song/viet-nam-oi-danh-bay-covid.mp3",
                                      "covid-song/viet-nam-oi-danh-bay-covid.mp3.meta.yaml"]
    assert library.items() == [item]
    assert library.get(item.sha256) == item and library.by_file(item.file) == item


def test_gain_brings_file_to_target_unless_the_peak_would_pass_minus_1_dbfs(library, sources):
    item = library.ingest(sources / "cbr128.mp3", category="covid-song", target_lufs=-16).item
    assert item.gain_db == pytest.approx(-16 - item.loudness_lufs, abs=0.01)
    assert gain_for(-30.0, -3.0, -16.0) == 2.0  # +14 dB wanted, only +2 dB of headroom to -1 dBFS
    assert gain_for(-10.0, -0.5, -16.0) == -6.0


def test_mono_file_gain_allows_for_playing_on_both_stereo_channels(tmp_path, sources):
    mono = Library(tmp_path / "a.sqlite", tmp_path / "a").ingest(sources / "pcm16-8k-mono.wav", category="x").item
    assert mono.gain_db == pytest.approx(-16 - (mono.loudness_lufs + 3.01), abs=0.01)
    on_mono_card = Library(tmp_path / "b.sqlite", tmp_path / "b", output_channels=1)
    assert on_mono_card.ingest(sources / "pcm16-8k-mono.wav", category="x").item.gain_db == pytest.approx(
        -16 - mono.loudness_lufs, abs=0.01)


@pytest.mark.parametrize("name, words", [
    ("broken.mp3", "truncated"),
    ("empty.mp3", "empty"),
    ("notes.txt", "file type '.txt' not accepted"),
    ("missing.wav", "file not found"),
])
def test_refused_file_leaves_nothing_behind(library, sources, name, words):
    with pytest.raises(BroadcasterError) as caught:
        library.ingest(sources / name, category="news")
    assert words in str(caught.value) and str(sources / name) in str(caught.value)
    assert station_files(library) == []
    assert library.items() == []


def test_refused_file_does_not_disturb_an_existing_library(library, sources):
    kept = library.ingest(sources / "vorbis.ogg", category="news").item
    files = station_files(library)
    with pytest.raises(BroadcasterError):
        library.ingest(sources / "broken.mp3", category="news")
    assert station_files(library) == files and library.items() == [kept]


def test_failed_catalogue_write_removes_the_copied_file(library, sources):
    library.ingest(sources / "vorbis.ogg", category="news")
    files = station_files(library)
    with sqlite3.connect(library.catalogue_path) as db:  # a real SQLite failure at the last step
        db.execute("CREATE TRIGGER full BEFORE INSERT ON items BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(BroadcasterError, match="nothing was added"):
        library.ingest(sources / "cbr128.mp3", category="covid-song")
    assert station_files(library) == files  # no audio, sidecar, temp file or empty folder left


def test_duplicate_is_recognised_under_another_name_and_not_stored_twice(library, sources, tmp_path):
    first = library.ingest(sources / "cbr128.mp3", category="covid-song", title="Bài một").item
    copy = tmp_path / "renamed copy.mp3"
    copy.write_bytes((sources / "cbr128.mp3").read_bytes())
    again = library.ingest(copy, category="bluezone", title="Khác")
    assert not again.added and again.item == first
    assert len(library.items()) == 1 and not (library.audio_dir / "bluezone").exists()


def test_same_title_different_audio_gets_a_numbered_file(library, sources):
    a = library.ingest(sources / "cbr128.mp3", category="news", title="Tin chỉ đạo").item
    b = library.ingest(sources / "vorbis.ogg", category="news", title="Tin chỉ đạo").item
    c = library.ingest(sources / "song.mp3", category="news", title="Tin chỉ đạo").item
    assert [a.file, b.file, c.file] == ["news/tin-chi-dao.mp3", "news/tin-chi-dao.ogg", "news/tin-chi-dao-2.mp3"]


def test_bad_metadata_is_refused_before_any_work(library, sources):
    with pytest.raises(BroadcasterError) as caught:
        library.ingest(sources / "cbr128.mp3", category="Bài Hát", priority="urgent",
                       valid_from=date(2021, 3, 1), valid_until=date(2021, 2, 1))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"category", "priority", "valid_until"}
    assert station_files(library) == []


def test_rebuild_recreates_the_catalogue_from_audio_and_sidecars(library, sources):
    for name, category in (("cbr128.mp3", "covid-song"), ("pcm16-8k-mono.wav", "ident"), ("song.mp3", "covid-song")):
        library.ingest(sources / name, category=category, title=f"Bài {name}")
    bluezone = library.ingest(sources / "vorbis.ogg", category="bluezone", title="Quét xung quanh",
                              valid_until=date(2021, 3, 12), source="district:cam-giang").item
    library.set_validity(bluezone.sha256, date(2021, 2, 20), date(2021, 3, 31))
    before = library.items()
    library.catalogue_path.unlink()
    report = library.rebuild()
    assert report.analysed == 4 and not report.problems
    assert library.items() == before
    assert library.get(bluezone.sha256).valid_from == date(2021, 2, 20)
    assert library.get(bluezone.sha256).source == "district:cam-giang"


def test_rebuild_takes_category_from_folder_and_title_from_tags_for_hand_dropped_files(library, sources):
    (library.audio_dir / "news").mkdir(parents=True)
    dropped = library.audio_dir / "news" / "ban-tin.mp3"
    dropped.write_bytes((sources / "song.mp3").read_bytes())
    plain = library.audio_dir / "news" / "thong-bao.ogg"
    plain.write_bytes((sources / "vorbis.ogg").read_bytes())
    assert library.untracked() == [dropped, plain]
    report = library.rebuild()
    assert report.catalogued == ["news/ban-tin.mp3", "news/thong-bao.ogg"]
    assert [(i.category, i.title) for i in library.items()] == [
        ("news", "Việt Nam ơi! Đánh bay COVID"), ("news", "thong-bao")]
    assert library.untracked() == []


def test_rebuild_reports_broken_and_duplicate_files_and_leaves_them_out(library, sources):
    library.ingest(sources / "cbr128.mp3", category="covid-song")
    (library.audio_dir / "covid-song" / "copy.mp3").write_bytes((sources / "cbr128.mp3").read_bytes())
    (library.audio_dir / "covid-song" / "broken.mp3").write_bytes((sources / "broken.mp3").read_bytes())
    (library.audio_dir / "loose.ogg").write_bytes((sources / "vorbis.ogg").read_bytes())
    report = library.rebuild()
    assert report.catalogued == ["covid-song/cbr128.mp3"]
    assert report.analysed == 0  # the known file kept its measurements
    assert library.rebuild(target_lufs=-20).analysed == 0
    assert library.items()[0].gain_db == pytest.approx(-20 - library.items()[0].loudness_lufs, abs=0.01)
    assert report.duplicates == [("covid-song/copy.mp3", "covid-song/cbr128.mp3")]
    assert sorted(Path(p.file).name for p in report.problems) == ["broken.mp3", "loose.ogg"]
    assert {p.name for p in library.untracked()} == {"copy.mp3", "broken.mp3", "loose.ogg"}


def test_edited_sidecar_is_read_back_and_a_bad_one_is_reported(library, sources):
    item = library.ingest(sources / "cbr128.mp3", category="covid-song").item
    sidecar = library.audio_dir / (item.file + ".meta.yaml")
    sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("title: cbr128", "title: Ghen Cô Vy"),
                       encoding="utf-8")
    library.rebuild()
    assert library.get(item.sha256).title == "Ghen Cô Vy"
    sidecar.write_text("title: x\ncolour: red\n", encoding="utf-8")
    report = library.rebuild()
    assert [(p.line, "unknown key 'colour'" in p.message_en) for p in report.problems] == [(2, True)]


def test_remove_retires_the_file_out_of_rotation_and_sight(library, sources):
    item = library.ingest(sources / "vorbis.ogg", category="bluezone").item
    retired = library.remove(item.sha256)
    assert retired == library.audio_dir / ".retired" / item.file and retired.exists()
    assert Path(str(retired) + ".meta.yaml").exists()
    assert library.items() == [] and library.untracked() == []
    library.rebuild()
    assert library.items() == []


def test_slug_makes_ascii_names_from_vietnamese_titles():
    assert slug("Khai báo y tế trên Smart Hải Dương") == "khai-bao-y-te-tren-smart-hai-duong"
    assert slug("Đài truyền thanh: số 1!") == "dai-truyen-thanh-so-1"


# -- command line -----------------------------------------------------------------------------------------

@pytest.fixture
def station(tmp_path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return config


def run(*args: str) -> int:
    return main(list(args))


def test_cli_ingest_adds_good_files_and_exits_non_zero_for_the_bad(station, sources, capsys):
    code = run("ingest", str(sources / "cbr128.mp3"), str(sources / "broken.mp3"), str(sources / "vorbis.ogg"),
               "--category", "bluezone", "--valid-until", "2021-03-12", "--config", str(station))
    out = capsys.readouterr().out
    assert code == 2
    assert out.count("ĐÃ THÊM/ADDED") == 2 and "TỪ CHỐI/REJECTED" in out and "broken.mp3" in out
    library = Library(station.parent / "data" / "library.sqlite", station.parent / "audio")
    assert [i.file for i in library.items()] == ["bluezone/cbr128.mp3", "bluezone/vorbis.ogg"]
    assert all(i.valid_until == date(2021, 3, 12) for i in library.items())
    assert run("ingest", str(sources / "cbr128.mp3"), "--category", "bluezone", "--config", str(station)) == 0
    assert "ĐÃ CÓ/ALREADY" in capsys.readouterr().out


def test_cli_ingest_without_category_or_with_bad_date_changes_nothing(station, sources, capsys):
    assert run("ingest", str(sources / "cbr128.mp3"), "--valid-from", "17/02/2021", "--config", str(station)) == 2
    err = capsys.readouterr().err
    assert "--category" in err and "not a date" in err
    assert not (station.parent / "audio").exists() and not (station.parent / "data").exists()


def test_cli_list_json_and_rebuild(station, sources, capsys):
    run("ingest", str(sources / "song.mp3"), "--category", "covid-song", "--config", str(station))
    (station.parent / "audio" / "news").mkdir()
    (station.parent / "audio" / "news" / "tin.ogg").write_bytes((sources / "vorbis.ogg").read_bytes())
    capsys.readouterr()
    assert run("library", "list", "--json", "--config", str(station)) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [i["file"] for i in listing["items"]] == ["covid-song/viet-nam-oi-danh-bay-covid.mp3"]
    assert listing["untracked"] == ["news/tin.ogg"]
    assert run("library", "rebuild", "--config", str(station)) == 0
    assert run("library", "list", "--config", str(station)) == 0
    out = capsys.readouterr().out
    assert "news/tin.ogg" in out and "2 items" in out and "WARNING" not in out


def test_main_py_runs_ingest_as_a_program(station, sources):
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "ingest", str(sources / "pcm16-8k-mono.wav"),
                           "--category", "ident", "--title", "Mở đầu chương trình", "--config", str(station)],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "ident/mo-dau-chuong-trinh.wav" in done.stdout


def test_mp3_with_ape_tag_ingests(library, sources, tmp_path):
    path = tmp_path / "ape.mp3"
    path.write_bytes((sources / "cbr128.mp3").read_bytes())
    add_ape_tag(path, {"Title": "Lời kêu gọi", "Album": "Bluezone"})
    assert library.ingest(path, category="bluezone").added
