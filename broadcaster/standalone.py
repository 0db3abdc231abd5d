"""Play one clip on its own (play-now without a daemon, or an emergency between runs), logged like any item.

The clip gets the library's gain when the library can analyse it (loudness to the station target); otherwise it
plays at unity gain and says so. It is a one-item run for the engine, so the row in the as-run log has the same
shape as every other: planned start, actual start and end, level, and the operator's reason.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.decode import file_sha256, probe_duration
from broadcaster.model import PlannedItem
from broadcaster.playback import NotedLog, make_engine
from broadcaster.playout_setup import PlayoutSetup

log = logging.getLogger("broadcaster.play-now")

LEAD_SECONDS = 0.5  # time for the engine to open the device before the first sample


def clip_gain(setup: PlayoutSetup, file: Path) -> tuple[float, str | None]:
    """The clip's gain to the station target: the library's if the same audio is catalogued, else measured now.

    Raises BroadcasterError for a file that cannot air (corrupt, silent, truncated), as ingest would."""
    try:
        from broadcaster.analysis import analyse
        from broadcaster.library import Library, gain_for
    except ImportError:
        return 0.0, ("không phân tích được âm lượng: phát ở mức gốc / "
                     "loudness analysis not available: playing at unity gain")
    found = analyse(file)
    known = Library(setup.catalogue, setup.audio_dir).get(found.sha256) if setup.catalogue.exists() else None
    return (known.gain_db if known else gain_for(found.loudness_lufs, found.peak_dbfs, setup.audio.target_lufs)), None


def clip_item(setup: PlayoutSetup, file: Path, level: str, start: datetime) -> tuple[PlannedItem, str | None]:
    """The clip as a planned item starting at `start`, and a warning if it could not be analysed."""
    gain, warning = clip_gain(setup, file)
    duration = probe_duration(file)
    category = "khan-cap" if level == "emergency" else "uu-tien" if level == "priority" else "break-in"
    item = PlannedItem(start=start, end=start + timedelta(seconds=duration), slot="", category=category,
                       title=file.stem, file=str(file.resolve()), sha256=file_sha256(file), gain_db=gain,
                       duration=duration, level=level)
    return item, warning


def play_file(setup: PlayoutSetup, file: Path, level: str, reason: str, *, start: datetime | None = None,
              engine_factory=make_engine) -> None:
    """Play `file` now (or at `start`) to its end on the configured device; blocks until it has aired."""
    start = start or datetime.now(setup.zone) + timedelta(seconds=LEAD_SECONDS)
    item, warning = clip_item(setup, file, level, start)
    if warning:
        log.warning("%s: %s", file, warning)
    asrun = NotedLog(setup.asrun_log)
    note = f"{level}: {reason}" if reason else level
    asrun.note(item.start, note + (f" ({warning})" if warning else ""))
    try:
        engine = engine_factory(setup, asrun)
        engine.play_run([item], item.end + timedelta(seconds=0.5))
    finally:
        asrun.close()
