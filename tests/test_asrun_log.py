"""The as-run log: a real SQLite file, appended, read back, and tampered with."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from tests.support.asrun import ZONE, cli, fill


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


def stored_fields(path: Path) -> list[str]:
    """Every column a row stores but its id and chain hashes, read from the SQLite file itself (not from the
    log's own list of hashed fields, so a field the hash leaves out is still tried)."""
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(asrun)")
                if row[1] not in ("id", "prev_hash", "row_hash")]


def altered(field: str, value: str | None) -> str:
    """A plausible forgery of one field: a failure made to look aired, a time moved, a word changed."""
    if field == "status":
        return "aired" if value != "aired" else "failed"
    if field == "level":
        return "normal" if value != "normal" else "emergency"
    if field.endswith(("_start", "_end")):
        return "2021-02-22T05:40:00.000+07:00" if value != "2021-02-22T05:40:00.000+07:00" else \
            "2021-02-22T05:41:00.000+07:00"
    return (value or "") + " (sửa)"


def test_changing_any_one_field_of_a_row_breaks_the_chain_at_that_row(tmp_path):
    template = tmp_path / "template.sqlite"
    log = fill(template, rows=2)
    start = datetime(2021, 2, 22, 6, 0, tzinfo=ZONE)  # a row with every field filled in, the one forged
    log.append(planned_start=start, actual_start=start + timedelta(seconds=1), actual_end=start + timedelta(
        seconds=2), status="failed", slot="sang", category="khan-cap", title="Tin bão", file="khan-cap/bao.mp3",
        sha256="f" * 64, level="emergency", reason="sound card failed")
    for n in (1, 2):
        begin = start + timedelta(minutes=3 * n)
        log.append(planned_start=begin, actual_start=begin, actual_end=begin + timedelta(minutes=3),
                   status="aired", title=f"After {n}")
    log.close()
    fields = stored_fields(template)
    assert {"status", "level", "reason", "actual_end", "sha256"} <= set(fields)
    for field in fields:
        path = tmp_path / f"{field}.sqlite"
        path.write_bytes(template.read_bytes())
        with sqlite3.connect(path) as db:  # someone who first drops the append-only trigger
            db.execute("DROP TRIGGER asrun_no_update")
            value = db.execute(f"SELECT {field} FROM asrun WHERE id=3").fetchone()[0]
            db.execute(f"UPDATE asrun SET {field}=? WHERE id=3", (altered(field, value),))
        with AsRunLog(path) as forged:
            check = forged.verify()
        assert not check.ok and check.first_bad_id == 3, field


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
    from broadcaster.asrun.log import ticket_tag
    from broadcaster.playout.breakin import BreakInRequest

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
