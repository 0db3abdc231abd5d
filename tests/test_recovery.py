"""After a crash the as-run log shows the interruption; the daemon's notes land on the engine's rows."""


import pytest

from broadcaster.asrun.log import AsRunLog
from broadcaster.planning.runs import runs_of
from broadcaster.playout.journal import JournalFormatter
from broadcaster.playout.recovery import OnAirMarker, record_interruption
from tests.fixtures_daemon import at, plan


def test_item_cut_by_a_crash_is_logged_partial_until_the_last_heartbeat(tmp_path):
    run = runs_of(plan())[0]
    with AsRunLog(tmp_path / "asrun.sqlite") as log:
        first = run.items[0]
        log.append(planned_start=first.start, actual_start=first.start, actual_end=first.end, status="aired",
                   slot="sang", title=first.title)
        marker = OnAirMarker(run.key, at("05:29:57"))
        row = record_interruption(log, [plan()], marker, at("05:43:20"))
        assert row["title"] == "sang-1"
        last = log.entries()[-1]
        assert (last.status, last.title, last.actual_end) == ("partial", "sang-1", "2021-03-01T05:43:20.000+07:00")
        assert "interrupted" in last.reason
        # A second start does not log the same cut twice.
        assert record_interruption(log, [plan()], marker, at("05:43:20")) is None
        assert log.verify().ok


def test_journal_lines_carry_syslog_priority_and_stay_one_line():
    import logging

    record = logging.LogRecord("broadcaster.daemon", logging.ERROR, __file__, 1, "bad\nconfig", None, None)
    assert JournalFormatter().format(record) == "<3>broadcaster.daemon: bad | config"


def test_clock_step_is_seen_once_and_slewing_is_not():
    from broadcaster.playout.clock import StepWatch

    wall, mono = [1000.0], [5.0]
    watch = StepWatch(wall=lambda: wall[0], mono=lambda: mono[0])
    wall[0] += 1.0
    mono[0] += 1.0 - 0.0005  # NTP slew: half a millisecond per second
    assert watch.check() == 0.0
    wall[0] += 3600.0  # the clock was set an hour ahead
    assert watch.check() == pytest.approx(3600.0, abs=0.01)
    assert watch.check() == 0.0
