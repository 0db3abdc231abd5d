"""Play one clip on its own (play-now without a daemon), logged like a break-in from the daemon.

The clip gets the library's gain when the library can analyse it (loudness to the station target); otherwise it
plays at unity gain and says so. It is a break-in on an idle engine, so the as-run row has the same shape as the
daemon's: actual start and end, level, and the operator's reason; the engine applies the same blackout rule.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from broadcaster.model import Level
from broadcaster.playout.setup import PlayoutSetup, make_engine
from broadcaster.sound.decode import probe_duration

log = logging.getLogger("broadcaster.play-now")

def clip_gain(setup: PlayoutSetup, file: Path) -> tuple[float, str | None]:
    """The clip's gain to the station target: the library's if the same audio is catalogued (found by its sha256:
    a known clip, however long, airs without being decoded first), else measured now.

    Raises BroadcasterError for a file that cannot air (corrupt, silent, truncated), as ingest would."""
    from broadcaster.files import file_sha256

    try:
        from broadcaster.library.analysis import analyse
        from broadcaster.library.catalogue import Library, gain_for
    except ImportError:
        return 0.0, ("không phân tích được âm lượng: phát ở mức gốc / "
                     "loudness analysis not available: playing at unity gain")
    if setup.catalogue.exists():
        known = Library(setup.catalogue, setup.audio_dir).get(file_sha256(file))
        if known is not None:
            return known.gain_db, None
    found = analyse(file)
    return gain_for(found.loudness_lufs, found.true_peak_dbtp, setup.audio.target_lufs), None


def play_file(setup: PlayoutSetup, file: Path, level: str, reason: str, *, start: datetime | None = None,
              confirm: bool = False, blackouts=(), engine_factory=make_engine):
    """Play `file` on the configured device as an idle engine's break-in (starts as soon as the device is open,
    never cut short), at `start` if given; blocks until it has aired and returns its as-run row."""
    gain, warning = clip_gain(setup, file)
    if warning:
        log.warning("%s: %s", file, warning)
    if start is not None:
        time.sleep(max(0.0, (start - datetime.now(setup.zone)).total_seconds()))
    asrun = AsRunLog(setup.asrun_log)
    try:
        engine = engine_factory(setup, asrun, blackouts)
        category = "khan-cap" if level == Level.EMERGENCY else "uu-tien"
        ticket = engine.break_in(file.resolve(), level, reason + (f" ({warning})" if warning else ""),
                                 confirm=confirm, gain_db=gain, category=category)
        return ticket.wait(timeout=probe_duration(file) + 30.0)
    finally:
        asrun.close()
