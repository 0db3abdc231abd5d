"""`validate` and `plan` as an operator runs them: a real process, real files, exit codes and messages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def station_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "playlists", tmp_path / "playlists")
    (tmp_path / "audio").mkdir()
    return tmp_path


def test_plan_json_is_the_documented_interface_even_with_an_empty_library(tmp_path):
    station = station_copy(tmp_path)
    result = run("plan", "--date", "2021-02-22", "--days", "2", "--json", cwd=station)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["timezone"] == "Asia/Ho_Chi_Minh"
    day = data["days"][0]
    assert set(day) == {"date", "slots", "blackouts", "items", "unfilled_seconds", "exceptions"}
    assert day["slots"][0] == {"id": "sang", "start": "2021-02-22T05:30:00.000+07:00",
                               "end": "2021-02-22T06:30:00.000+07:00"}
    assert day["items"] == [] and day["unfilled_seconds"]["sang"] == 3600.0
    assert any(e["rule"] == "quota" and "bluezone" in e["message"] for e in day["exceptions"])


def test_plan_png_is_drawn(tmp_path):
    station = station_copy(tmp_path)
    result = run("plan", "--date", "2021-02-22", "--days", "7", "--png", "week.png", cwd=station)
    assert result.returncode == 0, result.stderr
    assert (station / "week.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Buổi phát/slot sang" in result.stdout


def test_validate_lists_every_problem_with_file_and_line_and_changes_nothing(tmp_path):
    station = station_copy(tmp_path)
    bad = station / "playlists" / "covid-2021.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("order: rotate", "order: random")
                   .replace("plays_per_day: 3-5          #", "plays_per_day: 5-3  #"), encoding="utf-8")
    config = station / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("end: 06:30", "end: 25:00"), encoding="utf-8")
    before = {p: p.read_bytes() for p in station.rglob("*") if p.is_file()}
    result = run("validate", cwd=station)
    assert result.returncode == 2
    line = next(n for n, row in enumerate(config.read_text(encoding="utf-8").splitlines(), 1) if "25:00" in row)
    assert f"config.yaml:{line} [slots[0].end]" in result.stdout and "25:00" in result.stdout
    after = {p: p.read_bytes() for p in station.rglob("*") if p.is_file()}
    assert before == after


def test_validate_reports_playlist_errors_with_lines(tmp_path):
    station = station_copy(tmp_path)
    bad = station / "playlists" / "covid-2021.yaml"
    text = bad.read_text(encoding="utf-8").replace("order: rotate", "order: random").replace(
        "plays_per_day: 3-5          #", "plays_per_day: 5-3  #").replace("weight: 2", "wieght: 2")
    bad.write_text(text, encoding="utf-8")
    result = run("validate", cwd=station)
    out = result.stdout
    assert result.returncode == 2
    lines = text.splitlines()
    for needle, words in (("order: random", "unknown order 'random'"), ("plays_per_day: 5-3", "bad plays_per_day"),
                          ("wieght", "unknown key 'wieght'")):
        line = next(n for n, row in enumerate(lines, 1) if needle in row)
        assert f"covid-2021.yaml:{line}" in out and words in out, (needle, out)


def test_slot_naming_a_missing_playlist_is_an_error(tmp_path):
    station = station_copy(tmp_path)
    (station / "playlists" / "covid-2021.yaml").rename(station / "playlists" / "other.yaml")
    result = run("validate", cwd=station)
    assert result.returncode == 2 and "uses playlist 'covid-2021', which is not in" in result.stdout


def test_validate_finds_hand_dropped_audio_and_playlists_naming_missing_files(tmp_path):
    from tests.support.audio_files import make_audio

    station = station_copy(tmp_path)
    (tmp_path / "src").mkdir()
    (station / "audio" / "covid-song").mkdir(parents=True)
    clip = make_audio(tmp_path / "src" / "loa.wav", seconds=2.0)
    assert run("ingest", str(clip), "--category", "bluezone", "--title", "Loa", cwd=station).returncode == 0
    make_audio(station / "audio" / "covid-song" / "tha-tay.wav", seconds=2.0)  # dropped in by hand
    playlist = station / "playlists" / "covid-2021.yaml"
    playlist.write_text(playlist.read_text(encoding="utf-8").replace(
        "  - category: news\n", "  - file: news/khong-co.mp3\n"), encoding="utf-8")
    result = run("validate", cwd=station)
    assert result.returncode == 2
    assert "tha-tay.wav" in result.stdout and "not in the catalogue" in result.stdout
    assert "file 'news/khong-co.mp3' is not in the library" in result.stdout
