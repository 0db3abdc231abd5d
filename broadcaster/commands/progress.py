"""Progress of long commands (ingest, library rebuild, simulate, report, sync), on a terminal only.

A bar (tqdm) goes to standard error, and only when standard error is a terminal: a log file, a pipe or cron gets
the same plain text as before, with no bar and no control characters. Lower layers take a plain callback
`progress(stage, done, total)` and know nothing of terminals; a `Progress` is such a callback. Lines a command
prints while a bar runs go through `echo`, which moves the bar out of the way first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

# What lower layers pass: stage name, units done, units in all (None when not known beforehand).
ProgressCallback = Callable[[str, int, int | None], None]

STAGES = {  # stage -> (label, unit)
    "ingest": ("Nhập tệp / ingesting", "tệp/file"),
    "analyse": ("Phân tích / analysing", "tệp/file"),
    "copies": ("Bản sao đài / station copies", "bài/item"),
    "simulate": ("Mô phỏng / simulating", "buổi/run"),
    "report-log": ("Đọc nhật ký / reading the log", "bước/step"),
    "report-rows": ("Ghi từng lượt phát / writing rows", "dòng/row"),
    "sync-clips": ("Tải tin bài / fetching clips", "tin/clip"),
}


def on_terminal() -> bool:
    """True when standard error is a terminal a person watches (not a file, a pipe or /dev/null)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 0


class Progress:
    """One bar per stage on standard error, or nothing at all when that is not a terminal."""

    def __init__(self, enabled: bool | None = None):
        self.enabled = on_terminal() if enabled is None else enabled
        self.stage: str | None = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            self._close_bar()
            from tqdm import tqdm

            label, unit = STAGES.get(stage, (stage, "it"))
            # A terminal that reports no size (a serial console, `script` without a terminal) is taken as 80x24:
            # at 0 rows tqdm would hide the bar.
            sized = _columns() > 0
            self.bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=False,
                            dynamic_ncols=sized, ncols=None if sized else 80, nrows=None if sized else 24)
            self.stage = stage
        if done < self.bar.n:  # the same stage again (a second feed source): count from the start
            self.bar.reset(total)
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def iterate(self, stage: str, items: Iterable[T], total: int | None = None, every: int = 1) -> Iterator[T]:
        """`items`, counted on the stage's bar every `every` items (a year's report is 1.3 M quick rows: telling
        tqdm of each costs 1 µs); untouched when there is no bar."""
        return self._counted(stage, items, total, every) if self.enabled else iter(items)

    def _counted(self, stage: str, items: Iterable[T], total: int | None, every: int) -> Iterator[T]:
        self(stage, 0, total)
        done = 0
        for item in items:
            yield item
            done += 1
            if not done % every:
                self(stage, done, total)
        self(stage, done, total)

    def echo(self, text: str) -> None:
        """Print a line of the command's normal output (standard output) without tearing the bar."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stdout)
        else:
            print(text)

    def close(self) -> None:
        self._close_bar()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar, self.stage = None, None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
