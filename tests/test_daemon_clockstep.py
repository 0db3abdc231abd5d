"""Wall-clock steps under the running daemon, live: `python main.py run` as a real process whose wall clock
(libfaketime, offset read from a file) is stepped while its monotonic clock runs on, as when NTP or an operator
sets the time. The null sink's monitor is recorded; every item must be heard when the (new) wall clock says."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from tests.support.daemon import (
    LIVE_FAKETIME,
    FakeWallClock,
    heard_at,
    log_rows,
    log_verify,
    noise_station,
    play_faked,
)
from tests.support.pulse import PulseServer, Recorder

pytestmark = LIVE_FAKETIME

DAY = date(2021, 2, 22)
TOLERANCE = 0.03
ITEM = 3.0  # seconds per item
# Steps mid-slot are written 0.2 s into an item: libfaketime reads the offset file within ~1.5 s, the daemon
# checks 4 times a second and its sink queue holds 0.5 s, so the cut is heard 0.7-2.5 s into that item.
STEP_INTO_ITEM = timedelta(seconds=0.2)


def at(hms: str) -> datetime:
    return datetime.fromisoformat(f"{DAY.isoformat()}T{hms}+07:00")


@dataclass
class SteppedRun:
    rows: list[dict]
    log: str
    recording: np.ndarray
    recorder: Recorder
    clock: FakeWallClock
    offsets: list[int]  # the faked clock's offset before the first step, then after each
    verified: bool


def run_with_steps(tmp_path, pulse: PulseServer, slots: list[tuple[str, str, str]],
                   steps: list[tuple[datetime, int]], until: datetime) -> SteppedRun:
    """The daemon from a faked 10:00:00, its clock stepped by `steps` ((when, seconds), on the clock as it reads
    then) and stopped at `until`. 2048-frame blocks: the statuses the tests expect are item by item, and at the
    default 16384 the ~1.5 s already queued at the sink when a step is seen plays first, which moves the cut
    one 3 s item later (same behaviour)."""
    config = noise_station(tmp_path, slots, item_seconds=ITEM, block_frames=2048)
    run = play_faked(tmp_path, pulse, config, at("10:00:00"), until, steps=steps, ready_timeout=6)
    rows = log_rows(config, DAY)
    print(run.log, *summary(rows), sep="\n")
    return SteppedRun(rows, run.log, run.recording, run.recorder, run.clock, run.offsets,
                      log_verify(config).returncode == 0)


def summary(rows: list[dict]) -> list[tuple]:
    return [(r["title"], r["status"], r["planned_start"][11:19], (r["actual_start"] or "")[11:23], r["reason"])
            for r in rows]


def check_heard(run: SteppedRun, rows: list[dict], offset_of: Callable[[str], int]):
    """Every aired item heard intact, when the wall clock of its time (offset_of(planned HH:MM:SS)) showed its
    planned start, and logged when it was heard."""
    heard_errors, logged_errors = [], []  # ms
    for row in rows:
        if row["status"] != "aired":
            continue
        offset = offset_of(row["planned_start"][11:19])
        planned = run.clock.monotonic_of(datetime.fromisoformat(row["planned_start"]), offset)
        heard, height = heard_at(run.recording, run.recorder, row["title"], planned, item_seconds=ITEM)
        assert height > 0.9, f"{row['title']} planned {row['planned_start']} not heard intact ({height:.2f})"
        heard_errors.append(round(1000 * (heard - planned), 1))
        logged = run.clock.monotonic_of(datetime.fromisoformat(row["actual_start"]), offset)
        logged_errors.append(round(1000 * (logged - heard), 1))
    print("heard - planned (ms):", heard_errors, "as-run - heard (ms):", logged_errors)
    assert max(map(abs, heard_errors + logged_errors)) < 1000 * TOLERANCE, (heard_errors, logged_errors)
    return heard_errors


def test_steps_forward_while_idle_and_while_playing_skip_to_where_the_new_clock_is(tmp_path, warm_pulse):
    # Idle after slot a (so the engine exists and its clock saw the old time), +90 s: slot b is now 11 s away, not
    # 101 s. The scheduler must wake up for it, and the engine must not apply this step again in slot b. Then
    # +6 s while b's second item plays: the new clock is in b's fourth.
    run = run_with_steps(tmp_path, warm_pulse, [("a", "10:00:06", "10:00:12"), ("b", "10:01:55", "10:02:13")],
                         [(at("10:00:14"), +90), (at("10:01:58") + STEP_INTO_ITEM, +6)], at("10:02:14"))
    rows, offsets = run.rows, run.offsets

    assert "wall clock stepped by +90.0" in run.log and "wall clock stepped by +6.0" in run.log
    status = {r["planned_start"][11:19]: r["status"] for r in rows}
    assert {status["10:00:06"], status["10:00:09"]} <= {"aired", "partial"}  # (partial: underruns on a busy PC)
    assert [status[t] for t in ("10:01:55", "10:01:58", "10:02:01", "10:02:04", "10:02:07", "10:02:10")] == [
        "aired", "partial", "skipped", "partial", "aired", "aired"]
    joined = next(r for r in rows if r["planned_start"][11:19] == "10:02:04")
    skipped = float(re.search(r"skipped ([0-9.]+) s to re-align", joined["reason"]).group(1))
    assert skipped == pytest.approx(6.0, abs=TOLERANCE)
    check_heard(run, [r for r in rows if r["slot"] == "b"], lambda hms: offsets[1] if hms < "10:02" else offsets[2])
    assert run.verified


def test_steps_back_while_idle_and_while_playing_hold_until_the_new_clock_catches_up(tmp_path, warm_pulse):
    # -6 s idle: back inside slot a, which already aired; then -10 s while b's second item plays
    run = run_with_steps(tmp_path, warm_pulse, [("a", "10:00:06", "10:00:12"), ("b", "10:00:18", "10:00:30")],
                         [(at("10:00:14"), -6), (at("10:00:21") + STEP_INTO_ITEM, -10)], at("10:00:31"))
    rows, offsets, clock = run.rows, run.offsets, run.clock

    assert "wall clock stepped by -6.0" in run.log and "wall clock stepped by -10.0" in run.log
    assert [r["planned_start"][11:19] for r in rows[:2]] == ["10:00:06", "10:00:09"]  # slot a does not air again
    assert all(r["status"] == "aired" or "re-align" in r["reason"] for r in rows[:2])  # (underruns on a busy PC)
    assert [(r["planned_start"][11:19], r["status"]) for r in rows[2:]] == [
        ("10:00:18", "aired"), ("10:00:21", "partial"), ("10:00:24", "aired"), ("10:00:27", "aired")]
    held = float(re.search(r"held ([0-9.]+) s of silence", rows[3]["reason"]).group(1))
    assert held == pytest.approx(10.0, abs=TOLERANCE)
    check_heard(run, rows[2:], lambda hms: offsets[1] if hms < "10:00:21" else offsets[2])
    # the held item goes on after the silence, at its offset when the new clock shows it (2.7 s in: the hold
    # began at most ~2.5 s in, the step's 0.2 s + libfaketime's <= 1.5 s + a 0.25 s check + the 0.5 s queue)
    planned = clock.monotonic_of(at("10:00:21"), offsets[2])
    heard, height = heard_at(run.recording, run.recorder, rows[3]["title"], planned, item_seconds=ITEM, piece_at=2.7)
    assert height > 0.9 and abs(heard - planned) < TOLERANCE, (height, heard - planned)
    assert run.verified
