"""Editing config.yaml's slots and blackouts by program (the console's forms): comments, key order and the
operator's layout survive; a stale copy is refused; the checker sees the edit before it is written."""

from __future__ import annotations

import difflib
import shutil
from datetime import date
from pathlib import Path

import pytest

from broadcaster.station.config import load_station
from broadcaster.station.config_edit import ConfigDocument, StaleEdit, WindowFields, days_text, save

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path) -> Path:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "playlists", tmp_path / "playlists")
    return tmp_path / "config.yaml"


def test_adding_a_slot_keeps_every_comment_and_key_and_lands_under_slots(config):
    before = config.read_text(encoding="utf-8")
    doc = ConfigDocument.read(config)
    text = doc.with_window("slots", None, WindowFields("toi", "Buổi tối", (0, 1, 2, 3, 4), "19:00", "19:30",
                                                       playlist="covid-2021"))
    diff = difflib.unified_diff(before.splitlines(), text.splitlines(), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == ["+    playlist: covid-2021", "+  - id: toi", "+    name: Buổi tối", "+    days: mon-fri",
                       "+    start: 19:00", "+    end: 19:30"]  # only added lines (the diff pairs the playlists)
    assert text.index("id: toi") < text.index("# Giờ cấm phát")  # the blackouts' heading stays above them
    assert [s.id for s in load_station(config, text).slots] == ["sang", "trua", "chieu", "toi"]


def test_changing_a_blackout_touches_only_its_changed_lines(config):
    doc = ConfigDocument.read(config)
    text = doc.with_window("blackouts", "hoc-truc-tuyen-chieu", WindowFields(
        "hoc-truc-tuyen-chieu", "Học trực tuyến buổi chiều / online lessons, afternoon", (0, 1, 2, 3, 4), "13:30",
        "17:15", date(2021, 2, 17), date(2021, 3, 12)))
    changed = [(a, b) for a, b in zip(doc.text.splitlines(), text.splitlines()) if a != b]
    assert changed == [("    end: 17:00", "    end: 17:15")]


def test_removing_the_entry_added_gives_back_the_file_byte_for_byte(config):
    doc = ConfigDocument.read(config)
    added = doc.with_window("blackouts", None, WindowFields("le", "Lễ", dates=(date(2021, 3, 8),)))
    assert "dates: [2021-03-08]" in added
    assert ConfigDocument(config, added).without_window("blackouts", "le") == doc.text


def test_a_save_based_on_a_stale_copy_is_refused_and_the_file_kept(config):
    doc = ConfigDocument.read(config)
    text = doc.with_window("slots", None, WindowFields("toi", start="19:00", end="19:30", playlist="covid-2021"))
    config.write_text(doc.text + "# sửa tay\n", encoding="utf-8")
    with pytest.raises(StaleEdit) as err:
        save(config, text, doc.digest)
    assert "the file changed since you opened it" in err.value.problems[0].message_en
    assert config.read_text(encoding="utf-8").endswith("# sửa tay\n")
    fresh = ConfigDocument.read(config)
    save(config, fresh.with_window("slots", None, WindowFields("toi", start="19:00", end="19:30",
                                                               playlist="covid-2021")), fresh.digest)
    assert "id: toi" in config.read_text(encoding="utf-8")
    assert not [p for p in config.parent.iterdir() if p.name.endswith(".part")]  # no temp file left


def test_the_checker_reads_the_proposed_text_with_file_and_field():
    problems = None
    try:
        load_station(ROOT / "config.yaml", (ROOT / "config.yaml").read_text(encoding="utf-8").replace(
            "start: 05:30", "start: 25:30", 1))
    except Exception as err:  # noqa: BLE001 - the BroadcasterError's problems are what we look at
        problems = err.problems
    assert problems and problems[0].field == "slots[0].start" and problems[0].file.endswith("config.yaml")


def test_weekdays_are_written_as_operators_write_them():
    assert days_text(tuple(range(7))) == "daily"
    assert days_text((0, 1, 2, 3, 4, 5)) == "mon-sat"
    assert days_text((0, 2, 4)) == "mon,wed,fri"


def test_library_edit_retire_and_restore_from_the_command_line(tmp_path):
    """The library actions the console offers, as commands: the same Library methods."""
    import json
    import subprocess
    import sys

    from broadcaster.library.catalogue import Library

    def run(*args):
        return subprocess.run([sys.executable, str(ROOT / "main.py"), *args, "--config", str(tmp_path / "config.yaml")],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)

    (tmp_path / "config.yaml").write_text("station: {commune: Xã Thử, name: Đài xã Thử}\nslots: []\n"
                                          "audio: {station_copies: false}\n", encoding="utf-8")
    src = tmp_path / "tone.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    str(src)], check=True)
    item = Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio").ingest(src, category="thu",
                                                                                   title="Thử").item
    edited = run("library", "edit", item.sha256[:12], "--title", "Thông báo họp thôn", "--category", "thong-bao",
                 "--valid-until", "2021-03-12")
    assert edited.returncode == 0, edited.stderr
    listed = json.loads(run("library", "list", "--json").stdout)["items"][0]
    assert (listed["title"], listed["category"], listed["valid_until"]) == ("Thông báo họp thôn", "thong-bao",
                                                                           "2021-03-12")
    assert run("library", "retire", item.sha256[:12]).returncode == 0
    assert json.loads(run("library", "list", "--json").stdout)["items"] == []
    restored = run("library", "restore", item.sha256[:12])
    assert restored.returncode == 0, restored.stderr
    back = json.loads(run("library", "list", "--json").stdout)["items"][0]
    assert (back["title"], back["sha256"]) == ("Thông báo họp thôn", item.sha256)  # the sidecar came back too
