"""Results reports and the weekly logbook, from a real as-run log, checked in the documents office software
makes of them: DOCX and XLSX are converted by LibreOffice (headless, one batch), PDFs read with pdftotext."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
import subprocess
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun.figures import build_report, logged_items, split_period
from broadcaster.asrun.log import AsRunLog
from broadcaster.cli import main
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import load_station, topic_name
from tests.fixtures_reports import (
    CONFIG,
    DEVICE_REASON,
    EMERGENCY_REASON,
    EXPECTED_BLACKOUT_SECONDS,
    EXPECTED_PLAYS,
    EXPECTED_SESSIONS,
    EXPECTED_TOPICS,
    ROWS,
    WEEK,
    demo_log,  # noqa: F401  (a fixture)
    write_log,
)

MOTTO = "Độc lập - Tự do - Hạnh phúc"
NAMES = load_station(CONFIG).topics  # the demo station's `topics:`; khan-cap and tin-xa are not named there


def run_cli(*argv: str) -> int:
    return main([*argv, "--config", str(CONFIG)])


def week_report(log: Path, *extra: str) -> list[str]:
    return ["report", "--from", WEEK[0], "--to", WEEK[1], "--log", str(log), *extra]


# ------------------------------------------------------------------------------------------------- the figures


def test_report_counts_only_what_aired_in_the_period(demo_log):  # noqa: F811
    report = build_report(demo_log, load_station(CONFIG), date(2021, 2, 22), date(2021, 2, 28))
    assert {t.category: (t.plays, t.items, pytest.approx(t.minutes)) for t in report.topics} == EXPECTED_TOPICS
    assert report.plays == EXPECTED_PLAYS and report.sessions == EXPECTED_SESSIONS
    assert [d.sessions for d in report.days] == [3, 2, 0, 0, 0, 0, 1]
    assert report.partial_plays == 1 and report.items == 7
    assert report.integrity.ok and report.integrity.rows == 16


def test_blackout_seconds_list_the_emergency_with_its_reason_and_the_fault(demo_log):  # noqa: F811
    report = build_report(demo_log, load_station(CONFIG), date(2021, 2, 22), date(2021, 2, 28))
    assert report.blackout_seconds == pytest.approx(EXPECTED_BLACKOUT_SECONDS, abs=0.01)
    (emergency, fault) = report.exceptions
    assert (emergency.kind, emergency.reason, round(emergency.seconds)) == ("emergency", EMERGENCY_REASON, 120)
    assert (fault.kind, fault.category, round(fault.seconds)) == ("fault", "tin-xa", 60)  # 11:29–11:30 only
    assert [f.status for f in report.failures] == ["partial", "failed", "skipped", "skipped"]
    assert report.failures[1].reason == DEVICE_REASON


def test_reports_leave_out_the_break_in_ticket_tag(tmp_path):
    """The daemon tags a held clip's rows with its ticket for its restart check; a report shows the reason only."""
    tag = " [ticket 0123456789ab]"
    rows = [replace(r, reason=r.reason + tag) if r.reason in (EMERGENCY_REASON, DEVICE_REASON) else r for r in ROWS]
    log = write_log(tmp_path / "asrun.sqlite", rows)
    station = load_station(CONFIG)
    report = build_report(log, station, date(2021, 2, 22), date(2021, 2, 28))
    assert report.exceptions[0].reason == EMERGENCY_REASON and report.failures[1].reason == DEVICE_REASON
    shown = [i.reason for i in logged_items(log, station, date(2021, 2, 22), date(2021, 2, 28))]
    assert EMERGENCY_REASON in shown and not any("[ticket" in r for r in shown)
    assert any(tag in e.reason for e in AsRunLog(log).entries()), "the log itself keeps the tag"


