"""The as-run log: a real SQLite file, appended, read back, and tampered with."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import AsRunLog

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--help"] if not args else
                          [sys.executable, str(ROOT / "main.py"), *args, "--config", str(ROOT / "config.yaml")],
                          capture_output=True, text=True, timeout=60)


def fill(path: Path, rows: int = 5) -> AsRunLog:
    log = AsRunLog(path)
    start = datetime(2021, 2, 22, 5, 30, tzinfo=ZONE)
    for n in range(rows):
        begin = start + timedelta(minutes=3 * n)
        log.append(planned_start=begin, actual_start=begin + timedelta(milliseconds=7),
                   actual_end=begin + timedelta(minutes=3), status="aired", slot="sang", category="bluezone",
                   title=f"Clip {n}", file=f"bluezone/{n}.mp3", sha256=f"{n:064x}")
    return log


def test_rows_come_back_by_station_day_with_millisecond_times(tmp_path):
    fill(tmp_path / "asrun.sqlite").close()
    result = cli("log", "show", "--date", "2021-02-22", "--json", "--log", str(tmp_path / "asrun.sqlite"))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 5 and rows[0]["actual_start"] == "2021-02-22T05:30:00.007+07:00"
    assert cli("log", "show", "--date", "2021-02-21", "--json", "--log", str(tmp_path / "asrun.sqlite")
               ).stdout.strip() == "[]"


def test_edited_row_is_detected_and_named(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path).close()
    assert cli("log", "verify", "--log", str(path)).returncode == 0
    with sqlite3.connect(path) as db:  # someone who first drops the append-only trigger
        db.execute("DROP TRIGGER asrun_no_update")
        db.execute("UPDATE asrun SET status='aired', actual_end='2021-02-22T05:40:00.000+07:00' WHERE id=3")
    result = cli("log", "verify", "--log", str(path))
    assert result.returncode == 1 and "row 3" in result.stdout


def test_deleted_row_is_detected(tmp_path):
    path = tmp_path / "asrun.sqlite"
    fill(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER asrun_no_delete")
        db.execute("DELETE FROM asrun WHERE id=2")
    result = cli("log", "verify", "--log", str(path))
    assert result.returncode == 1 and "row 2" in result.stdout


def test_bad_date_and_missing_log_are_clear_errors(tmp_path):
    result = cli("log", "show", "--date", "22/02/2021", "--log", str(tmp_path / "none.sqlite"))
    assert result.returncode == 2 and "no as-run log" in result.stderr
    fill(tmp_path / "a.sqlite").close()
    result = cli("log", "show", "--date", "22/02/2021", "--log", str(tmp_path / "a.sqlite"))
    assert result.returncode == 2 and "not a date" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_rows_of_a_break_in_ticket_are_found_by_its_tag_and_the_chain_stays_intact(tmp_path):
    from broadcaster.playout.breakin import BreakInRequest, ticket_tag

    log = fill(tmp_path / "asrun.sqlite")
    moment = datetime(2021, 2, 22, 6, 0, tzinfo=ZONE)
    request = BreakInRequest.new(tmp_path / "hop-dan.wav", "priority", "Họp dân", False, moment)
    other = BreakInRequest.new(tmp_path / "hop-dan.wav", "priority", "Họp dân", False, moment)
    log.append(planned_start=None, actual_start=moment, actual_end=moment + timedelta(seconds=1), status="aired",
               title="hop-dan", level="priority", reason=request.logged_reason)
    assert request.logged_reason.startswith("Họp dân") and request.id in request.logged_reason
    assert [e.title for e in log.with_reason(ticket_tag(request.id))] == ["hop-dan"]
    assert log.with_reason(ticket_tag(other.id)) == []
    assert log.verify().ok
    log.close()
