"""Write a long file (a simulated slot's WAV) without filling the page cache with it.

On these virtual machines a page the kernel has not used for a while is handed back to the host, and touching it
again costs a fault there: writing a 635 MB WAV into fresh page cache took 1.2-1.5 s of system CPU, against
0.14 s when the file is written back as it goes and its pages dropped, so the same few MB of pages are reused
(docs/benchmarks.md, render). `RollingWriteback.advance()` starts writeback of the newest `window` bytes and
waits for and drops the window before it (Linux `sync_file_range` + `posix_fadvise(DONTNEED)`). Elsewhere it
does nothing and the file is written the ordinary way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

WINDOW_BYTES = 16 << 20  # written back at a time: 95 s of 16-bit stereo at 44.1 kHz
_WAIT_BEFORE, _WRITE, _WAIT_AFTER = 1, 2, 4  # SYNC_FILE_RANGE_* (linux/fs.h)


def _sync_file_range():
    if not hasattr(os, "posix_fadvise"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_range = _sync_file_range()


class RollingWriteback:
    """Keeps at most about two windows of a file being written in the page cache."""

    def __init__(self, fd: int, window: int | None = None):
        self.fd = fd
        self.window = window or WINDOW_BYTES
        self._started = 0  # bytes [0, _started) are written back or on their way
        self._dropped = 0  # bytes [0, _dropped) are on disk and out of the page cache
        self._on = _sync_range is not None

    def advance(self, written: int) -> None:
        """`written`: bytes of the file written so far (and flushed to the kernel)."""
        if not self._on or written - self._started < self.window:
            return
        try:
            if self._started > self._dropped:  # the previous window: wait until it is on disk, then drop it
                self._call(self._dropped, self._started - self._dropped, _WAIT_BEFORE | _WRITE | _WAIT_AFTER)
                os.posix_fadvise(self.fd, self._dropped, self._started - self._dropped, os.POSIX_FADV_DONTNEED)
                self._dropped = self._started
            self._call(self._started, written - self._started, _WRITE)  # this one: start, do not wait
            self._started = written
        except OSError:
            self._on = False  # not supported on this file system: write the ordinary way

    def _call(self, offset: int, length: int, flags: int) -> None:
        if _sync_range(self.fd, offset, length, flags) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
