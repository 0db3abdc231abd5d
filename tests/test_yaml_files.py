"""config.yaml and playlists/ as YAML 1.2: a key written twice is refused with both lines, only true/false are
booleans, and a program can edit an operator's file keeping its comments, key order and layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broadcaster.problems import BroadcasterError
from broadcaster.station.config import load_station
from broadcaster.station.playlists import load_playlist
from broadcaster.station.yaml_edit import load_for_edit, save

ROOT = Path(__file__).resolve().parent.parent


def station_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "playlists", tmp_path / "playlists")
    (tmp_path / "audio").mkdir()
    return tmp_path


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    hits = [n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in row]
    return hits[nth - 1]


def test_a_start_written_twice_in_a_slot_fails_validate_naming_both_lines_and_changes_nothing(tmp_path):
    station = station_copy(tmp_path)
    config = station / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "    start: 05:30\n", "    start: 05:30\n    start: 06:00\n"), encoding="utf-8")
    before = {p: p.read_bytes() for p in station.rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "validate"], cwd=station, capture_output=True,
                            text=True, timeout=120)
    first, second = line_of(config, "start: 05:30"), line_of(config, "start: 06:00")
    assert result.returncode == 2, result.stdout
    assert f"config.yaml:{second} [start]" in result.stdout
    assert f"key 'start' is written twice (lines {first} and {second})" in result.stdout
    assert f"khóa 'start' được viết hai lần (dòng {first} và dòng {second})" in result.stdout
    assert "delete the other" in result.stdout and "xóa dòng còn lại" in result.stdout
    assert before == {p: p.read_bytes() for p in station.rglob("*") if p.is_file()}


def test_every_repeated_key_in_a_playlist_is_listed_at_once(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nsequence:\n  - category: a\n    category: b\nfill: a\nfill: b\n", encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_playlist(path)
    assert [(p.line, p.field) for p in err.value.problems] == [(4, "category"), (6, "fill")]
    assert "(lines 3 and 4)" in err.value.problems[0].message_en
    assert "(lines 5 and 6)" in err.value.problems[1].message_en
    assert all(p.file == str(path) for p in err.value.problems)


def test_yaml_1_1_words_stay_text_and_only_true_false_are_booleans(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("station: {commune: Xã A, name: Đài xã A, id: on}\n"
                    "slots:\n  - {id: no, start: 05:30, end: 06:30, playlist: p}\n", encoding="utf-8")
    station = load_station(path)
    assert station.identity.id == "on"
    assert station.slots[0].id == "no"
    assert station.slots[0].when.start.hour == 5 and station.slots[0].when.start.minute == 30
    path.write_text(path.read_text(encoding="utf-8") + "audio: {station_copies: yes}\n", encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_station(path)
    problem = next(p for p in err.value.problems if "station_copies" in p.message_en)
    assert "must be true or false" in problem.message_en and problem.line == 4
    path.write_text(path.read_text(encoding="utf-8").replace("yes}", "false}"), encoding="utf-8")
    assert load_station(path).audio.station_copies is False


def test_the_demo_files_round_trip_byte_for_byte():
    for path in [ROOT / "config.yaml", *sorted((ROOT / "playlists").glob("*.yaml"))]:
        assert load_for_edit(path).text() == path.read_text(encoding="utf-8"), path


def test_an_edit_keeps_comments_key_order_and_the_rest_of_the_file(tmp_path):
    station = station_copy(tmp_path)
    config = station / "config.yaml"
    os.chmod(config, 0o640)
    original = config.read_text(encoding="utf-8").splitlines()

    document = load_for_edit(config)
    noon = document.data["slots"][1]
    noon["start"] = "11:30"
    document.data["caps"]["max_sessions_per_day"] = 3
    save(document)

    edited = config.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(original, edited) if a != b]
    assert len(edited) == len(original)
    assert [b for _, b in changed] == [
        "    start: 11:30          # 11:15–11:30 falls in the Mon–Sat online lessons: only 11:30–11:45 airs those days",
        "  max_sessions_per_day: 3"]
    assert list(noon) == ["id", "name", "days", "start", "end", "playlist"]
    assert config.stat().st_mode & 0o777 == 0o640
    assert not list(station.glob(".config.yaml.*"))  # no temporary file left behind
    reloaded = load_station(config)
    assert reloaded.slots[1].when.start.hour == 11 and reloaded.slots[1].when.start.minute == 30
    assert reloaded.caps.max_sessions_per_day == 3


def test_editing_refuses_a_file_with_a_repeated_key_and_leaves_it_alone(tmp_path):
    path = tmp_path / "config.yaml"
    text = "# note\nstation:\n  id: a\n  id: b\n"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        load_for_edit(path)
    assert err.value.problems[0].line == 4 and "(lines 3 and 4)" in err.value.problems[0].message_en
    assert path.read_text(encoding="utf-8") == text