def test_json_figures_agree_with_log_show_for_the_same_period(demo_log, capsys):  # noqa: F811
    assert run_cli(*week_report(demo_log, "--format", "json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert run_cli("log", "show", "--date", WEEK[0], "--days", "7", "--json", "--log", str(demo_log)) == 0
    entries = json.loads(capsys.readouterr().out)
    from_log: dict[str, list] = {}
    for e in entries:
        if e["status"] == "aired":
            seconds = (datetime.fromisoformat(e["actual_end"]) - datetime.fromisoformat(e["actual_start"])).seconds
            figures = from_log.setdefault(e["category"], [0, set(), 0.0])
            figures[0] += 1
            figures[1].add(e["sha256"])
            figures[2] += seconds / 60
    assert {t["category"]: (t["plays"], t["items"], t["minutes"]) for t in report["topics"]} == {
        c: (n, len(items), round(m, 2)) for c, (n, items, m) in from_log.items()}
    assert len(report["failures"]) == sum(1 for e in entries if e["status"] != "aired")
    for key in ("period", "station", "topics", "days", "blackout_seconds", "exceptions", "failures", "log_integrity"):
        assert key in report


def test_period_splits_into_weeks_and_months_that_add_up(demo_log):  # noqa: F811
    station = load_station(CONFIG)
    report = build_report(demo_log, station, date(2021, 2, 15), date(2021, 3, 7), "week")
    assert [s.label for s in report.sub_periods] == ["2021-W07", "2021-W08", "2021-W09"]
    assert [s.plays for s in report.sub_periods] == [1, EXPECTED_PLAYS, 1]  # Sun 21 Feb and Mon 1 Mar
    months = build_report(demo_log, station, date(2021, 2, 15), date(2021, 3, 7), "month").sub_periods
    assert [(m.label, m.first, m.last) for m in months] == [
        ("2021-02", date(2021, 2, 15), date(2021, 2, 28)), ("2021-03", date(2021, 3, 1), date(2021, 3, 7))]
    assert len(split_period(date(2021, 2, 22), date(2021, 2, 28), "day")) == 7


def test_rows_written_in_another_offset_count_on_the_station_day(tmp_path):
    log = tmp_path / "asrun.sqlite"
    utc = ZoneInfo("UTC")
    with AsRunLog(log) as writer:  # 22 Feb 23:30 UTC is 23 Feb 06:30 in Cẩm Hưng; 23 Feb 20:00 UTC is 24 Feb
        for start in (datetime(2021, 2, 22, 23, 30, tzinfo=utc), datetime(2021, 2, 23, 20, 0, tzinfo=utc)):
            writer.append(planned_start=start, actual_start=start, actual_end=start + timedelta(minutes=2),
                          status="aired", slot="sang", category="bluezone", sha256="a" * 64)
    station = load_station(CONFIG)
    assert [d.plays for d in build_report(log, station, date(2021, 2, 22), date(2021, 2, 24)).days] == [0, 1, 1]
    assert build_report(log, station, date(2021, 2, 23), date(2021, 2, 23)).plays == 1
    assert [i.day for i in logged_items(log, station, date(2021, 2, 23), date(2021, 2, 23))] == ["2021-02-23"]


def test_a_zone_with_daylight_saving_keeps_local_days(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.read_text(encoding="utf-8").replace("Asia/Ho_Chi_Minh", "Europe/Berlin"),
                      encoding="utf-8")
    station = load_station(config)
    berlin = ZoneInfo("Europe/Berlin")
    log = tmp_path / "asrun.sqlite"
    with AsRunLog(log) as writer:  # clocks go forward on 28 Mar 2021; both rows are just after local midnight
        for day in (27, 29):
            start = datetime(2021, 3, day, 0, 10, tzinfo=berlin)
            writer.append(planned_start=start, actual_start=start, actual_end=start + timedelta(minutes=1),
                          status="aired", slot="sang", category="bluezone", sha256="a" * 64)
    report = build_report(log, station, date(2021, 3, 27), date(2021, 3, 29))
    assert [d.plays for d in report.days] == [1, 0, 1]
    items = logged_items(log, station, date(2021, 3, 27), date(2021, 3, 29))
    assert [(i.day, i.start) for i in items] == [("2021-03-27", "00:10:00"), ("2021-03-29", "00:10:00")]


def test_bad_dates_and_weeks_are_told_in_both_languages(demo_log, capsys):  # noqa: F811
    assert run_cli("report", "--from", "2021-02-31", "--to", "2021-03-01", "--log", str(demo_log)) == 2
    assert "not a date" in capsys.readouterr().err
    assert run_cli("logbook", "--week", "2021-W60", "--out", "x.docx", "--log", str(demo_log)) == 2
    err = capsys.readouterr().err
    assert "tuần không hợp lệ" in err and "not an ISO week" in err


def test_pdf_without_a_vietnamese_font_fails_clearly(monkeypatch):
    from broadcaster.reports import pdf_render

    pdf_render.register_fonts.cache_clear()
    monkeypatch.setattr(pdf_render, "font_folders", lambda: [])
    with pytest.raises(BroadcasterError, match="fonts-dejavu-core"):
        pdf_render.register_fonts()
    pdf_render.register_fonts.cache_clear()


# ------------------------------------------------------------------------------------------------- the documents


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, str]:
    """Every format for the known week, an empty period and a tampered log; DOCX/XLSX converted to PDF by
    LibreOffice in one call; the text of every PDF (and the CSV/JSON) by name."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice or not shutil.which("pdftotext"):
        pytest.fail("LibreOffice (soffice) and pdftotext are needed: run bash scripts/setup.sh")
    base = tmp_path_factory.mktemp("reports")
    good = write_log(base / "good.sqlite")
    broken = write_log(base / "broken.sqlite")
    with sqlite3.connect(broken) as db:  # an operator "corrects" a row afterwards, past the append-only trigger
        db.execute("DROP TRIGGER asrun_no_update")
        db.execute("UPDATE asrun SET title = 'Đã sửa' WHERE id = 3")
    out = base / "out"
    jobs = {
        "week": week_report(good, "--ref", "Công văn số 123/STTTT-TTBCXB"),
        "empty": ["report", "--from", "2021-04-05", "--to", "2021-04-11", "--log", str(good)],
        "broken": week_report(broken),
    }
    for name, argv in jobs.items():
        for fmt in ("json", "csv", "xlsx", "docx", "pdf"):
            assert run_cli(*argv, "--format", fmt, "--out", str(out / f"{name}-{fmt}.{fmt}")) == 0
    for name, log in (("logbook", good), ("logbook-broken", broken)):
        for fmt in ("docx", "pdf", "xlsx"):
            assert run_cli("logbook", "--week", "2021-W08", "--format", fmt, "--out", str(out / f"{name}-{fmt}.{fmt}"),
                           "--log", str(log)) == 0
    assert run_cli("logbook", "--week", "2021-W20", "--format", "pdf", "--out", str(out / "logbook-empty-pdf.pdf"),
                   "--log", str(good)) == 0
    office = sorted(str(p) for p in out.iterdir() if p.suffix in (".docx", ".xlsx"))
    converted = base / "converted"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation={(base / 'lo-profile').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(converted), *office],
                   check=True, capture_output=True, timeout=240)
    texts = {}  # by the name of the file the text came from: week-pdf, week-docx (via LibreOffice), ...
    for pdf in [*out.glob("*.pdf"), *converted.glob("*.pdf")]:
        texts[pdf.stem] = _pdftotext(pdf)
        texts[pdf.stem + ":page1"] = _pdftotext(pdf, first_page_only=True)
        texts[pdf.stem + ":flat"] = flat(_pdftotext(pdf, layout=False))  # table cells read whole
    for name in jobs:
        texts[f"{name}-json"] = (out / f"{name}-json.json").read_text(encoding="utf-8")
        texts[f"{name}-csv"] = (out / f"{name}-csv.csv").read_text(encoding="utf-8-sig")
    return texts


def _pdftotext(pdf: Path, first_page_only: bool = False, layout: bool = True) -> str:
    pages = ["-f", "1", "-l", "1"] if first_page_only else []
    argv = ["pdftotext", *(["-layout"] if layout else []), *pages, str(pdf), "-"]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as one space (a wrapped paragraph reads as one line)."""
    return re.sub(r"\s+", " ", text)


def topic_figures(text: str) -> dict[str, tuple[int, int, float]]:
    """(plays, items, minutes) per topic as a document prints them (1.234,56 or 1234.56), found by the topic's
    name (its slug when the station has not named it)."""
    out = {}
    for category in EXPECTED_TOPICS:
        match = re.search(rf"{re.escape(topic_name(NAMES, category))}\s+(\d+)\s+(\d+)\s+(\d+(?:[.,]\d+)?)", text)
        assert match, f"no row for {category}"
        out[category] = (int(match[1]), int(match[2]), float(match[3].replace(",", ".")))
    return out


EXPECTED_PRINTED = {c: (p, i, round(m, 2)) for c, (p, i, m) in EXPECTED_TOPICS.items()}


def test_documents_carry_the_administrative_form_with_diacritics(documents):
    for key in ("week-pdf", "week-docx"):
        text = documents[key]
        for words in (MOTTO, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "UBND XÃ CẨM HƯNG", "ĐÀI TRUYỀN THANH",
                      "Số: ......./BC-ĐTT", "Cẩm Hưng, ngày", "BÁO CÁO", "Kết quả tuyên truyền",
                      "Kính gửi: Đài Phát thanh huyện Cẩm Giàng", "Công văn số 123/STTTT-TTBCXB", "TRƯỞNG ĐÀI",
                      "Nơi nhận"):
            assert words in text, f"{words!r} missing from {key}"


def test_figures_agree_across_every_format_and_with_the_log(documents):
    docs = {"pdf": documents["week-pdf"], "docx": documents["week-docx"], "xlsx": documents["week-xlsx"]}
    for name, text in docs.items():
        assert topic_figures(text) == EXPECTED_PRINTED, name
    report = json.loads(documents["week-json"])
    assert {t["category"]: (t["plays"], t["items"], t["minutes"]) for t in report["topics"]} == EXPECTED_PRINTED
    rows = list(csv.DictReader(documents["week-csv"].splitlines()))
    aired = [r for r in rows if r["status"] == "aired"]
    assert len(aired) == EXPECTED_PLAYS and sum(r["status"] == "partial" for r in rows) == 1
    for category, (plays, items, minutes) in EXPECTED_PRINTED.items():
        mine = [r for r in aired if r["category"] == category]
        assert (len(mine), len({r["sha256"] for r in mine})) == (plays, items)
        assert round(sum(float(r["seconds"]) for r in mine) / 60, 2) == minutes
    for key in ("week-pdf", "week-docx"):
        text = documents[key + ":flat"]
        assert "Tổng số lượt phát: 10 lượt" in text and "180,0 giây" in text and "Phát khẩn cấp" in text
        assert EMERGENCY_REASON in text and DEVICE_REASON in text
    assert "Ghen Cô Vy" in documents["week-xlsx"]  # the item sheet, diacritics intact


def test_reports_and_logbooks_name_topics_in_words_not_slugs(documents):
    named = {slug: NAMES[slug] for slug in ("bluezone", "covid-song", "khai-bao-y-te")}
    assert named["bluezone"] == "Cài đặt ứng dụng Bluezone"
    for key in ("week-pdf", "week-docx", "week-xlsx", "logbook-pdf", "logbook-docx", "logbook-xlsx"):
        text = documents[key + ":flat"]
        for slug, name in named.items():
            assert name in text, f"{name!r} missing from {key}"
            if key.endswith(("pdf", "docx")):  # the XLSX item sheet keeps file paths, which hold slugs
                assert slug not in text, f"slug {slug!r} shown in {key}"
        assert "khan-cap" in text  # an unnamed category still shows, by its slug
    for key in ("week-pdf", "week-docx", "week-xlsx"):  # blackouts and slots by their names too
        text = documents[key + ":flat"]
        assert "Học trực tuyến buổi sáng" in text and "Buổi trưa / noon" in text, key
        assert "hoc-truc-tuyen-sang" not in text, key
    report = json.loads(documents["week-json"])
    assert {t["category"]: t["name"] for t in report["topics"]} == {
        c: topic_name(NAMES, c) for c in EXPECTED_TOPICS}
    assert report["failures"][0]["category"] == "covid-song"  # the slug stays where it was
    assert report["failures"][0]["category_name"] == named["covid-song"]
    rows = list(csv.DictReader(documents["week-csv"].splitlines()))
    assert {(r["category"], r["category_name"]) for r in rows} == {
        (c, topic_name(NAMES, c)) for c in EXPECTED_TOPICS}
    assert list(rows[0])[-1] == "category_name"  # added last: the earlier columns keep their places


def test_empty_period_says_no_broadcasts_were_recorded(documents):
    assert json.loads(documents["empty-json"])["totals"]["plays"] == 0
    for key in ("empty-pdf", "empty-docx", "empty-xlsx", "logbook-empty-pdf"):
        assert "không ghi nhận buổi phát nào" in flat(documents[key + ":page1"]), key
    assert documents["empty-csv"].splitlines()[0].startswith("id,date,start")


def test_broken_chain_is_stated_on_page_one_and_the_report_still_comes_out(documents):
    integrity = json.loads(documents["broken-json"])["log_integrity"]
    assert integrity["ok"] is False and integrity["first_bad_id"] == 3
    for key in ("broken-pdf", "broken-docx", "broken-xlsx", "logbook-broken-pdf",
                "logbook-broken-docx", "logbook-broken-xlsx"):
        page = flat(documents[key + ":page1"])
        assert "NHẬT KÝ PHÁT SÓNG KHÔNG TOÀN VẸN" in page and "dòng 3" in page, key
    assert topic_figures(documents["broken-pdf"])["bluezone"][0] == 3


def test_logbook_lists_each_session_with_its_times_and_items_in_order(documents):
    for key in ("logbook-pdf", "logbook-docx"):
        text = documents[key + ":flat"]
        assert "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH" in text and MOTTO in text
        assert "Thứ Hai, 22/02/2021 — Buổi sáng / morning: 05:30:00 – 05:35:30" in text
        assert "Thứ Hai, 22/02/2021 — Phát ngoài buổi (khẩn cấp): 09:00:00 – 09:02:00" in text
        order = [text.index(t) for t in ("Hướng dẫn cài đặt Bluezone", "Ghen Cô Vy", "Khai báo y tế điện tử")]
        assert order == sorted(order)
        assert "Chủ nhật, 28/02/2021" in text and "Trước kỳ báo cáo" not in text
        assert "thiết bị âm thanh" in text  # the failed item stays in its session, with its reason
    assert "Buổi sáng / morning" in documents["logbook-xlsx"]


def test_days_short_of_the_playlists_daily_minimum_are_listed(demo_log, capsys):  # noqa: F811
    # The demo playlists ask for Bluezone and health declarations 3-5 times a day. In the log, Monday aired
    # Bluezone twice (the evening one failed), Tuesday once; health declarations once on Monday, none after.
    assert run_cli(*week_report(demo_log, "--format", "json")) == 0
    misses = json.loads(capsys.readouterr().out)["quota_misses"]
    got = {(m["date"], m["category"]): (m["aired"], m["minimum"]) for m in misses}
    assert got[("2021-02-22", "bluezone")] == (2, 3)
    assert got[("2021-02-23", "bluezone")] == (1, 3)
    assert got[("2021-02-22", "khai-bao-y-te")] == (1, 3)
    assert got[("2021-02-28", "khai-bao-y-te")] == (0, 3)
    assert len(misses) == 14  # 7 broadcast days × 2 topics with a minimum, none met
