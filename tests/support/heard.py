"""What a listener heard, and when on the station's wall clock: the null sink's monitor recorded by
`tests.support.pulse.Recorder` (each chunk's arrival timed on time.monotonic(), so the mapping does not depend on
when parec got going), read as the level of one tone over time. For live daemon tests that judge timing by the
recording rather than by the engine's own as-run log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import numpy as np

from tests.support.audio import RATE, ZONE
from tests.support.pulse import Recorder

# Tolerances of the live daemon tests. The recording maps to the wall clock within a few ms: in tests/
# test_daemon_live.py item starts and ends were heard -14..+13 ms from their planned times, as-run starts -6..+10 ms
# and ends +8..+26 ms (a 10 ms end fade; an emergency's 0.1 s fade) from the recording (5 runs, load 0.3-3.7).
# 0.1 s leaves room for an underrun's re-align on a loaded 2-core machine and still fails a timing bug of 0.15 s
# (tried: item starts 0.15 s late, as-run ends 0.15 s late).
ON_TIME = timedelta(seconds=0.1)  # heard vs the wall-clock time it was due
LOGGED_VS_HEARD = timedelta(seconds=0.1)  # an as-run time vs when the recording heard it

SPAN = RATE // 50  # 20 ms: long enough to tell 330 Hz from 440 Hz (leak ~8 %), short enough to time an onset
STEP = RATE // 200  # 5 ms resolution of the times below


class Heard:
    """The recording of `recorder` (stopped here), on the wall clock: times are aware datetimes in the station
    zone. One channel is enough: the test tones are the same on both."""

    def __init__(self, recorder: Recorder):
        recording, _ = recorder.stop()
        self.samples = recording[:, 0]
        self.recorder = recorder
        # wall clock minus monotonic clock, read once: both run at the same rate over a test's seconds
        self._wall = time.time() - time.monotonic()

    def wall(self, frame: float) -> datetime:
        return datetime.fromtimestamp(self.recorder.time_of(frame) + self._wall, ZONE)

    def frame(self, moment: datetime) -> int:
        return round(self.recorder.frame_at(moment.timestamp() - self._wall))

    def level(self, hz: float) -> np.ndarray:
        """Amplitude of the `hz` component over 20 ms centred on every 5th ms of the recording."""
        t = np.arange(len(self.samples)) / RATE
        mixed = np.concatenate([[0], np.cumsum(self.samples * np.exp(-2j * np.pi * hz * t))])
        centres = np.arange(SPAN // 2, len(self.samples) - SPAN // 2, STEP)
        return 2 * np.abs(mixed[centres + SPAN // 2] - mixed[centres - SPAN // 2]) / SPAN

    def spans(self, hz: float, *, fraction: float = 0.5, floor: float = 0.02) -> list[tuple[datetime, datetime]]:
        """(from, until) of each stretch where the tone is at `fraction` of its loudest level or more (0.5: a
        linear fade counts from its middle), on the wall clock; stretches closer than 50 ms are one (a resync's
        few dropped ms)."""
        amp = self.level(hz)
        on = amp >= max(floor, amp.max() * fraction)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
        stretches: list[list[int]] = []
        for a, b in zip(edges[::2], edges[1::2]):
            if stretches and a - stretches[-1][1] < 10:
                stretches[-1][1] = b
            else:
                stretches.append([a, b])
        return [(self.wall(SPAN // 2 + a * STEP), self.wall(SPAN // 2 + b * STEP)) for a, b in stretches]

    def longest_silence(self, since: datetime, until: datetime, threshold: float = 0.01) -> float:
        """Longest run of silent 10 ms windows (RMS under `threshold`) between two wall-clock times, seconds."""
        part = self.samples[max(0, self.frame(since)):max(0, self.frame(until))]
        n = RATE // 100
        quiet = np.sqrt((part[: len(part) // n * n].reshape(-1, n) ** 2).mean(axis=1)) < threshold
        best = run = 0
        for q in quiet:
            run = run + 1 if q else 0
            best = max(best, run)
        return best * n / RATE

    def sound_after(self, moment: datetime, threshold: float = 0.01) -> float:
        """Seconds of sound (10 ms windows over `threshold`) in the recording after `moment`."""
        part = self.samples[max(0, self.frame(moment)):]
        n = RATE // 100
        return float((np.sqrt((part[: len(part) // n * n].reshape(-1, n) ** 2).mean(axis=1)) > threshold).sum()
                     * n / RATE)


def ms(delta: timedelta) -> float:
    return round(delta.total_seconds() * 1000, 1)
