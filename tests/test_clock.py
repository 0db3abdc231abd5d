"""Clocks: the simulated clock moves only when told; the wall clock notices when the system time is stepped."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from broadcaster.playout.clock import SimClock, WallClock
from tests.support.audio import ZONE


def test_sim_clock_moves_only_by_advance_and_sleep():
    start = datetime(2021, 2, 22, 5, 0, tzinfo=ZONE)
    clock = SimClock(ZONE, start)
    clock.advance(1.5)
    clock.sleep_until(start + timedelta(hours=1))
    clock.sleep_until(start)  # the past: no effect
    assert clock.now() == start + timedelta(hours=1)
    assert clock.monotonic() == 3600.0


def test_wall_clock_detects_a_step_of_the_system_time():
    offset = [0.0]
    steps = []
    clock = WallClock(ZONE, wall=lambda: time.time() + offset[0], on_step=steps.append)
    assert clock.check_step() == 0.0
    offset[0] = 2.0  # NTP (or an operator) sets the clock 2 s forward
    step = clock.check_step()
    assert abs(step - 2.0) < 0.01 and steps == [step]
    assert clock.check_step() == 0.0  # re-anchored: reported once
    assert abs((clock.now() - datetime.now(ZONE)).total_seconds() - 2.0) < 0.05
