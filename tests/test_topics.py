"""Topic names (`topics:` in config.yaml) where a person reads them: the plan rundown and timeline and
`library list`, on a copy of the demo station with real audio ingested through the CLI; the district's report,
from a real feed, sync and collector on loopback."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import pytest

from broadcaster.cli import main
from broadcaster.feed.sync import sync_once
from broadcaster.station.config import load_station
from tests.support.audio_files import make_audio
from tests.support.feed import make_audio as make_feed_audio
from tests.support.feed import make_station
from tests.support.reports import write_log

ROOT = Path(__file__).resolve().parent.parent
NAMES = load_station(ROOT / "config.yaml").topics
APPROVER = load_station(ROOT / "config.yaml").extra["approval"]["approvers"][0]


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Path:
    """The demo config and playlists with a Bluezone spot and a song in the library; news is left unnamed."""
    folder = tmp_path_factory.mktemp("station")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "  # station_copies: true" in text
    text = text.replace('  news: "Tin tức, thông báo"\n', "").replace(
        "  # station_copies: true", "  station_copies: false", 1)  # not needed to plan
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "playlists", folder / "playlists")
    config = str(folder / "config.yaml")
    for category, seconds in (("bluezone", 20), ("covid-song", 60), ("news", 15)):
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


def test_district_report_names_the_topics_of_the_clips_it_published(tmp_path, district, feed_server, collector,
                                                                     capsys):
    """The district's own `topics:` names the categories it publishes; communes' messages carry slugs only."""
    for freq, category, title in ((440, "bluezone", "Cài đặt Bluezone"), (550, "khai-bao-y-te", "Khai báo y tế"),
                                  (660, "covid-song", "Ghen Cô Vy")):
        clip = make_feed_audio(tmp_path / "src" / f"{category}.mp3", freq=freq)
        district.publish(clip, category=category, title=title)
    station = make_station(tmp_path / "xa-a", feed={"url": feed_server.url, "public_key": str(district.pub),
                                                    "collector_url": collector.url,
                                                    "collector_token": collector.token["xa-a"]})
    assert sync_once(station).sent == 6  # received + ingested for each clip, slugs only
    config = tmp_path / "district" / "config.yaml"
    config.write_text('station: {district: Huyện Cẩm Giàng, commune: Thị trấn Lai Cách, name: Đài huyện}\n'
                      'slots: []\ntopics:\n'
                      + "".join(f'  {slug}: "{NAMES[slug]}"\n' for slug in ("bluezone", "khai-bao-y-te")),
                      encoding="utf-8")  # covid-song left unnamed: shown by its slug
    today = datetime.now(UTC).date().isoformat()
    args = ["district", "report", "--from", today, "--to", today, "--db", str(collector.db), "--tokens",
            str(collector.tokens), "--feed", str(district.feed), "--config", str(config)]
    capsys.readouterr()
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"Chủ đề / topic: {NAMES['bluezone']}" in text and f"Chủ đề / topic: {NAMES['khai-bao-y-te']}" in text
    assert "Chủ đề / topic: covid-song" in text
    assert main([*args, "--format", "json"]) == 0
    clips = json.loads(capsys.readouterr().out)["clips"]
    assert {(c["category"], c["category_name"]) for c in clips} == {
        ("bluezone", NAMES["bluezone"]), ("khai-bao-y-te", NAMES["khai-bao-y-te"]), ("covid-song", "covid-song")}
    assert main([*args, "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {r["category_name"] for r in rows if r["table"] == "clip"} == {
        NAMES["bluezone"], NAMES["khai-bao-y-te"], "covid-song"}
    for fmt in ("pdf", "docx"):  # the document the district officer files; DOCX read back through LibreOffice
        assert main([*args, "--format", fmt, "--out", str(tmp_path / f"district.{fmt}")]) == 0
    pdf = document_text(tmp_path / "district.pdf")
    docx = document_text(office_to_pdf(tmp_path / "district.docx", tmp_path / "converted"))
    for text in (pdf, docx):
        assert NAMES["bluezone"] in text and NAMES["khai-bao-y-te"] in text and "covid-song" in text
        assert "bluezone" not in text and "khai-bao-y-te" not in text  # words, not slugs
        assert "Cài đặt Bluezone" in text and "UBND HUYỆN CẨM GIÀNG" in text


def document_text(pdf: Path) -> str:
    """The words of a PDF as pdftotext reads them, runs of white space as one space."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def office_to_pdf(path: Path, folder: Path) -> Path:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(folder), str(path)], check=True, capture_output=True,
                   timeout=240)
    return folder / (path.stem + ".pdf")


def test_log_show_names_what_aired_by_its_topic(tmp_path, capsys):
    log = write_log(tmp_path / "asrun.sqlite")  # the demo week: bluezone, covid-song, ... and unnamed khan-cap
    argv = ["log", "show", "--date", "2021-02-22", "--log", str(log), "--config", str(ROOT / "config.yaml")]
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert NAMES["bluezone"] in out and NAMES["khai-bao-y-te"] in out and "khan-cap" in out
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["category"], r["category_name"]) for r in rows} >= {
        ("bluezone", NAMES["bluezone"]), ("khan-cap", "khan-cap")}
