"""Topic names (`topics:` in config.yaml) where a person reads them: the plan rundown and timeline, and
`library list`, on a copy of the demo station with real audio ingested through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib
import pytest

from broadcaster.cli import main
from broadcaster.station.config import load_station
from tests.fixtures_audio_files import make_audio

ROOT = Path(__file__).resolve().parent.parent
NAMES = load_station(ROOT / "config.yaml").topics
APPROVER = load_station(ROOT / "config.yaml").extra["approval"]["approvers"][0]


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Path:
    """The demo config and playlists with a Bluezone spot and a song in the library; news is left unnamed."""
    folder = tmp_path_factory.mktemp("station")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    (folder / "config.yaml").write_text(text.replace('  news: "Tin tức, thông báo"\n', ""), encoding="utf-8")
    shutil.copytree(ROOT / "playlists", folder / "playlists")
    config = str(folder / "config.yaml")
    for category, seconds in (("bluezone", 40), ("covid-song", 150), ("news", 30)):
        clip = make_audio(folder / f"{category}.mp3", seconds, 22050, 1, ["-b:a", "32k"])
        assert main(["ingest", str(clip), "--category", category, "--by", APPROVER, "--config", config]) == 0
    return folder


def run(station: Path, *argv: str) -> int:
    return main([*argv, "--config", str(station / "config.yaml")])


def test_plan_rundown_names_each_item_by_its_topic(station, capsys):
    capsys.readouterr()
    assert run(station, "plan", "--date", "2021-02-22") == 0
    items = [line for line in capsys.readouterr().out.splitlines() if line.startswith("    ")]
    assert any(NAMES["bluezone"] in line for line in items)
    assert any(NAMES["covid-song"] in line for line in items)
    assert not any(" bluezone " in line or " covid-song " in line for line in items)
    assert any(" news " in line for line in items)  # unnamed in this config: shown by its slug


def test_plan_json_adds_the_topic_name_beside_the_slug(station, capsys):
    capsys.readouterr()
    assert run(station, "plan", "--date", "2021-02-22", "--json") == 0
    items = json.loads(capsys.readouterr().out)["days"][0]["items"]
    pairs = {(i["category"], i["category_name"]) for i in items}
    assert ("bluezone", NAMES["bluezone"]) in pairs and ("news", "news") in pairs


def test_plan_timeline_legend_names_the_topics(station):
    svg = station / "timeline.svg"  # the same drawing as --png; SVG keeps the legend as text to read back
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        assert run(station, "plan", "--date", "2021-02-22", "--png", str(svg)) == 0
    text = svg.read_text(encoding="utf-8")
    assert NAMES["bluezone"] in text and NAMES["covid-song"] in text and "news" in text


def test_library_list_heads_each_topic_with_its_name_and_json_adds_it(station, capsys):
    capsys.readouterr()
    assert run(station, "library", "list") == 0
    out = capsys.readouterr().out
    assert f"Chủ đề / topic: {NAMES['bluezone']} (bluezone)" in out
    assert "Chủ đề / topic: news (news)" in out
    assert run(station, "library", "list", "--json") == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert {(i["category"], i["category_name"]) for i in items} == {
        ("bluezone", NAMES["bluezone"]), ("covid-song", NAMES["covid-song"]), ("news", "news")}
