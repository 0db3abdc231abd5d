"""Put on PYTHONPATH only for Python processes the tests run under libfaketime (tests/support/daemon.py).

libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 shifts the deadline of
clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) by the fake offset anyway, which makes it fail with EINVAL
(wolfcw/libfaketime#426), and that is exactly how Python 3.11 implements time.sleep(). So here time.sleep waits
on a timed lock acquire instead (sem_clockwait on the real monotonic clock, which libfaketime leaves alone).
Everything else in the process (time.time, datetime.now, the monotonic clock) is libfaketime's, untouched.
"""

import os
import threading
import time

if "faketime" in os.environ.get("LD_PRELOAD", "") and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    _never_released = threading.Lock()
    _never_released.acquire()

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        _never_released.acquire(timeout=seconds)

    time.sleep = _sleep
