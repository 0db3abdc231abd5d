"""Tampering and damage the hash chain alone cannot catch (issue 11 item 20, and item 3's `log verify`): the
append-only triggers, damaged files as clear errors, and anchors kept by the district's real collector."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest

from broadcaster.asrun.log import AsRunLog
from tests.fixtures_feed import collector  # noqa: F401 - a fixture
from tests.test_asrun_log import ROOT, ZONE, cli, fill


def verify(path, *extra: str) -> subprocess.CompletedProcess:
    return cli("log", "verify", "--log", str(path), *extra)


def test_the_log_refuses_update_and_delete_of_its_rows(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path).close()
    with sqlite3.connect(path) as db:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("UPDATE asrun SET status = 'aired' WHERE id = 2")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute("DELETE FROM asrun WHERE id > 3")
    assert verify(path).returncode == 0 and "5 rows" in verify(path).stdout


def test_an_empty_log_file_is_an_error_never_ok(tmp_path):
    path = tmp_path / "asrun.sqlite"
    path.write_bytes(b"")
    result = verify(path)
    assert result.returncode == 1 and "OK" not in result.stdout
    assert "empty (0 bytes)" in result.stdout and "Traceback" not in result.stderr


def test_a_log_cut_mid_page_is_a_clear_error_not_a_traceback(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path, rows=400).close()  # many pages; closed: the WAL is checkpointed into the file
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2 + 1000)  # as a power cut on an SD card leaves it: mid-page
    result = verify(path)
    assert result.returncode == 1 and "OK" not in result.stdout, result.stdout
    assert "DAMAGED" in result.stdout and "cut mid-page" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr


def test_a_page_overwritten_inside_the_file_is_found_by_sqlites_check(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path, rows=400).close()
    with open(path, "r+b") as handle:  # the size stays whole: only reading every page finds it
        handle.seek(4096 * 3)
        handle.write(b"\xff" * 4096)
    result = verify(path)
    assert result.returncode == 1 and "DAMAGED" in result.stdout and "Traceback" not in result.stderr


def _anchors_after(path, tmp_path, rows_then: int) -> object:
    """The anchor the district got when the log had `rows_then` rows, as `district anchors` writes it."""
    with AsRunLog(path) as log:
        head = log.head_at(rows_then)
        first = log.head_at(1)
    anchors = tmp_path / "anchors.json"
    anchors.write_text(json.dumps([{"day": "2021-02-22", "rows": rows_then, "head": head, "first": first}]))
    return anchors


def test_deleting_the_last_rows_passes_the_chain_but_not_the_districts_anchor(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path, rows=30).close()
    anchors = _anchors_after(path, tmp_path, 30)
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER asrun_no_delete")
        db.execute("DELETE FROM asrun WHERE id > 20")  # the last 10 rows
    assert verify(path).returncode == 0  # what is left is a whole chain: only the anchor knows
    result = verify(path, "--anchors", str(anchors))
    assert result.returncode == 1 and "TRUNCATED" in result.stdout and "the log has 20" in result.stdout


def test_an_edit_with_the_chain_recomputed_passes_the_chain_but_not_the_districts_anchor(tmp_path):
    from broadcaster.asrun.log import _COLUMNS, GENESIS, _row_hash

    path = tmp_path / "asrun.sqlite"
    fill(path, rows=12).close()
    anchors = _anchors_after(path, tmp_path, 12)
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER asrun_no_update")
        db.execute("UPDATE asrun SET status = 'aired', title = 'Clip đổi' WHERE id = 5")
        prev = GENESIS
        for row in db.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM asrun ORDER BY id").fetchall():
            values = dict(zip(_COLUMNS, row[1:]))
            new = _row_hash(prev, values)
            db.execute("UPDATE asrun SET prev_hash = ?, row_hash = ? WHERE id = ?", (prev, new, row[0]))
            prev = new
    assert verify(path).returncode == 0
    result = verify(path, "--anchors", str(anchors))
    assert result.returncode == 1 and "REWRITTEN" in result.stdout


def test_daily_summaries_carry_the_chain_and_the_district_sees_rows_cut(tmp_path, collector):  # noqa: F811
    """The commune's outbox posts to the real collector on loopback; the district's report and its anchors
    export, fed back to `log verify --anchors`, both name the truncation."""
    from broadcaster.feed.outbox import Outbox

    path = tmp_path / "asrun.sqlite"
    fill(path, rows=20).close()  # rows of 2021-02-22
    outbox = Outbox(tmp_path / "outbox.sqlite", "xa-a")
    assert outbox.queue_daily_summaries(path, ZONE, date(2021, 2, 23)) >= 1
    assert outbox.flush(collector.url, collector.token["xa-a"]).sent >= 1
    body = json.loads(outbox.db.execute("SELECT body FROM outbox WHERE kind = 'summary' ORDER BY created DESC")
                      .fetchone()[0])
    assert body["chain"]["rows"] == 20 and len(body["chain"]["head"]) == 64

    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER asrun_no_delete")
        db.execute("DELETE FROM asrun WHERE id > 15")
    with AsRunLog(path) as log:  # a day later, another summary goes up from the cut log
        moment = datetime(2021, 2, 23, 6, 0, tzinfo=ZONE)
        log.append(planned_start=moment, actual_start=moment, actual_end=moment + timedelta(minutes=1),
                   status="aired", title="next day")
    assert outbox.queue_daily_summaries(path, ZONE, date(2021, 2, 24)) >= 1
    assert outbox.flush(collector.url, collector.token["xa-a"]).sent >= 1
    outbox.close()

    district = [sys.executable, str(ROOT / "main.py"), "district"]
    report = subprocess.run([*district, "report", "--config", str(ROOT / "config.yaml"), "--db", str(collector.db),
                             "--from", "2021-02-22", "--to", "2021-02-23", "--format", "json"],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    problems = json.loads(report.stdout)["chain_problems"]
    assert list(problems) == ["xa-a"] and "TRUNCATED" in problems["xa-a"][0]

    exported = subprocess.run([*district, "anchors", "--config", str(ROOT / "config.yaml"), "--db",
                               str(collector.db), "--commune", "xa-a"], capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "anchors.json").write_text(exported.stdout)
    result = verify(path, "--anchors", str(tmp_path / "anchors.json"))
    assert result.returncode == 1 and "TRUNCATED" in result.stdout and "20 rows" in result.stdout
