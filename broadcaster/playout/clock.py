"""Clocks the engine plays by: the wall clock (real playout) or a simulated clock (simulate, tests).

The engine never calls `time` or `datetime.now()` itself; it asks a `Clock`. `WallClock` is anchored to wall
time (so a slot at 05:30 starts at 05:30 station time, day after day, without drift) and detects clock steps
(an NTP correction, an operator setting the time) by comparing how far wall time and monotonic time moved.
`SimClock` advances only when told to: the engine advances it by the duration of every block it writes to a
file sink, so simulated days run as fast as the mixer can go.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    zone: tzinfo

    def now(self) -> datetime:
        """Aware datetime in the station zone."""

    def sleep_until(self, moment: datetime) -> None:
        """Return at `moment` (or at once if it has passed)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never steps; only differences mean anything."""

    def advance(self, seconds: float) -> None:
        """Simulated clocks move on by `seconds`; real clocks ignore it (time moves by itself)."""

    def check_step(self) -> float:
        """Seconds the wall clock stepped since the last check (0.0 if it did not)."""


# A wall-clock step smaller than this is not worth acting on: the engine re-aligns audio only when it is 50 ms
# off its time (Engine.resync_threshold), so a smaller step changes nothing heard, and NTP's slew (at most
# 0.5 ms a second) takes 100 s to add up to it. The daemon re-schedules its jobs at the same size, so the
# engine and the daemon never disagree about whether the clock stepped.
STEP_SECONDS = 0.05


class StepWatch:
    """Wall-clock steps (NTP corrections, an operator setting the time): wall time moving differently from
    monotonic time since the last step reported."""

    def __init__(self, threshold: float = STEP_SECONDS, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic):
        self.threshold, self._wall, self._mono = threshold, wall, mono
        self._lock = threading.Lock()
        self._offset = wall() - mono()

    def check(self) -> float:
        """Seconds the wall clock stepped since the last step reported (0.0 if it did not)."""
        with self._lock:
            offset = self._wall() - self._mono()
            step = offset - self._offset
            if abs(step) < self.threshold:
                return 0.0
            self._offset = offset
            return step


class WallClock:
    """Real time in the station zone, with clock-step detection (`StepWatch`); `on_step(seconds)` is called
    on a step too, if given."""

    def __init__(self, zone: tzinfo, *, on_step: Callable[[float], None] | None = None,
                 wall: Callable[[], float] = time.time):
        self.zone = zone
        self.on_step = on_step
        self._wall = wall  # the system clock; replaceable so tests can step it without touching the machine's
        self._steps = StepWatch(wall=wall)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._wall(), self.zone)

    def monotonic(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        pass

    def check_step(self) -> float:
        step = self._steps.check()
        if step and self.on_step:
            self.on_step(step)
        return step

    def sleep_until(self, moment: datetime) -> None:
        # Short naps, re-reading the wall clock each time, so a clock step during a long wait is honoured.
        while True:
            left = (moment - self.now()).total_seconds()
            if left <= 0:
                return
            time.sleep(min(left, 0.5))


class SimClock:
    """Simulated time: starts at `start`, moves only by `advance()` or `sleep_until()` (both instant)."""

    def __init__(self, zone: tzinfo, start: datetime):
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware start time")
        self.zone = zone
        self._now = start.astimezone(zone)
        self._mono = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._mono += seconds

    def sleep_until(self, moment: datetime) -> None:
        with self._lock:
            gap = (moment - self._now).total_seconds()
            if gap > 0:
                self._now = moment.astimezone(self.zone)
                self._mono += gap

    def check_step(self) -> float:
        return 0.0
